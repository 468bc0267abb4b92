"""Competencies suggested for a contribution: what its title and narrative say, among the project's frameworks.

The frameworks "in use by the project" are the current versions of the frameworks of the
competencies already claimed in the project (any contribution, any learner); a project with no
claim yet gets suggestions from every current framework. The ranking is the search index's
(``frameworks.query.suggest_competencies``). Whoever may see the contribution (its learner, a
facilitator acting for them, its project's tutors and coordinators) may ask; nobody else.
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from app.models import Claim, Competency, Framework
from app.services.contributions import contributions
from app.services.frameworks import query as frameworks_query
from app.services.identity.access import Grants

COUNT = 10


def frameworks_in_use(session: Session, project_id: uuid.UUID) -> list[uuid.UUID] | None:
    """The current framework versions of the competencies claimed in a project; None when nothing is claimed."""
    claimed = aliased(Framework)
    current = aliased(Framework)
    ids = list(
        session.scalars(
            select(current.id)
            .distinct()
            .select_from(Claim)
            .join(Competency, Competency.id == Claim.competency_id)
            .join(claimed, claimed.id == Competency.framework_id)
            .join(
                current,
                and_(
                    current.source_type == claimed.source_type,
                    current.source_key == claimed.source_key,
                    current.is_current.is_(True),
                ),
            )
            .where(Claim.project_id == project_id)
        )
    )
    return ids or None


def suggestions_for(
    session: Session, grants: Grants, contribution_id: uuid.UUID, *, base_url: str = ""
) -> list[frameworks_query.Hit]:
    """The ten competencies that best match the contribution's title and narrative, best first."""
    contribution = contributions.get_contribution(session, grants, contribution_id)
    return frameworks_query.suggest_competencies(
        session,
        frameworks_in_use(session, contribution.project_id),
        contribution.title,
        contribution.narrative or "",
        limit=COUNT,
        base_url=base_url,
    )
