"""Territories and projects: create, read, update, list, with scope checks."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from app.models import ExperimentationLevel, Project, ProjectStatus, SocialFunction, Territory
from app.platform.errors import FieldError, InvalidInput, NotFound, PermissionDenied, check_version, flush_versioned
from app.platform.pagination import LIKE_ESCAPE, Page, contains_pattern, paginate
from app.services.identity import access, audit
from app.services.identity.access import Grants


def create_territory(session: Session, grants: Grants, data: dict[str, Any]) -> Territory:
    """Create a territory (platform admins only)."""
    if not grants.platform_admin:
        raise PermissionDenied("Only platform administrators create territories.")
    level = data.get("experimentation_level")
    territory = Territory(
        name=data["name"],
        description=data.get("description", ""),
        experimentation_level=ExperimentationLevel(level) if level else None,
        siren=data.get("siren"),
        insee_code=data.get("insee_code"),
    )
    session.add(territory)
    session.flush()
    audit.record(session, grants.actor, "territory.created", "territory", territory.id, {"name": territory.name})
    return territory


def get_territory(session: Session, grants: Grants, territory_id: uuid.UUID) -> Territory:
    visible = access.visible_territory_ids(session, grants)
    territory = session.get(Territory, territory_id)
    if territory is None or (visible is not None and territory_id not in visible):
        raise NotFound("Territory not found.")
    return territory


def update_territory(
    session: Session, grants: Grants, territory_id: uuid.UUID, data: dict[str, Any], *, expected_version: int | None
) -> Territory:
    territory = get_territory(session, grants, territory_id)
    access.check_manage_territory(grants, territory.id)
    check_version(territory.version, expected_version, "territory")
    for key, value in data.items():
        if key == "experimentation_level":
            value = ExperimentationLevel(value) if value else None
        setattr(territory, key, value)
    flush_versioned(session, "territory")
    audit.record(session, grants.actor, "territory.updated", "territory", territory.id, {"fields": sorted(data)})
    return territory


def list_territories(
    session: Session, grants: Grants, *, q: str | None = None, page: int = 1, per_page: int = 20
) -> Page[Territory]:
    access.require_login(grants)
    stmt = select(Territory).order_by(Territory.name, Territory.id)
    visible = access.visible_territory_ids(session, grants)
    if visible is not None:
        stmt = stmt.where(Territory.id.in_(visible))
    if q:
        stmt = stmt.where(func.lower(Territory.name).like(contains_pattern(q.lower()), escape=LIKE_ESCAPE))
    return paginate(session, stmt, page, per_page)


def create_project(session: Session, grants: Grants, data: dict[str, Any]) -> Project:
    """Create a project in a territory the caller coordinates."""
    territory = get_territory(session, grants, data["territory_id"])
    access.check_manage_territory(grants, territory.id)
    project = Project(
        territory_id=territory.id,
        title=data["title"],
        description=data.get("description", ""),
        start_date=data.get("start_date"),
        end_date=data.get("end_date"),
        status=ProjectStatus(data.get("status", "active")),
        social_functions=_functions(data["social_functions"]),
    )
    session.add(project)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "project.created",
        "project",
        project.id,
        {"territory": str(territory.id), "title": project.title},
    )
    return project


def _functions(values: list[str]) -> list[str]:
    # Keep the canonical order and drop repeats.
    wanted = {SocialFunction(v) for v in values}
    return [f.value for f in SocialFunction if f in wanted]


def get_project(session: Session, grants: Grants, project_id: uuid.UUID) -> Project:
    """One project the caller may see."""
    return access.get_project(session, grants, project_id)


def update_project(
    session: Session, grants: Grants, project_id: uuid.UUID, data: dict[str, Any], *, expected_version: int | None
) -> Project:
    project = access.get_project(session, grants, project_id)
    if not access.can_manage_project(grants, project):
        raise PermissionDenied("Only the territory's coordinators may change this project.")
    check_version(project.version, expected_version, "project")
    for key, value in data.items():
        if key == "social_functions":
            value = _functions(value)
        elif key == "status":
            value = ProjectStatus(value)
        setattr(project, key, value)
    if project.start_date and project.end_date and project.end_date < project.start_date:
        raise InvalidInput(
            "The end date is before the start date.",
            errors=[FieldError("#/endDate", "The end date is before the start date.")],
        )
    flush_versioned(session, "project")
    audit.record(session, grants.actor, "project.updated", "project", project.id, {"fields": sorted(data)})
    return project


def list_projects(
    session: Session,
    grants: Grants,
    *,
    territory_id: uuid.UUID | None = None,
    status: str | None = None,
    social_function: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Project]:
    access.require_login(grants)
    stmt = select(Project).order_by(Project.title, Project.id)
    condition = access.visible_project_filter(grants)
    if condition is not None:
        stmt = stmt.where(condition)
    if territory_id:
        stmt = stmt.where(Project.territory_id == territory_id)
    if status:
        stmt = stmt.where(Project.status == ProjectStatus(status))
    if q:
        stmt = stmt.where(func.lower(Project.title).like(contains_pattern(q.lower()), escape=LIKE_ESCAPE))
    if social_function:
        # JSON containment differs per backend; the list is at most six short strings, so
        # matching the quoted value inside the serialised array is exact and portable.
        stmt = stmt.where(cast(Project.social_functions, String).like(f'%"{SocialFunction(social_function).value}"%'))
    return paginate(session, stmt, page, per_page)
