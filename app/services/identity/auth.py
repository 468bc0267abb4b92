"""Password login, short-lived access tokens (EdDSA JWT), rotating refresh tokens, logout."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Person, RefreshToken
from app.platform.errors import Unauthenticated
from app.services.identity import audit

ACCESS_ALGORITHM = "EdDSA"  # the only algorithm accepted: no `none`, no HS/RS confusion
AUDIENCE = "blason-api"


@dataclass(frozen=True)
class TokenSettings:
    private_key: Ed25519PrivateKey
    issuer: str
    access_ttl: int
    refresh_ttl: int
    clock: Callable[[], datetime] = utcnow

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    person_id: uuid.UUID


class Passwords:
    """argon2id hashing; parameters come from configuration (tests use cheap ones)."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verified against when the e-mail is unknown, so timing does not reveal accounts.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(session: Session, person: Person, family_id: uuid.UUID, settings: TokenSettings) -> TokenPair:
    now = settings.clock()
    claims = {
        "iss": settings.issuer,
        "aud": AUDIENCE,
        "sub": str(person.id),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=settings.access_ttl),
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    access = jwt.encode(claims, settings.private_key, algorithm=ACCESS_ALGORITHM)
    refresh = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            person_id=person.id,
            family_id=family_id,
            token_hash=_token_hash(refresh),
            issued_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_ttl),
        )
    )
    session.flush()
    return TokenPair(access, refresh, settings.access_ttl, person.id)


@dataclass(frozen=True)
class PasswordCheck:
    """What the read half of a sign-in found: whose password matched, if anyone's."""

    email: str
    person_id: uuid.UUID | None  # the account the e-mail names, if any
    ok: bool
    new_hash: str | None  # the password hashed again with today's parameters, when they changed


def check_password(session: Session, email: str, password: str, *, passwords: Passwords) -> PasswordCheck:
    """The read half of a sign-in: look the account up and hash the password (slow, by design).

    It only reads, so the caller runs it outside any write transaction: on SQLite the hash never
    holds the database's single write lock. ``login`` then records the outcome.
    """
    row = session.execute(
        select(Person.id, Person.password_hash, Person.is_active).where(
            func.lower(Person.email) == email.strip().lower()
        )
    ).first()
    stored = row.password_hash if row else None
    ok = passwords.verify(stored, password) and bool(row and row.is_active)
    new_hash = passwords.hash(password) if ok and stored and passwords.needs_rehash(stored) else None
    return PasswordCheck(email, row.id if row else None, ok, new_hash)


def signed_in_person(session: Session, check: PasswordCheck, *, clock: Callable[[], datetime]) -> Person | None:
    """The write half of any sign-in (API or pages): the person, or ``None`` with the failure audited."""
    person = session.get(Person, check.person_id) if check.person_id else None
    if person is None or not check.ok or not person.is_active:  # disabled meanwhile: refused too
        audit.record(
            session,
            None,
            "auth.login_failed",
            "person",
            person.id if person else None,
            {"email_sha256": hashlib.sha256(check.email.strip().lower().encode()).hexdigest()},
            clock=clock,
        )
        return None
    if check.new_hash:
        person.password_hash = check.new_hash
    return person


def login(session: Session, check: PasswordCheck, *, settings: TokenSettings) -> TokenPair:
    """The write half of an API sign-in: audit a failure, or open a new token family."""
    person = signed_in_person(session, check, clock=settings.clock)
    if person is None:
        raise Unauthenticated("Invalid e-mail or password.", keep_changes=True)
    return _issue(session, person, uuid.uuid4(), settings)


def refresh(session: Session, token: str, *, settings: TokenSettings) -> TokenPair:
    """Exchange a refresh token for a new pair; a reused token revokes its whole family."""
    now = settings.clock()
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _token_hash(token)).with_for_update())
    if row is None:
        raise Unauthenticated("Unknown refresh token.")
    if row.used_at is not None or row.revoked_at is not None:
        # Someone replayed a rotated (or revoked) token: assume theft, end every session of it.
        _revoke_family(session, row.family_id, now)
        audit.record(
            session,
            audit.Actor(row.person_id),
            "auth.refresh_reused",
            "person",
            row.person_id,
            {"family": str(row.family_id)},
            clock=settings.clock,
        )
        raise Unauthenticated("Refresh token already used; the session has been closed.", keep_changes=True)
    if row.expires_at <= now:
        raise Unauthenticated("Refresh token expired.")
    person = session.get(Person, row.person_id)
    if person is None or not person.is_active:
        raise Unauthenticated("Account disabled.")
    # Mark used with a guarded UPDATE so two concurrent refreshes cannot both succeed.
    result = session.execute(
        update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None)).values(used_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Unauthenticated("Refresh token already used.")
    return _issue(session, person, row.family_id, settings)


def _revoke_family(session: Session, family_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def logout(session: Session, token: str, *, settings: TokenSettings) -> None:
    """Revoke the family of a refresh token (idempotent; unknown tokens are ignored)."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _token_hash(token)))
    if row is not None:
        _revoke_family(session, row.family_id, settings.clock())
        session.flush()


def verify_platform_token(
    token: str, *, settings: TokenSettings, audience: str, expired: str = "Access token expired."
) -> dict[str, Any]:
    """The claims of a token the platform key signed for ``audience`` (algorithm and key pinned, no leeway).

    Raises Unauthenticated: ``expired`` once it has expired, a generic message for any other fault.
    """
    try:
        if jwt.get_unverified_header(token).get("alg") != ACCESS_ALGORITHM:
            raise Unauthenticated("Token algorithm not accepted.")
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.public_key,
            algorithms=[ACCESS_ALGORITHM],
            audience=audience,
            issuer=settings.issuer,
            options={"require": ["exp", "sub", "iat", "nbf"]},
            leeway=0,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated(expired) from None
    except jwt.PyJWTError:
        raise Unauthenticated("Invalid access token.") from None
    return claims


def decode_access_token(token: str, *, settings: TokenSettings) -> uuid.UUID:
    """Verify an access token (algorithm and key pinned) and return the person id."""
    claims = verify_platform_token(token, settings=settings, audience=AUDIENCE)
    if claims.get("typ") != "access":
        raise Unauthenticated("Not an access token.")
    try:
        return uuid.UUID(str(claims["sub"]))
    except ValueError:
        raise Unauthenticated("Invalid access token.") from None
