"""Acting for someone (X-Act-For) and naming facilitators: issue 11, identity items.

A facilitation exists only for an assisted account (no login of its own) in the facilitator's
territory; acting for that learner lends their place as a learner in the projects the facilitator
sees, never their other roles. People one cannot see are answered as unknown ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.models import (
    AuditEvent,
    Contribution,
    ContributionStatus,
    Evidence,
    EvidenceKind,
    Facilitation,
    Person,
    Project,
    Territory,
    Visibility,
)
from tests.api.support import assert_problem

API = "/api/v1"


@dataclass
class Place:
    territory: Territory
    project: Project
    coordinator: Person
    learner: Person  # logs in with e-mail and password
    assisted: Person  # no login of their own


@pytest.fixture()
def places(session, make_person, make_territory, make_project, grant):  # type: ignore[no-untyped-def]
    def place(name: str) -> Place:
        territory = make_territory(name=name)
        project = make_project(territory)
        coordinator, learner = make_person(), make_person()
        assisted = make_person(email=None, password_hash=None, is_assisted=True)
        grant(coordinator, "coordinator", territory)
        grant(learner, "learner", project)
        grant(assisted, "learner", project)
        return Place(territory, project, coordinator, learner, assisted)

    return place("A"), place("B")


def facilitation(facilitator: Person, learner: Person) -> dict[str, str]:
    return {"facilitatorId": str(facilitator.id), "learnerId": str(learner.id)}


def membership(person: Person | uuid.UUID, role: str, scope_type: str, scope_id: object) -> dict[str, object]:
    return {
        "personId": str(getattr(person, "id", person)),
        "role": role,
        "scopeType": scope_type,
        "scopeId": str(scope_id) if scope_id else None,
    }


def add_link(session, facilitator: Person, learner: Person) -> None:  # type: ignore[no-untyped-def]
    """A facilitation row as older versions let anyone create it."""
    session.add(Facilitation(facilitator_id=facilitator.id, learner_id=learner.id))
    session.commit()


# --- naming facilitators --------------------------------------------------------------------


def test_a_coordinator_names_a_facilitator_of_an_assisted_learner(client, session, headers, places):
    a, _b = places
    r = client.post(
        f"{API}/facilitations", json=facilitation(a.coordinator, a.assisted), headers=headers(a.coordinator)
    )
    assert r.status_code == 201, r.json
    me = client.get(f"{API}/people/me", headers=headers(a.coordinator, act_for=a.assisted))
    assert me.status_code == 200 and me.json["actingFor"] == str(a.assisted.id)
    assert [(m["role"], m["scopeId"]) for m in me.json["memberships"]] == [("learner", str(a.project.id))]


def test_no_facilitator_for_an_account_that_logs_in(client, headers, places):
    a, _b = places
    r = client.post(f"{API}/facilitations", json=facilitation(a.coordinator, a.learner), headers=headers(a.coordinator))
    assert_problem(r, 422, "#/learnerId")


def test_the_facilitator_must_work_in_one_of_the_learners_projects(
    client, headers, make_person, make_project, grant, places
):
    a, _b = places
    tutor_elsewhere = make_person()
    grant(tutor_elsewhere, "tutor", make_project(a.territory))  # same territory, another project
    r = client.post(
        f"{API}/facilitations", json=facilitation(tutor_elsewhere, a.assisted), headers=headers(a.coordinator)
    )
    assert_problem(r, 422, "#/facilitatorId")
    grant(tutor_elsewhere, "tutor", a.project)
    r = client.post(
        f"{API}/facilitations", json=facilitation(tutor_elsewhere, a.assisted), headers=headers(a.coordinator)
    )
    assert r.status_code == 201, r.json
    r = client.post(f"{API}/facilitations", json=facilitation(a.assisted, a.assisted), headers=headers(a.coordinator))
    assert_problem(r, 422, "#/facilitatorId")


def test_projects_and_territories_one_cannot_see_are_unknown_scopes(client, headers, places):
    a, b = places
    h = headers(a.coordinator)
    for role, scope_type, hidden in (("tutor", "project", b.project.id), ("coordinator", "territory", b.territory.id)):
        r = client.post(f"{API}/memberships", json=membership(b.learner, role, scope_type, hidden), headers=h)
        unknown = client.post(
            f"{API}/memberships", json=membership(b.learner, role, scope_type, uuid.uuid4()), headers=h
        )
        assert_problem(r, 404)
        assert r.get_json() == unknown.get_json()


def test_people_one_cannot_see_are_unknown_ids(client, headers, places):
    """Enrolling or naming someone from elsewhere answers exactly as for an id that exists nowhere."""
    a, b = places
    h = headers(a.coordinator)
    for who in (b.learner.id, b.coordinator.id, b.assisted.id):
        unknown = client.post(
            f"{API}/memberships", json=membership(uuid.uuid4(), "learner", "project", a.project.id), headers=h
        )
        hidden = client.post(f"{API}/memberships", json=membership(who, "learner", "project", a.project.id), headers=h)
        assert_problem(hidden, 404)
        assert hidden.get_json() | {"instance": None} == unknown.get_json() | {"instance": None}
        for body in (
            {"facilitatorId": str(a.coordinator.id), "learnerId": str(who)},
            {"facilitatorId": str(who), "learnerId": str(a.assisted.id)},
        ):
            unknown_body = {k: str(uuid.uuid4()) if v == str(who) else v for k, v in body.items()}
            hidden = client.post(f"{API}/facilitations", json=body, headers=h)
            unknown = client.post(f"{API}/facilitations", json=unknown_body, headers=h)
            assert_problem(hidden, 404)
            assert hidden.get_json() == unknown.get_json()
            assert str(who) not in hidden.get_data(as_text=True)


# --- the three-call escalation ----------------------------------------------------------------


def test_a_coordinator_cannot_become_platform_administrator(client, session, headers, make_person, grant, places):
    a, _b = places
    admin = make_person()
    grant(admin, "platform_admin")
    h = headers(a.coordinator)
    # 1. enrol the admin in one of one's projects, 2. name oneself their facilitator...
    assert_problem(
        client.post(f"{API}/memberships", json=membership(admin, "learner", "project", a.project.id), headers=h), 404
    )
    assert_problem(client.post(f"{API}/facilitations", json=facilitation(a.coordinator, admin), headers=h), 404)
    # ...and even with the rows an older version let through, 3. acting for them lends nothing.
    grant(admin, "learner", a.project)
    add_link(session, a.coordinator, admin)
    acting = headers(a.coordinator, act_for=admin)
    assert_problem(
        client.post(
            f"{API}/memberships", json=membership(a.coordinator, "platform_admin", "platform", None), headers=acting
        ),
        403,
    )
    assert_problem(client.post(f"{API}/territories", json={"name": "Annexé"}, headers=acting), 403)


def test_acting_for_an_assisted_learner_lends_only_their_learner_place(client, session, headers, grant, places):
    """Even an assisted account that somehow holds admin, coordinator or tutor roles lends none of them."""
    a, b = places
    add_link(session, a.coordinator, a.assisted)
    for role, scope in (
        ("platform_admin", None),
        ("coordinator", b.territory),
        ("tutor", b.project),
        ("learner", b.project),
    ):
        grant(a.assisted, role, scope)
    acting = headers(a.coordinator, act_for=a.assisted)
    me = client.get(f"{API}/people/me", headers=acting).json
    assert [(m["role"], m["scopeId"]) for m in me["memberships"]] == [("learner", str(a.project.id))]
    listed = client.get(f"{API}/memberships", headers=acting).json
    assert [(m["role"], m["scopeId"]) for m in listed["items"]] == [("learner", str(a.project.id))]
    assert_problem(client.get(f"{API}/projects/{b.project.id}", headers=acting), 404)
    assert_problem(client.get(f"{API}/territories/{b.territory.id}", headers=acting), 404)
    assert_problem(client.post(f"{API}/territories", json={"name": "Annexé"}, headers=acting), 403)
    assert_problem(
        client.post(
            f"{API}/memberships",
            json=membership(a.coordinator, "coordinator", "territory", b.territory.id),
            headers=acting,
        ),
        404,
    )
    assert_problem(
        client.post(
            f"{API}/memberships", json=membership(a.coordinator, "tutor", "project", a.project.id), headers=acting
        ),
        403,
    )
    r = client.post(f"{API}/contributions", json={"projectId": str(b.project.id), "title": "Ailleurs"}, headers=acting)
    assert r.status_code in (403, 404)
    # Where the facilitator works, the learner's place is lent as before.
    r = client.post(f"{API}/contributions", json={"projectId": str(a.project.id), "title": "Atelier"}, headers=acting)
    assert r.status_code == 201, r.json


def test_coordinator_a_cannot_act_as_coordinator_b(client, session, headers, grant, places):
    a, b = places
    grant(b.coordinator, "learner", a.project)  # B is visible to A
    assert_problem(
        client.post(
            f"{API}/facilitations", json=facilitation(a.coordinator, b.coordinator), headers=headers(a.coordinator)
        ),
        422,
        "#/learnerId",
    )
    add_link(session, a.coordinator, b.coordinator)
    assert_problem(client.get(f"{API}/people/me", headers=headers(a.coordinator, act_for=b.coordinator)), 403)


# --- impersonating a learner who logs in ---------------------------------------------------------


def test_a_coordinator_cannot_impersonate_a_learner_who_logs_in(client, session, headers, make_contribution, places):
    a, _b = places
    draft = make_contribution(a.learner, a.project, title="Brouillon")
    submitted = make_contribution(a.learner, a.project, status=ContributionStatus.SUBMITTED)
    private = Evidence(
        contribution_id=submitted.id,
        kind=EvidenceKind.TEXT,
        title="Privé",
        text="…",
        visibility=Visibility.PRIVATE,
        created_by_id=a.learner.id,
    )
    session.add(private)
    session.commit()
    add_link(session, a.coordinator, a.learner)
    acting = headers(a.coordinator, act_for=a.learner)
    for path in ("/people/me", f"/contributions/{draft.id}", f"/evidence/{private.id}", "/contributions"):
        assert_problem(client.get(API + path, headers=acting), 403)
    r = client.post(
        f"{API}/contributions", json={"projectId": str(a.project.id), "title": "En son nom"}, headers=acting
    )
    assert_problem(r, 403)
    # As themself the coordinator still sees neither the draft nor the private evidence.
    assert_problem(client.get(f"{API}/contributions/{draft.id}", headers=headers(a.coordinator)), 404)
    assert client.get(f"{API}/evidence/{private.id}", headers=headers(a.coordinator)).status_code in (403, 404)


def test_acting_for_stops_when_the_facilitation_is_no_longer_valid(
    client, session, headers, make_person, grant, places
):
    a, _b = places
    add_link(session, a.coordinator, a.assisted)
    acting = headers(a.coordinator, act_for=a.assisted)
    assert client.get(f"{API}/people/me", headers=acting).status_code == 200
    # The learner gets a login of their own: they act for themself now.
    learner = session.get(Person, a.assisted.id)
    learner.email, learner.password_hash = "autonome@example.org", make_person().password_hash
    session.commit()
    assert_problem(client.get(f"{API}/people/me", headers=acting), 403)
    session.get(Person, a.assisted.id).password_hash = None
    session.commit()
    assert client.get(f"{API}/people/me", headers=acting).status_code == 200
    # The facilitator stops coordinating the learner's territory.
    revoked = client.get(f"{API}/memberships?personId={a.coordinator.id}", headers=headers(a.coordinator)).json
    admin = make_person()
    grant(admin, "platform_admin")
    assert client.delete(f"{API}/memberships/{revoked['items'][0]['id']}", headers=headers(admin)).status_code == 204
    assert_problem(client.get(f"{API}/people/me", headers=acting), 403)


def test_a_facilitator_never_sees_the_learners_records_from_elsewhere(
    client, session, headers, grant, make_contribution, places
):
    a, b = places
    grant(a.assisted, "learner", b.project)
    mine = make_contribution(a.assisted, a.project, title="Ici")
    theirs = make_contribution(a.assisted, b.project, title="Ailleurs")
    add_link(session, a.coordinator, a.assisted)
    acting = headers(a.coordinator, act_for=a.assisted)
    listed = client.get(f"{API}/contributions", headers=acting).json
    assert [c["id"] for c in listed["items"]] == [str(mine.id)]
    assert client.get(f"{API}/contributions/{mine.id}", headers=acting).status_code == 200
    assert_problem(client.get(f"{API}/contributions/{theirs.id}", headers=acting), 404)


def test_the_audit_keeps_both_ids(client, session, headers, places):
    a, _b = places
    client.post(f"{API}/facilitations", json=facilitation(a.coordinator, a.assisted), headers=headers(a.coordinator))
    r = client.post(
        f"{API}/contributions",
        json={"projectId": str(a.project.id), "title": "Atelier"},
        headers=headers(a.coordinator, act_for=a.assisted),
    )
    assert r.status_code == 201
    assert session.get(Contribution, uuid.UUID(r.json["id"])).learner_id == a.assisted.id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "contribution.created_for"))
    assert (event.actor_id, event.on_behalf_of_id) == (a.coordinator.id, a.assisted.id)


def test_an_assisted_account_created_outside_a_project_is_enrolled_by_its_facilitator(client, headers, places):
    a, _b = places
    h = headers(a.coordinator)
    r = client.post(f"{API}/people", json={"displayName": "Josiane", "isAssisted": True}, headers=h)
    assert r.status_code == 201, r.json
    learner_id = r.json["id"]
    acting = {**h, "X-Act-For": learner_id}
    assert_problem(client.get(f"{API}/people/me", headers=acting), 403)  # in none of the coordinator's projects
    assert client.get(f"{API}/people/{learner_id}", headers=h).status_code == 200  # their facilitator sees them
    r = client.post(
        f"{API}/memberships", json=membership(uuid.UUID(learner_id), "learner", "project", a.project.id), headers=h
    )
    assert r.status_code == 201, r.json
    assert client.get(f"{API}/people/me", headers=acting).json["actingFor"] == learner_id
    r = client.post(
        f"{API}/people",
        json={
            "displayName": "Josiane",
            "isAssisted": True,
            "email": "j@example.org",
            "password": "a long enough password",
        },
        headers=h,
    )
    assert_problem(r, 422, "#/password")
