"""No request ever produces a 500: random bodies and query strings on every documented endpoint."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from app.models import ContributionStatus, Evidence, EvidenceKind, Visibility

API = "/api/v1"
FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "",
            "\x00",
            "2026-01-01",
            "9999-12-31",
            "0000-00-00",
            "x" * 300,
            "https://example.org",
            "produire",
            "learner",
            "project",
            "draft",
            "public",
            str(uuid.UUID(int=0)),
            "1e400",
            "-1",
            "NaN",
            "<script>",
            "' OR 1=1 --",
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)


def operations(spec: dict[str, Any], methods: tuple[str, ...]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items() if method in methods
    ]


def body_properties(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    """Property names of the JSON body, so random bodies also reach the validators."""
    content = op.get("requestBody", {}).get("content", {})
    schema = next(iter(content.values()), {}).get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return sorted(schema.get("properties", {}))


@pytest.fixture()
def fuzz_world(client, session, headers, make_person, make_project, grant, make_contribution):  # type: ignore[no-untyped-def]
    admin = make_person()
    grant(admin, "platform_admin")
    project = make_project()
    grant(admin, "learner", project)
    grant(admin, "coordinator", project.territory_id)
    membership = grant(admin, "tutor", project)
    draft = make_contribution(admin, project)
    submitted = make_contribution(admin, project, status=ContributionStatus.SUBMITTED)
    evidence = Evidence(
        contribution_id=submitted.id,
        kind=EvidenceKind.LINK,
        title="Lien",
        url="https://example.org",
        visibility=Visibility.PUBLIC,
        created_by_id=admin.id,
    )
    session.add(evidence)
    session.flush()
    ids = {
        "person_id": admin.id,
        "territory_id": project.territory_id,
        "project_id": project.id,
        "contribution_id": draft.id,
        "evidence_id": evidence.id,
        "membership_id": membership.id,
    }
    spec = client.get(f"{API}/openapi.json").json
    return spec, ids, headers(admin), submitted.id


def fill_path(path: str, ids: dict[str, uuid.UUID], data: st.DataObject) -> str:
    def one(match: re.Match[str]) -> str:
        real = ids.get(match.group(1))
        return str(data.draw(st.sampled_from([real, uuid.uuid4()]) if real else st.just(uuid.uuid4())))

    return re.sub(r"\{(\w+)\}", one, path)


# The OAuth 2.0 token endpoint answers errors as RFC 6749 §5.2 says (JSON with an "error" code), which
# OAuth clients read; every other operation answers RFC 9457 problem+json.
OAUTH_TOKEN = "/oauth/token"


def check(response: Any, method: str, path: str) -> None:
    assert response.status_code < 500, (method, path, response.get_data(as_text=True)[:500])
    if response.status_code >= 400 and path == OAUTH_TOKEN:
        assert response.mimetype == "application/json" and isinstance(response.json.get("error"), str), path
    elif response.status_code >= 400:
        assert response.mimetype == "application/problem+json", (method, path)


def test_spec_lists_the_core_endpoints(fuzz_world):
    spec, _ids, _h, _submitted = fuzz_world
    found = {(m, p) for m, p, _ in operations(spec, ("get", "post", "patch", "delete"))}
    for expected in [
        ("post", f"{API}/auth/login"),
        ("get", f"{API}/projects"),
        ("patch", f"{API}/contributions/{{contribution_id}}"),
        ("post", f"{API}/contributions/{{contribution_id}}/evidence/files"),
    ]:
        assert expected in found


@FUZZ
@given(data=st.data())
def test_random_bodies_never_500(client, fuzz_world, data):
    spec, ids, h, _submitted = fuzz_world
    for method, path, op in operations(spec, ("post", "patch")):
        props = body_properties(spec, op)
        keys = st.sampled_from(props) | st.text(max_size=8) if props else st.text(max_size=8)
        body = data.draw(st.dictionaries(keys, json_values, max_size=6) | json_values, label=path)
        extra = data.draw(st.sampled_from([{}, {"If-Match": '"1"'}, {"If-Match": "garbage"}]))
        url = fill_path(path, ids, data)
        response = client.open(url, method=method.upper(), json=body, headers={**h, **extra})
        check(response, method, url)


@FUZZ
@given(data=st.data())
def test_random_query_strings_never_500(client, fuzz_world, data):
    spec, ids, h, _submitted = fuzz_world
    for _method, path, op in operations(spec, ("get",)):
        names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
        keys = st.sampled_from(names) | st.text(max_size=6) if names else st.text(max_size=6)
        values = st.text(max_size=20) | st.sampled_from(
            ["", "0", "-1", "101", "99999999999999999999", str(uuid.uuid4()), "produire", "draft", "%", "_"]
        )
        query = data.draw(st.dictionaries(keys, values, max_size=4), label=path)
        url = fill_path(path, ids, data)
        response = client.get(url, query_string=query, headers=h)
        check(response, "get", url)


@FUZZ
@given(data=st.data())
def test_random_raw_bodies_never_500(client, fuzz_world, data):
    spec, ids, h, _submitted = fuzz_world
    for method, path, _op in operations(spec, ("post", "patch")):
        raw = data.draw(st.binary(max_size=64) | st.text(max_size=64).map(str.encode), label=path)
        content_type = data.draw(
            st.sampled_from(
                ["application/json", "text/plain", "multipart/form-data", "application/x-www-form-urlencoded"]
            )
        )
        url = fill_path(path, ids, data)
        response = client.open(url, method=method.upper(), data=raw, content_type=content_type, headers=h)
        check(response, method, url)
