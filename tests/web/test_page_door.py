"""Every HTML page goes through one door (app.web.pages.render_page) and carries the security
headers of one place (app.web.security_headers): the whole URL map is walked (issue 12)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from app.models import AchievementVersion, SigningKey, StatusList
from app.web import pages
from app.web.security_headers import DOCS_ENDPOINT
from tests.public_fixtures import HTML
from tests.web.csrf_support import csrf_token

DOOR = "X-Test-Page-Door"
# Pages a walk must reach as HTML (a 404 "missing" page counts: it is a page too).
EXPECTED = {
    "/",
    "/connexion",
    "/frameworks",
    "/frameworks/<uuid:framework_id>",
    "/competencies/<uuid:competency_id>",
    "/api/v1/docs",
    "/verify",
    "/credentials/<uuid:credential_id>",
    "/issuers/<uuid:issuer_id>",
    "/issuers/<uuid:issuer_id>/keys/<kid>",
    "/achievements/<uuid:achievement_id>/v/<int:version>",
    "/status/<uuid:list_id>",
    "/evidence/<uuid:evidence_id>",
    "/ob2/issuers/<uuid:issuer_id>",
    "/ob2/badgeclasses/<uuid:version_id>",
}


@pytest.fixture()
def marked_door(monkeypatch):  # type: ignore[no-untyped-def]
    """Mark every response made by the page door, so a page made elsewhere shows."""
    door = pages.render_page

    def render_page(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        response = door(*args, **kwargs)
        response.headers[DOOR] = "1"
        return response

    monkeypatch.setattr(pages, "render_page", render_page)


def values(session, issued) -> dict[str, str]:  # type: ignore[no-untyped-def]
    setup, credential = issued.setup, issued.credential
    return {
        "credential_id": str(credential.id),
        "issuer_id": str(setup.issuer.id),
        "achievement_id": str(setup.achievement.id),
        "version": "1",
        "framework_id": str(setup.framework.id),
        "competency_id": str(setup.competencies[0].id),
        "code": credential.short_code,
        "kid": session.scalar(select(SigningKey.kid).where(SigningKey.issuer_id == setup.issuer.id)),
        "list_id": str(session.scalar(select(StatusList.id).where(StatusList.issuer_id == setup.issuer.id))),
        "version_id": str(
            session.scalar(
                select(AchievementVersion.id).where(AchievementVersion.achievement_id == setup.achievement.id)
            )
        ),
    }


def assert_secure_page(response) -> None:  # type: ignore[no-untyped-def]
    """CSP (no framing, nothing by default, no inline script), Referrer-Policy and nosniff."""
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = {
        name.lower(): value
        for name, _, value in (
            d.strip().partition(" ") for d in response.headers["Content-Security-Policy"].split(";") if d.strip()
        )
    }
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'none'", policy
    assert "'unsafe-inline'" not in policy.get("script-src", ""), policy


def fill(rule: str, known: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1) or "", match.group(2)
        if converter.startswith("any("):
            return converter[4:-1].split(",")[0].strip()
        return known.get(name) or {"uuid:": str(uuid.uuid4()), "int:": "1"}.get(converter, "x")

    return re.sub(r"<([a-z]+(?:\([^)]*\))?:)?(\w+)>", value, rule)


def test_every_html_route_goes_through_the_page_door_and_is_secured(
    app,
    client,
    session,
    issued,  # type: ignore[no-untyped-def]
    marked_door,
) -> None:
    known = values(session, issued)
    seen: set[str] = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        for lang in ("fr", "en"):
            response = client.get(fill(rule.rule, known), query_string={"lang": lang}, headers=HTML)
            if response.mimetype != "text/html":
                continue
            seen.add(rule.rule)
            assert_secure_page(response)
            if response.status_code < 300 or response.status_code >= 400:  # a redirect's body is werkzeug's
                assert response.headers.get(DOOR) == "1" or rule.endpoint == DOCS_ENDPOINT, rule.rule
    # The form answered with what was wrong.
    form = client.post("/verify", data={"csrf_token": csrf_token(client)}, headers=HTML)
    assert form.status_code == 422 and form.headers.get(DOOR) == "1"
    assert_secure_page(form)
    assert EXPECTED <= seen, EXPECTED - seen


def test_pages_may_show_images_of_the_public_base_url(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/frameworks", "/verify"):
        policy = client.get(path, headers=HTML).headers["Content-Security-Policy"]
        assert "img-src 'self' https://blason.test data:" in policy, (path, policy)
