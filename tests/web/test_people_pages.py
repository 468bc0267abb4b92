"""The coordinator's people pages, server side: the search by name or e-mail (accents and case ignored,
paged, within the territory), a person's page, giving and withdrawing roles (with a confirmation), the
invitation by e-mail (sent once saved, sent again), the assisted account and its facilitator, and who
may open them (403 without a territory to coordinate, 404 for people of another territory). Refused
forms answer 422 with the French message next to the field and write nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import (
    AuditEvent,
    ContributionStatus,
    Facilitation,
    Membership,
    Person,
    Project,
    Role,
    ScopeType,
    Territory,
)
from app.services.identity import directory
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as


@dataclass
class Brenne:
    territory: Territory
    garden: Project
    repair: Project
    helene: Person  # coordinator
    karim: Person  # tutor of both projects
    lucie: Person  # learner of both
    marcel: Person  # assisted learner of the repair café; Hélène facilitates
    other_coordinator: Person  # of another territory
    outsider: Person  # a learner of the other territory, also called Lucie


@pytest.fixture()
def brenne(make_person, make_territory, make_project, grant, make_contribution, session) -> Brenne:  # type: ignore[no-untyped-def]
    territory = make_territory(name="Val de Brenne")
    garden = make_project(territory, title="Jardin partagé")
    repair = make_project(territory, title="Repair café")
    helene = make_person(display_name="Hélène Martin")
    karim = make_person(display_name="Karim Benali")
    lucie = make_person(display_name="Lucie Perrin")
    marcel = make_person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
    grant(helene, "coordinator", territory)
    for project in (garden, repair):
        grant(karim, "tutor", project)
        grant(lucie, "learner", project)
    grant(marcel, "learner", repair)
    session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
    make_contribution(lucie, garden, status=ContributionStatus.SUBMITTED)
    make_contribution(lucie, repair, status=ContributionStatus.SUBMITTED)
    make_contribution(lucie, repair)  # a draft: hers alone, not counted
    elsewhere = make_territory(name="Autre territoire")
    elsewhere_project = make_project(elsewhere, title="Ailleurs")
    other_coordinator = make_person(display_name="Bruno Autre")
    grant(other_coordinator, "coordinator", elsewhere)
    outsider = make_person(display_name="Lucie Perrault")
    grant(outsider, "learner", elsewhere_project)
    session.commit()
    return Brenne(territory, garden, repair, helene, karim, lucie, marcel, other_coordinator, outsider)


def names_found(page: Any) -> list[str]:
    return re.findall(r'<h2><a href="/personnes/[0-9a-f-]{36}[^"]*">([^<]+)</a></h2>', page.get_data(as_text=True))


def post(client: Any, path: str, **form: str) -> Any:
    return client.post(path, data={**form, "csrf_token": csrf_token(client, "/personnes")})


def count(session: Any, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- search ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "lucie",
        "perrin",
        "LUCIE",
        "Perrin",
        "lucie perrin",
        "Lùcie",
        "PÉRRIN",
        "perrin lucie",
        "lucie.perrin",
        "perrin@example",
    ],
)
def test_lucie_is_found_by_any_part_of_her_name_with_or_without_accents(client, app, brenne, session, query):
    brenne.lucie.email = "lucie.perrin@example.org"
    session.commit()
    sign_in_as(client, app, brenne.helene)
    page = client.get("/personnes", query_string={"q": query})
    assert page.status_code == 200
    assert names_found(page) == ["Lucie Perrin"]  # never Lucie Perrault of another territory
    assert "1 personne correspond" in page_text(page)


@pytest.mark.parametrize("query", ["helene", "HELENE", "Hélène", "hélene martin", "HÉLÈNE"])
def test_an_accented_name_is_found_without_its_accents(client, app, brenne, query):
    sign_in_as(client, app, brenne.helene)
    assert names_found(client.get("/personnes", query_string={"q": query})) == ["Hélène Martin"]


def test_the_list_shows_roles_and_email_or_assisted(client, app, brenne):
    sign_in_as(client, app, brenne.helene)
    page = client.get("/personnes")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert names_found(page) == ["Hélène Martin", "Karim Benali", "Lucie Perrin", "Marcel Dubreuil"]
    text = page_text(page)
    assert "4 personnes ont un rôle sur votre territoire." in text
    assert "Coordinateur ou coordinatrice du territoire « Val de Brenne »" in text
    assert "Tuteur ou tutrice du projet « Jardin partagé » ; Tuteur ou tutrice du projet « Repair café »" in text
    assert brenne.lucie.email in text and "Personne accompagnée (sans adresse e-mail)" in text
    assert "Bruno" not in text and "Perrault" not in text
    assert 'aria-current="page">Personnes</a>' in page.get_data(as_text=True)
    nobody = client.get("/personnes?q=zz%25_")
    assert names_found(nobody) == [] and "Personne ne correspond à « zz%_ »." in page_text(nobody)
    english = page_text(client.get("/personnes?q=lucie&lang=en"))
    assert "1 person matches “lucie”." in english and "People of the territory" in english


def test_results_are_paged(client, app, brenne, make_person, grant):
    for n in range(21):
        grant(make_person(display_name=f"Zoé Habitante {n:02d}"), "learner", brenne.garden)
    sign_in_as(client, app, brenne.helene)
    first = client.get("/personnes?q=zoe")
    assert len(names_found(first)) == 20 and "21 personnes correspondent" in page_text(first)
    html = first.get_data(as_text=True)
    assert "Page 1 sur 2" in page_text(first) and 'href="/personnes?q=zoe&amp;page=2" rel="next"' in html
    second = client.get("/personnes?q=zoe&page=2")
    assert names_found(second) == ["Zoé Habitante 20"]


def test_the_search_service_folds_queries():
    assert directory.fold_words("  Hélène  MARTIN hélène ") == ["helene", "martin"]
    assert directory.fold_words("Œuvre d'Ève") == ["oeuvre", "d", "eve"]


# --- who may open the pages -----------------------------------------------------------------------------

ROUTES = [
    ("GET", "/personnes"),
    ("GET", "/personnes/inviter"),
    ("GET", "/personnes/compte-accompagne"),
    ("GET", "/personnes/{lucie}"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_without_a_territory_to_coordinate_the_pages_are_refused(client, app, brenne, method, path):
    for who in (brenne.lucie, brenne.karim):
        sign_in_as(client, app, who)
        page = client.open(path.format(lucie=brenne.lucie.id), method=method)
        assert page.status_code == 403, (who.display_name, path)


def test_a_visitor_is_sent_to_the_sign_in_page(client, brenne):
    page = client.get("/personnes")
    assert page.status_code == 303 and page.headers["Location"].startswith("/connexion?next=")


def test_people_of_another_territory_do_not_exist_here(client, app, brenne, session):
    sign_in_as(client, app, brenne.other_coordinator)
    for path in (
        f"/personnes/{brenne.lucie.id}",
        f"/personnes/{brenne.marcel.id}",
        f"/personnes/{brenne.helene.id}",
        "/personnes/00000000-0000-4000-8000-000000000000",
    ):
        assert client.get(path).status_code == 404, path
    membership = session.scalars(select(Membership).where(Membership.person_id == brenne.lucie.id)).first()
    before = count(session, Membership)
    assert client.get(f"/personnes/{brenne.lucie.id}/roles/{membership.id}/retirer").status_code == 404
    assert post(client, f"/personnes/{brenne.lucie.id}/roles/{membership.id}/retirer").status_code == 404
    assert post(client, f"/personnes/{brenne.lucie.id}/roles", role=f"learner:{brenne.garden.id}").status_code == 404
    assert count(session, Membership) == before
    assert names_found(client.get("/personnes?q=lucie")) == ["Lucie Perrault"]


# --- a person's page ------------------------------------------------------------------------------------


def test_a_persons_page_shows_roles_projects_contributions_and_invitation(client, app, brenne):
    sign_in_as(client, app, brenne.helene)
    page = client.get(f"/personnes/{brenne.lucie.id}")
    assert page.status_code == 200
    text = page_text(page)
    assert "Lucie Perrin" in text and brenne.lucie.email in text
    assert "Apprenant ou apprenante du projet « Jardin partagé »" in text
    assert "Projets Jardin partagé, Repair café" in text
    assert "2 contributions envoyées" in text  # the draft is hers alone
    assert "Mot de passe choisi" in text and "Renvoyer l'invitation" not in text
    html = page.get_data(as_text=True)
    assert len(re.findall(r'href="/personnes/[0-9a-f-]{36}/roles/[0-9a-f-]{36}/retirer"', html)) == 2
    assert "Facilitateurs" not in text  # she signs in herself


def test_an_assisted_persons_page_shows_facilitators_and_the_acting_button(client, app, brenne):
    sign_in_as(client, app, brenne.helene)
    page = client.get(f"/personnes/{brenne.marcel.id}")
    text = page_text(page)
    assert "Aucune : c'est une personne accompagnée." in text
    assert "Vous (Hélène Martin)" in text
    html = page.get_data(as_text=True)
    assert f'action="/agir-pour/{brenne.marcel.id}"' in html and "Agir pour Marcel Dubreuil" in text
    assert '<option value="moi">' not in html  # she facilitates already
    assert f'<option value="{brenne.karim.id}">Karim Benali</option>' in html
    mine = page_text(client.get(f"/personnes/{brenne.helene.id}"))
    assert "Personnes accompagnées Marcel Dubreuil" in mine


# --- roles ----------------------------------------------------------------------------------------------


def test_giving_a_role_then_the_same_one_again(client, app, brenne, session):
    sign_in_as(client, app, brenne.helene)
    given = post(client, f"/personnes/{brenne.karim.id}/roles", role=f"coordinator:{brenne.territory.id}")
    assert given.status_code == 303 and given.headers["Location"] == f"/personnes/{brenne.karim.id}?fait=role_given"
    page = page_text(client.get(given.headers["Location"]))
    assert "Le rôle est donné à Karim Benali." in page
    assert "Coordinateur ou coordinatrice du territoire « Val de Brenne »" in page
    before = count(session, Membership)
    again = post(client, f"/personnes/{brenne.karim.id}/roles", role=f"coordinator:{brenne.territory.id}")
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and "Cette personne a déjà ce rôle." in page_text(again)
    assert 'id="role-error"' in html and 'aria-describedby="role-hint role-error"' in html
    assert count(session, Membership) == before


@pytest.mark.parametrize("choice", ["", "learner", "platform_admin:00000000-0000-4000-8000-000000000000", "x:y"])
def test_an_unreadable_role_is_refused_next_to_the_field(client, app, brenne, session, choice):
    sign_in_as(client, app, brenne.helene)
    before = count(session, Membership)
    page = post(client, f"/personnes/{brenne.lucie.id}/roles", role=choice)
    assert page.status_code == 422 and "Choisissez un rôle dans la liste." in page_text(page)
    assert count(session, Membership) == before


def test_withdrawing_a_role_asks_first(client, app, brenne, session):
    sign_in_as(client, app, brenne.helene)
    tutor_of_garden = session.scalars(
        select(Membership).where(Membership.person_id == brenne.karim.id, Membership.scope_id == brenne.garden.id)
    ).one()
    path = f"/personnes/{brenne.karim.id}/roles/{tutor_of_garden.id}/retirer"
    before = count(session, Membership)
    ask = client.get(path)
    text = page_text(ask)
    assert ask.status_code == 200 and "Retirer à Karim Benali le rôle : Tuteur ou tutrice du projet « Jardin" in text
    assert "ne recevra plus les demandes de validation" in text and "Oui, retirer ce rôle" in text
    assert count(session, Membership) == before  # nothing changed by asking
    done = post(client, path)
    assert done.status_code == 303 and done.headers["Location"] == f"/personnes/{brenne.karim.id}?fait=role_removed"
    assert session.get(Membership, tutor_of_garden.id) is None
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "membership.revoked")).first() is not None


def test_withdrawing_a_persons_last_role_goes_back_to_the_list(client, app, brenne, session):
    sign_in_as(client, app, brenne.helene)
    only = session.scalars(select(Membership).where(Membership.person_id == brenne.marcel.id)).one()
    ask = page_text(client.get(f"/personnes/{brenne.marcel.id}/roles/{only.id}/retirer"))
    assert "C'est son dernier rôle sur vos territoires" in ask
    done = post(client, f"/personnes/{brenne.marcel.id}/roles/{only.id}/retirer")
    assert done.status_code == 303 and done.headers["Location"] == "/personnes?fait=role_removed_last"
    assert "n'apparaît plus dans la liste" in page_text(client.get(done.headers["Location"]))
    assert client.get(f"/personnes/{brenne.marcel.id}").status_code == 404


# --- invitation -----------------------------------------------------------------------------------------


def test_inviting_a_person_creates_the_account_and_emails_the_link_once_saved(client, app, brenne, session, outbox):
    sign_in_as(client, app, brenne.helene)
    form = client.get("/personnes/inviter")
    assert form.status_code == 200 and f'<option value="learner:{brenne.garden.id}"' in form.get_data(as_text=True)
    done = post(
        client,
        "/personnes/inviter",
        nom="Inès Lambert",
        email="Ines.Lambert@Example.org",
        role=f"learner:{brenne.garden.id}",
    )
    assert done.status_code == 303, page_text(done)[:400]
    ines = session.scalars(select(Person).where(Person.email == "ines.lambert@example.org")).one()
    assert done.headers["Location"] == f"/personnes/{ines.id}?fait=invited"
    roles = session.scalars(select(Membership).where(Membership.person_id == ines.id)).all()
    assert [(m.role, m.scope_id) for m in roles] == [(Role.LEARNER, brenne.garden.id)]
    [message] = outbox()
    assert message["To"] == "ines.lambert@example.org"
    assert re.search(r"/invitation/[\w-]+", message.get_content())
    page = page_text(client.get(done.headers["Location"]))
    assert "l'invitation est envoyée par e-mail" in page and "Invitation envoyée, pas encore ouverte" in page

    again = post(client, f"/personnes/{ines.id}/invitation")
    assert again.status_code == 303 and again.headers["Location"].endswith("?fait=invitation_sent")
    assert len(outbox()) == 2


def test_inviting_a_coordinator(client, app, brenne, session, outbox):
    sign_in_as(client, app, brenne.helene)
    done = post(
        client,
        "/personnes/inviter",
        nom="Paul Roux",
        email="paul.roux@example.org",
        role=f"coordinator:{brenne.territory.id}",
    )
    assert done.status_code == 303
    paul = session.scalars(select(Person).where(Person.email == "paul.roux@example.org")).one()
    [membership] = session.scalars(select(Membership).where(Membership.person_id == paul.id)).all()
    assert (membership.role, membership.scope_type, membership.scope_id) == (
        Role.COORDINATOR,
        ScopeType.TERRITORY,
        brenne.territory.id,
    )
    assert len(outbox()) == 1


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"nom": "", "email": "a@example.org"}, "nom", "Indiquez le prénom et le nom."),
        ({"nom": "X" * 201, "email": "a@example.org"}, "nom", "200 caractères au plus."),
        ({"nom": "Inès", "email": ""}, "email", "Indiquez l'adresse e-mail de la personne."),
        ({"nom": "Inès", "email": "ines@"}, "email", "Indiquez une adresse e-mail complète"),
        ({"nom": "Inès", "email": "LUCIE"}, "email", "Un compte utilise déjà cette adresse e-mail"),
        ({"nom": "Inès", "email": "a@example.org", "role": ""}, "role", "Choisissez un rôle dans la liste."),
    ],
)
def test_an_invitation_refused_writes_nothing_and_sends_nothing(
    client, app, brenne, session, outbox, form, field, words
):
    if form["email"] == "LUCIE":
        form = {**form, "email": brenne.lucie.email.upper()}
    form = {"role": f"tutor:{brenne.repair.id}", **form}
    sign_in_as(client, app, brenne.helene)
    people_before, roles_before = count(session, Person), count(session, Membership)
    page = post(client, "/personnes/inviter", **form)
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and words in page_text(page)
    assert f'id="{field}-error"' in html and f'aria-describedby="{field}-hint {field}-error"' in html
    assert f'href="#{field}"' in html  # the summary leads to the field
    assert (count(session, Person), count(session, Membership)) == (people_before, roles_before)
    assert outbox() == []


def test_no_invitation_for_who_chose_a_password(client, app, brenne, outbox):
    sign_in_as(client, app, brenne.helene)
    page = post(client, f"/personnes/{brenne.lucie.id}/invitation")
    assert page.status_code == 409 and "cette personne a déjà choisi son mot de passe" in page_text(page)
    assert outbox() == []


# --- assisted accounts ----------------------------------------------------------------------------------


def test_an_assisted_account_with_me_as_facilitator_then_acting_for_it(client, app, brenne, session):
    sign_in_as(client, app, brenne.helene)
    form = client.get("/personnes/compte-accompagne")
    assert form.status_code == 200 and '<option value="moi">Moi (Hélène Martin)</option>' in form.get_data(as_text=True)
    done = post(
        client, "/personnes/compte-accompagne", nom="Josette Blanc", projet=str(brenne.garden.id), facilitateur="moi"
    )
    assert done.status_code == 303, page_text(done)[:300]
    josette = session.scalars(select(Person).where(Person.display_name == "Josette Blanc")).one()
    assert (josette.email, josette.password_hash, josette.is_assisted) == (None, None, True)
    assert done.headers["Location"] == f"/personnes/{josette.id}?fait=assisted"
    links = session.scalars(select(Facilitation).where(Facilitation.learner_id == josette.id)).all()
    assert [(f.facilitator_id, f.revoked_at) for f in links] == [(brenne.helene.id, None)]
    page = page_text(client.get(done.headers["Location"]))
    assert "Le compte de Josette Blanc est créé." in page and "Vous (Hélène Martin)" in page
    acting = post(client, f"/agir-pour/{josette.id}")
    assert acting.status_code == 303 and acting.headers["Location"] == "/mes-contributions"
    assert "Vous agissez pour Josette Blanc" in page_text(client.get("/mes-contributions"))


def test_an_assisted_account_facilitated_by_the_tutor(client, app, brenne, session):
    sign_in_as(client, app, brenne.helene)
    done = post(
        client,
        "/personnes/compte-accompagne",
        nom="René Petit",
        projet=str(brenne.repair.id),
        facilitateur=str(brenne.karim.id),
    )
    assert done.status_code == 303
    rene = session.scalars(select(Person).where(Person.display_name == "René Petit")).one()
    links = {
        f.facilitator_id: f.revoked_at
        for f in session.scalars(select(Facilitation).where(Facilitation.learner_id == rene.id))
    }
    assert links[brenne.karim.id] is None and links[brenne.helene.id] is not None  # she stepped back
    text = page_text(client.get(f"/personnes/{rene.id}"))
    assert "Karim Benali" in text and "Vous (Hélène" not in text


@pytest.mark.parametrize(
    ("over", "field", "words"),
    [
        ({"nom": " "}, "nom", "Indiquez le prénom et le nom."),
        ({"projet": ""}, "projet", "Choisissez le projet de la personne."),
        ({"facilitateur": "pas-un-id"}, "facilitateur", "Cette personne ne peut pas agir pour elle"),
        ({"facilitateur": "LUCIE"}, "facilitateur", "Cette personne ne peut pas agir pour elle"),
    ],
)
def test_an_assisted_account_refused_writes_nothing(client, app, brenne, session, over, field, words):
    if over.get("facilitateur") == "LUCIE":  # a learner of another project: not a facilitator there
        over = {"facilitateur": str(brenne.outsider.id)}
    sign_in_as(client, app, brenne.helene)
    before = (count(session, Person), count(session, Membership), count(session, Facilitation))
    form = {"nom": "Josette Blanc", "projet": str(brenne.garden.id), "facilitateur": "moi", **over}
    page = post(client, "/personnes/compte-accompagne", **form)
    assert page.status_code == 422 and words in page_text(page)
    assert f'id="{field}-error"' in page.get_data(as_text=True)
    assert (count(session, Person), count(session, Membership), count(session, Facilitation)) == before


def test_naming_a_facilitator_on_the_persons_page(client, app, brenne, session):
    sign_in_as(client, app, brenne.helene)
    done = post(client, f"/personnes/{brenne.marcel.id}/facilitateurs", facilitateur=str(brenne.karim.id))
    assert done.status_code == 303 and done.headers["Location"].endswith("?fait=facilitator")
    assert session.scalars(
        select(Facilitation).where(
            Facilitation.learner_id == brenne.marcel.id, Facilitation.facilitator_id == brenne.karim.id
        )
    ).one()
    refused = post(client, f"/personnes/{brenne.lucie.id}/facilitateurs", facilitateur=str(brenne.karim.id))
    assert refused.status_code == 422 and "Cette personne ne peut pas agir pour elle" in page_text(refused)
