"""Whom an issuer may award, and which of a recipient's records an award may draw on.

An issuer of a territory reaches the people of that territory: learners and tutors of its
projects and its coordinators. An issuer of no territory (the CNAM, the Collectif, created by
platform administrators) has no people of its own: its administrators reach the people of the
territories they otherwise serve (as coordinator or tutor). Either issuer also reaches the
people who already received or were proposed one of its credentials. Platform administrators
reach everyone. Anyone else is answered exactly as an unknown e-mail address or id, so an award
form never tells whether an account exists elsewhere.

What an award draws on (standings, hours, contributions and their evidence) follows the same
territories: a territory's issuer never copies another territory's project or contribution
titles into its credential.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.models import Credential, Issuer, Membership, Project, Role
from app.services.identity import access
from app.services.identity.access import Grants

_CHUNK = 500


def award_territories(session: Session, issuer: Issuer, grants: Grants | None) -> set[uuid.UUID] | None:
    """The territories an award of this issuer draws on; None means all of them.

    ``grants`` is the caller of a manual or bulk award, None for an award rule.
    """
    if issuer.territory_id is not None:
        return {issuer.territory_id}
    if grants is None:
        return None  # a rule of a platform-wide issuer looks at every validated standing
    return access.served_territory_ids(session, grants)


def reachable(session: Session, grants: Grants, issuer: Issuer, person_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Those of these people whom the caller may award the issuer's achievements to."""
    if grants.platform_admin:
        return set(person_ids)
    territories = award_territories(session, issuer, grants) or set()
    projects = projects_in(territories)
    ids = sorted(person_ids)
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(
            session.scalars(
                select(Membership.person_id).where(
                    Membership.person_id.in_(chunk),
                    (Membership.role.in_((Role.LEARNER, Role.TUTOR)) & Membership.scope_id.in_(projects))
                    | ((Membership.role == Role.COORDINATOR) & Membership.scope_id.in_(territories)),
                )
            )
        )
        found.update(
            session.scalars(
                select(Credential.learner_id).where(Credential.issuer_id == issuer.id, Credential.learner_id.in_(chunk))
            )
        )
    return found


def projects_in(territories: set[uuid.UUID]) -> Select[Any]:
    """The ids of the projects of these territories, as a subquery."""
    return select(Project.id).where(Project.territory_id.in_(territories))
