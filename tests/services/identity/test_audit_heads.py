"""Signed heads: a rewound head, a re-hashed chain or a forged head file are detected."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select

import badges
from app.db import utcnow
from app.models import AuditEvent, AuditHead, AuditSignedHead
from app.runtime import runtime
from app.services.identity import audit, audit_heads
from app.services.identity.audit import _digest


def _chain(session, n=5, clock=utcnow):  # type: ignore[no-untyped-def]
    events = [
        audit.record(session, audit.Actor(None), "test.event", "thing", i, {"n": i}, clock=clock) for i in range(n)
    ]
    session.commit()
    return events


def _rewind(session, events, keep):  # type: ignore[no-untyped-def]
    """What an attacker with database access does: delete the tail, move the head row back."""
    last = events[keep - 1]
    session.execute(delete(AuditEvent).where(AuditEvent.seq > last.seq))
    head = session.get(AuditHead, 1)
    head.last_seq, head.last_hash = last.seq, last.hash
    session.commit()


def _rehash_from(session, seq):  # type: ignore[no-untyped-def]
    """Alter event ``seq`` and recompute every hash after it, as a careful attacker would."""
    session.execute(AuditEvent.__table__.update().where(AuditEvent.seq == seq).values(data={"n": "forged"}))
    session.expire_all()
    prev = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq - 1)) or audit.GENESIS
    for event in session.scalars(select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)):
        event.prev_hash = prev
        event.hash = prev = _digest(
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
        session.flush()
    head = session.get(AuditHead, 1)
    head.last_hash = prev
    session.commit()


def _key(app):  # type: ignore[no-untyped-def]
    return runtime(app).platform_key


def _export(runner, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "head.json"
    result = runner.invoke(args=["blason", "audit-sign-head", "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _verify(runner, path=None):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["blason", "audit-verify", *(["--signed-head", str(path)] if path else [])])


def test_a_signed_head_holds_while_the_chain_only_grows(app, session, runner, tmp_path):  # type: ignore[no-untyped-def]
    events = _chain(session)
    path = _export(runner, tmp_path)
    document = json.loads(path.read_text())
    assert document["seq"] == events[-1].seq and document["hash"] == events[-1].hash
    assert jwt.get_unverified_header(document["jws"])["alg"] == "EdDSA"
    _chain(session, 2)
    result = _verify(runner, path)
    assert result.exit_code == 0, result.output
    assert "1 signed head(s) hold" in result.output and "head.json holds" in result.output


def test_a_deleted_tail_with_a_rewound_head_is_detected(app, session, runner, tmp_path):  # type: ignore[no-untyped-def]
    events = _chain(session)
    path = _export(runner, tmp_path)
    _rewind(session, events, keep=3)
    session.execute(delete(AuditSignedHead))  # the attacker also removes the heads kept in the database
    session.commit()
    assert audit.verify_chain(session).ok  # the chain alone cannot tell
    assert _verify(runner).exit_code == 0
    result = _verify(runner, path)
    assert result.exit_code == 1
    assert (
        f"the chain ends at event {events[2].seq}, but event {events[-1].seq} was signed" in result.output
        and "removed and the head rewound" in result.output
    )


def test_the_heads_kept_in_the_database_catch_a_careless_rewind(app, session, runner):  # type: ignore[no-untyped-def]
    events = _chain(session)
    audit_heads.sign_head(session, _key(app))
    session.commit()
    _rewind(session, events, keep=4)
    result = _verify(runner)
    assert result.exit_code == 1 and "removed and the head rewound" in result.output


def test_a_rehashed_chain_is_detected(app, session, runner, tmp_path):  # type: ignore[no-untyped-def]
    events = _chain(session)
    path = _export(runner, tmp_path)
    session.execute(delete(AuditSignedHead))
    session.commit()
    _rehash_from(session, events[1].seq)
    assert audit.verify_chain(session).ok
    result = _verify(runner, path)
    assert result.exit_code == 1
    assert f"event {events[-1].seq} is not the one signed" in result.output and "re-hashed" in result.output


def test_a_head_re_signed_with_a_rewritten_chain_needs_the_platform_key(app, session, runner, tmp_path):  # type: ignore[no-untyped-def]
    events = _chain(session)
    path = _export(runner, tmp_path)
    document = json.loads(path.read_text())
    other = badges.load_private_key(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    header, payload, _sig = document["jws"].split(".")
    forged_payload = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged_payload["hash"] = "f" * 64
    raw = json.dumps(forged_payload).encode()
    public = _key(app).public
    forgeries = {
        # The right kid, the attacker's own key.
        "signature is not valid": jwt.api_jws.PyJWS().encode(
            raw, other.key, algorithm="EdDSA", headers={"kid": public.thumbprint(), "typ": audit_heads.HEAD_TYP}
        ),
        "not signed with this platform's key": jwt.api_jws.PyJWS().encode(
            raw, other.key, algorithm="EdDSA", headers={"typ": audit_heads.HEAD_TYP}
        ),
        # Algorithm confusion: HMAC keyed with the platform's public key bytes.
        "not an EdDSA-signed audit head": jwt.api_jws.PyJWS().encode(
            raw, b"k" * 32, algorithm="HS256", headers={"kid": public.thumbprint(), "typ": audit_heads.HEAD_TYP}
        ),
        # The original signature over an edited payload.
        "signature is not valid ": ".".join([header, base64.urlsafe_b64encode(raw).decode().rstrip("="), _sig]),
    }
    for reason, token in forgeries.items():
        path.write_text(json.dumps({**document, "hash": "f" * 64, "jws": token}))
        result = _verify(runner, path)
        assert result.exit_code == 1 and reason.strip() in result.output, (reason, result.output)
    path.write_text(json.dumps({**document, "seq": events[0].seq}))  # readable fields edited
    result = _verify(runner, path)
    assert result.exit_code == 1 and "readable fields differ" in result.output


def test_signing_an_empty_chain_is_refused(app, session, runner):  # type: ignore[no-untyped-def]
    if session.scalar(select(AuditEvent.seq).limit(1)) is not None:
        pytest.skip("the test database already holds committed audit events")
    result = runner.invoke(args=["blason", "audit-sign-head"])
    assert result.exit_code == 1 and "empty" in result.output


def _failed_login(client):  # type: ignore[no-untyped-def]
    """A request that appends an audit event and commits it."""
    response = client.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": "wrong password"})
    assert response.status_code == 401


def _heads_from(session, seq):  # type: ignore[no-untyped-def]
    return list(session.scalars(select(AuditSignedHead).where(AuditSignedHead.seq >= seq)))


def _sign_every(app, monkeypatch, *, events: int, minutes: int) -> None:  # type: ignore[no-untyped-def]
    settings = replace(runtime(app).settings, audit_sign_every_events=events, audit_sign_every_minutes=minutes)
    monkeypatch.setattr(runtime(app), "settings", settings)


def test_heads_are_signed_every_n_events_after_a_request(app, session, client, monkeypatch):  # type: ignore[no-untyped-def]
    _sign_every(app, monkeypatch, events=3, minutes=0)
    first = _chain(session, 1)[0].seq
    _failed_login(client)
    assert _heads_from(session, first) == []
    _failed_login(client)
    [head] = _heads_from(session, first)
    assert head.seq == first + 2
    assert head.hash == session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == first + 2))
    assert audit_heads.read_signed_head(head.jws, _key(app).public).seq == head.seq


def test_an_event_left_unsigned_for_m_minutes_gets_signed(app, session, client, monkeypatch):  # type: ignore[no-untyped-def]
    _sign_every(app, monkeypatch, events=0, minutes=60)
    seq = _chain(session, 1)[0].seq
    _failed_login(client)
    assert _heads_from(session, seq) == []
    session.execute(
        AuditEvent.__table__.update().where(AuditEvent.seq == seq).values(occurred_at=utcnow() - timedelta(minutes=61))
    )
    session.commit()
    _failed_login(client)
    assert [h.seq for h in _heads_from(session, seq)] == [seq + 2]


def test_no_head_is_signed_over_a_request_s_uncommitted_work(app, session, client, monkeypatch):  # type: ignore[no-untyped-def]
    _sign_every(app, monkeypatch, events=1, minutes=runtime(app).settings.audit_sign_every_minutes)
    seq = audit.record(session, audit.Actor(None), "test.event", "thing", 1).seq
    session.flush()  # written, not committed
    client.get("/api/v1/platform")
    session.rollback()
    assert _heads_from(session, seq) == [] and session.get(AuditEvent, seq) is None
