"""Signed heads of the audit chain: what makes a rewound or re-hashed chain detectable.

The hash chain alone proves that events were not altered *relative to each other*; someone who
can write to the database can still delete the last events and rewind the head row, or recompute
every hash. A signed head (the last event's sequence and hash, with the time, signed with the
platform's Ed25519 key) kept outside the database pins the chain: the event at that sequence must
still exist and still carry that hash.

Heads are signed from the committed events themselves (the last row of ``audit_events``), not
from the way events are appended, every ``every_events`` events or when an event has waited
``every_minutes`` unsigned, and on demand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from jwt.exceptions import InvalidTokenError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import badges
from app.db import utcnow
from app.models import AuditEvent, AuditSignedHead

HEAD_TYPE = "BlasonAuditHead"
HEAD_TYP = "blason-audit-head+jws"
FILE_TYPE = "BlasonAuditSignedHead"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class BadSignedHead(Exception):
    """A signed head that cannot be trusted; the message says why."""


@dataclass(frozen=True)
class HeadClaims:
    """What a valid signature vouches for."""

    seq: int
    hash: str
    signed_at: str


def _last_event(session: Session) -> tuple[int, str] | None:
    row = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (row.seq, row.hash) if row else None


def sign_head(
    session: Session, key: badges.SigningKey, *, clock: Callable[[], datetime] = utcnow
) -> AuditSignedHead | None:
    """Sign the chain's last event (flush, no commit); None when the chain is empty."""
    last = _last_event(session)
    if last is None:
        return None
    seq, digest = last
    existing = session.get(AuditSignedHead, seq)
    if existing is not None:
        return existing
    signed_at = clock().replace(microsecond=0)
    payload = json.dumps(
        {"type": HEAD_TYPE, "version": 1, "seq": seq, "hash": digest, "signedAt": signed_at.isoformat()},
        separators=(",", ":"),
    ).encode()
    kid = key.public.thumbprint()
    token = jwt.api_jws.PyJWS().encode(payload, key.key, algorithm="EdDSA", headers={"kid": kid, "typ": HEAD_TYP})
    head = AuditSignedHead(seq=seq, hash=digest, signed_at=signed_at, kid=kid, jws=token)
    try:
        with session.begin_nested():
            session.add(head)
    except IntegrityError:  # another worker signed the same head a moment ago
        return session.get(AuditSignedHead, seq)
    return head


def sign_head_if_due(
    session: Session,
    key: badges.SigningKey,
    *,
    every_events: int,
    every_minutes: int,
    clock: Callable[[], datetime] = utcnow,
) -> AuditSignedHead | None:
    """Sign the head when ``every_events`` events or an unsigned event ``every_minutes`` old call for it."""
    last = _last_event(session)
    signed = session.scalar(select(func.max(AuditSignedHead.seq))) or 0
    if last is None or last[0] <= signed:
        return None
    due = bool(every_events) and last[0] - signed >= every_events
    if not due and every_minutes:
        oldest = session.scalar(select(func.min(AuditEvent.occurred_at)).where(AuditEvent.seq > signed))
        due = oldest is not None and clock() - oldest >= timedelta(minutes=every_minutes)
    return sign_head(session, key, clock=clock) if due else None


def export(head: AuditSignedHead) -> dict[str, Any]:
    """The file to keep away from the database: the JWS, and what it says, readable."""
    return {
        "type": FILE_TYPE,
        "seq": head.seq,
        "hash": head.hash,
        "signedAt": head.signed_at.isoformat(),
        "kid": head.kid,
        "jws": head.jws,
    }


def read_signed_head(text: str, public: badges.PublicKey) -> HeadClaims:
    """Check an exported head (the JSON file, or the bare JWS) with the platform key, EdDSA only."""
    text = text.strip()
    document: dict[str, Any] | None = None
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise BadSignedHead("the file is not valid JSON") from None
        token = document.get("jws") if isinstance(document, dict) else None
    else:
        token = text
    if not isinstance(token, str) or not token:
        raise BadSignedHead('the file holds no signed head (no "jws")')
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "EdDSA" or header.get("typ") != HEAD_TYP:
            raise BadSignedHead("not an EdDSA-signed audit head")
        if header.get("kid") != public.thumbprint():
            raise BadSignedHead("not signed with this platform's key")
        decoded = jwt.api_jws.PyJWS().decode_complete(token, public.key, algorithms=["EdDSA"])
        claims = json.loads(decoded["payload"])
    except (InvalidTokenError, ValueError, TypeError):
        raise BadSignedHead("the signature is not valid") from None
    if (
        not isinstance(claims, dict)
        or claims.get("type") != HEAD_TYPE
        or type(claims.get("seq")) is not int
        or claims["seq"] < 1
        or not _HEX64.match(str(claims.get("hash")))
        or not isinstance(claims.get("signedAt"), str)
    ):
        raise BadSignedHead("the signed content is not an audit head")
    if document is not None and any(k in document and document[k] != claims[k] for k in ("seq", "hash", "signedAt")):
        raise BadSignedHead("the file's readable fields differ from what is signed")
    return HeadClaims(claims["seq"], claims["hash"], claims["signedAt"])


def check_head(session: Session, claims: HeadClaims, chain_length: int) -> str | None:
    """Why an intact chain of ``chain_length`` events contradicts a signed head, or None."""
    if chain_length < claims.seq:
        return (
            f"the chain ends at event {chain_length}, but event {claims.seq} was signed at {claims.signed_at}: "
            f"events after {chain_length} were removed and the head rewound"
        )
    digest = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == claims.seq))
    if digest != claims.hash:
        return (
            f"event {claims.seq} is not the one signed at {claims.signed_at}: "
            "the chain was rewritten (re-hashed) up to it"
        )
    return None


@dataclass
class StoredHeadsReport:
    checked: int = 0
    other_key: int = 0  # signed with an earlier platform key: not checked
    problem: str | None = None


def verify_stored_heads(session: Session, public: badges.PublicKey, chain_length: int) -> StoredHeadsReport:
    """Check every signed head kept in the database against the chain (those of the current key)."""
    report = StoredHeadsReport()
    kid = public.thumbprint()
    stmt = select(AuditSignedHead).order_by(AuditSignedHead.seq)
    for head in session.scalars(stmt):
        if head.kid != kid:
            report.other_key += 1
            continue
        try:
            claims = read_signed_head(head.jws, public)
        except BadSignedHead as exc:
            report.problem = f"stored signed head {head.seq}: {exc}"
            return report
        if (claims.seq, claims.hash) != (head.seq, head.hash):
            report.problem = f"stored signed head {head.seq}: its row differs from what is signed"
            return report
        report.problem = check_head(session, claims, chain_length)
        if report.problem:
            return report
        report.checked += 1
    return report
