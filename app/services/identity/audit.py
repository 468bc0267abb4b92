"""Append-only, hash-chained audit events, and verification of the chain."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, event, insert, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction, object_session

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


# orjson writes these exactly as ``json.dumps(sort_keys=True, separators=(",", ":"),
# ensure_ascii=False)`` does: same escapes, same key order (code points), UTF-8. Floats are left
# out (some are written differently: 1e-07 against 1e-7), so are ints beyond 64 bits (orjson
# refuses them) and every other type (``default=str`` turns them into strings, orjson would not).
_MIN_INT, _MAX_INT = -(2**63), 2**64 - 1


_LEAVES = frozenset({str, bool, type(None)})


def _orjson_safe(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            if type(item) in _LEAVES:
                continue
            if type(item) is int:
                if not _MIN_INT <= item <= _MAX_INT:
                    return False
            elif not _orjson_safe(item):
                return False
        return True
    if kind is list or kind is tuple:  # both write a tuple as an array
        return all(type(item) in _LEAVES or _orjson_safe(item) for item in value)
    if kind is int:
        return _MIN_INT <= value <= _MAX_INT
    return kind in _LEAVES


def canonical_json(body: Any) -> bytes:
    """The bytes an event's hash covers: sorted keys, compact, UTF-8, ``default=str``.

    The chain's format: these are exactly the bytes of ``json.dumps(body, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False, default=str).encode()``. orjson writes them when
    it writes them the same (plain JSON without floats), many times faster; json otherwise.
    """
    if _orjson_safe(body):
        try:
            return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # a lone surrogate: json.dumps' bytes fail to encode, as before
            pass
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


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
    body = canonical_json(
        {
            "seq": seq,
            "at": occurred_at.isoformat(),
            "actor": str(actor_id) if actor_id else None,
            "for": str(on_behalf_of_id) if on_behalf_of_id else None,
            "action": action,
            "subjectType": subject_type,
            "subjectId": subject_id,
            "data": data,
        }
    )
    digest = hashlib.sha256(prev_hash.encode())
    digest.update(body)
    return digest.hexdigest()


class _NotPlain(Exception):
    pass


_PLAIN_LEAVES = frozenset({str, int, bool, float, type(None)})


def _plain_copy(value: Any) -> Any:
    """A copy of ``value`` if it is plain JSON already (what ``json.loads(json.dumps(value))`` gives).

    Floats too: the round trip gives them back as they were, NaN and infinities included.
    """
    kind = type(value)
    if kind is dict:
        copy = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            copy[key] = item if type(item) in _PLAIN_LEAVES else _plain_copy(item)
        return copy
    if kind is list:
        return [item if type(item) in _PLAIN_LEAVES else _plain_copy(item) for item in value]
    if kind in _PLAIN_LEAVES:
        return value
    raise _NotPlain


def _event_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """The event's data as JSON gives it back: a copy, and non-JSON values (UUIDs, dates...) as strings."""
    if not data:
        return {}
    try:
        return cast(dict[str, Any], _plain_copy(data))
    except _NotPlain:
        return cast(dict[str, Any], json.loads(json.dumps(data, default=str)))


@dataclass
class _Chain:
    """The chain's end as this transaction appends to it: the head row, locked once, and the last link.

    Events are chained here in memory and reach the database with the session's next flush (one
    batched INSERT); the head row is brought up to date by that flush too, once. Events added by
    :func:`append` wait in ``pending`` (column values, no ORM object) until then.
    """

    transaction: SessionTransaction  # the (sub)transaction that took the lock
    head: AuditHead
    seq: int
    hash: str
    pending: list[dict[str, Any]] = field(default_factory=list)


_CHAIN = "blason.audit_chain"
_EVENTS = cast(Table, AuditEvent.__table__)


def _locked_chain(session: Session) -> _Chain:
    """The chain's end in this transaction: the head is locked and read on the first event only."""
    chain: _Chain | None = session.info.get(_CHAIN)
    if chain is not None and chain.transaction.is_active and chain.head in session:
        return chain
    # Lock the head row so concurrent writers queue up instead of forking the chain; the lock is
    # held until this transaction ends. Read it afresh: another transaction may have moved it.
    locked = select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    head = session.execute(locked).scalar_one_or_none()
    if head is None:
        # The very first event: writers racing here all try to create the head; one does, the
        # others' inserts do nothing (PostgreSQL waits for the first to commit), then all lock it.
        dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        start = {"id": 1, "last_seq": 0, "last_hash": GENESIS}
        session.execute(dialect_insert(AuditHead).values(start).on_conflict_do_nothing(index_elements=["id"]))
        head = session.execute(locked).scalar_one()
    owner = object_session(head)  # the Session itself, also when ``session`` is a scoped proxy
    assert owner is not None
    taken_in = owner.get_nested_transaction() or owner.get_transaction()
    assert taken_in is not None
    chain = _Chain(taken_in, head, head.last_seq, head.last_hash)
    session.info[_CHAIN] = chain
    return chain


