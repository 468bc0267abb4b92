"""OAuth 2.0 clients of an issuer for the W3C VC-API: registration, revocation, the client
credentials grant and the bearer tokens it hands out.

An issuer's administrators register a client (a name and its scopes: ``issue`` to sign
credentials as the issuer, ``verify`` to use the verifier); the secret is shown once and kept only
as an argon2id hash, as passwords are. ``POST /oauth/token`` exchanges the client's id and secret
for an access token.

Access tokens are JWTs signed with the platform's token key (EdDSA, the one algorithm accepted),
with their own audience (``blason-vc-api``) and type, so a person's API token is never a client's
token nor the reverse. They last ``ACCESS_TTL`` seconds and are not stored: each call checks the
signature, then reads the client's row (one indexed read), so a revoked client's tokens stop
working at once without a token table to keep and sweep.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CLIENT_SCOPES, ApiClient, Issuer
from app.platform.errors import FieldError, InvalidInput, NotFound, PermissionDenied, ServiceError, Unauthenticated
from app.platform.pagination import Page, paginate
from app.services.identity import audit
from app.services.identity.access import Grants
from app.services.identity.auth import ACCESS_ALGORITHM, Passwords, TokenSettings, verify_platform_token
from app.services.issuing.keys import check_issuer_admin
from app.services.issuing.signing import IssuingSettings

ALGORITHM = ACCESS_ALGORITHM  # the one verify_platform_token accepts
AUDIENCE = "blason-vc-api"
TOKEN_TYPE = "vc-api-client"
ACCESS_TTL = 600  # seconds: a program asks again; revocation does not wait for it anyway
CLIENT_ID_PREFIX = "blason-"
MAX_NAME = 200


class OAuthError(ServiceError):
    """A refusal of the token endpoint, in RFC 6749's words (``error`` code and HTTP status)."""

    def __init__(self, code: str, detail: str, *, status: int = 400) -> None:
        super().__init__(detail)
        self.code, self.status = code, status


@dataclass(frozen=True)
class NewClient:
    """A client just registered, with its secret: the only time the secret is known."""

    client: ApiClient
    secret: str


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ClientCaller:
    """Who calls a VC-API endpoint: a client of an issuer, with the scopes its token carries."""

    client: ApiClient
    scopes: frozenset[str]

    @property
    def issuer_id(self) -> uuid.UUID:
        return self.client.issuer_id

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PermissionDenied(f"This token does not carry the '{scope}' scope.")


# ---------------------------------------------------------------------------------------------
# Registration (issuer administrators)


def _issuer(session: Session, grants: Grants, issuer_id: uuid.UUID) -> Issuer:
    issuer = session.get(Issuer, issuer_id)
    if issuer is None:
        raise NotFound("Issuer not found.")
    check_issuer_admin(grants, issuer.id)
    return issuer


def read_scopes(value: Any, pointer: str = "#/scopes") -> list[str]:
    """The scopes asked for: a non-empty list of known ones (order kept, duplicates dropped)."""
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise InvalidInput(
            "Choose at least one scope.", errors=[FieldError(pointer, f"One or more of {CLIENT_SCOPES}.")]
        )
    unknown = [s for s in value if s not in CLIENT_SCOPES]
    if unknown:
        raise InvalidInput(
            f"Unknown scope {unknown[0]!r}.", errors=[FieldError(pointer, f"One or more of {CLIENT_SCOPES}.")]
        )
    return [s for s in CLIENT_SCOPES if s in value]


def create_client(
    session: Session,
    grants: Grants,
    issuer_id: uuid.UUID,
    name: str,
    scopes: list[str],
    *,
    passwords: Passwords,
    settings: IssuingSettings,
) -> NewClient:
    """Register a client of the issuer; its secret is returned once and stored hashed."""
    issuer = _issuer(session, grants, issuer_id)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Name the client.", errors=[FieldError("#/name", "Required.")])
    if len(name) > MAX_NAME:
        raise InvalidInput("The name is too long.", errors=[FieldError("#/name", f"At most {MAX_NAME} characters.")])
    chosen = read_scopes(scopes)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(12),
        secret_hash=passwords.hash(secret),
        issuer_id=issuer.id,
        name=name,
        scopes=chosen,
        created_by_id=grants.actor.author_id,
        created_at=settings.clock(),
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "issuer.api_client_created",
        "api_client",
        client.id,
        {"issuer": str(issuer.id), "clientId": client.client_id, "name": name, "scopes": chosen},
        clock=settings.clock,
    )
    return NewClient(client, secret)


