"""What an issuer administrator's pages read: the issuer itself, proposals waiting for approval,
credentials issued (searched and filtered by state), achievements to award, people to award.

Every function checks the caller first. A person with no issuer to administer is refused (403);
an issuer they do not administer does not exist for them (404), as an unknown id. The decisions
themselves (award, approve, decline, revoke, suspend, unsuspend) stay in ``awarding`` and
``revocation``: these functions only read.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.models import Achievement, AchievementVersion, Credential, CredentialState, Issuer, Membership, Person, Role
from app.platform.errors import NotFound, PermissionDenied
from app.platform.pagination import LIKE_ESCAPE, Page, contains_pattern
from app.services.identity.access import Grants
from app.services.issuing import award_scope
from app.services.issuing.keys import require_caller

# The states a page filters on: "active" and "expired" split the issued credentials by their end date.
STATES = ("active", "suspended", "revoked", "expired")
_CHUNK = 500


@dataclass(frozen=True)
class CredentialRow:
    """One credential with what a page shows of it."""

    credential: Credential
    learner_name: str
    learner_email: str | None
    achievement_name: str
    expired: bool


def issuer_for_pages(session: Session, grants: Grants, issuer_id: uuid.UUID) -> Issuer:
    """The issuer, for one of its administrators (or a platform administrator)."""
    require_caller(grants)
    if not (grants.platform_admin or grants.issuer_admin_of):
        raise PermissionDenied("Only issuer administrators may open these pages.")
    issuer = session.get(Issuer, issuer_id)
    if issuer is None or not (grants.platform_admin or issuer_id in grants.issuer_admin_of):
        raise NotFound("Issuer not found.")
    return issuer


def _rows(session: Session, stmt: Select[Credential, Person, AchievementVersion], now: datetime) -> list[CredentialRow]:
    return [
        CredentialRow(
            credential,
            person.display_name,
            person.email,
            version.name,
            credential.valid_until is not None and credential.valid_until <= now,
        )
        for credential, person, version in session.execute(stmt)
    ]


def _joined() -> Select[Credential, Person, AchievementVersion]:
    return (
        select(Credential, Person, AchievementVersion)
        .join(Person, Person.id == Credential.learner_id)
        .join(AchievementVersion, AchievementVersion.id == Credential.achievement_version_id)
    )


def _page(
    session: Session,
    where: list[ColumnElement[bool]],
    order: tuple[Any, ...],
    *,
    page: int,
    per_page: int,
    now: datetime,
) -> Page[CredentialRow]:
    base = _joined().where(*where)
    total = session.scalar(select(func.count()).select_from(base.with_only_columns(Credential.id).subquery())) or 0
    last = max(1, -(-total // per_page))
    page = min(max(1, page), last)
    rows = _rows(session, base.order_by(*order).limit(per_page).offset((page - 1) * per_page), now)
    return Page(rows, total, page, per_page)


def approval_queue(
    session: Session, grants: Grants, issuer_id: uuid.UUID, *, page: int, per_page: int, now: datetime
) -> Page[CredentialRow]:
    """The awards proposed by an approval-mode rule, waiting for a decision, oldest first."""
    issuer_for_pages(session, grants, issuer_id)
    where = [Credential.issuer_id == issuer_id, Credential.state == CredentialState.PROPOSED]
    return _page(session, where, (Credential.awarded_at, Credential.id), page=page, per_page=per_page, now=now)


def issued_credentials(
    session: Session,
    grants: Grants,
    issuer_id: uuid.UUID,
    *,
    search: str = "",
    state: str | None = None,
    page: int,
    per_page: int,
    now: datetime,
) -> Page[CredentialRow]:
    """The issuer's credentials (never the proposals), newest first, searched by the learner's name or
    e-mail and the achievement's name, and filtered by state."""
    issuer_for_pages(session, grants, issuer_id)
    where: list[ColumnElement[bool]] = [Credential.issuer_id == issuer_id]
    still_valid = or_(Credential.valid_until.is_(None), Credential.valid_until > now)
    if state == "active":
        where += [Credential.state == CredentialState.ISSUED, still_valid]
    elif state == "expired":
        where += [Credential.state == CredentialState.ISSUED, Credential.valid_until <= now]
    elif state in ("suspended", "revoked"):
        where.append(Credential.state == CredentialState(state))
    else:
        where.append(Credential.state.in_((CredentialState.ISSUED, CredentialState.SUSPENDED, CredentialState.REVOKED)))
    text = " ".join(search.split())[:200]
    if text:
        pattern = contains_pattern(text.lower())
        where.append(
            or_(
                func.lower(Person.display_name).like(pattern, escape=LIKE_ESCAPE),
                func.lower(Person.email).like(pattern, escape=LIKE_ESCAPE),
                func.lower(AchievementVersion.name).like(pattern, escape=LIKE_ESCAPE),
            )
        )
    return _page(session, where, (Credential.awarded_at.desc(), Credential.id), page=page, per_page=per_page, now=now)


