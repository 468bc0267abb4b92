"""Server-side sessions of the web pages: start at sign-in, resolve and touch per request, end.

A browser holds a random token in its cookie; the database holds only the token's SHA-256, whose
session it is, and its times. A session ends when it has been idle too long, when its absolute
lifetime is over, when its person is disabled, or at sign-out; an ended session's row is deleted.
Signing in always starts a new token and deletes the one the browser had (no session fixation).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Person, WebSession
from app.platform.errors import NotFound
from app.services.identity import access, audit, auth


@dataclass(frozen=True)
class SessionSettings:
    idle: timedelta
    lifetime: timedelta
    clock: Callable[[], datetime] = utcnow
    # last_seen_at is written at most this often: a page view is not a write each time.
    touch_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class Current:
    """The session a request's cookie names, still valid."""

    id: uuid.UUID
    person_id: uuid.UUID
    acting_for_id: uuid.UUID | None
    token_hash: str
    locale: str = "fr"  # the signed-in person's language: their pages are in it unless ?lang= says otherwise
    acting_ended: bool = False  # this request found the facilitation gone and stopped acting for the learner


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, person_id: uuid.UUID, *, replacing: str | None, settings: SessionSettings) -> str:
    """Open a session for ``person_id`` and return its new token; the browser's old one is deleted."""
    if replacing:
        end(session, replacing)
    now = settings.clock()
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=token_hash(token),
            person_id=person_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + settings.lifetime,
        )
    )
    session.flush()
    return token


def sign_in(
    session: Session, check: auth.PasswordCheck, *, replacing: str | None, settings: SessionSettings
) -> str | None:
    """The write half of a page sign-in: a new session's token, or ``None`` with the failure audited."""
    person = auth.signed_in_person(session, check, clock=settings.clock)
    if person is None:
        return None
    token = start(session, person.id, replacing=replacing, settings=settings)
    audit.record(
        session, audit.Actor(person.id), "auth.signed_in", "person", person.id, {"via": "web"}, clock=settings.clock
    )
    return token


def resolve(session: Session, token: str, *, settings: SessionSettings) -> Current | None:
    """The valid session ``token`` names, touched; ``None`` (its row deleted) when it has ended."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if row is None:
        return None
    now = settings.clock()
    person = session.get(Person, row.person_id)
    if now >= row.expires_at or now >= row.last_seen_at + settings.idle or person is None or not person.is_active:
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at >= settings.touch_every:
        row.last_seen_at = now
        session.flush()
    current = Current(row.id, row.person_id, row.acting_for_id, row.token_hash, person.locale)
    if current.acting_for_id is not None and not access.may_act_for(session, row.person_id, current.acting_for_id):
        # The facilitation ended (or the learner now signs in alone) while the facilitator acted for them.
        stop_acting(session, current, reason="facilitation_ended", clock=settings.clock)
        return Current(row.id, row.person_id, None, row.token_hash, person.locale, acting_ended=True)
    return current


def end(session: Session, token: str) -> None:
    """Sign out: delete the session ``token`` names (unknown tokens are ignored)."""
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
    session.flush()


def act_for(session: Session, current: Current, learner_id: uuid.UUID | None) -> None:
    """Start (or, with ``None``, stop) acting for an assisted learner in this browser's session.

    The caller has checked that the facilitator may act for ``learner_id``; the grants are checked
    again on every request (:func:`app.services.identity.access.load_grants`).
    """
    row = session.get(WebSession, current.id)
    if row is not None:
        row.acting_for_id = learner_id
        session.flush()


def start_acting(
    session: Session, current: Current, learner_id: uuid.UUID, *, clock: Callable[[], datetime] = utcnow
) -> None:
    """Act for an assisted learner in this session: only a current facilitator of theirs may; audited.

    Anyone else is answered as for an unknown person (``NotFound``): who is assisted is not told.
    """
    if not access.may_act_for(session, current.person_id, learner_id):
        raise NotFound("Person not found.")
    if current.acting_for_id not in (None, learner_id):
        stop_acting(session, current, clock=clock)
    act_for(session, current, learner_id)
    audit.record(
        session,
        audit.Actor(learner_id, real_id=current.person_id),
        "web.acting_started",
        "person",
        learner_id,
        {"facilitator": str(current.person_id), "learner": str(learner_id)},
        clock=clock,
    )


def stop_acting(
    session: Session, current: Current, *, reason: str = "asked", clock: Callable[[], datetime] = utcnow
) -> None:
    """Stop acting for the learner this session acts for (nothing when it acts for nobody); audited."""
    learner_id = current.acting_for_id
    if learner_id is None:
        return
    act_for(session, current, None)
    audit.record(
        session,
        audit.Actor(learner_id, real_id=current.person_id),
        "web.acting_stopped",
        "person",
        learner_id,
        {"facilitator": str(current.person_id), "learner": str(learner_id), "reason": reason},
        clock=clock,
    )
