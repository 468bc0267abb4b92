"""Contributions: a learner's account of what they did in a project, draft then submitted."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.db import utcnow
from app.models import CoContributor, Contribution, ContributionStatus, Project
from app.platform.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    check_version,
    flush_versioned,
)
from app.platform.pagination import Page, paginate
from app.services.identity import access, audit
from app.services.identity.access import Grants


def can_see(grants: Grants, contribution: Contribution, project: Project) -> bool:
    """Learners see their own; tutors, coordinators and admins see submitted ones."""
    if access.is_own(grants, contribution.learner_id, contribution.project_id):
        return True
    if contribution.status is not ContributionStatus.SUBMITTED:
        return False
    return access.can_tutor(grants, project) or access.can_manage_project(grants, project)


def get_contribution(session: Session, grants: Grants, contribution_id: uuid.UUID) -> Contribution:
    access.require_login(grants)
    contribution = session.get(Contribution, contribution_id)
    if contribution is None:
        raise NotFound("Contribution not found.")
    project = session.get(Project, contribution.project_id)
    if project is None or not can_see(grants, contribution, project):
        raise NotFound("Contribution not found.")
    return contribution


def _own(session: Session, grants: Grants, contribution_id: uuid.UUID) -> Contribution:
    contribution = get_contribution(session, grants, contribution_id)
    if contribution.learner_id != grants.actor.id:
        raise PermissionDenied("Only the learner (or their facilitator) may change a contribution.")
    return contribution


def _co_contributors(items: list[dict[str, Any]]) -> list[CoContributor]:
    return [CoContributor(person_id=i.get("person_id"), name=i["name"], position=n) for n, i in enumerate(items)]


def project_to_record_in(session: Session, grants: Grants, project_id: uuid.UUID) -> Project:
    """A project where the caller (or the learner they facilitate) may record a contribution."""
    project = access.get_project(session, grants, project_id)
    if project.id not in grants.learner_in:
        raise PermissionDenied("Only learners of the project record contributions in it.")
    return project


def create_contribution(session: Session, grants: Grants, data: dict[str, Any]) -> Contribution:
    """Record a draft contribution of the caller (or the learner they facilitate)."""
    project = project_to_record_in(session, grants, data["project_id"])
    contribution = Contribution(
        project_id=project.id,
        learner_id=grants.person_id,
        title=data["title"],
        narrative=data.get("narrative", ""),
        role=data.get("role", ""),
        start_date=data.get("start_date"),
        end_date=data.get("end_date"),
        hours=data.get("hours"),
        created_by_id=grants.actor.author_id,
        co_contributors=_co_contributors(data.get("co_contributors", [])),
    )
    session.add(contribution)
    session.flush()
    if grants.actor.acting_for:
        audit.record(
            session,
            grants.actor,
            "contribution.created_for",
            "contribution",
            contribution.id,
            {"project": str(project.id)},
        )
    return contribution


def update_contribution(
    session: Session,
    grants: Grants,
    contribution_id: uuid.UUID,
    data: dict[str, Any],
    *,
    expected_version: int | None,
    clock: Callable[[], datetime] = utcnow,
) -> Contribution:
    """Change a draft; the caller must say which version they edited (no lost updates)."""
    contribution = _own(session, grants, contribution_id)
    check_version(contribution.version, expected_version, "contribution")
    if contribution.status is ContributionStatus.SUBMITTED:
        raise Conflict("A submitted contribution can no longer be edited; add evidence instead.")
    for key, value in data.items():
        if key == "co_contributors":
            contribution.co_contributors = _co_contributors(value)
        else:
            setattr(contribution, key, value)
    if contribution.start_date and contribution.end_date and contribution.end_date < contribution.start_date:
        raise InvalidInput(
            "The end date is before the start date.",
            errors=[FieldError("#/endDate", "The end date is before the start date.")],
        )
    if data:
        # Touch the row itself: a change to co-contributors alone must still bump the version.
        contribution.updated_at = clock()
    flush_versioned(session, "contribution")
    return contribution


def submit_contribution(
    session: Session, grants: Grants, contribution_id: uuid.UUID, *, clock: Callable[[], datetime] = utcnow
) -> Contribution:
    contribution = _own(session, grants, contribution_id)
    if contribution.status is ContributionStatus.SUBMITTED:
        raise Conflict("This contribution is already submitted.")
    contribution.status = ContributionStatus.SUBMITTED
    contribution.submitted_at = clock()
    flush_versioned(session, "contribution")
    audit.record(
        session,
        grants.actor,
        "contribution.submitted",
        "contribution",
        contribution.id,
        {"project": str(contribution.project_id), "learner": str(contribution.learner_id)},
        clock=clock,
    )
    return contribution


def delete_contribution(session: Session, grants: Grants, contribution_id: uuid.UUID) -> None:
    contribution = _own(session, grants, contribution_id)
    if contribution.status is not ContributionStatus.DRAFT or contribution.evidence:
        raise Conflict("Only a draft without evidence can be deleted.")
    session.delete(contribution)
    session.flush()


def list_contributions(
    session: Session,
    grants: Grants,
    *,
    project_id: uuid.UUID | None = None,
    learner_id: uuid.UUID | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Contribution]:
    """List what the caller may see: their own, and submitted ones of projects they follow."""
    me = grants.person_id
    stmt = (
        select(Contribution)
        .options(selectinload(Contribution.co_contributors))
        .order_by(Contribution.created_at.desc(), Contribution.id.desc())
    )
    if grants.actor.acting_for:  # a facilitator sees the learner's own only where they act for them
        stmt = stmt.where(Contribution.learner_id == me, Contribution.project_id.in_(grants.learner_in))
    elif not grants.platform_admin:
        followed = select(Project.id).where(
            Project.territory_id.in_(grants.coordinator_of) | Project.id.in_(grants.tutor_of)
        )
        stmt = stmt.where(
            (Contribution.learner_id == me)
            | ((Contribution.status == ContributionStatus.SUBMITTED) & Contribution.project_id.in_(followed))
        )
    else:
        stmt = stmt.where((Contribution.learner_id == me) | (Contribution.status == ContributionStatus.SUBMITTED))
    if project_id:
        stmt = stmt.where(Contribution.project_id == project_id)
    if learner_id:
        stmt = stmt.where(Contribution.learner_id == learner_id)
    if status:
        stmt = stmt.where(Contribution.status == ContributionStatus(status))
    return paginate(session, stmt, page, per_page)


@dataclass(frozen=True)
class ProjectRecord:
    """One project of a learner and what they recorded in it, newest first."""

    project: Project
    contributions: list[Contribution]
    may_record: bool  # still a learner there (a past project keeps its contributions, read-only)


def own_record(session: Session, grants: Grants) -> list[ProjectRecord]:
    """The caller's projects as a learner and their own contributions in each, by project title.

    A facilitator acting for a learner sees only the projects acting lends them.
    """
    me = access.require_login(grants)
    stmt = (
        select(Contribution)
        .options(selectinload(Contribution.co_contributors))
        .where(Contribution.learner_id == me)
        .order_by(Contribution.created_at.desc(), Contribution.id.desc())
    )
    lent = access.lent_projects(grants)
    if lent is not None:
        stmt = stmt.where(Contribution.project_id.in_(lent))
    rows = list(session.scalars(stmt))
    ids = set(grants.learner_in) | {c.project_id for c in rows}
    if not ids:
        return []
    projects = session.scalars(select(Project).where(Project.id.in_(ids)).order_by(Project.title, Project.id))
    return [ProjectRecord(p, [c for c in rows if c.project_id == p.id], p.id in grants.learner_in) for p in projects]
