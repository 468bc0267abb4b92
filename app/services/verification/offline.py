"""Verification with no network: a credential's compact signed form (BL1), the trust list, the status bundle.

* **Compact form** (:func:`compact_of`): signed on demand with the issuer's active Ed25519 key
  and kept in a bounded in-process cache, never stored (no column, no migration). Its claims are
  the stored OB 3.0 credential's plus the badge's short address (``/c/<code>``), the suspension
  entry and, only when the learner shows their name on the badge's public page, their name; the
  issuer's name is left to the trust list. ``iat`` is the credential's issuance time, so the
  same claims signed by the same key (Ed25519 is deterministic) give the same QR code on the
  certificate, on *Mes badges* and at ``/credentials/{id}/offline-qr.svg``. Revoked and suspended
  badges keep theirs: it is what the holder already carries, and the status bundle says the rest.
* **Trust list**: every issuer with its https id and did:web, and its Ed25519 and P-256 keys with
  their states (active, retired, compromised since a date).
* **Status bundle**: every status list's current bits, keyed by the list's UUID, its URL alongside.

Both are compact JWS signed by the platform key (:func:`signed_trust_list`,
:func:`signed_status_bundle`), rebuilt when the database changes and at least every
``MAX_AGE`` seconds, so their ``iat`` says how fresh they are.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import badges
from app.models import Credential, CredentialState, Issuer, KeyPurpose, KeyStatus, Person, SigningKey, StatusList
from app.platform.urls import Urls
from app.services.issuing.keys import KeyUnavailable, active_key, decrypt_private_key
from app.services.issuing.signing import IssuingSettings
from app.services.verification import public_docs
from badges import compact

MAX_AGE = 300  # seconds: the trust material's Cache-Control max-age, and how often it is re-dated
COMPACT_PURPOSES = (KeyPurpose.DATA_INTEGRITY, KeyPurpose.VC_JWT)  # Ed25519 and P-256
QR_ERROR_CORRECTION = "M"
PUBLIC_STATES = (CredentialState.ISSUED, CredentialState.SUSPENDED, CredentialState.REVOKED)
_STATUS = {KeyStatus.ACTIVE: "active", KeyStatus.RETIRED: "retired", KeyStatus.COMPROMISED: "compromised"}


class _Cache:
    """A small thread-safe LRU of signed texts."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_compact_cache = _Cache(4096)
_trust_cache = _Cache(16)


# ---------------------------------------------------------------------------------------------
# The compact form of a credential


def compact_badge(session: Session, credential: Credential, urls: Urls) -> compact.CompactBadge:
    """The claims of a credential's compact form (holder name only when the learner shows it)."""
    assert credential.ob3_credential is not None
    learner = session.get(Person, credential.learner_id)
    holder = public_docs.public_recipient_name(credential, learner) if learner is not None else None
    suspension = (
        (urls.status_list(credential.suspension_list_id), credential.status_index)
        if credential.suspension_list_id is not None and credential.status_index is not None
        else None
    )
    return compact.badge_from_credential(
        credential.ob3_credential,
        url=urls.short(credential.short_code),
        credential_id=credential.id,
        holder_name=holder,
        suspension=suspension,
        issued_at=_aware(credential.awarded_at),
    )


def compact_of(session: Session, credential: Credential, settings: IssuingSettings) -> str:
    """The ``BL1:`` text of a public credential, signed with its issuer's active Ed25519 key (cached)."""
    badge = compact_badge(session, credential, settings.urls)
    row = active_key(session, credential.issuer_id, KeyPurpose.DATA_INTEGRITY)
    key = (credential.id, credential.version, row.id, badge)
    text = _compact_cache.get(key)
    if text is None:
        try:
            signing_key = decrypt_private_key(row, settings.keks)
        except KeyUnavailable as exc:
            raise badges.SigningError(str(exc)) from None
        text = compact.sign_compact(badge, signing_key, algorithm="EdDSA")
        _compact_cache.put(key, text)
    return str(text)


def public_compact(session: Session, credential_id: uuid.UUID, settings: IssuingSettings) -> str | None:
    """The compact form of an issued, suspended or revoked credential; None for anything else."""
    credential = session.get(Credential, credential_id)
    if credential is None or credential.state not in PUBLIC_STATES or credential.ob3_credential is None:
        return None
    return compact_of(session, credential, settings)


@dataclass(frozen=True)
class OfflineQR:
    """The compact form as a QR code: the text, its alphanumeric QR version, the image."""

    text: str
    version: int
    data: bytes
    media_type: str


def offline_qr(text: str, extension: str, *, title: str) -> OfflineQR:
    """An alphanumeric QR code, error correction M, the smallest version that holds ``text``."""
    version = badges.qr.qr_version(text, error_correction=QR_ERROR_CORRECTION)
    if extension == "svg":
        svg = badges.qr_svg(text, error_correction=QR_ERROR_CORRECTION, module_size=3, title=title)
        return OfflineQR(text, version, svg.encode("utf-8"), "image/svg+xml")
    return OfflineQR(
        text, version, badges.qr_png(text, error_correction=QR_ERROR_CORRECTION, module_size=6), "image/png"
    )


# ---------------------------------------------------------------------------------------------
# Trust material


