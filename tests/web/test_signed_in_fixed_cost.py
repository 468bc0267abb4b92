"""The fixed cost of a signed-in page: the session's statement brings what the layout shows (names,
whether the person facilitates anyone) and, while acting for a learner, the grants checked once;
the page loads the person's grants once and the layout queries nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, update

from app.db import database_of
from app.models import Facilitation
from app.runtime import runtime
from app.services.identity import access, web_sessions
from tests.web.page_support import page_text, sign_in_as


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(" ".join(args[2].split()))

    engine = database_of(app).engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def reading(seen: list[str], table: str) -> list[str]:
    return [s for s in seen if f"FROM {table} " in s + " " or f"JOIN {table} " in s]


def test_a_learners_page_reads_the_session_once_and_the_grants_once(client, app, make_person, make_project, grant):
    lucie = make_person(display_name="Lucie Bernard")
    grant(lucie, "learner", make_project())
    sign_in_as(client, app, lucie)
    with statements(app) as seen:
        page = client.get("/mes-badges")
    assert page.status_code == 200 and "Vous : Lucie Bernard" in page_text(page)
    assert len(reading(seen, "web_sessions")) == 1
    assert len(reading(seen, "memberships")) == 1
    # Neither the names nor the facilitations are read again for the layout.
    assert not [s for s in seen if "FROM facilitations" in s and "web_sessions" not in s]
    assert not [s for s in seen if s.startswith("SELECT people.id, people.display_name FROM people")]
    assert "Agir pour une personne" not in page_text(page)


def test_the_session_carries_the_name_and_whether_one_facilitates_anyone(
    app, session, make_person, make_project, grant
):
    project = make_project()
    helene = make_person(display_name="Hélène Garnier")
    marcel = make_person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
    grant(helene, "tutor", project)
    grant(marcel, "learner", project)
    session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
    session.commit()
    settings = runtime(app).web_sessions
    token = web_sessions.start(session, helene.id, replacing=None, settings=settings)
    found = web_sessions.resolve(session, token, settings=settings)
    assert found is not None
    assert (found.display_name, found.acting_for_name, found.facilitates, found.grants) == (
        "Hélène Garnier",
        None,
        True,
        None,
    )
    web_sessions.act_for(session, found, marcel.id)
    acting = web_sessions.resolve(session, token, settings=settings)
    assert acting is not None and acting.acting_for_id == marcel.id
    assert acting.acting_for_name == "Marcel Dubreuil"
    assert acting.grants == access.load_grants(session, helene.id, marcel.id)  # the learner's, lent
    assert acting.grants is not None and acting.grants.learner_in == {project.id} and not acting.grants.tutor_of
    session.execute(update(Facilitation).values(revoked_at=datetime(2026, 1, 1, tzinfo=UTC)))
    ended = web_sessions.resolve(session, token, settings=settings)
    assert ended is not None and ended.acting_ended and ended.acting_for_id is None
    assert (ended.acting_for_name, ended.grants, ended.facilitates) == (None, None, False)
    assert access.facilitates_anyone(session, helene.id) is False


def test_acting_for_a_learner_checks_the_facilitation_once_per_page(
    client, app, session, make_person, make_project, grant
):
    project = make_project(title="Jardin partagé")
    helene = make_person(display_name="Hélène Garnier")
    marcel = make_person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
    grant(helene, "tutor", project)
    grant(marcel, "learner", project)
    session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
    session.commit()
    sign_in_as(client, app, helene, act_for=marcel)
    with statements(app) as seen:
        page = client.get("/mes-contributions")
    words = page_text(page)
    assert page.status_code == 200 and "Vous agissez pour Marcel Dubreuil." in words
    assert "Vous : Hélène Garnier" in words and "À valider" not in words  # the learner's menu
    assert len(reading(seen, "web_sessions")) == 1
    assert len(reading(seen, "memberships")) == 2  # the facilitator's, then the learner's lent projects
    assert len([s for s in seen if s.startswith("SELECT facilitations.id FROM facilitations")]) == 1
