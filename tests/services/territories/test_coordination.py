"""The coordinator's use cases beyond editing: closing a project, its tutors among the territory's people,
the territory's projects by state; who may do them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.models import Membership, ProjectStatus, Role
from app.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.services.identity import access
from app.services.territories import coordination

TODAY = date(2026, 6, 15)


@pytest.fixture()
def world(session, make_person, make_territory, make_project, grant):  # type: ignore[no-untyped-def]
    territory, other = make_territory(name="Val de Brenne"), make_territory(name="Ailleurs")
    project = make_project(territory, title="Jardin")
    elsewhere = make_project(other, title="Là-bas")
    coordinator, tutor, learner, assisted, stranger = (make_person() for _ in range(5))
    assisted.password_hash, assisted.is_assisted = None, True
    session.commit()
    grant(coordinator, "coordinator", territory)
    grant(tutor, "tutor", project)
    grant(learner, "learner", project)
    grant(assisted, "learner", project)
    grant(stranger, "learner", elsewhere)

    class World:
        pass

    w = World()
    w.__dict__.update(locals())
    w.grants = access.load_grants(session, coordinator.id)
    return w


def test_closing_completes_the_project_and_ends_it_today(session, world):  # type: ignore[no-untyped-def]
    closed = coordination.close_project(
        session, world.grants, world.project.id, expected_version=world.project.version, today=TODAY
    )
    assert closed.status is ProjectStatus.COMPLETED and closed.end_date == TODAY
    assert coordination.is_closed(closed)


def test_closing_keeps_an_end_date_and_never_ends_before_the_start(session, world, make_project):  # type: ignore[no-untyped-def]
    later = make_project(world.territory, start_date=date(2026, 9, 1))
    closed = coordination.close_project(session, world.grants, later.id, expected_version=1, today=TODAY)
    assert closed.end_date is None
    with pytest.raises(Conflict):
        coordination.close_project(session, world.grants, world.project.id, expected_version=9, today=TODAY)


def test_tutors_are_found_among_the_territory_people_with_a_login(session, world):  # type: ignore[no-untyped-def]
    found = coordination.tutor_candidates(session, world.grants, world.project.id, q="personne")
    ids = {c.person_id for c in found}
    assert world.learner.id in ids and world.coordinator.id in ids  # oneself too
    assert not ids & {world.tutor.id, world.assisted.id, world.stranger.id}
    coordination.add_tutor(session, world.grants, world.project.id, world.learner.id)
    names = [t.person_id for t in coordination.project_tutors(session, world.grants, world.project.id)]
    assert set(names) == {world.tutor.id, world.learner.id}
    for outsider in (world.stranger.id, world.assisted.id):
        with pytest.raises(InvalidInput):
            coordination.add_tutor(session, world.grants, world.project.id, outsider)


def test_removing_a_tutor_keeps_other_roles(session, world):  # type: ignore[no-untyped-def]
    coordination.remove_tutor(session, world.grants, world.project.id, world.tutor.id)
    assert coordination.project_tutors(session, world.grants, world.project.id) == []
    with pytest.raises(NotFound):
        coordination.remove_tutor(session, world.grants, world.project.id, world.learner.id)
    kept = session.scalar(select(Membership).where(Membership.person_id == world.learner.id))
    assert kept.role is Role.LEARNER


def test_the_territory_projects_by_state(session, world, make_project):  # type: ignore[no-untyped-def]
    make_project(world.territory, title="Fini", status=ProjectStatus.ARCHIVED)
    every = coordination.territory_projects(session, world.grants, world.territory.id)
    assert [p.title for p in every.items] == ["Fini", "Jardin"]
    closed = coordination.territory_projects(
        session, world.grants, world.territory.id, statuses=("completed", "archived")
    )
    assert [p.title for p in closed.items] == ["Fini"]


def test_who_may_coordinate(session, world):  # type: ignore[no-untyped-def]
    tutor = access.load_grants(session, world.tutor.id)
    with pytest.raises(PermissionDenied):
        coordination.coordinated_territories(session, tutor)
    with pytest.raises(PermissionDenied):
        coordination.project_to_manage(session, tutor, world.project.id)
    with pytest.raises(NotFound):  # another territory's project does not exist for this coordinator
        coordination.project_to_manage(session, world.grants, world.elsewhere.id)
    with pytest.raises(NotFound):
        coordination.territory_to_manage(session, world.grants, world.other.id)
    assert [c.name for c in coordination.coordinated_territories(session, world.grants)] == ["Val de Brenne"]
