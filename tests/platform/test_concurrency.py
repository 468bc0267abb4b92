"""Two writers on two real connections: the version column turns the loser's flush into Conflict."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from app.models import Contribution, Person, Project, Territory
from app.platform.errors import Conflict
from app.services.contributions import contributions
from app.services.identity.access import Grants
from app.services.identity.audit import Actor


@pytest.fixture()
def committed(engine) -> Iterator[dict[str, uuid.UUID]]:  # type: ignore[no-untyped-def]
    """Rows committed for real (other connections must see them), deleted afterwards."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as s:
        person = Person(display_name="Concurrente", email=f"c{uuid.uuid4().hex[:8]}@example.org")
        territory = Territory(name="Concurrence")
        s.add_all([person, territory])
        s.flush()
        project = Project(territory_id=territory.id, title="Course", social_functions=["produire"])
        s.add(project)
        s.flush()
        contribution = Contribution(
            project_id=project.id, learner_id=person.id, created_by_id=person.id, title="Version 1"
        )
        s.add(contribution)
        s.commit()
        ids = {"person": person.id, "territory": territory.id, "project": project.id, "contribution": contribution.id}
    try:
        yield ids
    finally:
        with factory() as s:
            s.execute(delete(Contribution).where(Contribution.id == ids["contribution"]))
            s.execute(delete(Project).where(Project.id == ids["project"]))
            s.execute(delete(Territory).where(Territory.id == ids["territory"]))
            s.execute(delete(Person).where(Person.id == ids["person"]))
            s.commit()


def learner_grants(ids: dict[str, uuid.UUID]) -> Grants:
    return Grants(Actor(ids["person"]), learner_in=frozenset({ids["project"]}))


def test_second_flush_of_a_stale_row_is_a_conflict(engine, committed):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    grants = learner_grants(committed)
    with factory() as first, factory() as second:
        # Both read version 1; the second ends its read transaction but keeps what it saw.
        assert first.get(Contribution, committed["contribution"]).version == 1
        assert second.get(Contribution, committed["contribution"]).version == 1
        second.commit()

        contributions.update_contribution(
            first, grants, committed["contribution"], {"title": "Premier"}, expected_version=1
        )
        first.commit()
        with pytest.raises(Conflict):
            contributions.update_contribution(
                second, grants, committed["contribution"], {"title": "Second"}, expected_version=1
            )
        second.rollback()

    with factory() as check:
        row = check.get(Contribution, committed["contribution"])
        assert row.title == "Premier" and row.version == 2


def test_a_blocked_concurrent_writer_gets_a_conflict(engine, committed):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the second would wait for the lock, not race")
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    grants = learner_grants(committed)
    outcome: dict[str, object] = {}

    def second_writer(session: Session) -> None:
        try:
            contributions.update_contribution(
                session, grants, committed["contribution"], {"title": "Second"}, expected_version=1
            )
            session.commit()
            outcome["result"] = "committed"
        except Conflict as exc:
            session.rollback()
            outcome["result"] = exc

    with factory() as first, factory() as second:
        assert second.get(Contribution, committed["contribution"]).version == 1
        contributions.update_contribution(
            first, grants, committed["contribution"], {"title": "Premier"}, expected_version=1
        )  # holds the row lock until commit
        thread = threading.Thread(target=second_writer, args=(second,))
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "the second UPDATE should wait for the first transaction"
        first.commit()
        thread.join(10)
        assert not thread.is_alive()
    assert isinstance(outcome["result"], Conflict)
    with factory() as check:
        assert check.get(Contribution, committed["contribution"]).title == "Premier"
