"""Optimistic concurrency over HTTP: ETag / If-Match, never a lost update."""

from __future__ import annotations

import pytest

from tests.api.support import assert_problem

API = "/api/v1"


@pytest.fixture()
def draft(client, headers, make_person, make_project, grant):  # type: ignore[no-untyped-def]
    project = make_project()
    learner = make_person()
    grant(learner, "learner", project)
    h = headers(learner)
    r = client.post(f"{API}/contributions", json={"projectId": str(project.id), "title": "Four à pain"}, headers=h)
    assert r.status_code == 201
    return r.json["id"], h


def test_second_writer_with_a_stale_etag_gets_409_and_the_first_change_is_kept(app, draft):
    contribution_id, h = draft
    url = f"{API}/contributions/{contribution_id}"
    alice, bob = app.test_client(), app.test_client()
    etag_a, etag_b = alice.get(url, headers=h).headers["ETag"], bob.get(url, headers=h).headers["ETag"]
    assert etag_a == etag_b == '"1"'

    first = alice.patch(url, json={"title": "Four à pain communal"}, headers={**h, "If-Match": etag_a})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    second = bob.patch(url, json={"narrative": "Écrasé ?"}, headers={**h, "If-Match": etag_b})
    assert_problem(second, 409)

    now = alice.get(url, headers=h)
    assert now.json["title"] == "Four à pain communal" and now.json["narrative"] == ""
    assert now.headers["ETag"] == '"2"'
    # Bob reloads and retries: accepted, and Alice's change is still there.
    retry = bob.patch(url, json={"narrative": "Après relecture"}, headers={**h, "If-Match": now.headers["ETag"]})
    assert retry.status_code == 200
    assert retry.json["title"] == "Four à pain communal" and retry.json["narrative"] == "Après relecture"


def test_patch_without_if_match_is_428(client, draft):
    contribution_id, h = draft
    r = client.patch(f"{API}/contributions/{contribution_id}", json={"title": "Sans version"}, headers=h)
    assert_problem(r, 428)
    assert client.get(f"{API}/contributions/{contribution_id}", headers=h).json["title"] == "Four à pain"


@pytest.mark.parametrize("value,status", [('W/"1"', 200), ("1", 200), ('"abc"', 422), ("*", 422), ('"2"', 409)])
def test_if_match_forms(client, draft, value, status):
    contribution_id, h = draft
    r = client.patch(
        f"{API}/contributions/{contribution_id}", json={"title": "Autre"}, headers={**h, "If-Match": value}
    )
    assert r.status_code == status, r.json
    if status == 422:
        assert_problem(r, 422, "#/headers/If-Match")


def test_territory_and_project_refuse_stale_versions(client, headers, make_person, make_project, grant):
    project = make_project()
    coordinator = make_person()
    grant(coordinator, "coordinator", project.territory_id)
    h = headers(coordinator)
    url = f"{API}/projects/{project.id}"
    assert client.patch(url, json={"title": "Un"}, headers={**h, "If-Match": '"1"'}).status_code == 200
    assert_problem(client.patch(url, json={"title": "Deux"}, headers={**h, "If-Match": '"1"'}), 409)
    assert client.get(url, headers=h).json["title"] == "Un"
