"""Server-side web sessions: idle and absolute expiry on a fixed clock, a new token at sign-in, sign-out,
a disabled person signed out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.models import AuditEvent, WebSession
from app.runtime import runtime
from app.services.identity import auth, web_sessions
from app.services.identity.web_sessions import SessionSettings
from tests.conftest import PASSWORD

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def settings(clock: Clock) -> SessionSettings:
    return SessionSettings(idle=timedelta(minutes=120), lifetime=timedelta(hours=12), clock=clock)


def test_a_session_stores_only_the_tokens_hash_and_resolves_to_its_person(session, make_person):
    person, clock = make_person(), Clock()
    token = web_sessions.start(session, person.id, replacing=None, settings=settings(clock))
    row = session.scalars(select(WebSession)).one()
    assert row.token_hash == web_sessions.token_hash(token) != token
    assert (row.created_at, row.expires_at, row.acting_for_id) == (T0, T0 + timedelta(hours=12), None)
    found = web_sessions.resolve(session, token, settings=settings(clock))
    assert found is not None and found.person_id == person.id
    assert web_sessions.resolve(session, token + "x", settings=settings(clock)) is None


def test_idle_expiry_counts_from_the_last_request(session, make_person):
    person, clock = make_person(), Clock()
    token = web_sessions.start(session, person.id, replacing=None, settings=settings(clock))
    clock.now = T0 + timedelta(minutes=119)
    assert web_sessions.resolve(session, token, settings=settings(clock)) is not None  # touched at 119 min
    clock.now = T0 + timedelta(minutes=119 + 119)
    assert web_sessions.resolve(session, token, settings=settings(clock)) is not None
    clock.now += timedelta(minutes=120)  # two hours without a request
    assert web_sessions.resolve(session, token, settings=settings(clock)) is None
    assert session.scalar(select(func.count()).select_from(WebSession)) == 0  # the ended row is deleted


def test_absolute_expiry_ends_even_an_active_session(session, make_person):
    person, clock = make_person(), Clock()
    token = web_sessions.start(session, person.id, replacing=None, settings=settings(clock))
    for minutes in range(60, 12 * 60, 60):  # a request every hour
        clock.now = T0 + timedelta(minutes=minutes)
        assert web_sessions.resolve(session, token, settings=settings(clock)) is not None
    clock.now = T0 + timedelta(hours=12)
    assert web_sessions.resolve(session, token, settings=settings(clock)) is None


def test_signing_in_gives_a_new_token_and_deletes_the_old_one(app, session, make_person):
    person, clock = make_person(), Clock()
    rt = runtime(app)
    old = web_sessions.start(session, person.id, replacing=None, settings=settings(clock))
    check = auth.check_password(session, person.email, PASSWORD, passwords=rt.passwords)
    new = web_sessions.sign_in(session, check, replacing=old, settings=settings(clock))
    assert new is not None and new != old
    assert web_sessions.resolve(session, old, settings=settings(clock)) is None
    assert web_sessions.resolve(session, new, settings=settings(clock)) is not None
    assert session.scalar(select(func.count()).where(AuditEvent.action == "auth.signed_in")) == 1


def test_a_wrong_password_opens_nothing_and_is_audited_like_the_api(app, session, make_person):
    person, clock = make_person(), Clock()
    check = auth.check_password(session, person.email, "wrong", passwords=runtime(app).passwords)
    assert web_sessions.sign_in(session, check, replacing=None, settings=settings(clock)) is None
    assert session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert session.scalar(select(func.count()).where(AuditEvent.action == "auth.login_failed")) == 1


def test_signing_out_deletes_the_session(session, make_person):
    person, clock = make_person(), Clock()
    token = web_sessions.start(session, person.id, replacing=None, settings=settings(clock))
    web_sessions.end(session, token)
    assert web_sessions.resolve(session, token, settings=settings(clock)) is None
    web_sessions.end(session, token)  # twice: nothing to do


def test_a_person_disabled_meanwhile_is_signed_out(session, make_person):
    person, clock = make_person(), Clock()
    token = web_sessions.start(session, person.id, replacing=None, settings=settings(clock))
    person.is_active = False
    session.flush()
    assert web_sessions.resolve(session, token, settings=settings(clock)) is None
    assert session.scalar(select(func.count()).select_from(WebSession)) == 0
