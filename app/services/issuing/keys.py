"""Issuer signing keys: creation, encryption at rest, decryption, rotation and compromise.

Private keys are stored only as AES-256-GCM ciphertext under a key-encryption key (KEK) from
the configuration. The first configured KEK encrypts; any listed KEK decrypts (by the
``kek_id`` stored beside the ciphertext), so KEKs can be rotated by adding a new one first and
re-wrapping. The key's own kid is the GCM associated data: a ciphertext moved onto another
key row does not decrypt.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

import badges
from app.db import utcnow
from app.models import Issuer, KeyPurpose, KeyStatus, SigningKey
from app.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.services.identity import audit
from app.services.identity.access import Grants

Keks = Sequence[tuple[str, bytes]]

KIND_FOR_PURPOSE: dict[KeyPurpose, badges.keys.KeyKind] = {
    KeyPurpose.DATA_INTEGRITY: "Ed25519",
    KeyPurpose.VC_JWT: "P-256",
    KeyPurpose.OB2: "RSA",
}
ALGORITHM_FOR_PURPOSE = {KeyPurpose.DATA_INTEGRITY: "EdDSA", KeyPurpose.VC_JWT: "ES256", KeyPurpose.OB2: "RS256"}
_NONCE = 12


class KeyUnavailable(Exception):
    """A stored private key cannot be decrypted (its KEK is no longer configured, or tampering)."""


def encrypt_private_key(pem: bytes, kid: str, keks: Keks) -> tuple[bytes, str]:
    """Encrypt a private PEM under the first KEK; return (nonce || ciphertext, kek id)."""
    if not keks:
        raise KeyUnavailable("no key-encryption key is configured")
    kek_id, kek = keks[0]
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(kek).encrypt(nonce, pem, kid.encode("utf-8")), kek_id


def decrypt_private_key(row: SigningKey, keks: Keks) -> badges.SigningKey:
    """Decrypt a stored key with the KEK named by its ``kek_id``."""
    kek = dict(keks).get(row.kek_id)
    if kek is None:
        raise KeyUnavailable(f"key-encryption key {row.kek_id!r} is not configured")
    blob = row.encrypted_private_key
    try:
        pem = AESGCM(kek).decrypt(blob[:_NONCE], blob[_NONCE:], row.kid.encode("utf-8"))
    except (InvalidTag, ValueError):
        raise KeyUnavailable(f"signing key {row.kid} does not decrypt") from None
    return badges.load_private_key(pem)


def new_key(
    issuer_id: uuid.UUID, purpose: KeyPurpose, keks: Keks, *, clock: Callable[[], datetime] = utcnow
) -> tuple[SigningKey, badges.SigningKey]:
    """Generate a key of the purpose's kind; return the (unsaved) row and the usable key."""
    key = badges.generate_key(KIND_FOR_PURPOSE[purpose])
    public = key.public
    kid = public.thumbprint()  # RFC 7638: stable, unique, URL-safe
    ciphertext, kek_id = encrypt_private_key(key.private_pem(), kid, keks)
    row = SigningKey(
        issuer_id=issuer_id,
        purpose=purpose,
        algorithm=ALGORITHM_FOR_PURPOSE[purpose],
        kid=kid,
        public_jwk=public.jwk(kid),
        public_pem=public.pem(),
        public_key_multibase=public.multibase() if purpose is not KeyPurpose.OB2 else None,
        encrypted_private_key=ciphertext,
        kek_id=kek_id,
        status=KeyStatus.ACTIVE,
        created_at=clock(),
    )
    return row, key


def create_issuer_keys(
    session: Session, issuer: Issuer, keks: Keks, *, clock: Callable[[], datetime] = utcnow
) -> list[SigningKey]:
    """Create one active key per purpose for a new issuer."""
    rows = []
    for purpose in KeyPurpose:
        row, _key = new_key(issuer.id, purpose, keks, clock=clock)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def issuer_keys_query(issuer_id: uuid.UUID) -> Select[Any]:
    """Every key of an issuer (active, retired, compromised), oldest first."""
    return select(SigningKey).where(SigningKey.issuer_id == issuer_id).order_by(SigningKey.created_at, SigningKey.id)


def issuer_keys(session: Session, issuer_id: uuid.UUID) -> list[SigningKey]:
    """Every key of an issuer (active, retired, compromised), oldest first."""
    return list(session.scalars(issuer_keys_query(issuer_id)))


def active_key(session: Session, issuer_id: uuid.UUID, purpose: KeyPurpose) -> SigningKey:
    row = session.scalar(
        select(SigningKey)
        .where(SigningKey.issuer_id == issuer_id, SigningKey.purpose == purpose, SigningKey.status == KeyStatus.ACTIVE)
        .order_by(SigningKey.created_at.desc())
        .limit(1)
    )
    if row is None:
        raise Conflict(f"The issuer has no active {purpose.value} key; rotate its keys.")
    return row


