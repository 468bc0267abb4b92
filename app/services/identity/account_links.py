"""Single-use e-mail links to choose a password: invitations and password resets.

A link carries a random token; the database keeps only its SHA-256, whose it is, its purpose, when
it expires and when it was used. An invitation is sent to an account a coordinator or an
administrator creates with an e-mail (valid ``INVITATION_TTL``); a reset to whoever asks for one
with an account's e-mail (valid ``RESET_TTL``). Sending a new link of a purpose drops the person's
unused ones of that purpose: only the latest e-mail works. Using a link sets the password, marks
the link used (a guarded UPDATE, so two tabs cannot both use it), ends the person's web sessions
and API refresh tokens, and is audited. Assisted accounts (no password of their own) and people
without an e-mail get no link. The messages are returned, to be sent once the caller has committed.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import AccountLink, LinkPurpose, Membership, Person, Project, RefreshToken, ScopeType, WebSession
from app.platform.errors import Conflict, FieldError, InvalidInput, PermissionDenied
from app.platform.i18n import lang_of, translator
from app.platform.mail import Message
from app.services.identity import audit
from app.services.identity.access import Grants
from app.services.identity.auth import Passwords
from app.services.identity.people import get_person

INVITATION, RESET = LinkPurpose.INVITATION, LinkPurpose.RESET
INVITATION_TTL = timedelta(days=7)
RESET_TTL = timedelta(minutes=60)
# The same rule as an account created by the API (PersonCreateSchema): 12 to 1024 characters.
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024
# Where each purpose's link leads, under the public base URL (the pages of app/web/passwords.py).
PATHS = {LinkPurpose.INVITATION: "/invitation/", LinkPurpose.RESET: "/mot-de-passe/"}


@dataclass(frozen=True)
class LinkSettings:
    base_url: str
    invitation_ttl: timedelta = INVITATION_TTL
    reset_ttl: timedelta = RESET_TTL
    clock: Callable[[], datetime] = utcnow

    def ttl(self, purpose: LinkPurpose) -> timedelta:
        return self.invitation_ttl if purpose is LinkPurpose.INVITATION else self.reset_ttl


@dataclass(frozen=True)
class NewPassword:
    """A password that follows the rules, already hashed (slow: done before the write transaction)."""

    hash: str


class LinkNotValid(InvalidInput):
    """The link is unknown, used or expired: one answer for all three."""

    def __init__(self) -> None:
        super().__init__(
            "This link is no longer valid: ask for a new one.",
            errors=[FieldError("#/token", "Unknown, used or expired link.")],
        )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(settings: LinkSettings, purpose: LinkPurpose, token: str, lang: str = "fr") -> str:
    """The page a link opens, in the person's language (French needs no ``?lang=``)."""
    return settings.base_url.rstrip("/") + PATHS[purpose] + token + ("?lang=en" if lang == "en" else "")


def _issue(session: Session, person: Person, purpose: LinkPurpose, *, settings: LinkSettings) -> str:
    """A new link's token for ``person``; their earlier unused links of this purpose stop working."""
    session.execute(
        delete(AccountLink).where(
            AccountLink.person_id == person.id, AccountLink.purpose == purpose, AccountLink.used_at.is_(None)
        )
    )
    now = settings.clock()
    token = secrets.token_urlsafe(32)
    session.add(
        AccountLink(
            token_hash=token_hash(token),
            person_id=person.id,
            purpose=purpose,
            created_at=now,
            expires_at=now + settings.ttl(purpose),
        )
    )
    session.flush()
    return token


