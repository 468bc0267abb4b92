"""Append-only, hash-chained audit events, and verification of the chain."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import AuditEvent, AuditHead

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who acts: ``id`` is whose rights apply; ``real_id`` who is at the keyboard.

    They differ when a facilitator acts for an assisted learner; the audit keeps both.
    """

    id: uuid.UUID | None
    real_id: uuid.UUID | None = None

    @property
    def acting_for(self) -> uuid.UUID | None:
        return self.id if self.real_id and self.real_id != self.id else None

    @property
    def author_id(self) -> uuid.UUID | None:
        return self.real_id or self.id


def _digest(
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    actor_id: uuid.UUID | None,
    on_behalf_of_id: uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: str | None,
    data: dict[str, Any],
) -> str:
    body = json.dumps(
        {
            "seq": seq,
            "at": occurred_at.isoformat(),
            "actor": str(actor_id) if actor_id else None,
            "for": str(on_behalf_of_id) if on_behalf_of_id else None,
            "action": action,
            "subjectType": subject_type,
            "subjectId": subject_id,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_id: Any = None,
    data: dict[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    # Lock the head row so concurrent writers queue up instead of forking the chain.
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_seq=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    data = json.loads(json.dumps(data or {}, default=str))
    seq = head.last_seq + 1
    occurred_at = clock().replace(microsecond=0)
    actor_id = actor.author_id if actor else None
    on_behalf = actor.acting_for if actor else None
    sid = str(subject_id) if subject_id is not None else None
    digest = _digest(head.last_hash, seq, occurred_at, actor_id, on_behalf, action, subject_type, sid, data)
    event = AuditEvent(
        seq=seq,
        occurred_at=occurred_at,
        actor_id=actor_id,
        on_behalf_of_id=on_behalf,
        action=action,
        subject_type=subject_type,
        subject_id=sid,
        data=data,
        prev_hash=head.last_hash,
        hash=digest,
    )
    session.add(event)
    head.last_seq, head.last_hash = seq, digest
    session.flush()
    return event


@dataclass
class ChainReport:
    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: str | None = None


def verify_chain(session: Session, batch: int = 1000) -> ChainReport:
    """Recompute every hash in order; report the first event that does not match."""
    prev, expected_seq, count = GENESIS, 1, 0
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    # Closed on every exit: stopping early must not leave PostgreSQL's server-side cursor open.
    with session.scalars(stmt) as events:
        for event in events:
            if event.seq != expected_seq:
                return ChainReport(False, count, expected_seq, f"event {expected_seq} is missing")
            if event.prev_hash != prev:
                return ChainReport(False, count, event.seq, "previous hash does not match")
            digest = _digest(
                prev,
                event.seq,
                event.occurred_at,
                event.actor_id,
                event.on_behalf_of_id,
                event.action,
                event.subject_type,
                event.subject_id,
                event.data,
            )
            if digest != event.hash:
                return ChainReport(False, count, event.seq, "content was altered")
            prev, expected_seq, count = event.hash, expected_seq + 1, count + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != count or head.last_hash != prev):
        return ChainReport(False, count, count + 1, "events after the last one were removed")
    return ChainReport(True, count)