def credential_of_issuer(session: Session, grants: Grants, issuer_id: uuid.UUID, credential_id: uuid.UUID) -> None:
    """Check that the credential is one of this issuer's (a page's form names both): else 404."""
    issuer_for_pages(session, grants, issuer_id)
    found = session.scalar(select(Credential.issuer_id).where(Credential.id == credential_id))
    if found != issuer_id:
        raise NotFound("Credential not found.")


def achievements_to_award(session: Session, grants: Grants, issuer_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The issuer's achievements that can be awarded (not archived), by name: (id, current name)."""
    issuer_for_pages(session, grants, issuer_id)
    rows = session.execute(
        select(Achievement.id, AchievementVersion.name)
        .join(
            AchievementVersion,
            and_(
                AchievementVersion.achievement_id == Achievement.id,
                AchievementVersion.version == Achievement.current_version,
            ),
        )
        .where(Achievement.issuer_id == issuer_id, Achievement.is_archived.is_(False))
        .order_by(func.lower(AchievementVersion.name), Achievement.id)
    )
    return [(achievement_id, name) for achievement_id, name in rows]


def _reachable_condition(session: Session, grants: Grants, issuer: Issuer) -> ColumnElement[bool] | None:
    """The SQL condition on ``Person.id`` of whom the caller may award (None: everyone), as
    :func:`award_scope.reachable` decides it for given ids."""
    if grants.platform_admin:
        return None
    territories = award_scope.award_territories(session, issuer, grants) or set()
    members = select(Membership.person_id).where(
        (
            Membership.role.in_((Role.LEARNER, Role.TUTOR))
            & Membership.scope_id.in_(award_scope.projects_in(territories))
        )
        | ((Membership.role == Role.COORDINATOR) & Membership.scope_id.in_(territories))
    )
    holders = select(Credential.learner_id).where(Credential.issuer_id == issuer.id)
    return or_(Person.id.in_(members), Person.id.in_(holders))


def find_recipients(
    session: Session, grants: Grants, issuer_id: uuid.UUID, search: str, *, limit: int = 20
) -> list[Person]:
    """Active people the caller may award this issuer's achievements to, whose name or e-mail contains
    ``search`` (two characters at least), by name."""
    issuer = issuer_for_pages(session, grants, issuer_id)
    text = " ".join(search.split())[:200].lower()
    if len(text) < 2:
        return []
    pattern = contains_pattern(text)
    stmt = select(Person).where(
        Person.is_active.is_(True),
        or_(
            func.lower(Person.display_name).like(pattern, escape=LIKE_ESCAPE),
            func.lower(Person.email).like(pattern, escape=LIKE_ESCAPE),
        ),
    )
    reach = _reachable_condition(session, grants, issuer)
    if reach is not None:
        stmt = stmt.where(reach)
    return list(session.scalars(stmt.order_by(func.lower(Person.display_name), Person.id).limit(limit)))


def recipient(session: Session, grants: Grants, issuer_id: uuid.UUID, person_id: uuid.UUID) -> Person:
    """A person the caller may award this issuer's achievements to; anyone else is not found."""
    issuer = issuer_for_pages(session, grants, issuer_id)
    person = session.get(Person, person_id)
    if person is None or not person.is_active or not award_scope.reachable(session, grants, issuer, [person.id]):
        raise NotFound("Person not found.")
    return person


def names_of(
    session: Session, grants: Grants, issuer_id: uuid.UUID, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The display names of these people (a bulk report's learners), for the issuer's administrators."""
    issuer_for_pages(session, grants, issuer_id)
    found: dict[uuid.UUID, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        for person_id, name in session.execute(select(Person.id, Person.display_name).where(Person.id.in_(chunk))):
            found[person_id] = name
    return found
