"""The chain is appended per transaction: the head is locked and read once, events chained in memory.

What must hold: concurrent transactions, each on its own connection, still make one chain (each
transaction's events contiguous); a rolled-back savepoint takes its events with it and the next
event links to what is left; an expired head does not lose the events appended since the last flush.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import expect_writes, make_engine
from app.models import AuditEvent, AuditHead
from app.services.identity import audit
from tests.audit_support import audit_mark, restore_audit
from tests.jobs.process_support import own_database

WRITERS, EVENTS = 3, 12


def _append(session, n: int, label: str = "x") -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return [audit.record(session, audit.Actor(None), "test.append", "thing", f"{label}{i}", {"i": i}) for i in range(n)]


def test_events_reach_the_database_with_the_next_flush_and_the_head_follows(session) -> None:
    events = _append(session, 3)
    session.flush()
    head = session.get(AuditHead, 1)
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)
    stored = list(session.scalars(select(AuditEvent).where(AuditEvent.seq >= events[0].seq).order_by(AuditEvent.seq)))
    assert [e.hash for e in stored] == [e.hash for e in events]
    assert audit.verify_chain(session).ok


def test_a_rolled_back_savepoint_takes_its_events_and_the_chain_goes_on(session) -> None:
    before = _append(session, 2, "a")
    with pytest.raises(RuntimeError), session.begin_nested():
        _append(session, 3, "b")
        raise RuntimeError("the step fails")
    after = _append(session, 2, "c")
    assert after[0].seq == before[-1].seq + 1 and after[0].prev_hash == before[-1].hash
    assert audit.verify_chain(session).ok


def test_a_chain_begun_in_a_rolled_back_savepoint_is_read_again(session) -> None:
    session.commit()  # a transaction without a lock yet
    with pytest.raises(RuntimeError), session.begin_nested():
        _append(session, 2, "a")
        session.flush()
        raise RuntimeError("the step fails")
    after = _append(session, 1, "b")
    session.flush()
    assert audit.verify_chain(session).ok and session.get(AuditHead, 1).last_seq == after[0].seq


def test_an_expired_head_keeps_the_unflushed_events(session) -> None:
    _append(session, 2, "a")
    session.expire(session.get(AuditHead, 1))  # the head's unflushed change is dropped
    events = _append(session, 2, "b")
    session.flush()
    assert session.get(AuditHead, 1).last_seq == events[-1].seq
    assert audit.verify_chain(session).ok


@pytest.fixture()
def committed_chain(engine) -> Iterator[sessionmaker]:  # type: ignore[type-arg]
    """Sessions of their own on the test database; the chain is put back as it was afterwards."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as s:
        expect_writes(True)
        before = audit_mark(s)
        if before is None:  # the head row's creation is not what these tests race on
            s.add(AuditHead(id=1, last_seq=0, last_hash=audit.GENESIS))
            s.commit()
    try:
        yield factory
    finally:
        with factory() as s:
            restore_audit(s, before)
            s.commit()
        expect_writes(False)


def _race(factory: sessionmaker, write: Callable[[Session, str], object]) -> list[BaseException]:  # type: ignore[type-arg]
    """Run WRITERS threads at once, each on a session of its own from ``factory``.

    Released together by a barrier, writer ``w<n>`` calls ``write(session, "w<n>")`` and commits.
    Returns what the writers raised (empty when all committed).
    """
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(label: str) -> None:
        expect_writes(True)  # a thread starts with its own context: writes, like a request's
        try:
            with factory() as s:
                barrier.wait()
                write(s, label)
                s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_transactions_append_one_chain_each_contiguous(committed_chain) -> None:  # type: ignore[no-untyped-def]
    """Writers on their own connections, released together, each pausing between flushes.

    PostgreSQL: the head row lock taken by a transaction's first event holds the others until it
    commits. SQLite: writers take the write lock at BEGIN and queue for it.
    """
    with committed_chain() as first_look:  # closed before the writers start: on SQLite it holds the write lock
        start = audit_mark(first_look)

    def write(s: Session, label: str) -> None:
        for i in range(EVENTS):
            audit.record(s, audit.Actor(None), "test.race", "writer", label, {"i": i})
            if i % 4 == 3:
                s.flush()
                time.sleep(0.02)  # room for another writer to slip in, if it could

    errors = _race(committed_chain, write)
    assert errors == []
    with committed_chain() as s:
        first = (start[0] if start else 0) + 1
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.seq >= first).order_by(AuditEvent.seq)))
        assert [e.seq for e in events] == list(range(first, first + WRITERS * EVENTS))
        runs: list[Any] = []
        for e in events:  # each transaction's events are one contiguous run, in order
            if not runs or runs[-1][0] != e.subject_id:
                runs.append((e.subject_id, []))
            runs[-1][1].append(e.data["i"])
        assert sorted(label for label, _ in runs) == [f"w{n}" for n in range(WRITERS)]
        assert all(order == list(range(EVENTS)) for _, order in runs)
        assert audit.verify_chain(s).ok


def test_first_writers_of_an_empty_chain_make_one_head_and_one_chain(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A fresh database: writers racing for the very first event all succeed (one creates the head).

    Seen for real: two workers importing at once into a new deployment, one failed on the head's key.
    """
    with own_database(tmp_path, "firsthead") as url:
        engine = make_engine(url)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        errors = _race(factory, lambda s, label: _append(s, 2, label))
        try:
            assert errors == []
            with factory() as s:
                assert s.get(AuditHead, 1).last_seq == WRITERS * 2
                assert audit.verify_chain(s).ok and audit.verify_chain(s).count == WRITERS * 2
        finally:
            expect_writes(False)
            engine.dispose()
