"""Scope checks over HTTP: other territories' data is missing (404), visible but forbidden is 403."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.models import Contribution, ContributionStatus, Evidence, EvidenceKind, Person, Project, Territory, Visibility
from tests.api.support import assert_problem

API = "/api/v1"


@dataclass
class Side:
    territory: Territory
    project: Project
    coordinator: Person
    tutor: Person
    learner: Person
    submitted: Contribution
    draft: Contribution
    evidence: dict[str, Evidence]


@pytest.fixture()
def world(session, make_person, make_territory, make_project, grant, make_contribution):  # type: ignore[no-untyped-def]
    def side(name: str) -> Side:
        territory = make_territory(name=name)
        project = make_project(territory, title=f"Jardin {name}")
        coordinator, tutor, learner = make_person(), make_person(), make_person()
        grant(coordinator, "coordinator", territory)
        grant(tutor, "tutor", project)
        grant(learner, "learner", project)
        submitted = make_contribution(learner, project, status=ContributionStatus.SUBMITTED)
        draft = make_contribution(learner, project, title="Brouillon")
        evidence = {}
        for visibility in Visibility:
            item = Evidence(
                contribution_id=submitted.id,
                kind=EvidenceKind.TEXT,
                title=visibility.value,
                text="…",
                visibility=visibility,
                created_by_id=learner.id,
            )
            session.add(item)
            evidence[visibility.value] = item
        session.flush()
        return Side(territory, project, coordinator, tutor, learner, submitted, draft, evidence)

    return side("A"), side("B")


def get(client, headers, who, path):  # type: ignore[no-untyped-def]
    return client.get(API + path, headers=headers(who))


@pytest.mark.parametrize("role", ["coordinator", "tutor", "learner"])
def test_another_territory_is_missing_not_forbidden(client, headers, world, role):
    a, b = world
    who = getattr(a, role)
    for path in (
        f"/territories/{b.territory.id}",
        f"/projects/{b.project.id}",
        f"/contributions/{b.submitted.id}",
        f"/contributions/{b.submitted.id}/evidence",
        f"/evidence/{b.evidence['public'].id}",
        f"/evidence/{b.evidence['tutors'].id}",
        f"/people/{b.learner.id}",
    ):
        assert_problem(get(client, headers, who, path), 404)
    # …and B appears in none of A's lists.
    for path in ("/territories", "/projects", "/contributions"):
        r = get(client, headers, who, path)
        assert r.status_code == 200
        ids = {item["id"] for item in r.json["items"]}
        assert not ids & {str(b.territory.id), str(b.project.id), str(b.submitted.id)}, path


def test_own_territory_is_visible(client, headers, world):
    a, _b = world
    for who in (a.coordinator, a.tutor, a.learner):
        assert get(client, headers, who, f"/territories/{a.territory.id}").status_code == 200
        assert get(client, headers, who, f"/projects/{a.project.id}").status_code == 200
        assert get(client, headers, who, f"/contributions/{a.submitted.id}").status_code == 200


def test_a_learner_cannot_read_another_learners_evidence(client, headers, make_person, grant, world):
    a, _b = world
    other = make_person()
    grant(other, "learner", a.project)
    for visibility in ("private", "tutors", "public"):
        assert_problem(get(client, headers, other, f"/evidence/{a.evidence[visibility].id}"), 404)
    assert_problem(get(client, headers, other, f"/contributions/{a.submitted.id}"), 404)
    # The owner reads all of their own, private included.
    r = get(client, headers, a.learner, f"/contributions/{a.submitted.id}/evidence")
    assert {e["visibility"] for e in r.json["items"]} == {"private", "tutors", "jury", "public"}


def test_tutor_sees_tutors_jury_public_but_not_private(client, headers, world):
    a, _b = world
    for visibility, status in (("tutors", 200), ("jury", 200), ("public", 200), ("private", 404)):
        r = get(client, headers, a.tutor, f"/evidence/{a.evidence[visibility].id}")
        assert r.status_code == status, visibility
    r = get(client, headers, a.tutor, f"/contributions/{a.submitted.id}/evidence")
    assert r.status_code == 200
    assert sorted(e["visibility"] for e in r.json["items"]) == ["jury", "public", "tutors"]


def test_a_draft_is_invisible_to_the_tutor_until_submitted(client, headers, world):
    a, _b = world
    path = f"/contributions/{a.draft.id}"
    assert_problem(get(client, headers, a.tutor, path), 404)
    assert_problem(get(client, headers, a.coordinator, path), 404)
    listed = get(client, headers, a.tutor, f"/contributions?projectId={a.project.id}").json
    assert str(a.draft.id) not in {c["id"] for c in listed["items"]}

    r = client.post(f"{API}{path}/submit", headers=headers(a.learner))
    assert r.status_code == 200 and r.json["status"] == "submitted"
    assert get(client, headers, a.tutor, path).status_code == 200
    listed = get(client, headers, a.tutor, f"/contributions?projectId={a.project.id}").json
    assert str(a.draft.id) in {c["id"] for c in listed["items"]}


def test_a_learner_cannot_change_a_project_they_see(client, headers, world):
    a, _b = world
    h = {**headers(a.learner), "If-Match": '"1"'}
    assert_problem(client.patch(f"{API}/projects/{a.project.id}", json={"title": "Mien"}, headers=h), 403)
    assert_problem(
        client.patch(
            f"{API}/projects/{a.project.id}", json={"title": "Mien"}, headers={**headers(a.tutor), "If-Match": '"1"'}
        ),
        403,
    )
    r = client.patch(
        f"{API}/projects/{a.project.id}",
        json={"title": "Jardin partagé"},
        headers={**headers(a.coordinator), "If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json["title"] == "Jardin partagé" and r.headers["ETag"] == '"2"'


def test_a_tutor_cannot_change_someone_elses_contribution(client, headers, world):
    a, _b = world
    r = client.patch(
        f"{API}/contributions/{a.submitted.id}", json={"title": "x"}, headers={**headers(a.tutor), "If-Match": '"1"'}
    )
    assert_problem(r, 403)


def project_body(territory: Any, **extra: Any) -> dict[str, Any]:
    return {"territoryId": str(territory.id), "title": "Ressourcerie", "socialFunctions": ["produire"], **extra}


def test_coordinator_creates_projects_only_in_their_territory(client, headers, world):
    a, b = world
    r = client.post(f"{API}/projects", json=project_body(a.territory), headers=headers(a.coordinator))
    assert r.status_code == 201, r.json
    assert r.json["territoryId"] == str(a.territory.id) and r.headers["ETag"] == '"1"'
    assert_problem(client.post(f"{API}/projects", json=project_body(b.territory), headers=headers(a.coordinator)), 404)
    # A tutor sees territory A but does not coordinate it.
    assert_problem(client.post(f"{API}/projects", json=project_body(a.territory), headers=headers(a.tutor)), 403)


def test_only_platform_admins_create_territories(client, headers, make_person, grant, world):
    a, _b = world
    assert_problem(client.post(f"{API}/territories", json={"name": "Nouveau"}, headers=headers(a.coordinator)), 403)
    admin = make_person()
    grant(admin, "platform_admin")
    r = client.post(f"{API}/territories", json={"name": "Nouveau", "siren": "123456789"}, headers=headers(admin))
    assert r.status_code == 201 and r.json["siren"] == "123456789"


def membership(person: Person, role: str, scope_type: str, scope: Any) -> dict[str, Any]:
    return {
        "personId": str(person.id),
        "role": role,
        "scopeType": scope_type,
        "scopeId": str(scope.id) if scope is not None else None,
    }


@pytest.mark.parametrize("role", ["tutor", "learner"])
def test_coordinator_staffs_projects_of_their_territory_only(
    client, headers, make_person, make_project, grant, world, role
):
    a, b = world
    newcomer = make_person()
    grant(newcomer, "learner", make_project(a.territory))  # already in the territory, so visible
    h = headers(a.coordinator)
    r = client.post(f"{API}/memberships", json=membership(newcomer, role, "project", a.project), headers=h)
    assert r.status_code == 201, r.json
    assert r.json["role"] == role and r.json["scopeId"] == str(a.project.id)
    r = client.post(f"{API}/memberships", json=membership(newcomer, role, "project", b.project), headers=h)
    assert r.status_code in (403, 404)
    assert_problem(r, r.status_code)
    # The new member now sees the project.
    assert get(client, headers, newcomer, f"/projects/{a.project.id}").status_code == 200


def test_non_coordinators_cannot_grant_roles(client, headers, make_person, world):
    a, _b = world
    newcomer = make_person()
    for who in (a.tutor, a.learner):
        r = client.post(
            f"{API}/memberships", json=membership(newcomer, "learner", "project", a.project), headers=headers(who)
        )
        assert_problem(r, 403)
    r = client.post(
        f"{API}/memberships",
        json=membership(newcomer, "platform_admin", "platform", None),
        headers=headers(a.coordinator),
    )
    assert_problem(r, 403)
    r = client.post(
        f"{API}/memberships",
        json=membership(a.learner, "coordinator", "territory", a.territory),
        headers=headers(a.learner),
    )
    assert_problem(r, 403)


@pytest.mark.parametrize(
    "role,scope_type",
    [("tutor", "territory"), ("coordinator", "project"), ("platform_admin", "territory"), ("learner", "issuer")],
)
def test_wrong_scope_type_for_a_role_is_422(client, headers, make_person, world, role, scope_type):
    a, _b = world
    scope = a.territory if scope_type == "territory" else a.project
    r = client.post(
        f"{API}/memberships", json=membership(make_person(), role, scope_type, scope), headers=headers(a.coordinator)
    )
    assert_problem(r, 422, "#/scopeType")


def test_duplicate_membership_is_409(client, headers, world):
    a, _b = world
    r = client.post(
        f"{API}/memberships",
        json=membership(a.learner, "learner", "project", a.project),
        headers=headers(a.coordinator),
    )
    assert_problem(r, 409)


def test_membership_for_unknown_person_is_404(client, headers, world):
    import uuid

    a, _b = world
    body = membership(a.learner, "learner", "project", a.project) | {"personId": str(uuid.uuid4())}
    assert_problem(client.post(f"{API}/memberships", json=body, headers=headers(a.coordinator)), 404)


def test_membership_listing_and_revocation_respect_scope(client, headers, make_person, world):
    a, b = world
    mine = client.get(f"{API}/memberships", headers=headers(a.coordinator)).json
    scope_ids = {m["scopeId"] for m in mine["items"]}
    assert str(a.project.id) in scope_ids and str(b.project.id) not in scope_ids
    b_listing = client.get(f"{API}/memberships?scopeId={b.project.id}", headers=headers(b.coordinator)).json
    b_learner = next(m for m in b_listing["items"] if m["personId"] == str(b.learner.id))
    assert_problem(client.delete(f"{API}/memberships/{b_learner['id']}", headers=headers(a.coordinator)), 404)
    assert client.delete(f"{API}/memberships/{b_learner['id']}", headers=headers(b.coordinator)).status_code == 204
    assert_problem(get(client, headers, b.learner, f"/projects/{b.project.id}"), 404)
