"""W3C VC-API: an issuer's registered clients get tokens (client credentials) and issue and verify.

Registration through /api/v1/issuers/{id}/api-clients; tokens from POST /oauth/token (RFC 6749
errors); POST /credentials/issue signs with the issuer's eddsa-rdfc-2022 key; POST
/credentials/verify answers the VC-API result. Bad input is a 400/401/403/422, never a 500, and a
browser's cookie authorises nothing here.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import badges
from app.models import ApiClient, AuditEvent
from app.platform.errors import Unauthenticated
from app.runtime import runtime
from app.services.issuing import api_clients
from app.services.verification import public_docs
from app.web import vc_api as vc_api_views
from tests.api.support import assert_problem
from tests.issuing_fixtures import BASE
from tests.public_fixtures import NoNetwork
from tests.web.page_support import sign_in_as

JS_DIR = Path(__file__).resolve().parents[2] / "bench" / "js"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(vc_api_views, "verify_fetcher", NoNetwork)


@pytest.fixture(autouse=True)
def roomy_token_limits(app):  # type: ignore[no-untyped-def]
    """Each test its own token limits: tests share one app and one client address."""
    from app.platform.rate_limit import LoginLimits, RateLimit

    app.extensions[vc_api_views.LIMITS_KEY] = LoginLimits(
        account=RateLimit(1000, 1000, name="oauth-client"), address=RateLimit(1000, 1000, name="oauth-address")
    )
    yield
    app.extensions.pop(vc_api_views.LIMITS_KEY, None)


@pytest.fixture()
def setup(make_issuer, make_person, grant):  # type: ignore[no-untyped-def]
    """Two issuers, each with an administrator (not a platform admin)."""
    ours, _ = make_issuer()
    other, _ = make_issuer(name="Autre émetteur", url="https://autre.example.fr")
    admin = make_person(display_name="Ada Administratrice", email="ada@example.fr")
    grant(admin, "issuer_admin", ours)
    stranger = make_person(display_name="Bruno Autre", email="bruno@example.fr")
    grant(stranger, "issuer_admin", other)
    return {"issuer": ours, "other": other, "admin": admin, "stranger": stranger}


def register(client, headers, setup, scopes=("issue", "verify"), who="admin", issuer="issuer"):  # type: ignore[no-untyped-def]
    r = client.post(
        f"/api/v1/issuers/{setup[issuer].id}/api-clients",
        json={"name": "Logiciel de la région", "scopes": list(scopes)},
        headers=headers(setup[who]),
    )
    assert r.status_code == 201, r.json
    return r.json


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def token_of(client, registered, scope=None) -> str:  # type: ignore[no-untyped-def]
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    r = client.post("/oauth/token", data=data, headers=basic(registered["clientId"], registered["clientSecret"]))
    assert r.status_code == 200, r.json
    return r.json["access_token"]  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unsigned(issuer_url: str, **over: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "id": "urn:uuid:2c7d3c3e-6a55-4f3e-9a7f-0e1b5f1c9a01",
        "type": ["VerifiableCredential"],
        "issuer": issuer_url,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
        **over,
    }


def open_badge(issuer_url: str) -> dict[str, Any]:
    return {
        "@context": [VC_V2, OB_CONTEXT],
        "id": "urn:uuid:9b1f0c1e-1111-4f3e-9a7f-0e1b5f1c9a02",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_url, "type": ["Profile"], "name": "Collectif des territoires"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Animer une réunion publique",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://partenaire.example.fr/achievements/1",
                "type": ["Achievement"],
                "name": "Animer une réunion publique",
                "description": "Reconnaît l'animation d'une réunion.",
                "criteria": {"narrative": "Avoir animé une réunion."},
            },
        },
    }


def issuer_url(setup: dict[str, Any], which: str = "issuer") -> str:
    return f"{BASE}/issuers/{setup[which].id}"


# --- registration and tokens ------------------------------------------------------------------


def test_registration_shows_the_secret_once_and_stores_only_its_hash(client, headers, setup, session) -> None:
    created = register(client, headers, setup)
    assert created["clientId"].startswith("blason-") and len(created["clientSecret"]) >= 40
    assert created["scopes"] == ["issue", "verify"] and created["revokedAt"] is None
    listed = client.get(f"/api/v1/issuers/{setup['issuer'].id}/api-clients", headers=headers(setup["admin"])).json
    assert listed["total"] == 1 and "clientSecret" not in listed["items"][0]
    assert created["clientSecret"] not in json.dumps(listed)
    row = session.scalar(select(ApiClient).where(ApiClient.client_id == created["clientId"]))
    assert row.secret_hash.startswith("$argon2id$") and created["clientSecret"] not in row.secret_hash
    actions = set(session.scalars(select(AuditEvent.action)))
    assert "issuer.api_client_created" in actions


def test_only_the_issuers_administrators_register_and_revoke(client, headers, setup) -> None:
    path = f"/api/v1/issuers/{setup['issuer'].id}/api-clients"
    body = {"name": "Intrus", "scopes": ["issue"]}
    assert_problem(client.post(path, json=body, headers=headers(setup["stranger"])), 403)
    assert_problem(client.get(path, headers=headers(setup["stranger"])), 403)
    assert_problem(client.post(path, json=body), 401)
    created = register(client, headers, setup)
    revoke = f"{path}/{created['id']}/revoke"
    assert_problem(client.post(revoke, headers=headers(setup["stranger"])), 403)
    # Another issuer's client is unknown under this issuer's address.
    other = register(client, headers, setup, who="stranger", issuer="other")
    assert_problem(client.post(f"{path}/{other['id']}/revoke", headers=headers(setup["admin"])), 404)
    assert_problem(client.post(path, json={"name": "X", "scopes": ["admin"]}, headers=headers(setup["admin"])), 422)
    assert_problem(client.post(path, json={"name": "X", "scopes": []}, headers=headers(setup["admin"])), 422)


def test_token_with_basic_or_post_and_rfc6749_errors(client, headers, setup) -> None:
    created = register(client, headers, setup)
    r = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(created["clientId"], created["clientSecret"]),
    )
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.json["token_type"] == "Bearer" and r.json["expires_in"] == api_clients.ACCESS_TTL
    assert r.json["scope"] == "issue verify"
    posted = {
        "grant_type": "client_credentials",
        "client_id": created["clientId"],
        "client_secret": created["clientSecret"],
    }
    assert client.post("/oauth/token", data={**posted, "scope": "verify"}).json["scope"] == "verify"

    wrong = client.post("/oauth/token", data={**posted, "client_secret": "not-it"})
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    nobody = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert nobody.status_code == 401 and nobody.json["error"] == "invalid_client"
    assert (
        client.post("/oauth/token", data={**posted, "grant_type": "password"}).json["error"] == "unsupported_grant_type"
    )
    assert client.post("/oauth/token", data={**posted, "scope": "admin"}).json["error"] == "invalid_scope"
    assert (
        client.post("/oauth/token", data={k: v for k, v in posted.items() if k != "grant_type"}).json["error"]
        == "invalid_request"
    )
    both = client.post("/oauth/token", data=posted, headers=basic(created["clientId"], created["clientSecret"]))
    assert both.status_code == 400 and both.json["error"] == "invalid_request"
    as_json = client.post("/oauth/token", json=posted)
    assert as_json.status_code == 400 and as_json.json["error"] == "invalid_request"
    garbled = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic %%%"}
    )
    assert garbled.status_code == 401 and garbled.json["error"] == "invalid_client"


def test_a_client_may_not_ask_beyond_its_scopes(client, headers, setup) -> None:
    verifier = register(client, headers, setup, scopes=("verify",))
    posted = {
        "grant_type": "client_credentials",
        "client_id": verifier["clientId"],
        "client_secret": verifier["clientSecret"],
    }
    assert client.post("/oauth/token", data={**posted, "scope": "issue"}).json["error"] == "invalid_scope"
    token = token_of(client, verifier)
    r = client.post("/credentials/issue", json={"credential": unsigned(issuer_url(setup))}, headers=bearer(token))
    assert_problem(r, 403)


def test_token_endpoint_is_throttled(app, client, headers, setup) -> None:
    from app.platform.rate_limit import LoginLimits, RateLimit

    app.extensions[vc_api_views.LIMITS_KEY] = LoginLimits(
        account=RateLimit(2, 1, name="oauth-client"), address=RateLimit(100, 100, name="oauth-address")
    )
    created = register(client, headers, setup)
    data = {"grant_type": "client_credentials", "client_id": created["clientId"], "client_secret": "wrong"}
    assert [client.post("/oauth/token", data=data).status_code for _ in range(3)] == [401, 401, 429]
    refused = client.post("/oauth/token", data=data)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_revoked_client_and_its_tokens_stop_at_once(client, headers, setup) -> None:
    created = register(client, headers, setup)
    token = token_of(client, created)
    r = client.post(
        f"/api/v1/issuers/{setup['issuer'].id}/api-clients/{created['id']}/revoke", headers=headers(setup["admin"])
    )
    assert r.status_code == 200 and r.json["revokedAt"]
    assert_problem(client.post("/credentials/verify", json={"verifiableCredential": {}}, headers=bearer(token)), 401)
    again = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(created["clientId"], created["clientSecret"]),
    )
    assert again.status_code == 401 and again.json["error"] == "invalid_client"


def test_tokens_are_not_interchangeable_with_person_tokens(app, client, headers, setup, session) -> None:
    created = register(client, headers, setup)
    client_token = token_of(client, created)
    person = headers(setup["admin"])
    assert_problem(
        client.post("/credentials/issue", json={"credential": unsigned(issuer_url(setup))}, headers=person), 401
    )
    assert_problem(client.get("/api/v1/me/badges", headers=bearer(client_token)), 401)
    # A token past its lifetime is refused (minted by a clock two lifetimes ago).
    tokens = runtime(app).tokens
    earlier = dataclasses.replace(tokens, clock=lambda: tokens.clock() - timedelta(seconds=2 * api_clients.ACCESS_TTL))
    row = session.scalar(select(ApiClient).where(ApiClient.client_id == created["clientId"]))
    stale = api_clients.grant_token(row, None, tokens=earlier).token
    assert_problem(client.post("/credentials/verify", json={"verifiableCredential": {}}, headers=bearer(stale)), 401)
    with pytest.raises(Unauthenticated, match="expired"):
        api_clients.authenticate(session, stale, tokens=tokens)


def test_a_signed_in_browser_cookie_authorises_nothing(app, client, headers, setup) -> None:
    sign_in_as(client, app, setup["admin"])
    for path, body in (
        ("/credentials/issue", {"credential": unsigned(issuer_url(setup))}),
        ("/credentials/verify", {"verifiableCredential": {}}),
    ):
        r = client.post(path, json=body)
        assert r.status_code == 401, (path, r.status_code)


# --- issue and verify ---------------------------------------------------------------------------


def test_issue_then_verify_round_trip(app, client, headers, setup, session) -> None:
    token = token_of(client, register(client, headers, setup))
    r = client.post(
        "/credentials/issue", json={"credential": unsigned(issuer_url(setup)), "options": {}}, headers=bearer(token)
    )
    assert r.status_code == 201, r.json
    signed = r.json["verifiableCredential"]
    proof = signed["proof"]
    assert isinstance(proof, dict) and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"].startswith(issuer_url(setup) + "#z6Mk")
    # The proof verifies with the key the issuer publishes (badges/ alone, no HTTP).
    key = badges.public_key_from_multibase(proof["verificationMethod"].split("#", 1)[1])
    badges.verify_data_integrity(signed, proof, key)
    with pytest.raises(badges.ProofError):
        badges.verify_data_integrity({**signed, "validFrom": "2001-01-01T00:00:00Z"}, proof, key)

    badge = client.post("/credentials/issue", json={"credential": open_badge(issuer_url(setup))}, headers=bearer(token))
    assert badge.status_code == 201, badge.json
    verified = client.post(
        "/credentials/verify",
        json={"verifiableCredential": badge.json["verifiableCredential"], "options": {"checks": ["proof"]}},
        headers=bearer(token),
    )
    assert verified.status_code == 200, verified.json
    assert verified.json["verified"] is True and verified.json["errors"] == []
    report = badges.verify(
        badge.json["verifiableCredential"], resolvers=public_docs.local_resolvers(session, runtime(app).issuing.urls)
    )
    assert report.valid and report.check("issuer_key").outcome == "pass", report.to_json()
    assert {"proof", "issuer_key", "validity"} <= set(verified.json["checks"])

    tampered = copy.deepcopy(badge.json["verifiableCredential"])
    tampered["name"] = "Autre chose"
    refused = client.post("/credentials/verify", json={"verifiableCredential": tampered}, headers=bearer(token))
    assert refused.status_code == 422 and refused.json["verified"] is False
    assert any(e["type"].endswith("/proof") for e in refused.json["errors"])
    issued = [
        e.data for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "vc_api.credential_issued"))
    ]
    assert {e["credentialId"] for e in issued} == {signed["id"], badge.json["verifiableCredential"]["id"]}


def test_absent_issuer_and_dates_are_filled_in(client, headers, setup) -> None:
    token = token_of(client, register(client, headers, setup))
    credential = unsigned(issuer_url(setup))
    del credential["issuer"], credential["validFrom"]
    r = client.post("/credentials/issue", json={"credential": credential}, headers=bearer(token))
    assert r.status_code == 201, r.json
    assert r.json["verifiableCredential"]["issuer"] == issuer_url(setup)
    assert r.json["verifiableCredential"]["validFrom"].endswith("Z")


def test_our_own_award_verifies_through_the_vc_api(client, headers, issued, grant, make_person) -> None:
    admin = make_person(display_name="Admin Émetteur", email="admin.emetteur@example.fr")
    grant(admin, "issuer_admin", issued.setup.issuer)
    created = client.post(
        f"/api/v1/issuers/{issued.setup.issuer.id}/api-clients",
        json={"name": "Vérificateur", "scopes": ["verify"]},
        headers=headers(admin),
    ).json
    token = token_of(client, created)
    r = client.post(
        "/credentials/verify", json={"verifiableCredential": issued.credential.ob3_credential}, headers=bearer(token)
    )
    assert r.status_code == 200 and r.json["verified"] is True, r.json
    assert r.json["verificationUrl"] == issued.url


@pytest.mark.parametrize(
    ("name", "body", "status", "pointer"),
    [
        (
            "unknown option",
            {"credential": "CRED", "options": {"proofType": "Ed25519Signature2020"}},
            400,
            "#/options/proofType",
        ),
        ("options not an object", {"credential": "CRED", "options": []}, 400, "#/options"),
        ("unknown field", {"credential": "CRED", "extra": 1}, 400, "#/extra"),
        ("no credential", {"options": {}}, 400, "#/credential"),
        ("credential a string", {"credential": "eyJ.x.y"}, 400, "#/credential"),
        ("credential a list", {"credential": []}, 400, "#/credential"),
        ("credential null", {"credential": None}, 400, "#/credential"),
        ("another issuer", {"credential": "OTHER"}, 422, "#/credential/issuer"),
        ("issuer object of another", {"credential": "OTHER_OBJECT"}, 422, "#/credential/issuer"),
        ("issuer a number", {"credential": {"issuer": 5}}, 422, "#/credential/issuer"),
        (
            "another issuer's key",
            {"credential": "CRED", "options": {"verificationMethod": "OTHER_KEY"}},
            422,
            "#/options/verificationMethod",
        ),
        (
            "credentialId not a string",
            {"credential": "CRED", "options": {"credentialId": 5}},
            400,
            "#/options/credentialId",
        ),
        ("no context", {"credential": {"@context": None}}, 422, "#/credential/@context"),
        (
            "VC 1.1 context",
            {"credential": {"@context": ["https://www.w3.org/2018/credentials/v1"]}},
            422,
            "#/credential/@context",
        ),
        (
            "unpinned context",
            {"credential": {"@context": [VC_V2, "https://example.org/ctx.jsonld"]}},
            422,
            "#/credential/@context",
        ),
        ("no type", {"credential": {"type": None}}, 422, "#/credential/type"),
        ("type without VerifiableCredential", {"credential": {"type": ["Thing"]}}, 422, "#/credential/type"),
        ("already signed", {"credential": {"proof": {"type": "DataIntegrityProof"}}}, 422, "#/credential/proof"),
        ("id not a URL", {"credential": {"id": "pas une adresse"}}, 422, "#/credential/id"),
        ("empty subject", {"credential": {"credentialSubject": {}}}, 422, "#/credential/credentialSubject"),
        ("subject a string", {"credential": {"credentialSubject": "moi"}}, 422, "#/credential/credentialSubject"),
        ("bad date", {"credential": {"validFrom": "hier"}}, 422, "#/credential/validFrom"),
        ("date a number", {"credential": {"validFrom": 12}}, 422, "#/credential/validFrom"),
        ("until before from", {"credential": {"validUntil": "2020-01-01T00:00:00Z"}}, 422, "#/credential/validUntil"),
        (
            "our status list",
            {
                "credential": {
                    "credentialStatus": {"type": "BitstringStatusListEntry", "statusListCredential": f"{BASE}/status/1"}
                }
            },
            422,
            "#/credential/credentialStatus",
        ),
        ("OB without achievement", {"credential": "OB_NO_ACHIEVEMENT"}, 422, "#/credential"),
        ("NUL character", {"credential": {"name": "a\x00b"}}, 400, "#"),
        ("lone surrogate", {"credential": {"name": "\ud800"}}, 400, "#"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else None,
)
def test_bad_issue_requests_are_400_or_422(client, headers, setup, name, body, status, pointer) -> None:  # noqa: ARG001
    token = token_of(client, register(client, headers, setup))
    ours = issuer_url(setup)
    credential = body.get("credential")
    if credential == "CRED":
        body = {**body, "credential": unsigned(ours)}
    elif credential == "OTHER":
        body = {**body, "credential": unsigned(issuer_url(setup, "other"))}
    elif credential == "OTHER_OBJECT":
        body = {**body, "credential": unsigned(ours, issuer={"id": issuer_url(setup, "other"), "name": "Autre"})}
    elif credential == "OB_NO_ACHIEVEMENT":
        badge = open_badge(ours)
        del badge["credentialSubject"]["achievement"]
        body = {**body, "credential": badge}
    elif isinstance(credential, dict):
        body = {**body, "credential": {**unsigned(ours), **credential}}
    options = body.get("options")
    if isinstance(options, dict) and options.get("verificationMethod") == "OTHER_KEY":
        body["options"] = {
            "verificationMethod": issuer_url(setup, "other") + "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        }
    raw = json.dumps(body)  # ASCII: a NUL or a lone surrogate travels as its \\u escape
    r = client.post("/credentials/issue", data=raw, content_type="application/json", headers=bearer(token))
    assert_problem(r, status, pointer)


def test_malformed_bodies_never_500(client, headers, setup) -> None:
    token = token_of(client, register(client, headers, setup))
    for path in ("/credentials/issue", "/credentials/verify"):
        for raw in (
            b"{",
            b"[]",
            b"null",
            b"42",
            b'"text"',
            b"\xff\xfe",
            b"[" * 300 + b"]" * 300,
            b'{"a":' * 40 + b"1" + b"}" * 40,
        ):
            r = client.post(path, data=raw, content_type="application/json", headers=bearer(token))
            assert r.status_code in (400, 413, 422), (path, raw[:20], r.status_code)
        r = client.post(
            path, data="credential=x", content_type="application/x-www-form-urlencoded", headers=bearer(token)
        )
        assert r.status_code in (400, 415), (path, r.status_code)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"verifiableCredential": "eyJhbGciOi.x.y"}, 400),
        ({"verifiableCredential": []}, 400),
        ({}, 400),
        ({"verifiableCredential": {}, "options": {"unknown": True}}, 400),
        ({"verifiableCredential": {}, "options": {"checks": "proof"}}, 400),
        ({"verifiableCredential": {}, "credential": {}}, 400),
        ({"verifiableCredential": {}}, 422),
        ({"verifiableCredential": {"@context": [VC_V2], "type": "VerifiableCredential", "proof": 5}}, 422),
    ],
    ids=[
        "jwt string",
        "list",
        "empty body",
        "unknown option",
        "checks not a list",
        "unknown field",
        "empty credential",
        "bad proof",
    ],
)
def test_bad_verify_requests(client, headers, setup, body, status) -> None:
    token = token_of(client, register(client, headers, setup, scopes=("verify",)))
    r = client.post("/credentials/verify", json=body, headers=bearer(token))
    assert r.status_code == status, r.get_data(as_text=True)
    if status == 422:
        assert r.json["verified"] is False and r.json["errors"]
    else:
        assert_problem(r, 400)


def test_missing_or_wrong_bearer_is_401(client) -> None:
    for headers_ in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not.a.jwt"},
    ):
        r = client.post("/credentials/verify", json={"verifiableCredential": {}}, headers=headers_)
        assert_problem(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.skipif(
    shutil.which("node") is None or not (JS_DIR / "node_modules").is_dir(),
    reason="node or bench/js/node_modules absent",
)
def test_issued_credential_passes_the_javascript_verifier(app, client, headers, setup, session, tmp_path) -> None:
    token = token_of(client, register(client, headers, setup))
    signed = {}
    for name, credential in (
        ("vc-api generic", unsigned(issuer_url(setup))),
        ("vc-api open badge", open_badge(issuer_url(setup))),
    ):
        r = client.post("/credentials/issue", json={"credential": credential}, headers=bearer(token))
        assert r.status_code == 201, r.json
        signed[name] = r.json["verifiableCredential"]
    status, controller = public_docs.resolve(session, runtime(app).issuing.urls, issuer_url(setup))
    assert status == 200
    samples = {
        "now": "2026-06-01T12:00:00Z",
        "documents": {issuer_url(setup): controller},
        "dataIntegrity": signed,
        "jwt": {},
    }
    path = tmp_path / "samples.json"
    path.write_text(json.dumps(samples))
    done = subprocess.run(
        ["node", str(JS_DIR / "verify.mjs"), str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok  ") == 4, done.stdout


# --- generic verifiable credentials: the verifier's "vc" profile ---------------------------------------

VC_V1 = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
VC11_VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "badges" / "data" / "vc11_vectors.json").read_text(encoding="utf-8")
)["vectors"]
HOLDER_KEY = badges.keys.ed25519_key_from_seed(bytes(range(32)))  # a test-only did:key issuer, fixed
SIGNED_AT = "2026-01-02T03:04:05Z"


def did_key_issuer() -> str:
    return HOLDER_KEY.public.did_key()


def generic(**over: Any) -> dict[str, Any]:
    """A VC Data Model 2.0 credential of no Open Badges type, as the W3C test suites send them."""
    return {
        "@context": [VC_V2],
        "id": "urn:uuid:86294362-4254-4f36-854f-3952fe42555d",
        "type": ["VerifiableCredential"],
        "issuer": did_key_issuer(),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": "ExampleClaim"},
        **over,
    }


def did_key_signed(credential: dict[str, Any]) -> dict[str, Any]:
    signed = badges.sign_data_integrity(
        credential, HOLDER_KEY, HOLDER_KEY.public.did_key_verification_method(), created=SIGNED_AT
    )
    if isinstance(signed.get("proof"), list):
        signed["proof"] = signed["proof"][0]
    return signed


@pytest.fixture()
def verifier_token(client, headers, setup) -> str:  # type: ignore[no-untyped-def]
    return token_of(client, register(client, headers, setup, scopes=("verify",)))


def vc_verify(client, token: str, credential: Any) -> Any:  # type: ignore[no-untyped-def]
    return client.post(
        "/credentials/verify",
        json={"verifiableCredential": credential, "options": {"checks": ["proof"]}},
        headers=bearer(token),
    )


def assert_verified(r: Any) -> None:
    """What the W3C suites read: 200, no error (they throw errors[0]), the checks as strings."""
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.json
    assert body["verified"] is True and body["errors"] == [] and isinstance(body["warnings"], list), body
    assert all(isinstance(c, str) for c in body["checks"])
    assert {"structure", "proof", "issuer_key", "validity"} <= set(body["checks"]), body["checks"]


def refused_check(r: Any) -> set[str]:
    """A 422 whose errors are problem details naming each failed check; the names."""
    assert r.status_code == 422, r.get_data(as_text=True)
    assert r.json["verified"] is False and r.json["errors"], r.json
    assert all({"type", "title", "detail"} <= set(e) for e in r.json["errors"])
    return {e["type"].rsplit("/", 1)[1] for e in r.json["errors"]}


def test_a_generic_vc_2_verifies_under_the_vc_profile_only(client, verifier_token) -> None:
    credential = did_key_signed(generic())
    r = vc_verify(client, verifier_token, credential)
    assert_verified(r)
    assert r.json["verdict"] == "genuine"
    # The badge verifier is unchanged: the same credential is no Open Badge there.
    badge_view = client.post("/api/v1/verify", json={"credential": credential})
    assert badge_view.status_code == 200 and badge_view.json["verdict"] == "invalid", badge_view.json
    assert {c["name"]: c["outcome"] for c in badge_view.json["checks"]}["structure"] == "fail"

    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["name"] = "Autre chose"
    assert refused_check(vc_verify(client, verifier_token, tampered)) == {"proof"}


def test_the_di_eddsa_suite_shape_without_dates_verifies(client, verifier_token) -> None:
    bare = generic()
    del bare["validFrom"], bare["id"]  # VC 2.0: both optional (the eddsa suite's credential has neither)
    assert_verified(vc_verify(client, verifier_token, did_key_signed(bare)))


def test_generic_vc_jwt_and_envelope_verify(client, verifier_token) -> None:
    kid = HOLDER_KEY.public.did_key_verification_method()
    token = badges.sign_vc_jwt(generic(), HOLDER_KEY, kid)
    # A bare VC-JWT (the VC-API takes credentials as objects: badges/ alone), then in an envelope.
    report = badges.verify(token, resolvers=badges.Resolvers(), profile="vc")
    assert report.valid and report.check("issuer_key").outcome == "pass", report.to_json()
    assert badges.verify(token, resolvers=badges.Resolvers()).check("structure").outcome == "fail"
    envelope = {"@context": [VC_V2], "type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt," + token}
    assert_verified(vc_verify(client, verifier_token, envelope))
    forged = token.rsplit(".", 1)[0] + "." + base64.urlsafe_b64encode(b"\0" * 64).decode().rstrip("=")
    assert refused_check(
        vc_verify(client, verifier_token, {**envelope, "id": "data:application/vc+jwt," + forged})
    ) == {"proof"}


def test_generic_vc_1_1_and_an_ob_vc_1_1_vector_verify(client, verifier_token) -> None:
    vc11 = {
        "@context": [VC_V1, DATA_INTEGRITY_V2, {"@vocab": "https://blason.test/vocab#"}],
        "id": "urn:uuid:0d6c3b8e-7f0a-4c55-9f61-2a3f6f1e2b11",
        "type": ["VerifiableCredential"],
        "issuer": did_key_issuer(),
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "alumniOf": "Cnam Bretagne"},
    }
    signed = did_key_signed(vc11)
    assert_verified(vc_verify(client, verifier_token, signed))
    assert refused_check(vc_verify(client, verifier_token, {**signed, "issuanceDate": "2026-02-01T00:00:00Z"})) == {
        "proof"
    }
    assert_verified(vc_verify(client, verifier_token, VC11_VECTORS["eddsa-rdfc-2022-did-key"]["credential"]))


@pytest.mark.parametrize(
    ("name", "change", "check"),
    [
        ("no @context", {"@context": None}, "structure"),
        ("@context a string", {"@context": VC_V2}, "structure"),
        ("no type", {"type": None}, "structure"),
        ("type of numbers", {"type": [10]}, "structure"),
        ("no issuer", {"issuer": None}, "structure"),
        ("issuer not a URL", {"issuer": "pas une adresse"}, "structure"),
        ("issuer a list", {"issuer": []}, "structure"),
        ("no credentialSubject", {"credentialSubject": None}, "structure"),
        ("credentialSubject a list of nothing", {"credentialSubject": []}, "structure"),
        ("id not a URL", {"id": "pas une adresse"}, "structure"),
        ("evidence without type", {"evidence": {"id": "https://blason.test/e/1"}}, "structure"),
        ("no proof", {"proof": None}, "proof"),
        ("proof without proofValue", {"proof": "NO_VALUE"}, "proof"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else None,
)
def test_malformed_generic_credentials_are_422_naming_the_check(client, verifier_token, name, change, check) -> None:  # noqa: ARG001
    credential = did_key_signed(generic())
    for key, value in change.items():
        if value is None:
            del credential[key]
        elif value == "NO_VALUE":
            credential["proof"] = {k: v for k, v in credential["proof"].items() if k != "proofValue"}
        else:
            credential[key] = value
    assert check in refused_check(vc_verify(client, verifier_token, credential))


@pytest.mark.parametrize(
    ("name", "dates", "verdict"),
    [
        ("expired", {"validFrom": "2019-01-01T00:00:00Z", "validUntil": "2020-01-01T00:00:00Z"}, "expired"),
        ("not yet valid", {"validFrom": "2090-01-01T00:00:00Z"}, "not_yet_valid"),
        ("until before from", {"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2025-01-01T00:00:00Z"}, "invalid"),
        ("unreadable date", {"validFrom": "hier"}, "invalid"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v or v == "expired" else None,
)
def test_a_signed_credential_outside_its_dates_is_422_validity(client, verifier_token, name, dates, verdict) -> None:  # noqa: ARG001
    r = vc_verify(client, verifier_token, did_key_signed(generic(**dates)))
    assert refused_check(r) == {"validity"} and r.json["verdict"] == verdict, r.json


def test_open_badges_rules_still_apply_to_open_badges_under_the_vc_profile(client, verifier_token) -> None:
    badge = open_badge(did_key_issuer())
    del badge["credentialSubject"]["achievement"]
    r = vc_verify(client, verifier_token, did_key_signed(badge))
    assert refused_check(r) == {"structure"}
    [error] = r.json["errors"]
    assert "achievement" in error["title"], error
    # A well-formed one passes the Open Badges structure check and says so.
    ok = vc_verify(client, verifier_token, did_key_signed(open_badge(did_key_issuer())))
    assert_verified(ok)


# --- issuing under the issuer's did:web --------------------------------------------------------------


def test_an_issuer_can_issue_under_its_did_web(client, headers, setup) -> None:
    token = token_of(client, register(client, headers, setup))
    did = badges.did_web.did_from_url(issuer_url(setup))
    # The issuer chose its https id: a credential naming its did:web is signed under the did:web.
    r = client.post("/credentials/issue", json={"credential": unsigned(did)}, headers=bearer(token))
    assert r.status_code == 201, r.json
    signed = r.json["verifiableCredential"]
    assert signed["issuer"] == did and signed["proof"]["verificationMethod"].startswith(did + "#z6Mk")
    assert_verified(vc_verify(client, token, signed))
    # Naming the key of the other form is refused (the method must match the issuer id used).
    https_method = issuer_url(setup) + "#" + signed["proof"]["verificationMethod"].split("#", 1)[1]
    wrong = client.post(
        "/credentials/issue",
        json={"credential": unsigned(did), "options": {"verificationMethod": https_method}},
        headers=bearer(token),
    )
    assert_problem(wrong, 422, "#/options/verificationMethod")
    # Another issuer's did:web is not ours.
    theirs = badges.did_web.did_from_url(issuer_url(setup, "other"))
    assert_problem(
        client.post("/credentials/issue", json={"credential": unsigned(theirs)}, headers=bearer(token)),
        422,
        "#/credential/issuer",
    )

    # The issuer switches to did:web: an absent issuer is filled in with it; its https id still works.
    h = headers(setup["admin"])
    etag = client.get(f"/api/v1/issuers/{setup['issuer'].id}", headers=h).headers["ETag"]
    chosen = client.patch(
        f"/api/v1/issuers/{setup['issuer'].id}", json={"identifier": "did:web"}, headers={**h, "If-Match": etag}
    )
    assert chosen.status_code == 200, chosen.json
    bare = unsigned(did)
    del bare["issuer"]
    filled = client.post("/credentials/issue", json={"credential": bare}, headers=bearer(token))
    assert filled.status_code == 201, filled.json
    assert filled.json["verifiableCredential"]["issuer"] == did
    assert filled.json["verifiableCredential"]["proof"]["verificationMethod"].startswith(did + "#z6Mk")
    assert_verified(vc_verify(client, token, filled.json["verifiableCredential"]))
    https = client.post("/credentials/issue", json={"credential": unsigned(issuer_url(setup))}, headers=bearer(token))
    assert https.status_code == 201
    assert https.json["verifiableCredential"]["proof"]["verificationMethod"].startswith(issuer_url(setup) + "#z6Mk")
    assert_verified(vc_verify(client, token, https.json["verifiableCredential"]))


def test_issuing_refuses_what_the_verifier_would_call_malformed(client, headers, setup) -> None:
    token = token_of(client, register(client, headers, setup))
    credential = unsigned(issuer_url(setup), evidence=[{"id": "https://blason.test/e/1"}])
    r = client.post("/credentials/issue", json={"credential": credential}, headers=bearer(token))
    body = assert_problem(r, 422, "#/credential")
    assert "evidence" in body["detail"], body


def test_the_vc_api_is_in_the_openapi_description(client, verifier_token) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["vcApiClient"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert set(schemes["vcApiClient"]["flows"]["clientCredentials"]["scopes"]) == {"issue", "verify"}
    token = spec["paths"]["/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    assert {"200", "400", "401", "429"} <= set(token["responses"])
    assert spec["paths"]["/credentials/issue"]["post"]["security"] == [{"vcApiClient": ["issue"]}]
    verify = spec["paths"]["/credentials/verify"]["post"]
    assert verify["security"] == [{"vcApiClient": ["verify"]}]
    # The documented result is what the endpoint answers, for 200 and for 422.
    ref = verify["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    result = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert verify["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == ref
    for credential in (did_key_signed(generic()), {**did_key_signed(generic()), "validFrom": "2020-01-01T00:00:00Z"}):
        answer = vc_verify(client, verifier_token, credential).json
        assert set(result["required"]) <= set(answer) <= set(result["properties"]), answer