def _message(person: Person, purpose: LinkPurpose, token: str, settings: LinkSettings, **values: str) -> Message:
    """The e-mail of a link, in the person's language (``mail.invitation.*``, ``mail.reset.*``)."""
    assert person.email
    tr = translator(lang_of(person.locale))
    kind = purpose.value
    ttl = settings.ttl(purpose)
    fields = {
        **values,
        "name": person.display_name,
        "link": link_url(settings, purpose, token, tr.lang),
        "days": str(ttl.days),
        "minutes": str(int(ttl.total_seconds() // 60)),
    }
    body = tr(f"mail.{kind}.body", **fields) + tr("mail.signature")
    return Message(person.email, tr(f"mail.{kind}.subject", **fields), body)


def _invitable(person: Person) -> bool:
    return bool(person.email) and person.is_active and not person.is_assisted


def invite(session: Session, grants: Grants, person: Person, *, settings: LinkSettings) -> tuple[Message, ...]:
    """The invitation e-mail of an account just created; none for an account without e-mail or assisted."""
    if not _invitable(person):
        return ()
    token = _issue(session, person, LinkPurpose.INVITATION, settings=settings)
    audit.record(session, grants.actor, "account.invitation_sent", "person", person.id, clock=settings.clock)
    inviter = session.get(Person, grants.actor.author_id) if grants.actor.author_id else None
    return (_message(person, LinkPurpose.INVITATION, token, settings, inviter=_inviter(person, inviter)),)


def _inviter(person: Person, inviter: Person | None) -> str:
    tr = translator(lang_of(person.locale))
    return inviter.display_name if inviter is not None else tr("mail.invitation.someone")


def _coordinates(session: Session, grants: Grants, person: Person) -> bool:
    """Whether the caller coordinates a territory the person belongs to (directly or through a project)."""
    if grants.platform_admin:
        return True
    through_projects = select(Project.territory_id).join(
        Membership, (Membership.scope_id == Project.id) & (Membership.scope_type == ScopeType.PROJECT)
    )
    territories = set(session.scalars(through_projects.where(Membership.person_id == person.id)))
    territories |= {
        scope_id
        for scope_id in session.scalars(
            select(Membership.scope_id).where(
                Membership.person_id == person.id, Membership.scope_type == ScopeType.TERRITORY
            )
        )
        if scope_id is not None
    }
    return bool(territories & grants.coordinator_of)


def resend_invitation(
    session: Session, grants: Grants, person_id: uuid.UUID, *, settings: LinkSettings
) -> tuple[Message, ...]:
    """Send a person a new invitation (the earlier one stops working): their territory's coordinators only."""
    person = get_person(session, grants, person_id)  # NotFound to whoever may not see them
    if not _coordinates(session, grants, person):
        raise PermissionDenied("Only the coordinators of this person's territory send their invitation.")
    if not _invitable(person):
        raise Conflict("This account has no e-mail of its own (or is assisted or disabled): no invitation to send.")
    accepted = session.scalar(
        select(AccountLink.id).where(
            AccountLink.person_id == person.id,
            AccountLink.purpose == LinkPurpose.INVITATION,
            AccountLink.used_at.is_not(None),
        )
    )
    if accepted:
        raise Conflict("This person already chose a password; they can ask for a new one from the sign-in page.")
    return invite(session, grants, person, settings=settings)


def request_reset(session: Session, email: str, *, settings: LinkSettings) -> tuple[Message, ...]:
    """The reset e-mail for the account ``email`` names; nothing (and no hint) when there is none."""
    person = session.scalar(select(Person).where(func.lower(Person.email) == email.strip().lower()))
    if person is None or not _invitable(person):
        return ()
    token = _issue(session, person, LinkPurpose.RESET, settings=settings)
    audit.record(session, audit.Actor(person.id), "account.reset_requested", "person", person.id, clock=settings.clock)
    return (_message(person, LinkPurpose.RESET, token, settings),)


def password_problems(password: str, repeated: str | None = None) -> dict[str, str]:
    """What is wrong with a new password, by field (``password``, ``repeated``): a reason code each."""
    problems: dict[str, str] = {}
    if not password:
        problems["password"] = "missing"
    elif len(password) < PASSWORD_MIN_LENGTH:
        problems["password"] = "too_short"
    elif len(password) > PASSWORD_MAX_LENGTH:
        problems["password"] = "too_long"
    if repeated is not None and "password" not in problems and repeated != password:
        problems["repeated"] = "mismatch"
    return problems


REASONS = {
    "missing": "A password is required.",
    "too_short": f"At least {PASSWORD_MIN_LENGTH} characters.",
    "too_long": f"At most {PASSWORD_MAX_LENGTH} characters.",
    "mismatch": "The two passwords differ.",
}


def new_password(password: str, repeated: str | None = None, *, passwords: Passwords) -> NewPassword:
    """Check a new password against the rules and hash it (no database: run it before writing)."""
    problems = password_problems(password, repeated)
    if problems:
        raise InvalidInput(
            "The new password does not follow the rules.",
            errors=[FieldError(f"#/{field}", REASONS[code]) for field, code in problems.items()],
        )
    return NewPassword(passwords.hash(password))


def lookup(
    session: Session, token: str, purpose: LinkPurpose, *, clock: Callable[[], datetime] = utcnow
) -> Person | None:
    """The person a valid (known, unused, unexpired) link of ``purpose`` is for, else ``None``."""
    row = session.scalar(
        select(AccountLink).where(AccountLink.token_hash == token_hash(token), AccountLink.purpose == purpose)
    )
    if row is None or row.used_at is not None or clock() >= row.expires_at:
        return None
    person = session.get(Person, row.person_id)
    return person if person is not None and _invitable(person) else None


def find(session: Session, token: str, purpose: LinkPurpose, *, clock: Callable[[], datetime] = utcnow) -> Person:
    """As :func:`lookup`, raising ``LinkNotValid`` (422 naming ``#/token``) for a link that is not valid."""
    person = lookup(session, token, purpose, clock=clock)
    if person is None:
        raise LinkNotValid()
    return person


def use(session: Session, token: str, purpose: LinkPurpose, password: NewPassword, *, settings: LinkSettings) -> Person:
    """Set the password a link lets its person choose, once; end every session they had elsewhere."""
    person = find(session, token, purpose, clock=settings.clock)
    now = settings.clock()
    result = session.execute(
        update(AccountLink)
        .where(AccountLink.token_hash == token_hash(token), AccountLink.used_at.is_(None))
        .values(used_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkNotValid()  # used meanwhile in another tab
    person.password_hash = password.hash
    # The links of the other purpose are spent too: a password was just chosen.
    session.execute(delete(AccountLink).where(AccountLink.person_id == person.id, AccountLink.used_at.is_(None)))
    session.execute(delete(WebSession).where(WebSession.person_id == person.id))
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.person_id == person.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(
        session,
        audit.Actor(person.id),
        "account.password_chosen",
        "person",
        person.id,
        {"via": purpose.value},
        clock=settings.clock,
    )
    session.flush()
    return person