@dataclass
class KeyRing:
    """The active keys of one issuer, loaded once for a whole batch of signatures.

    A private key is decrypted on the first use of its purpose, then kept: a wallet copy signed
    with one key does not pay for the others (the RSA key of OB 2.0 above all).
    """

    rows: dict[KeyPurpose, SigningKey]
    keks: Keks = ()
    keys: dict[KeyPurpose, badges.SigningKey] = field(default_factory=dict)

    def row(self, purpose: KeyPurpose) -> SigningKey:
        return self.rows[purpose]

    def key(self, purpose: KeyPurpose) -> badges.SigningKey:
        key = self.keys.get(purpose)
        if key is None:
            try:
                key = decrypt_private_key(self.rows[purpose], self.keks)
            except KeyUnavailable as exc:
                raise Conflict(f"The issuer's signing keys cannot be used: {exc}.") from None
            self.keys[purpose] = key
        return key


def load_keyring(session: Session, issuer_id: uuid.UUID, keks: Keks) -> KeyRing:
    """The issuer's active key of each purpose; each is decrypted when first used (:meth:`KeyRing.key`)."""
    rows = {purpose: active_key(session, issuer_id, purpose) for purpose in KeyPurpose}
    return KeyRing(rows, keks)


def require_caller(grants: Grants) -> None:
    """A signed-in person, or the system itself (CLI, workers: platform grants without a person)."""
    if grants.actor.id is None and not grants.platform_admin:
        grants.person_id  # noqa: B018 - raises Unauthenticated


def check_issuer_admin(grants: Grants, issuer_id: uuid.UUID) -> None:
    """Issuer admins of this issuer and platform admins manage it."""
    require_caller(grants)
    if not (grants.platform_admin or issuer_id in grants.issuer_admin_of):
        raise PermissionDenied("Only the issuer's administrators may do this.")


def _issuer(session: Session, grants: Grants, issuer_id: uuid.UUID) -> Issuer:
    issuer = session.get(Issuer, issuer_id)
    if issuer is None:
        raise NotFound("Issuer not found.")
    check_issuer_admin(grants, issuer_id)
    return issuer


def rotate_keys(
    session: Session,
    grants: Grants,
    issuer_id: uuid.UUID,
    purposes: Sequence[KeyPurpose] | None,
    keks: Keks,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> list[SigningKey]:
    """Create new active keys; the previous active ones become retired (published, still verify)."""
    issuer = _issuer(session, grants, issuer_id)
    chosen = list(purposes or KeyPurpose)
    now = clock()
    created = []
    for purpose in chosen:
        for old in session.scalars(
            select(SigningKey)
            .where(
                SigningKey.issuer_id == issuer.id, SigningKey.purpose == purpose, SigningKey.status == KeyStatus.ACTIVE
            )
            .with_for_update()
        ):
            old.status, old.retired_at = KeyStatus.RETIRED, now
        row, _key = new_key(issuer.id, purpose, keks, clock=clock)
        session.add(row)
        created.append(row)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "issuer.keys_rotated",
        "issuer",
        issuer.id,
        {"purposes": [p.value for p in chosen], "kids": [r.kid for r in created]},
        clock=clock,
    )
    return created


def mark_compromised(
    session: Session,
    grants: Grants,
    issuer_id: uuid.UUID,
    key_id: uuid.UUID,
    reason: str,
    keks: Keks,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> SigningKey:
    """Flag a key as compromised; if it was active, a new key of its purpose replaces it.

    The key stays published (so what it signed can still be examined) but flagged, and every
    credential it signed reports it.
    """
    issuer = _issuer(session, grants, issuer_id)
    row = session.get(SigningKey, key_id)
    if row is None or row.issuer_id != issuer.id:
        raise NotFound("Key not found.")
    if row.status is KeyStatus.COMPROMISED:
        raise Conflict("This key is already marked as compromised.")
    if not reason.strip():
        raise InvalidInput("Say why the key is compromised.")
    was_active = row.status is KeyStatus.ACTIVE
    row.status, row.compromised_at = KeyStatus.COMPROMISED, clock()
    replacement = None
    if was_active:
        replacement, _key = new_key(issuer.id, row.purpose, keks, clock=clock)
        session.add(replacement)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "issuer.key_compromised",
        "signing_key",
        row.id,
        {
            "issuer": str(issuer.id),
            "kid": row.kid,
            "reason": reason,
            "replacement": replacement.kid if replacement else None,
        },
        clock=clock,
    )
    return row


def rewrap_keys(session: Session, keks: Keks) -> int:
    """Re-encrypt every private key under the first KEK (after adding a new one); return the count."""
    first = keks[0][0]
    count = 0
    for row in session.scalars(select(SigningKey).where(SigningKey.kek_id != first)):
        pem = decrypt_private_key(row, keks).private_pem()
        row.encrypted_private_key, row.kek_id = encrypt_private_key(pem, row.kid, keks)
        count += 1
    session.flush()
    return count
