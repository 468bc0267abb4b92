"""Text that cannot be stored or sent back is refused where it enters, naming the field; JSON
bodies too deep to handle are 400 on every endpoint, with or without a token."""

from __future__ import annotations

import io
import json

import pytest
from flask_smorest import Blueprint as SmorestBlueprint

from app import api as api_package
from tests.api.support import assert_problem

API = "/api/v1"
SURROGATE = '"\\ud800"'  # valid JSON text for a lone surrogate: it parses, but has no UTF-8 form


def raw(client, method, url, body: str, h=None):  # type: ignore[no-untyped-def]
    """Send a JSON text as is (the test client's own encoder cannot write a lone surrogate)."""
    return client.open(url, method=method, data=body.encode(), content_type="application/json", headers=h or {})


@pytest.fixture()
def learner(make_person, make_project, grant, headers):  # type: ignore[no-untyped-def]
    project = make_project()
    person = make_person()
    grant(person, "learner", project)
    return project, headers(person)


@pytest.mark.parametrize(
    "body,pointer",
    [
        ('{"title": %s}' % SURROGATE, "#/title"),
        ('{"title": "x", "coContributors": [{"name": %s}]}' % SURROGATE, "#/coContributors/0/name"),
        ('{"title": "x", "coContributors": [{"name": "a\\u0000b"}]}', "#/coContributors/0/name"),
        ('{"title": "x", "narrative": "ok \\udfff ok"}', "#/narrative"),
        ('{"title": "x", "%s": 1}' % "\\ud800", "#"),
    ],
)
def test_unencodable_text_in_a_contribution_is_422(client, learner, body, pointer):
    project, h = learner
    body = body.replace("{", '{"projectId": "%s", ' % project.id, 1)
    assert_problem(raw(client, "POST", f"{API}/contributions", body, h), 422, pointer)


def test_a_surrogate_tag_never_reaches_the_achievement_list(client, make_person, grant, headers):
    admin = make_person()
    grant(admin, "platform_admin")
    h = headers(admin)
    issuer = client.post(
        f"{API}/issuers", json={"name": "Émetteur", "url": "https://e.example.fr", "email": "b@e.example.fr"}, headers=h
    ).get_json()
    body = '{"issuerId": "%s", "name": "Badge", "description": "d", "criteria": "c", "tags": ["ok", %s]}' % (
        issuer["id"],
        SURROGATE,
    )
    assert_problem(raw(client, "POST", f"{API}/achievements", body, h), 422, "#/tags/1")
    nul = body.replace(SURROGATE, '"a\\u0000"')
    assert_problem(raw(client, "POST", f"{API}/achievements", nul, h), 422, "#/tags/1")
    listing = client.get(f"{API}/achievements", headers=h)
    assert listing.status_code == 200 and listing.get_json()["total"] == 0


def test_a_surrogate_rating_scale_never_reaches_the_review_queue(client, world, make_person, grant, headers):
    coordinator = make_person()
    grant(coordinator, "coordinator", world.territory)
    h = headers(coordinator)
    url = f"{API}/territories/{world.territory.id}/review-rules"
    levels = '[{"code": "a", "labelFr": %s}, {"code": "b", "labelFr": "Acquis"}]' % SURROGATE
    r = raw(client, "PUT", url, '{"scale": {"name": "Échelle", "levels": %s}}' % levels, h)
    assert_problem(r, 422, "#/scale/levels/0/labelFr")
    assert client.get(f"{API}/reviews/queue", headers=headers(world.tutor)).status_code == 200


def test_a_surrogate_in_the_query_string_is_harmless(client, learner):
    _project, h = learner
    r = client.get(f"{API}/projects?q=%ED%A0%80", headers=h)  # the URL decoder replaces it
    assert r.status_code == 200


# (method, path, whether anyone may call it): a login-only route answers 401 to the anonymous
# caller before reading the body; with a token, or on a public route, the body is refused (400).
DEEP = [
    ("POST", "/claims", False),
    ("PATCH", "/claims/00000000-0000-0000-0000-000000000000", False),
    ("POST", "/claims/00000000-0000-0000-0000-000000000000/reviews", False),
    ("PUT", "/territories/00000000-0000-0000-0000-000000000000/review-rules", False),
    ("PUT", "/frameworks/00000000-0000-0000-0000-000000000000/review-rules", False),
    ("POST", "/contributions", False),
    ("POST", "/auth/login", True),
    ("POST", "/verify", True),
]