def list_clients(
    session: Session, grants: Grants, issuer_id: uuid.UUID, *, page: int = 1, per_page: int = 20
) -> Page[ApiClient]:
    """The issuer's clients, active first then revoked, newest first."""
    issuer = _issuer(session, grants, issuer_id)
    stmt = (
        select(ApiClient)
        .where(ApiClient.issuer_id == issuer.id)
        .order_by(ApiClient.revoked_at.is_not(None), ApiClient.created_at.desc(), ApiClient.id)
    )
    return paginate(session, stmt, page, per_page)


def get_client(session: Session, grants: Grants, issuer_id: uuid.UUID, client_ref: uuid.UUID) -> ApiClient:
    """One client of the issuer (another issuer's is answered as unknown)."""
    issuer = _issuer(session, grants, issuer_id)
    client = session.get(ApiClient, client_ref)
    if client is None or client.issuer_id != issuer.id:
        raise NotFound("Client not found.")
    return client


def revoke_client(
    session: Session, grants: Grants, issuer_id: uuid.UUID, client_ref: uuid.UUID, *, settings: IssuingSettings
) -> ApiClient:
    """Revoke a client: its secret and every token it holds stop working now (idempotent)."""
    client = get_client(session, grants, issuer_id, client_ref)
    if client.revoked_at is None:
        client.revoked_at, client.revoked_by_id = settings.clock(), grants.actor.author_id
        session.flush()
        audit.record(
            session,
            grants.actor,
            "issuer.api_client_revoked",
            "api_client",
            client.id,
            {"issuer": str(client.issuer_id), "clientId": client.client_id},
            clock=settings.clock,
        )
    return client


# ---------------------------------------------------------------------------------------------
# The client credentials grant


def _active_client(session: Session, client_id: str) -> ApiClient | None:
    if not client_id or len(client_id) > 64:
        return None
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None or client.revoked_at is not None:
        return None
    return client


def check_secret(session: Session, client_id: str, secret: str, *, passwords: Passwords) -> ApiClient:
    """The active client these credentials name; invalid_client (401) otherwise, in equal time."""
    client = _active_client(session, client_id)
    # An unknown or revoked client costs the same hash as a wrong secret: the timing tells nothing.
    ok = passwords.verify(client.secret_hash if client else None, secret[:512])
    if client is None or not ok:
        raise OAuthError("invalid_client", "Unknown client, revoked client or wrong secret.", status=401)
    return client


def grant_token(client: ApiClient, scope: str | None, *, tokens: TokenSettings) -> AccessToken:
    """An access token for the scopes asked (all the client's when none is named)."""
    held = [s for s in client.scopes if s in CLIENT_SCOPES]
    asked = held if scope is None else [s for s in scope.split(" ") if s]
    if scope is not None and not asked:
        raise OAuthError("invalid_scope", "The scope parameter is empty.")
    refused = [s for s in asked if s not in held]
    if refused:
        raise OAuthError("invalid_scope", f"This client may not ask for {refused[0]!r}; it holds {' '.join(held)}.")
    chosen = tuple(s for s in CLIENT_SCOPES if s in asked)
    now = tokens.clock()
    claims = {
        "iss": tokens.issuer,
        "aud": AUDIENCE,
        "sub": client.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=ACCESS_TTL),
        "jti": uuid.uuid4().hex,
        "typ": TOKEN_TYPE,
        "scope": " ".join(chosen),
    }
    return AccessToken(jwt.encode(claims, tokens.private_key, algorithm=ALGORITHM), ACCESS_TTL, chosen)


def authenticate(session: Session, token: str, *, tokens: TokenSettings) -> ClientCaller:
    """The client a bearer token speaks for, checked now: signature, dates, audience, not revoked."""
    claims = verify_platform_token(
        token, settings=tokens, audience=AUDIENCE, expired="Access token expired; ask /oauth/token for a new one."
    )
    if claims.get("typ") != TOKEN_TYPE or not isinstance(claims.get("scope"), str):
        raise Unauthenticated("Not a VC-API client token.")
    client = _active_client(session, str(claims["sub"]))
    if client is None:
        raise Unauthenticated("This client is unknown or was revoked.")
    # A scope withdrawn since the token was granted is withdrawn now.
    scopes = frozenset(s for s in claims["scope"].split(" ") if s in client.scopes)
    return ClientCaller(client, scopes)
