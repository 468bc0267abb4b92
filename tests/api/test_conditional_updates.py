"""Every PATCH is conditional: GET sends an ETag, no If-Match is 428, a stale one 409 (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError

from app.models import Issuer
from app.platform.errors import Conflict
from app.services.identity import people
from app.services.identity.access import load_grants
from app.services.issuing import issuers
from tests.api.support import assert_problem, declared_parameters
from tests.issuing_fixtures import issuing_settings

API = "/api/v1"


@pytest.fixture()
def editable(client, make_person, make_project, grant, make_contribution, headers):  # type: ignore[no-untyped-def]
    """One of each: evidence, issuer, achievement, a learner's badge and profile, with who edits it."""
    admin, learner = make_person(display_name="Ada Admin"), make_person(display_name="Noé Apprenant")
    grant(admin, "platform_admin")
    project = make_project()
    grant(learner, "learner", project)
    contribution_id, learner_id = make_contribution(learner, project).id, learner.id
    project_id, territory_id = project.id, project.territory_id
    admin_h, learner_h = headers(admin), headers(learner)
    issuer = client.post(
        f"{API}/issuers", json={"name": "Cnam Bretagne", "url": "https://cnam.example.fr"}, headers=admin_h
    ).get_json()
    achievement = client.post(
        f"{API}/achievements",
        json={
            "issuerId": issuer["id"],
            "name": "Tenir un stand",
            "description": "Accueillir le public.",
            "criteria": "Avoir tenu un stand.",
        },
        headers=admin_h,
    ).get_json()
    credential = client.post(
        f"{API}/achievements/{achievement['id']}/awards", json={"learnerId": str(learner_id)}, headers=admin_h
    ).get_json()
    evidence = client.post(
        f"{API}/contributions/{contribution_id}/evidence",
        headers=learner_h,
        json={"kind": "text", "title": "Note", "text": "Nous étions vingt."},
    ).get_json()
    return {
        "evidence": (f"{API}/evidence/{evidence['id']}", learner_h, {"title": "Note relue"}, {"title": "Autre"}),
        "issuer": (f"{API}/issuers/{issuer['id']}", admin_h, {"description": "Relu"}, {"description": "Autre"}),
        "achievement": (
            f"{API}/achievements/{achievement['id']}",
            admin_h,
            {"description": "Relu."},
            {"description": "Autre."},
        ),
        "badge": (f"{API}/me/badges/{credential['id']}", learner_h, {"showName": True}, {"showName": False}),
        "me": (f"{API}/people/me", learner_h, {"displayName": "Noé A."}, {"displayName": "Noé B."}),
        "territory": (f"{API}/territories/{territory_id}", admin_h, {"description": "Relu"}, {"description": "Autre"}),
        "project": (f"{API}/projects/{project_id}", admin_h, {"description": "Relu"}, {"description": "Autre"}),
        "contribution": (f"{API}/contributions/{contribution_id}", learner_h, {"title": "Relu"}, {"title": "Autre"}),
    }


KINDS = ["evidence", "issuer", "achievement", "badge", "me", "territory", "project", "contribution"]


@pytest.mark.parametrize("kind", KINDS)
def test_patch_without_if_match_is_428_and_changes_nothing(client, editable, kind) -> None:  # type: ignore[no-untyped-def]
    url, h, change, _other = editable[kind]
    before = client.get(url, headers=h)
    assert before.status_code == 200 and before.headers["ETag"].startswith('"')
    assert_problem(client.patch(url, json=change, headers=h), 428, "#/headers/If-Match")
    after = client.get(url, headers=h)
    assert after.get_json() == before.get_json() and after.headers["ETag"] == before.headers["ETag"]


@pytest.mark.parametrize("kind", KINDS)
def test_stale_if_match_is_409_so_no_change_is_lost(client, editable, kind) -> None:  # type: ignore[no-untyped-def]
    url, h, change, other = editable[kind]
    read = client.get(url, headers=h).headers["ETag"]
    first = client.patch(url, json=change, headers={**h, "If-Match": read})
    assert first.status_code == 200, first.get_json()
    assert first.headers["ETag"] != read
    assert client.get(url, headers=h).headers["ETag"] == first.headers["ETag"]
    # A second editor who read the same version loses the race instead of overwriting the first.
    assert_problem(client.patch(url, json=other, headers={**h, "If-Match": read}), 409, "#/headers/If-Match")
    again = client.patch(url, json=other, headers={**h, "If-Match": f"W/{first.headers['ETag']}"})
    assert again.status_code == 200, again.get_json()


@pytest.mark.parametrize("kind", KINDS)
def test_if_match_that_is_no_etag_is_422(client, editable, kind) -> None:  # type: ignore[no-untyped-def]
    url, h, change, _other = editable[kind]
    assert_problem(client.patch(url, json=change, headers={**h, "If-Match": "*"}), 422, "#/headers/If-Match")


def test_achievement_etag_moves_on_an_edit_that_keeps_its_content_version(client, editable) -> None:  # type: ignore[no-untyped-def]
    url, h, _change, _other = editable["achievement"]
    read = client.get(url, headers=h)
    r = client.patch(url, json={"isArchived": True}, headers={**h, "If-Match": read.headers["ETag"]})
    assert r.status_code == 200 and r.get_json()["currentVersion"] == read.get_json()["currentVersion"]
    assert r.headers["ETag"] != read.headers["ETag"]


def test_a_concurrent_commit_between_read_and_write_is_a_conflict(session, make_person, grant) -> None:  # type: ignore[no-untyped-def]
    admin = make_person()
    grant(admin, "platform_admin")
    settings = issuing_settings()
    grants = load_grants(session, admin.id, None)
    issuer = issuers.create_issuer(
        session, grants, {"name": "Émetteur", "url": "https://e.example.fr"}, settings=settings
    )
    read = issuer.version
    # Another writer commits a new version after this one checked If-Match but before it writes.
    session.execute(
        update(Issuer)
        .where(Issuer.id == issuer.id)
        .values(version=Issuer.version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(Conflict):
        issuers.update_issuer(
            session, grants, issuer.id, {"description": "Le mien"}, expected_version=read, settings=settings
        )


def test_a_stale_row_no_service_translated_is_a_409_not_a_500(
    client,
    make_person,
    headers,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    h = headers(make_person())

    def stale(*_args: Any, **_kwargs: Any) -> None:
        raise StaleDataError("UPDATE statement on table 'people' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(people, "get_me", stale)
    body = assert_problem(client.get(f"{API}/people/me", headers=h), 409)
    assert "people" not in body["detail"]  # the database's words stay in the log


PATHS = [
    "/api/v1/evidence/{evidence_id}",
    "/api/v1/issuers/{issuer_id}",
    "/api/v1/achievements/{achievement_id}",
    "/api/v1/me/badges/{credential_id}",
    "/api/v1/people/me",
    "/api/v1/territories/{territory_id}",
    "/api/v1/projects/{project_id}",
]


@pytest.mark.parametrize("path", PATHS)
def test_openapi_requires_if_match_and_declares_etag(client, path) -> None:  # type: ignore[no-untyped-def]
    spec = client.get(f"{API}/openapi.json").get_json()
    operations: dict[str, Any] = spec["paths"][path]
    if_match = [
        p for p in declared_parameters(spec, operations["patch"]) if p["in"] == "header" and p["name"] == "If-Match"
    ]
    assert if_match and if_match[0]["required"] is True
    for method in ("get", "patch"):
        assert "ETag" in operations[method]["responses"]["200"]["headers"], method