@pytest.mark.parametrize("method,path,public", DEEP)
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * 50_000 + b"]" * 50_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"[" * 50_000,
    ],
    ids=["array", "array-50k", "object", "unclosed"],
)
def test_deeply_nested_json_is_400_or_401_never_500(client, learner, method, path, public, body):
    _project, h = learner
    for headers in ({}, h):
        r = client.open(f"{API}{path}", method=method, data=body, content_type="application/json", headers=headers)
        assert_problem(r, 400 if headers or public else 401)


def test_json_deeper_than_the_limit_is_400_and_shallower_is_read(client, learner):
    project, h = learner
    nested = "1"
    for _ in range(api_package.MAX_JSON_DEPTH):
        nested = "[%s]" % nested
    too_deep = '{"projectId": "%s", "title": "x", "coContributors": %s}' % (project.id, nested)
    assert_problem(raw(client, "POST", f"{API}/contributions", too_deep, h), 400)
    fine = '{"projectId": "%s", "title": "x", "coContributors": [[[1]]]}' % project.id
    assert_problem(raw(client, "POST", f"{API}/contributions", fine, h), 422, "#/coContributors/0")


def test_every_api_blueprint_parses_with_the_project_parser(app):
    blueprints = [bp for bp in app.blueprints.values() if isinstance(bp, SmorestBlueprint)]
    assert len(blueprints) >= 8  # one per domain
    assert all(isinstance(bp, api_package.Blueprint) for bp in blueprints), [
        bp.name for bp in blueprints if not isinstance(bp, api_package.Blueprint)
    ]
    # request.get_json() (the verify endpoint) uses the same function.
    with app.test_request_context(data=b"[" * 100_000, content_type="application/json"):
        from flask import request

        assert request.get_json(silent=True) is None


def test_nul_in_a_bulk_award_cell_names_row_and_column(client, make_person, grant, headers):
    admin = make_person()
    grant(admin, "platform_admin")
    h = headers(admin)
    issuer = client.post(
        f"{API}/issuers", json={"name": "Émetteur", "url": "https://e.example.fr", "email": "b@e.example.fr"}, headers=h
    ).get_json()
    csv = b"email,narrative\nlea@example.org,ok\nnoe@example.org,bad\x00cell\n"
    r = client.post(
        f"{API}/issuers/{issuer['id']}/bulk-awards",
        headers=h,
        content_type="multipart/form-data",
        data={"mode": "dry_run", "file": (io.BytesIO(csv), "awards.csv")},
    )
    assert_problem(r, 422, "#/rows/3/narrative")


def test_nul_in_a_framework_csv_cell_names_line_and_column(client, session, make_person, grant, headers):
    admin = make_person()
    grant(admin, "platform_admin")
    csv = "key;parent_key;kind;code;label;description\nD1;;domain;D1;Coop\x00érer;\n".encode()
    r = client.post(
        f"{API}/frameworks/imports",
        headers=headers(admin),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(csv), "tiers.csv")},
    )
    body = assert_problem(r, 422, "#/file")
    assert "line 2" in body["detail"] and "column 5" in body["detail"] and "label" in body["detail"], body


def test_openapi_documents_problems_bounds_and_nulls(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name, response in spec["components"]["responses"].items():
        if "content" in response:
            assert list(response["content"]) == ["application/problem+json"], name
    hours = schemas["ContributionCreate"]["properties"]["hours"]
    assert (hours["minimum"], hours["maximum"]) == (0, 10000)
    assert all(
        schemas["Contribution"]["properties"][f].get("nullable")
        for f in ("startDate", "endDate", "hours", "submittedAt")
    )
    json.dumps(spec)  # plain JSON: nothing but strings, numbers, booleans and null


def test_nul_in_a_framework_json_string_names_where(client, session, make_person, grant, headers):
    admin = make_person()
    grant(admin, "platform_admin")
    doc = (
        b'{"format": "blason-framework", "formatVersion": "1", "framework": {"title": "T"}, '
        b'"competencies": [{"key": "A", "label": "Coop\\u0000erer"}]}'
    )
    r = client.post(
        f"{API}/frameworks/imports",
        headers=headers(admin),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(doc), "tiers.json")},
    )
    body = assert_problem(r, 422, "#/file")
    assert "competencies.item.label" in body["detail"], body
