"""The audit log is append-only and hash-chained; tampering is detected by the CLI."""

from __future__ import annotations

from sqlalchemy import update

from app.models import AuditEvent
from app.services.identity import audit


def _chain(session, n=3):
    actor = audit.Actor(None)
    events = [
        audit.record(session, actor, "test.event", "thing", i, {"n": i, "texte": "élu « local »"}) for i in range(n)
    ]
    session.flush()  # events are written by the session's next flush
    return events


def test_chain_links_each_event_to_the_previous(session):
    events = _chain(session)
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
        assert after.seq == before.seq + 1
    assert audit.verify_chain(session).ok


def test_altered_content_is_detected(session):
    events = _chain(session)
    session.execute(update(AuditEvent).where(AuditEvent.seq == events[1].seq).values(data={"n": 99}))
    session.expire_all()
    report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_seq == events[1].seq
    assert report.reason == "content was altered"


def test_deleted_event_is_detected(session):
    events = _chain(session)
    session.delete(events[1])
    session.flush()
    report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_seq == events[1].seq


def test_truncated_tail_is_detected(session):
    events = _chain(session)
    session.delete(events[-1])
    session.flush()
    assert not audit.verify_chain(session).ok


def test_facilitated_actions_record_both_people(session, make_person):
    facilitator, learner = make_person(), make_person(email=None, is_assisted=True)
    event = audit.record(session, audit.Actor(learner.id, real_id=facilitator.id), "x", "person", learner.id)
    assert event.actor_id == facilitator.id and event.on_behalf_of_id == learner.id


def test_cli_verifies_and_reports_tampering(session, runner):
    events = _chain(session)
    session.commit()
    result = runner.invoke(args=["blason", "audit-verify"])
    assert result.exit_code == 0 and "intact" in result.output
    session.execute(update(AuditEvent).where(AuditEvent.seq == events[0].seq).values(action="forged"))
    session.commit()
    result = runner.invoke(args=["blason", "audit-verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {events[0].seq}" in result.output
