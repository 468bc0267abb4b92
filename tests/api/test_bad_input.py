"""Bad input is answered with a precise problem+json, never a crash."""

from __future__ import annotations

import uuid

import pytest

from tests.api.support import assert_problem

API = "/api/v1"


@pytest.fixture()
def learner(make_person, make_project, grant, headers):  # type: ignore[no-untyped-def]
    project = make_project()
    person = make_person()
    grant(person, "learner", project)
    return project, headers(person)


def post_contribution(client, learner, body):  # type: ignore[no-untyped-def]
    project, h = learner
    return client.post(f"{API}/contributions", json={"projectId": str(project.id), **body}, headers=h)


@pytest.mark.parametrize(
    "raw",
    [
        b"{bad json",
        b'{"title": "x",}',
        b"\xff\xfe\x00garbage",
        b'{"title": "\\ud800"',
        b"[" * 100_000 + b"]" * 100_000,
        b"{" * 50_000,
    ],
)
def test_malformed_json_is_400(client, learner, raw):
    _project, h = learner
    r = client.post(f"{API}/contributions", data=raw, headers=h, content_type="application/json")
    body = assert_problem(r, 400)
    assert "Traceback" not in r.get_data(as_text=True) and "detail" in body


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_refused(client, learner, raw):
    _project, h = learner
    r = client.post(f"{API}/contributions", data=raw, headers=h, content_type="application/json")
    assert r.status_code in (400, 422)
    assert_problem(r, r.status_code)


def test_unknown_field_is_named(client, learner):
    assert_problem(post_contribution(client, learner, {"title": "x", "bogus": 1}), 422, "#/bogus")
    # snake_case is not the wire format: it is an unknown field too.
    assert_problem(post_contribution(client, learner, {"title": "x", "start_date": "2026-01-01"}), 422, "#/start_date")


@pytest.mark.parametrize(
    "body,pointer",
    [
        ({"title": 123}, "#/title"),
        ({"title": "x", "hours": "beaucoup"}, "#/hours"),
        ({"title": "x", "hours": -1}, "#/hours"),
        ({"title": "x", "hours": 1e400}, "#/hours"),
        ({"title": "x", "startDate": "hier"}, "#/startDate"),
        ({"title": "x", "startDate": "2026-02-30"}, "#/startDate"),
        ({"title": "x", "startDate": "2026-05-02", "endDate": "2026-05-01"}, "#/endDate"),
        ({"title": "x", "coContributors": "Marcel"}, "#/coContributors"),
        ({"title": "x", "coContributors": [{"name": ""}]}, "#/coContributors/0/name"),
        ({"title": "x", "coContributors": [{"name": "A", "personId": "nope"}]}, "#/coContributors/0/personId"),
        ({"title": "x", "coContributors": [{"name": "A"}] * 51}, "#/coContributors"),
        ({"title": "t" * 201}, "#/title"),
        ({"title": ""}, "#/title"),
        ({"title": None}, "#/title"),
        ({}, "#/title"),
        ({"title": "nul\x00byte"}, "#/title"),
        ({"title": "x", "narrative": "n" * 20001}, "#/narrative"),
    ],
)
def test_field_errors_are_named(client, learner, body, pointer):
    assert_problem(post_contribution(client, learner, body), 422, pointer)


def test_title_of_200_characters_is_fine(client, learner):
    r = post_contribution(client, learner, {"title": "t" * 200})
    assert r.status_code == 201 and len(r.json["title"]) == 200


def test_missing_required_project_id(client, learner):
    _project, h = learner
    assert_problem(client.post(f"{API}/contributions", json={"title": "x"}, headers=h), 422, "#/projectId")
    assert_problem(
        client.post(f"{API}/contributions", json={"title": "x", "projectId": "12"}, headers=h), 422, "#/projectId"
    )
    assert_problem(
        client.post(f"{API}/contributions", json={"title": "x", "projectId": str(uuid.uuid4())}, headers=h), 404
    )


def test_nul_in_query_string_is_422(client, learner):
    _project, h = learner
    assert_problem(client.get(f"{API}/projects?q=a%00b", headers=h), 422, "#/query/q")


@pytest.mark.parametrize(
    "body,pointer",
    [
        ({"email": "not-an-email", "password": "x"}, "#/email"),
        ({"email": "a@example.org"}, "#/password"),
        ({"email": "a@example.org", "password": ""}, "#/password"),
        ({"email": "a@example.org", "password": "x", "remember": True}, "#/remember"),
    ],
)
def test_login_validation(client, body, pointer):
    assert_problem(client.post(f"{API}/auth/login", json=body), 422, pointer)


def test_unknown_route_is_404_problem(client):
    assert_problem(client.get(f"{API}/nothing-here"), 404)
    assert_problem(client.get("/definitely/not/here"), 404)
    assert_problem(client.get(f"{API}/contributions/not-a-uuid"), 404)


def test_wrong_method_is_405_problem(client):
    r = client.put(f"{API}/territories")
    assert_problem(r, 405)
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert_problem(client.delete(f"{API}/auth/login"), 405)


def test_unexpected_errors_are_generic_500_problems(app, client, monkeypatch, learner):
    """The real error goes to the log only."""
    from app.services.territories import territories

    def boom(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(territories, "list_projects", boom)
    _project, h = learner
    r = client.get(f"{API}/projects", headers=h)
    body = assert_problem(r, 500)
    assert "hunter2" not in r.get_data(as_text=True) and "RuntimeError" not in body["detail"]
