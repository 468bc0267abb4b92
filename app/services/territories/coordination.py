"""What a coordinator does to their territory's projects beyond editing them: close a project, name
and remove its tutors among the people of the territory.

The territory and project rules stay those of :mod:`app.services.territories.territories`: what the
caller may not see is missing (404), what they see but may not change is refused (403).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.models import Membership, Person, Project, ProjectStatus, Role, ScopeType, Territory
from app.platform.errors import FieldError, InvalidInput, NotFound, PermissionDenied
from app.platform.pagination import LIKE_ESCAPE, Page, contains_pattern, paginate
from app.services.identity import access, people
from app.services.identity.access import Grants
from app.services.territories.territories import get_territory, update_project

CLOSED = (ProjectStatus.COMPLETED, ProjectStatus.ARCHIVED)


@dataclass(frozen=True)
class TerritoryChoice:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class Tutor:
    membership_id: uuid.UUID
    person_id: uuid.UUID
    display_name: str
    email: str | None


@dataclass(frozen=True)
class Candidate:
    person_id: uuid.UUID
    display_name: str
    email: str | None


def may_coordinate(grants: Grants) -> bool:
    """Whether the caller coordinates a territory (or administers the platform), acting for no one."""
    return not grants.actor.acting_for and (grants.platform_admin or bool(grants.coordinator_of))


def require_coordinator(grants: Grants) -> None:
    access.require_login(grants)
    if not may_coordinate(grants):
        raise PermissionDenied("These pages are for territory coordinators.")


def coordinated_territories(session: Session, grants: Grants) -> list[TerritoryChoice]:
    """The territories the caller manages, by name (every one for platform administrators)."""
    require_coordinator(grants)
    stmt = select(Territory.id, Territory.name).order_by(Territory.name, Territory.id)
    if not grants.platform_admin:
        stmt = stmt.where(Territory.id.in_(grants.coordinator_of))
    return [TerritoryChoice(i, name) for i, name in session.execute(stmt)]


def territory_to_manage(session: Session, grants: Grants, territory_id: uuid.UUID) -> Territory:
    """A territory the caller coordinates: missing when they cannot see it, refused when they only see it."""
    require_coordinator(grants)
    territory = get_territory(session, grants, territory_id)
    access.check_manage_territory(grants, territory.id)
    return territory


def project_to_manage(session: Session, grants: Grants, project_id: uuid.UUID) -> Project:
    """A project of a territory the caller coordinates (404 when unseen, 403 when seen only)."""
    require_coordinator(grants)
    project = access.get_project(session, grants, project_id)
    if not access.can_manage_project(grants, project):
        raise PermissionDenied("Only the territory's coordinators may change this project.")
    return project


def is_closed(project: Project) -> bool:
    return project.status in CLOSED


def close_project(
    session: Session, grants: Grants, project_id: uuid.UUID, *, expected_version: int | None, today: date
) -> Project:
    """Mark a project completed, from the version the caller read; its end date becomes today when it had none."""
    project = project_to_manage(session, grants, project_id)
    data: dict[str, object] = {"status": ProjectStatus.COMPLETED.value}
    if project.end_date is None and (project.start_date is None or project.start_date <= today):
        data["end_date"] = today
    return update_project(session, grants, project.id, data, expected_version=expected_version)


def project_tutors(session: Session, grants: Grants, project_id: uuid.UUID) -> list[Tutor]:
    """The tutors of a project the caller manages, by name."""
    project = project_to_manage(session, grants, project_id)
    rows = session.execute(
        select(Membership.id, Person.id, Person.display_name, Person.email)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.role == Role.TUTOR, Membership.scope_type == ScopeType.PROJECT, Membership.scope_id == project.id
        )
        .order_by(Person.display_name, Person.id)
    )
    return [Tutor(m, p, name, email) for m, p, name, email in rows]


def _people_of(territory_id: uuid.UUID) -> Select[Any]:
    """The ids of the people holding a role in one of the territory's projects."""
    return (
        select(Membership.person_id)
        .join(Project, Project.id == Membership.scope_id)
        .where(Membership.scope_type == ScopeType.PROJECT, Project.territory_id == territory_id)
    )


def tutor_candidates(
    session: Session, grants: Grants, project_id: uuid.UUID, *, q: str, limit: int = 10
) -> list[Candidate]:
    """People of the project's territory (and the caller) matching ``q`` by name or e-mail, not yet its
    tutors, with an account of their own (an assisted person cannot sign in to review)."""
    project = project_to_manage(session, grants, project_id)
    pattern = contains_pattern(q.strip().lower())
    tutors = select(Membership.person_id).where(
        Membership.role == Role.TUTOR, Membership.scope_type == ScopeType.PROJECT, Membership.scope_id == project.id
    )
    rows = session.execute(
        select(Person.id, Person.display_name, Person.email)
        .where(
            or_(Person.id.in_(_people_of(project.territory_id)), Person.id == grants.person_id),
            Person.id.not_in(tutors),
            Person.is_active.is_(True),
            Person.password_hash.is_not(None),
            or_(
                func.lower(Person.display_name).like(pattern, escape=LIKE_ESCAPE),
                func.lower(Person.email).like(pattern, escape=LIKE_ESCAPE),
            ),
        )
        .order_by(Person.display_name, Person.id)
        .limit(limit)
    )
    return [Candidate(i, name, email) for i, name, email in rows]


def add_tutor(session: Session, grants: Grants, project_id: uuid.UUID, person_id: uuid.UUID) -> Membership:
    """Name a person of the project's territory (or oneself) tutor of the project."""
    project = project_to_manage(session, grants, project_id)
    of_territory = person_id == grants.person_id or session.scalar(
        select(func.count()).select_from(
            _people_of(project.territory_id).where(Membership.person_id == person_id).subquery()
        )
    )
    person = session.get(Person, person_id)
    if not of_territory or person is None or not person.is_active or person.password_hash is None:
        raise InvalidInput(
            "Choose a person of the territory who signs in to Blason.",
            errors=[FieldError("#/personId", "Not a person of this territory with an account.")],
        )
    return people.grant_membership(
        session, grants, {"role": "tutor", "scope_type": "project", "scope_id": project.id, "person_id": person_id}
    )


def remove_tutor(session: Session, grants: Grants, project_id: uuid.UUID, person_id: uuid.UUID) -> None:
    """Withdraw a person from the project's tutors; their past reviews stay."""
    project = project_to_manage(session, grants, project_id)
    membership_id = session.scalar(
        select(Membership.id).where(
            Membership.person_id == person_id,
            Membership.role == Role.TUTOR,
            Membership.scope_type == ScopeType.PROJECT,
            Membership.scope_id == project.id,
        )
    )
    if membership_id is None:
        raise NotFound("Tutor not found.")
    people.revoke_membership(session, grants, membership_id)


def territory_projects(
    session: Session,
    grants: Grants,
    territory_id: uuid.UUID,
    *,
    statuses: tuple[str, ...] | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Project]:
    """A territory's projects by title, those in ``statuses`` only when given (open: planned and active)."""
    territory = territory_to_manage(session, grants, territory_id)
    stmt = select(Project).where(Project.territory_id == territory.id).order_by(Project.title, Project.id)
    if statuses:
        stmt = stmt.where(Project.status.in_([ProjectStatus(s) for s in statuses]))
    return paginate(session, stmt, page, per_page)