@event.listens_for(Session, "after_transaction_end")
def _forget_when_lock_ends(session: Session, transaction: SessionTransaction) -> None:
    # The row lock ends with the transaction (or the savepoint) that took it.
    chain = session.info.get(_CHAIN)
    if chain is not None and chain.transaction is transaction:
        del session.info[_CHAIN]


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    # A rolled-back savepoint took its events (and, on PostgreSQL, the locks it took) with it:
    # the next event locks and reads the head again. Appended events not written yet go too: a
    # savepoint begins with a flush, so any still waiting were appended inside it.
    session.info.pop(_CHAIN, None)


@event.listens_for(Session, "before_flush")
def _head_follows_chain(session: Session, _context: Any, _instances: Any) -> None:
    # Normally already set by ``record``; this covers a head whose unflushed change was expired.
    chain = session.info.get(_CHAIN)
    if chain is None:
        return
    loaded = inspect(chain.head).dict
    if loaded.get("last_seq") != chain.seq or loaded.get("last_hash") != chain.hash:
        chain.head.last_seq, chain.head.last_hash = chain.seq, chain.hash


@event.listens_for(Session, "after_flush")
def _write_appended(session: Session, _context: Any) -> None:
    write_appended(session)


@event.listens_for(Session, "before_commit")
def _head_follows_chain_at_commit(session: Session) -> None:
    # A session with nothing else to write (its head's change expired) is not flushed by the
    # commit: events still waiting are written here, and the head brought up to date (flushed).
    chain = session.info.get(_CHAIN)
    if chain is not None and chain.pending:
        _head_follows_chain(session, None, None)


def write_appended(session: Session) -> None:
    """Insert the events :func:`append` chained since the last flush: one Core ``INSERT`` (executemany).

    Called by every flush of the session; a bulk path may call it itself at the end of a batch.
    """
    chain: _Chain | None = session.info.get(_CHAIN)
    if chain is not None and chain.pending:
        rows, chain.pending = chain.pending, []
        session.connection().execute(insert(_EVENTS), rows)


def _next_event(
    session: Session,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_id: Any,
    data: dict[str, Any] | None,
    clock: Callable[[], datetime],
) -> tuple[_Chain, dict[str, Any]]:
    """Chain one event in memory: its column values, its hash linked to the chain's end."""
    chain = _locked_chain(session)
    values = _event_data(data)
    seq = chain.seq + 1
    occurred_at = clock().replace(microsecond=0)
    actor_id = actor.author_id if actor else None
    on_behalf = actor.acting_for if actor else None
    sid = str(subject_id) if subject_id is not None else None
    digest = _digest(chain.hash, seq, occurred_at, actor_id, on_behalf, action, subject_type, sid, values)
    row = {
        "seq": seq,
        "occurred_at": occurred_at,
        "actor_id": actor_id,
        "on_behalf_of_id": on_behalf,
        "action": action,
        "subject_type": subject_type,
        "subject_id": sid,
        "data": values,
        "prev_hash": chain.hash,
        "hash": digest,
    }
    chain.seq, chain.hash = seq, digest
    chain.head.last_seq, chain.head.last_hash = seq, digest
    return chain, row


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
    """Append one event to the chain, in the caller's transaction.

    The first event of a transaction locks and reads the head; later ones chain in memory. The
    events and the head are written by the session's next flush (at the latest, the commit).
    """
    _chain, row = _next_event(session, actor, action, subject_type, subject_id, data, clock)
    event_row = AuditEvent(**row)
    session.add(event_row)
    return event_row


def append(
    session: Session,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_id: Any = None,
    data: dict[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> str:
    """:func:`record` without an ORM object, for bulk paths; returns the event's hash.

    The same event in the same chain, locked and linked the same way; it waits as column values
    and the session's next flush inserts the waiting events with one Core ``INSERT``
    (:func:`write_appended`), at the latest the commit. A rolled-back savepoint drops those
    appended inside it, as it drops recorded ones.
    """
    chain, row = _next_event(session, actor, action, subject_type, subject_id, data, clock)
    chain.pending.append(row)
    return cast(str, row["hash"])


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
