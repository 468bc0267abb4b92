"""Every response is nosniff; every page forbids framing and sniffing and says its CSP (issue 11)."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

import pytest
from sqlalchemy import select

from app.models import Competency, Framework
from app.services.frameworks.imports import import_framework_file
from app.services.identity.access import Grants
from app.services.identity.audit import Actor
from app.web.security_headers import with_frame_ancestors
from tests.conftest import shared_path

API = "/api/v1"


def directives(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = response.headers.get("Content-Security-Policy", "")
    pairs = (d.strip().partition(" ") for d in policy.split(";") if d.strip())
    return {name.lower(): value for name, _, value in pairs}


def assert_secure_page(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.mimetype == "text/html", (response.status_code, response.mimetype)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = directives(response)
    assert policy.get("frame-ancestors") == "'none'", policy
    assert policy.get("default-src") == "'none'", policy
    assert "'unsafe-inline'" not in policy.get("script-src", ""), policy
    return policy


def test_framework_and_competency_pages(client, session) -> None:  # type: ignore[no-untyped-def]
    fiche = shared_path("frameworks", "rncp", "export-fiches-rncp-v4-1_extract_RNCP35340_RNCP40792.xml")
    import_framework_file(session, Grants(Actor(None), platform_admin=True), fiche)
    session.commit()
    framework = session.scalar(select(Framework).where(Framework.source_key == "RNCP40792"))
    competency = session.scalar(select(Competency).where(Competency.source_key == "RNCP40792BC01"))
    html = {"Accept": "text/html"}
    for path in ("/frameworks", f"/frameworks/{framework.id}", f"/competencies/{competency.id}"):
        response = client.get(path, headers=html)
        assert response.status_code == 200, (path, response.status_code)
        policy = assert_secure_page(response)
        assert "script-src" not in policy  # these pages run no script at all


def test_api_docs_page_runs_only_its_own_scripts(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    policy = assert_secure_page(response)
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert inline, "the Swagger UI page starts with an inline script"
    allowed = set(policy["script-src"].split())
    assert "'self'" in allowed and "*" not in allowed and not any(s.startswith("http") for s in allowed)
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html):
        assert src.startswith(f"{API}/docs/assets/"), src  # served here, not from a CDN
    assert policy["connect-src"] == "'self'"


def test_public_pages_keep_their_own_policy(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/verify", f"/credentials/{uuid.uuid4()}"):
        response = client.get(path, headers={"Accept": "text/html"})
        policy = assert_secure_page(response)
        assert policy.get("img-src", "").startswith("'self'")


@pytest.mark.parametrize(
    "path,status,signed_in",
    [
        ("/healthz", 200, False),
        (f"{API}/openapi.json", 200, False),
        (f"{API}/people/me", 200, True),
        (f"{API}/me/badges", 401, False),
        (f"{API}/evidence/00000000-0000-4000-8000-000000000085", 404, True),
        ("/no/such/page", 404, False),
    ],
)
def test_every_json_and_problem_response_is_nosniff(
    client,
    make_person,
    headers,
    path,
    status,  # type: ignore[no-untyped-def]
    signed_in,
) -> None:
    response = client.get(path, headers=headers(make_person()) if signed_in else {})
    assert response.status_code == status
    assert response.mimetype in ("application/json", "application/problem+json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_stricter_policy_is_kept_and_only_gains_frame_ancestors() -> None:
    assert with_frame_ancestors("sandbox; default-src 'none'") == "sandbox; default-src 'none'; frame-ancestors 'none'"
    kept = "default-src 'none'; frame-ancestors 'self'"
    assert with_frame_ancestors(kept) == kept
