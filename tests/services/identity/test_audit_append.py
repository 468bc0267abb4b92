"""``audit.append``: the same events as ``record``, without ORM objects, inserted by one Core INSERT.

What must hold: appended and recorded events make one chain, in order; the waiting events reach the
database with the next flush (one statement for a batch) and at the latest with the commit, even
when nothing else is left to flush; a rolled-back savepoint drops the events appended inside it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from app.models import AuditEvent, AuditHead
from app.services.identity import audit

ACTOR = audit.Actor(None)


def _stored(session, first_seq: int) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(AuditEvent).where(AuditEvent.seq >= first_seq).order_by(AuditEvent.seq)))


def _start(session) -> int:  # type: ignore[no-untyped-def]
    head = session.get(AuditHead, 1)
    return (head.last_seq if head else 0) + 1


def test_appended_and_recorded_events_make_one_chain(session) -> None:
    first = _start(session)
    hashes = [audit.append(session, ACTOR, "test.append", "thing", i, {"i": i, "texte": "élu"}) for i in range(3)]
    recorded = audit.record(session, ACTOR, "test.record", "thing", "r", {"i": 3})
    hashes.append(audit.append(session, ACTOR, "test.append", "thing", 4, {"i": 4}))
    session.flush()
    stored = _stored(session, first)
    assert [e.seq for e in stored] == list(range(first, first + 5))
    assert [e.hash for e in stored] == [*hashes[:3], recorded.hash, hashes[3]]
    assert [e.data["i"] for e in stored] == [0, 1, 2, 3, 4]
    assert all(after.prev_hash == before.hash for before, after in zip(stored, stored[1:], strict=False))
    head = session.get(AuditHead, 1)
    assert (head.last_seq, head.last_hash) == (stored[-1].seq, stored[-1].hash)
    assert audit.verify_chain(session).ok


def test_a_batch_of_appended_events_is_one_insert(session) -> None:
    audit.append(session, ACTOR, "test.append", "thing", "lock", {})  # the head is locked and read here
    session.flush()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", seen)
    try:
        for i in range(50):
            audit.append(session, ACTOR, "test.append", "thing", i, {"i": i})
        audit.write_appended(session)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", seen)
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO audit_events")
    session.flush()
    assert audit.verify_chain(session).ok


def test_a_rolled_back_savepoint_drops_the_events_appended_inside_it(session) -> None:
    first = _start(session)
    kept = [audit.append(session, ACTOR, "test.append", "thing", f"a{i}", {"i": i}) for i in range(2)]
    with pytest.raises(RuntimeError), session.begin_nested():
        audit.append(session, ACTOR, "test.append", "thing", "b", {"i": 9})
        raise RuntimeError("the step fails")
    after = audit.append(session, ACTOR, "test.append", "thing", "c", {"i": 2})
    session.flush()
    stored = _stored(session, first)
    assert [e.hash for e in stored] == [*kept, after]
    assert [e.subject_id for e in stored] == ["a0", "a1", "c"]
    assert audit.verify_chain(session).ok


def test_waiting_events_are_written_by_the_commit_when_nothing_else_is(session) -> None:
    first = _start(session)
    hashes = [audit.append(session, ACTOR, "test.append", "thing", i, {"i": i}) for i in range(2)]
    session.expire(session.get(AuditHead, 1))  # the head's change is dropped: the session looks clean
    session.commit()
    assert [e.hash for e in _stored(session, first)] == hashes
    assert session.get(AuditHead, 1).last_hash == hashes[-1]
    assert audit.verify_chain(session).ok


def test_the_event_keeps_the_data_as_it_was_appended(session) -> None:
    first = _start(session)
    data = {"learners": ["a"], "n": 1}
    audit.append(session, ACTOR, "test.append", "thing", "x", data)
    data["learners"].append("b")
    data["n"] = 2
    session.flush()
    assert _stored(session, first)[0].data == {"learners": ["a"], "n": 1}
    assert audit.verify_chain(session).ok
