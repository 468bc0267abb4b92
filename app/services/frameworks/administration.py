"""Frameworks as the platform administrator sees them: every framework with its versions, and each
version's size, for the administration pages (``/administration/referentiels``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Competency
from app.platform.errors import PermissionDenied
from app.platform.pagination import Page
from app.services.frameworks.query import FrameworkView, get_framework, list_frameworks
from app.services.identity.access import Grants, require_login


def require_platform_admin(grants: Grants) -> None:
    """The administration pages are for platform administrators (not while acting for someone)."""
    require_login(grants)
    if not grants.platform_admin or grants.actor.acting_for:
        raise PermissionDenied("Only platform administrators administer frameworks.")


def admin_frameworks(
    session: Session, grants: Grants, *, q: str | None = None, page: int = 1, per_page: int = 20
) -> Page[FrameworkView]:
    """Current frameworks, each with all its versions (platform administrators)."""
    require_platform_admin(grants)
    return list_frameworks(session, grants, q=q, page=page, per_page=per_page)


def admin_framework(session: Session, grants: Grants, framework_id: uuid.UUID, *, base_url: str = "") -> FrameworkView:
    """One framework version with its sibling versions (platform administrators)."""
    require_platform_admin(grants)
    return get_framework(session, grants, framework_id, base_url=base_url)


def competency_counts(session: Session, grants: Grants, framework_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many competencies (every kind of node) each framework version holds."""
    require_platform_admin(grants)
    if not framework_ids:
        return {}
    rows = session.execute(
        select(Competency.framework_id, func.count())
        .where(Competency.framework_id.in_(list(framework_ids)))
        .group_by(Competency.framework_id)
    ).all()
    return {framework_id: count for framework_id, count in rows}
