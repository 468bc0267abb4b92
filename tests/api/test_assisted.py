"""Assisted accounts: a facilitator creates a learner without e-mail and acts for them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Contribution, Facilitation, Person
from tests.api.support import assert_problem

API = "/api/v1"


@pytest.fixture()
def setting(make_person, make_project, grant):  # type: ignore[no-untyped-def]
    project = make_project()
    coordinator = make_person()
    grant(coordinator, "coordinator", project.territory_id)
    return coordinator, project


def create_assisted(client, headers, coordinator, project, **extra):  # type: ignore[no-untyped-def]
    body = {"displayName": "Josiane", "isAssisted": True, "projectId": str(project.id), **extra}
    return client.post(f"{API}/people", json=body, headers=headers(coordinator))


def test_coordinator_creates_an_assisted_learner_and_facilitates(client, session, headers, setting):
    coordinator, project = setting
    r = create_assisted(client, headers, coordinator, project)
    assert r.status_code == 201, r.json
    assert r.json["isAssisted"] is True and r.json["email"] is None
    learner_id = uuid.UUID(r.json["id"])
    link = session.scalar(select(Facilitation).where(Facilitation.learner_id == learner_id))
    assert link is not None and link.facilitator_id == coordinator.id

    h = headers(coordinator)
    h["X-Act-For"] = str(learner_id)
    me = client.get(f"{API}/people/me", headers=h)
    assert me.status_code == 200
    assert me.json["id"] == str(learner_id) and me.json["actingFor"] == str(learner_id)
    assert [m["role"] for m in me.json["memberships"]] == ["learner"]


def test_acting_for_records_the_contribution_as_the_learners(client, session, headers, setting):
    coordinator, project = setting
    learner_id = create_assisted(client, headers, coordinator, project).json["id"]
    h = {**headers(coordinator), "X-Act-For": learner_id}
    r = client.post(f"{API}/contributions", json={"projectId": str(project.id), "title": "Atelier couture"}, headers=h)
    assert r.status_code == 201, r.json
    assert r.json["learnerId"] == learner_id
    assert r.json["createdById"] == str(coordinator.id)
    contribution = session.get(Contribution, uuid.UUID(r.json["id"]))
    assert contribution is not None and str(contribution.learner_id) == learner_id

    event = session.scalar(select(AuditEvent).where(AuditEvent.subject_id == r.json["id"]))
    assert event is not None
    assert event.actor_id == coordinator.id
    assert str(event.on_behalf_of_id) == learner_id

    # Submitting for them is audited the same way.
    r = client.post(f"{API}/contributions/{r.json['id']}/submit", headers=h)
    assert r.status_code == 200
    submitted = session.scalar(select(AuditEvent).where(AuditEvent.action == "contribution.submitted"))
    assert submitted.actor_id == coordinator.id and str(submitted.on_behalf_of_id) == learner_id


def test_without_x_act_for_the_facilitator_acts_as_themself(client, headers, setting):
    coordinator, project = setting
    create_assisted(client, headers, coordinator, project)
    r = client.post(
        f"{API}/contributions", json={"projectId": str(project.id), "title": "Moi"}, headers=headers(coordinator)
    )
    assert_problem(r, 403)  # the coordinator is no learner of the project


def test_someone_who_is_not_facilitator_gets_403(client, headers, make_person, grant, setting):
    coordinator, project = setting
    learner_id = create_assisted(client, headers, coordinator, project).json["id"]
    stranger = make_person()
    grant(stranger, "tutor", project)
    for who in (stranger, make_person()):
        r = client.get(f"{API}/people/me", headers={**headers(who), "X-Act-For": learner_id})
        assert_problem(r, 403)
    # Pointing at oneself is harmless; pointing at nobody is refused.
    assert (
        client.get(f"{API}/people/me", headers={**headers(stranger), "X-Act-For": str(stranger.id)}).status_code == 200
    )
    assert_problem(client.get(f"{API}/people/me", headers={**headers(stranger), "X-Act-For": str(uuid.uuid4())}), 403)


@pytest.mark.parametrize("value", ["not-a-uuid", "1234", "' OR 1=1 --", "00000000-0000-4000-8000-00000000000x"])
def test_malformed_x_act_for_is_422(client, headers, make_person, value):
    r = client.get(f"{API}/people/me", headers={**headers(make_person()), "X-Act-For": value})
    assert_problem(r, 422, "#/headers/X-Act-For")


def test_revoked_facilitation_stops_acting(client, session, headers, setting):
    coordinator, project = setting
    learner_id = create_assisted(client, headers, coordinator, project).json["id"]
    link = session.scalar(select(Facilitation).where(Facilitation.learner_id == uuid.UUID(learner_id)))
    link.revoked_at = link.created_at
    session.flush()
    assert_problem(client.get(f"{API}/people/me", headers={**headers(coordinator), "X-Act-For": learner_id}), 403)


def test_a_disabled_facilitator_cannot_act_for_anyone(client, session, headers, setting):
    coordinator, project = setting
    learner_id = create_assisted(client, headers, coordinator, project).json["id"]
    h = {**headers(coordinator), "X-Act-For": learner_id}
    session.get(Person, coordinator.id).is_active = False
    session.flush()
    assert_problem(client.get(f"{API}/people/me", headers=h), 401)


def test_assisted_account_needs_no_email_but_others_do(client, headers, setting):
    coordinator, project = setting
    r = client.post(
        f"{API}/people",
        json={"displayName": "Sans courriel", "projectId": str(project.id)},
        headers=headers(coordinator),
    )
    assert_problem(r, 422, "#/email")
    r = create_assisted(client, headers, coordinator, project, password="a long enough password")
    assert_problem(r, 422, "#/password")


def test_people_are_created_only_by_coordinators_of_the_project(
    client, headers, make_person, make_project, grant, setting
):
    coordinator, project = setting
    elsewhere = make_project()
    assert_problem(create_assisted(client, headers, coordinator, elsewhere), 404)
    tutor = make_person()
    grant(tutor, "tutor", project)
    assert_problem(create_assisted(client, headers, tutor, project), 403)
    r = client.post(f"{API}/people", json={"displayName": "X", "isAssisted": True}, headers=headers(tutor))
    assert_problem(r, 403)


def test_duplicate_email_is_409(client, headers, make_person, setting):
    coordinator, project = setting
    existing = make_person()
    r = client.post(
        f"{API}/people",
        json={"displayName": "Doublon", "email": existing.email.upper(), "projectId": str(project.id)},
        headers=headers(coordinator),
    )
    assert_problem(r, 409, "#/email")
