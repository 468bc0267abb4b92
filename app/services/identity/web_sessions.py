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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session, aliased

from app.db import utcnow
from app.models import Facilitation, Person, WebSession
from app.platform.errors import NotFound, PermissionDenied
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
    # What every page's layout shows, read by the same statement as the session (no query of its own):
    display_name: str = ""
    acting_for_name: str | None = None  # the assisted learner's, while acting for them
    facilitates: bool = False  # whether the person facilitates anyone today (access.facilitates_anyone)
    # The grants of the learner acted for, as checked when resolving (None: not acting; the
    # person's own grants are loaded by the page that needs them).
    grants: access.Grants | None = None


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


_Learner = aliased(Person, name="learner")
# Built once (an aliased entity built per call would be a new statement to compile each time).
_RESOLVE = (
    select(
        WebSession,
        Person,
        _Learner,
        select(Facilitation.id)  # access.facilitates_anyone, correlated to the session's person
        .where(Facilitation.facilitator_id == WebSession.person_id, Facilitation.revoked_at.is_(None))
        .exists(),
    )
    .join(Person, Person.id == WebSession.person_id)
    .outerjoin(_Learner, _Learner.id == WebSession.acting_for_id)
    .where(WebSession.token_hash == bindparam("token_hash"))
)


def resolve(session: Session, token: str, *, settings: SessionSettings) -> Current | None:
    """The valid session ``token`` names, touched; ``None`` (its row deleted) when it has ended.

    One statement reads the session with its person, the learner acted for and whether the person
    facilitates anyone; while acting for a learner, their grants are checked here once, and carried.
    """
    found = session.execute(_RESOLVE, {"token_hash": token_hash(token)}).first()
    if found is None:
        return None
    row, person, acted_for, facilitates_anyone = found
    now = settings.clock()
    if now >= row.expires_at or now >= row.last_seen_at + settings.idle or not person.is_active:
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at >= settings.touch_every:
        row.last_seen_at = now
        session.flush()
    current = Current(
        row.id,
        row.person_id,
        row.acting_for_id,
        row.token_hash,
        person.locale,
        display_name=person.display_name,
        facilitates=bool(facilitates_anyone),
    )
    if current.acting_for_id is None:
        return current
    grants = _acting_grants(session, row.person_id, current.acting_for_id)
    if grants is None:
        # The facilitation ended (or the learner now signs in alone) while the facilitator acted for them.
        stop_acting(session, current, reason="facilitation_ended", clock=settings.clock)
        return replace(current, acting_for_id=None, acting_ended=True)
    return replace(current, acting_for_name=acted_for.display_name if acted_for else None, grants=grants)


def _acting_grants(session: Session, person_id: uuid.UUID, learner_id: uuid.UUID) -> access.Grants | None:
    """The learner's grants lent to their facilitator (as ``access.may_act_for`` checks); None if they may not."""
    if learner_id == person_id:
        return None
    try:
        return access.load_grants(session, person_id, learner_id)  # both people already in the session
    except PermissionDenied:
        return None


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