def trust_list(session: Session, urls: Urls, now: datetime) -> compact.TrustList:
    """Every issuer and its Ed25519 / P-256 keys with their states (unsigned)."""
    keys: dict[uuid.UUID, list[SigningKey]] = {}
    for row in session.scalars(
        select(SigningKey)
        .where(SigningKey.purpose.in_(COMPACT_PURPOSES))
        .order_by(SigningKey.issuer_id, SigningKey.created_at, SigningKey.id)
    ):
        keys.setdefault(row.issuer_id, []).append(row)
    issuers = []
    for issuer in session.scalars(select(Issuer).order_by(Issuer.created_at, Issuer.id)):
        entries = tuple(_trusted_key(row) for row in keys.get(issuer.id, []))
        https_id, did = urls.issuer(issuer.id), urls.issuer_did(issuer.id)
        issuers.append(compact.TrustedIssuer(https_id, issuer.name, (https_id, did), entries))
    return compact.TrustList(urls.base, badges.timeutil.numeric_date(now), tuple(issuers))


def _trusted_key(row: SigningKey) -> compact.TrustedKey:
    return compact.TrustedKey.for_key(
        badges.load_public_pem(row.public_pem),
        _STATUS[row.status],  # type: ignore[arg-type]
        compromised_at=_aware(row.compromised_at),
        retired_at=_aware(row.retired_at),
    )


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def status_bundle(session: Session, urls: Urls, now: datetime) -> compact.StatusBundle:
    """Every status list's current bits (unsigned), keyed by list id."""
    lists = (
        compact.BundledList(
            urls.status_list(row.id),
            row.purpose.value,
            badges.StatusList(size=row.size, bits=bytearray(row.bits)),
            badges.timeutil.numeric_date(_aware(row.updated_at) or now),
        )
        for row in session.scalars(select(StatusList).order_by(StatusList.created_at, StatusList.id))
    )
    return compact.StatusBundle.of(urls.base, badges.timeutil.numeric_date(now), lists)


def _trust_fingerprint(session: Session) -> tuple[Any, ...]:
    issuers = session.execute(select(Issuer.id, Issuer.name).order_by(Issuer.id)).all()
    keys = session.execute(
        select(SigningKey.id, SigningKey.status).where(SigningKey.purpose.in_(COMPACT_PURPOSES)).order_by(SigningKey.id)
    ).all()
    return ("trust", tuple(tuple(r) for r in issuers), tuple(tuple(r) for r in keys))


def _status_fingerprint(session: Session) -> tuple[Any, ...]:
    rows = session.execute(select(StatusList.id, StatusList.version).order_by(StatusList.id)).all()
    return ("status", tuple(tuple(r) for r in rows))


@dataclass(frozen=True)
class SignedMaterial:
    """A signed trust list or status bundle and when it was dated."""

    token: str
    iat: int


def _signed(
    key: tuple[Any, ...],
    build: Callable[[], dict[str, Any]],
    platform_key: badges.SigningKey,
    typ: str,
    *,
    monotonic: Callable[[], float],
) -> SignedMaterial:
    cache_key = (*key, platform_key.public.thumbprint())
    cached = _trust_cache.get(cache_key)
    if cached is not None and monotonic() - cached[0] < MAX_AGE:
        return cached[1]
    payload = build()
    material = SignedMaterial(compact.sign_trust_material(payload, platform_key, typ), int(payload["iat"]))
    _trust_cache.put(cache_key, (monotonic(), material))
    return material


def signed_trust_list(
    session: Session,
    urls: Urls,
    platform_key: badges.SigningKey,
    now: datetime,
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> SignedMaterial:
    """The trust list as a compact JWS (``typ: blason-trust-list+jwt``) signed by the platform key."""
    return _signed(
        (*_trust_fingerprint(session), urls.base),
        lambda: trust_list(session, urls, now).payload(),
        platform_key,
        compact.TRUST_LIST_TYPE,
        monotonic=monotonic,
    )


def signed_status_bundle(
    session: Session,
    urls: Urls,
    platform_key: badges.SigningKey,
    now: datetime,
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> SignedMaterial:
    """The status bundle as a compact JWS (``typ: blason-status-bundle+jwt``) signed by the platform key."""
    return _signed(
        (*_status_fingerprint(session), urls.base),
        lambda: status_bundle(session, urls, now).payload(),
        platform_key,
        compact.STATUS_BUNDLE_TYPE,
        monotonic=monotonic,
    )


def resolve(session: Session, urls: Urls, url: str, now: datetime) -> compact.TrustList | compact.StatusBundle | None:
    """Our own trust material for ``badges.verify`` (already trusted: read from the database)."""
    if url == urls.base + compact.TRUST_LIST_PATH:
        return trust_list(session, urls, now)
    if url == urls.base + compact.STATUS_BUNDLE_PATH:
        return status_bundle(session, urls, now)
    return None


def verify_text(session: Session, urls: Urls, text: str, now: datetime) -> badges.VerificationReport:
    """Verify a BL1 text against this platform's current trust list and status lists (no network)."""
    return compact.verify_compact(
        text, trust_list=trust_list(session, urls, now), status_bundle=status_bundle(session, urls, now), now=now
    )
