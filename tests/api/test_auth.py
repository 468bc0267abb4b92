"""Login, token rotation and every way an access token can be wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.models import AuditEvent, Person
from app.runtime import runtime
from app.services.identity import auth
from tests.api.support import assert_problem
from tests.conftest import PASSWORD

ME = "/api/v1/people/me"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def login(client, email, password=PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_for(app, person, **overrides):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    claims = {
        "iss": runtime(app).tokens.issuer,
        "aud": auth.AUDIENCE,
        "sub": str(person.id),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "typ": "access",
    }
    claims.update(overrides)
    return claims


def test_login_returns_a_working_token_pair(client, make_person):
    person = make_person()
    r = login(client, person.email.upper())  # e-mails are matched case-insensitively
    assert r.status_code == 200, r.json
    body = r.json
    assert body["expiresIn"] == 900 and body["tokenType"] == "Bearer"
    assert body["personId"] == str(person.id)
    assert body["accessToken"] and body["refreshToken"]
    me = client.get(ME, headers=bearer(body["accessToken"]))
    assert me.status_code == 200 and me.json["id"] == str(person.id)


@pytest.mark.parametrize("which", ["wrong password", "unknown e-mail"])
def test_failed_login_is_401_and_audited(client, session, make_person, which):
    person = make_person()
    email = person.email if which == "wrong password" else "nobody@example.org"
    r = login(client, email, "not the password at all")
    body = assert_problem(r, 401)
    assert "accessToken" not in body
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert len(events) == 1
    assert events[0].data["email_sha256"] == hashlib.sha256(email.lower().encode()).hexdigest()
    assert email not in json.dumps(events[0].data)  # the address itself is not logged


def test_disabled_account_cannot_log_in_nor_use_its_token(client, session, make_person, headers):
    person = make_person()
    h = headers(person)
    assert client.get(ME, headers=h).status_code == 200
    # Requests close the session they share with the test: reload before changing.
    session.get(Person, person.id).is_active = False
    session.flush()
    assert_problem(login(client, person.email), 401)
    assert_problem(client.get(ME, headers=h), 401)


def test_refresh_rotates_and_the_old_token_stops_working(client, make_person):
    person = make_person()
    first = login(client, person.email).json
    r = client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert r.status_code == 200, r.json
    second = r.json
    assert second["refreshToken"] != first["refreshToken"]
    assert client.get(ME, headers=bearer(second["accessToken"])).status_code == 200
    assert_problem(client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]}), 401)


def test_refresh_reuse_revokes_the_whole_family(client, session, make_person):
    person = make_person()
    first = login(client, person.email).json
    second = client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]}).json
    third = client.post("/api/v1/auth/refresh", json={"refreshToken": second["refreshToken"]}).json
    other_login = login(client, person.email).json  # another device: another family

    # The stolen first token is replayed: refused, and every token of its family dies with it.
    assert_problem(client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]}), 401)
    assert_problem(client.post("/api/v1/auth/refresh", json={"refreshToken": third["refreshToken"]}), 401)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.refresh_reused")) is not None
    # The other login is untouched.
    assert client.post("/api/v1/auth/refresh", json={"refreshToken": other_login["refreshToken"]}).status_code == 200


def test_logout_revokes_the_refresh_token(client, make_person):
    person = make_person()
    pair = login(client, person.email).json
    r = client.post("/api/v1/auth/logout", json={"refreshToken": pair["refreshToken"]})
    assert r.status_code == 204
    assert_problem(client.post("/api/v1/auth/refresh", json={"refreshToken": pair["refreshToken"]}), 401)
    # Logging out twice, or with an unknown token, is harmless.
    assert client.post("/api/v1/auth/logout", json={"refreshToken": pair["refreshToken"]}).status_code == 204
    assert client.post("/api/v1/auth/logout", json={"refreshToken": "x" * 43}).status_code == 204


def test_unknown_refresh_token_is_401(client):
    assert_problem(client.post("/api/v1/auth/refresh", json={"refreshToken": "y" * 43}), 401)


def test_expired_refresh_token_is_401(app, client, session, make_person):
    person = make_person()
    past = replace(runtime(app).tokens, clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    pair = auth._issue(session, person, uuid.uuid4(), past)
    assert_problem(client.post("/api/v1/auth/refresh", json={"refreshToken": pair.refresh_token}), 401)


def test_expired_access_token_is_401(app, client, session, make_person):
    person = make_person()
    past = replace(runtime(app).tokens, clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    token = auth._issue(session, person, uuid.uuid4(), past).access_token
    body = assert_problem(client.get(ME, headers=bearer(token)), 401)
    assert "expired" in body["detail"].lower()


@pytest.mark.parametrize("part", [1, 2])
@pytest.mark.parametrize("position", [0.1, 0.5, 0.9])
def test_tampered_token_is_401(client, make_person, headers, part, position):
    token = headers(make_person())["Authorization"].removeprefix("Bearer ")
    segments = token.split(".")
    segment = segments[part]
    i = int(len(segment) * position)
    segments[part] = segment[:i] + ("A" if segment[i] != "A" else "B") + segment[i + 1 :]
    assert_problem(client.get(ME, headers=bearer(".".join(segments))), 401)


def test_payload_swapped_to_another_person_is_401(client, make_person, headers):
    alice, bob = make_person(), make_person()
    a = headers(alice)["Authorization"].removeprefix("Bearer ").split(".")
    b = headers(bob)["Authorization"].removeprefix("Bearer ").split(".")
    assert_problem(client.get(ME, headers=bearer(".".join([a[0], b[1], a[2]]))), 401)


def test_alg_none_token_is_401(app, client, make_person):
    person = make_person()
    claims = claims_for(app, person)
    claims = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    for alg in ("none", "None", "NONE"):
        header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims).encode())
        for token in (f"{header}.{payload}.", f"{header}.{payload}"):
            assert_problem(client.get(ME, headers=bearer(token)), 401)


def test_hs256_signed_with_the_public_key_is_401(app, client, make_person):
    """The algorithm-confusion attack: the public key used as an HMAC secret."""
    person = make_person()
    public = runtime(app).tokens.public_key
    claims = claims_for(app, person)
    claims = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    secrets = [
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
    ]
    for secret in secrets:
        signing_input = (
            b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64url(json.dumps(claims).encode())
        )
        signature = b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
        assert_problem(client.get(ME, headers=bearer(f"{signing_input}.{signature}")), 401)


def test_token_signed_by_another_key_is_401(app, client, make_person):
    person = make_person()
    token = jwt.encode(claims_for(app, person), Ed25519PrivateKey.generate(), algorithm="EdDSA")
    assert_problem(client.get(ME, headers=bearer(token)), 401)


@pytest.mark.parametrize(
    "overrides",
    [
        {"typ": "refresh"},
        {"typ": None},
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
        {"sub": "not-a-uuid"},
        {"nbf": datetime(2100, 1, 1, tzinfo=UTC)},
    ],
)
def test_token_with_wrong_claims_is_401(app, client, make_person, overrides):
    person = make_person()
    claims = {k: v for k, v in claims_for(app, person, **overrides).items() if v is not None}
    token = jwt.encode(claims, runtime(app).tokens.private_key, algorithm="EdDSA")
    assert_problem(client.get(ME, headers=bearer(token)), 401)


def test_genuine_token_for_a_person_who_does_not_exist_is_401(app, client, make_person):
    person = make_person()
    claims = claims_for(app, person, sub=str(uuid.uuid4()))
    token = jwt.encode(claims, runtime(app).tokens.private_key, algorithm="EdDSA")
    assert_problem(client.get(ME, headers=bearer(token)), 401)


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer ....",
        "Token abc",
        "bearer",
        "Bearer \u00e9t\u00e9",
        "Bearer " + "A" * 5000,
    ],
)
def test_garbage_authorization_header_is_401(client, value):
    assert_problem(client.get(ME, headers={"Authorization": value}), 401)


def test_no_token_is_401_on_protected_routes(client):
    for path in (ME, "/api/v1/projects", "/api/v1/contributions", "/api/v1/memberships"):
        assert_problem(client.get(path), 401)
