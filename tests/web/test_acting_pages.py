"""A facilitator acts for an assisted learner through the pages: /agir-pour, POST /agir-pour/<id>, POST
/agir-pour/fin; the banner on every page; the audit with both ids; a facilitation ending meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Contribution, Facilitation, Person, Project, WebSession
from app.services.contributions import contributions
from app.web import signed_in
from app.web.session_cookie import COOKIE
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as

BANNER = "Vous agissez pour Marcel Dubreuil."


@dataclass
class Place:
    project: Project
    helene: Person  # tutor of the project, facilitator of Marcel
    marcel: Person  # assisted: no e-mail, no password


@pytest.fixture()
def place(session, make_person, make_project, grant) -> Place:  # type: ignore[no-untyped-def]
    project = make_project(title="Jardin partagé")
    helene = make_person(display_name="Hélène Garnier")
    marcel = make_person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
    grant(helene, "tutor", project)
    grant(marcel, "learner", project)
    session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
    session.commit()
    return Place(project, helene, marcel)


def post(client: Any, path: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **(data or {})}, **kw)


def events(session: Any, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def acting_for(session: Any, person: Person) -> Any:
    session.expire_all()
    return session.scalars(select(WebSession.acting_for_id).where(WebSession.person_id == person.id)).one()


def test_the_list_shows_whom_one_may_act_for_each_with_its_button(
    client, app, session, place, make_person, make_project, grant
):
    other_facilitator = make_person()
    someone_elses = make_person(display_name="Rose Martin", email=None, password_hash=None, is_assisted=True)
    grant(someone_elses, "learner", place.project)
    session.add(Facilitation(facilitator_id=other_facilitator.id, learner_id=someone_elses.id))
    ended = make_person(display_name="Paul Leroy", email=None, password_hash=None, is_assisted=True)
    grant(ended, "learner", place.project)
    session.add(Facilitation(facilitator_id=place.helene.id, learner_id=ended.id, revoked_at=place.project.created_at))
    elsewhere = make_person(display_name="Jeanne Roux", email=None, password_hash=None, is_assisted=True)
    grant(elsewhere, "learner", make_project())  # a project Hélène does not see: nothing to lend
    session.add(Facilitation(facilitator_id=place.helene.id, learner_id=elsewhere.id))
    session.commit()
    sign_in_as(client, app, place.helene)
    page = client.get("/agir-pour")
    assert page.status_code == 200
    html, words = page.get_data(as_text=True), page_text(page)
    assert f'action="/agir-pour/{place.marcel.id}"' in html
    assert "Agir pour Marcel Dubreuil" in words and "Projet : Jardin partagé" in words
    for hidden in ("Rose Martin", "Paul Leroy", "Jeanne Roux"):
        assert hidden not in words
    assert 'name="csrf_token"' in html
    english = page_text(client.get("/agir-pour?lang=en"))
    assert "Act for Marcel Dubreuil" in english and "Project: Jardin partagé" in english
    assert "Agir pour une personne" in page_text(client.get("/"))  # the menu entry


def test_a_person_who_assists_no_one_is_told_so(client, app, make_person):
    sign_in_as(client, app, make_person())
    page = client.get("/agir-pour")
    assert page.status_code == 200 and "Vous n'accompagnez personne pour le moment." in page_text(page)
    assert "Agir pour une personne" not in page_text(client.get("/"))  # no menu entry


def test_a_visitor_is_sent_to_sign_in_first(client):
    response = client.get("/agir-pour")
    assert response.status_code == 303 and response.headers["Location"] == "/connexion?next=%2Fagir-pour"


def test_acting_starts_audited_with_both_ids_and_the_banner_stays_on_every_page(client, app, session, place):
    sign_in_as(client, app, place.helene)
    response = post(client, f"/agir-pour/{place.marcel.id}")
    assert response.status_code == 303 and response.headers["Location"] == "/mes-contributions"
    assert acting_for(session, place.helene) == place.marcel.id
    (started,) = events(session, "web.acting_started")
    assert (started.actor_id, started.on_behalf_of_id) == (place.helene.id, place.marcel.id)
    assert started.subject_id == str(place.marcel.id) and started.data["facilitator"] == str(place.helene.id)
    for path in ("/", "/agir-pour", "/frameworks", "/verify", "/page-qui-n-existe-pas"):
        page = client.get(path, headers={"Accept": "text/html"})
        html = page.get_data(as_text=True)
        assert BANNER in page_text(page), path
        assert 'action="/agir-pour/fin"' in html and "Revenir à mon compte" in html, path
        assert "Vous : Hélène Garnier" in page_text(page), path  # who is at the keyboard
    menu = page_text(client.get("/"))
    assert "Mes contributions" in menu and "À valider" not in menu  # the learner's menu, not the tutor's
    listed = client.get("/agir-pour")
    assert "Vous agissez pour Marcel Dubreuil en ce moment." in page_text(listed)
    assert f'action="/agir-pour/{place.marcel.id}"' not in listed.get_data(as_text=True)
    english = client.get("/?lang=en")
    assert "You are acting for Marcel Dubreuil." in page_text(english) and "Back to my account" in page_text(english)
    assert 'action="/agir-pour/fin?lang=en"' in english.get_data(as_text=True)  # back to the list in English
    stopped = post(client, "/agir-pour/fin?lang=en")
    assert stopped.headers["Location"] == "/agir-pour?fin=ok&lang=en"
    assert "You are acting in your own name again." in page_text(client.get(stopped.headers["Location"]))


def test_coming_back_to_ones_account_stops_acting_audited(client, app, session, place):
    sign_in_as(client, app, place.helene, act_for=place.marcel)
    response = post(client, "/agir-pour/fin")
    assert response.status_code == 303 and response.headers["Location"] == "/agir-pour?fin=ok"
    assert acting_for(session, place.helene) is None
    (stopped,) = events(session, "web.acting_stopped")
    assert (stopped.actor_id, stopped.on_behalf_of_id) == (place.helene.id, place.marcel.id)
    assert stopped.data["reason"] == "asked"
    page = client.get(response.headers["Location"])
    assert "Vous agissez de nouveau en votre nom." in page_text(page) and BANNER not in page_text(page)
    assert "À valider" in page_text(page)  # her own menu again
    assert post(client, "/agir-pour/fin").status_code == 303  # stopping twice is harmless
    assert len(events(session, "web.acting_stopped")) == 1


def test_switching_from_one_learner_to_another_records_both(client, app, session, place, make_person, grant):
    rose = make_person(display_name="Rose Martin", email=None, password_hash=None, is_assisted=True)
    grant(rose, "learner", place.project)
    session.add(Facilitation(facilitator_id=place.helene.id, learner_id=rose.id))
    session.commit()
    sign_in_as(client, app, place.helene, act_for=place.marcel)
    assert post(client, f"/agir-pour/{rose.id}").status_code == 303
    assert acting_for(session, place.helene) == rose.id
    assert [e.on_behalf_of_id for e in events(session, "web.acting_stopped")] == [place.marcel.id]
    assert [e.on_behalf_of_id for e in events(session, "web.acting_started")] == [rose.id]
    assert "Vous agissez pour Rose Martin." in page_text(client.get("/"))


@pytest.mark.parametrize(
    "whom", ["another_facilitators", "revoked", "has_a_login", "oneself", "unknown", "disabled", "in_another_project"]
)
def test_acting_for_someone_one_does_not_assist_is_a_404_page(
    client, app, session, place, make_person, make_project, grant, whom
):
    import uuid

    target: Any
    if whom == "oneself":
        target = place.helene.id
    elif whom == "unknown":
        target = uuid.UUID(int=7)
    else:
        assisted = whom != "has_a_login"
        person = make_person(
            email=None if assisted else "lucie@example.org",
            password_hash=None if assisted else place.helene.password_hash,
            is_assisted=assisted,
            is_active=whom != "disabled",
        )
        grant(person, "learner", make_project() if whom == "in_another_project" else place.project)
        facilitator = make_person() if whom == "another_facilitators" else place.helene
        revoked_at = place.project.created_at if whom == "revoked" else None
        session.add(Facilitation(facilitator_id=facilitator.id, learner_id=person.id, revoked_at=revoked_at))
        session.commit()
        target = person.id
    sign_in_as(client, app, place.helene)
    # Asked like a program would: the pages' blueprint answers with a page all the same.
    response = post(client, f"/agir-pour/{target}", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Page introuvable" in page_text(response)
    assert acting_for(session, place.helene) is None
    assert not events(session, "web.acting_started")


def test_a_facilitation_ended_while_acting_stops_it_at_the_next_page_with_a_message(client, app, session, place):
    sign_in_as(client, app, place.helene, act_for=place.marcel)
    assert BANNER in page_text(client.get("/agir-pour"))
    link = session.scalars(select(Facilitation).where(Facilitation.learner_id == place.marcel.id)).one()
    link.revoked_at = link.created_at
    session.commit()
    for path in ("/", "/agir-pour"):
        response = client.get(path)
        if path == "/":
            assert response.status_code == 303 and response.headers["Location"] == "/agir-pour?fin=retrait"
            page = client.get(response.headers["Location"])
        else:
            page = response  # acting already stopped by the first page: nothing more to say
        assert page.status_code == 200 and BANNER not in page_text(page)
        if path == "/":
            assert "Vous n'agissez plus pour la personne que vous accompagniez" in page_text(page)
            assert "Agir pour Marcel Dubreuil" not in page_text(page)
    assert acting_for(session, place.helene) is None
    (stopped,) = events(session, "web.acting_stopped")
    assert (stopped.actor_id, stopped.on_behalf_of_id) == (place.helene.id, place.marcel.id)
    assert stopped.data["reason"] == "facilitation_ended"


def test_a_form_sent_after_the_facilitation_ended_is_not_done(client, app, session, place):
    sign_in_as(client, app, place.helene, act_for=place.marcel)
    token = csrf_token(client, "/")
    session.execute(
        Facilitation.__table__.update()
        .where(Facilitation.learner_id == place.marcel.id)
        .values(revoked_at=place.project.created_at)
    )
    session.commit()
    response = client.post("/langue", data={"csrf_token": token, "lang": "en", "next": "/"})
    assert response.status_code == 303 and response.headers["Location"] == "/agir-pour?fin=retrait"
    session.expire_all()
    assert session.get(Person, place.helene.id).locale == "fr"


def test_what_a_page_does_while_acting_is_the_facilitators_on_the_learners_behalf(client, app, session, place):
    """The grants a page gets while acting are the learner's, with the facilitator as the author, so
    the services record the facilitator's acts for the learner, as the API does with X-Act-For."""
    token = sign_in_as(client, app, place.helene, act_for=place.marcel)
    with app.test_request_context("/mes-contributions", headers={"Cookie": f"{COOKIE}={token}"}):
        app.preprocess_request()
        grants = signed_in.signed_in(signed_in.grants)()
        assert grants.actor.id == place.marcel.id and grants.actor.real_id == place.helene.id
        assert grants.learner_in == {place.project.id} and not grants.tutor_of  # her tutor role is not lent
        made = contributions.create_contribution(
            session, grants, {"project_id": place.project.id, "title": "Réparer la clôture"}
        )
        session.commit()
    contribution = session.get(Contribution, made.id)
    assert (contribution.learner_id, contribution.created_by_id) == (place.marcel.id, place.helene.id)
    (created,) = events(session, "contribution.created_for")
    assert (created.actor_id, created.on_behalf_of_id) == (place.helene.id, place.marcel.id)
    # Her own settings stay hers: the language she picks while acting is kept on her account.
    assert post(client, "/langue", {"lang": "en", "next": "/agir-pour"}).status_code == 303
    session.expire_all()
    assert session.get(Person, place.helene.id).locale == "en" and session.get(Person, place.marcel.id).locale == "fr"
