"""The people directory of a coordinator (app.services.identity.directory), without HTTP: the search folds
accents and case on the test database (SQLite or PostgreSQL), stays inside the caller's territories, and
coordinators of one territory see each other (people.get_person) so they can give each other a role."""

from __future__ import annotations

import pytest

from app.models import Role, ScopeType
from app.platform.errors import NotFound, PermissionDenied
from app.services.identity import access, directory, people


@pytest.fixture()
def two(make_person, make_territory, make_project, grant):  # type: ignore[no-untyped-def]
    territory, elsewhere = make_territory(name="Val de Brenne"), make_territory(name="Ailleurs")
    project = make_project(territory, title="Jardin")
    helene, agathe = make_person(display_name="Hélène Martin"), make_person(display_name="AGATHE ÉLÉONORE Œuvray")
    grant(helene, "coordinator", territory)
    grant(agathe, "coordinator", territory)  # a co-coordinator: no project role
    learner = make_person(display_name="Noël Çaglar")
    grant(learner, "learner", project)
    stranger = make_person(display_name="Noël Autre")
    grant(stranger, "learner", make_project(elsewhere))
    return territory, project, helene, agathe, learner, stranger


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("noel", ["Noël Çaglar"]),
        ("NOËL CAGLAR", ["Noël Çaglar"]),
        ("çağlar", ["Noël Çaglar"]),
        ("eleonore", ["AGATHE ÉLÉONORE Œuvray"]),
        ("Éléonore agathe", ["AGATHE ÉLÉONORE Œuvray"]),
        ("hélène", ["Hélène Martin"]),
        ("zz", []),
        ("", ["AGATHE ÉLÉONORE Œuvray", "Hélène Martin", "Noël Çaglar"]),
    ],
)
def test_the_search_ignores_accents_and_case_inside_the_territory(session, two, query, expected):
    _, _, helene, *_ = two
    found = directory.search_people(session, access.member_grants(session, helene.id), q=query)
    assert [row.person.display_name for row in found.items] == expected
    assert found.total == len(expected)


def test_no_territory_to_coordinate_no_directory(session, two):
    *_, learner, _ = two
    with pytest.raises(PermissionDenied):
        directory.search_people(session, access.member_grants(session, learner.id), q="noel")


def test_coordinators_of_a_territory_see_each_other_and_give_each_other_roles(session, two):
    territory, project, helene, agathe, _, stranger = two
    grants = access.member_grants(session, helene.id)
    assert people.get_person(session, grants, agathe.id).id == agathe.id
    membership = directory.give_role(session, grants, agathe.id, f"tutor:{project.id}")
    assert (membership.role, membership.scope_type, membership.scope_id) == (Role.TUTOR, ScopeType.PROJECT, project.id)
    with pytest.raises(NotFound):
        directory.person_sheet(session, grants, stranger.id)
    sheet = directory.person_sheet(session, grants, agathe.id)
    assert [r.role for r in sheet.roles] == ["coordinator", "tutor"] and sheet.projects == ["Jardin"]
