"""Reads the learner's claim pages need beside the claims service: the contribution to claim for,
the scale to self-assess on, a claim already open, and the evidence added since a tutor asked."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Claim, Contribution, Evidence, Project
from app.platform.errors import PermissionDenied
from app.services.contributions import contributions
from app.services.identity.access import Grants
from app.services.recognition.claims import OPEN, competency_and_framework
from app.services.recognition.scales import Rules, rules_of


def claimable_contribution(session: Session, grants: Grants, contribution_id: uuid.UUID) -> Contribution:
    """One's own contribution to claim competencies for (submitted or not: the page says which)."""
    contribution = contributions.get_contribution(session, grants, contribution_id)
    if contribution.learner_id != grants.actor.id:
        raise PermissionDenied("Only the learner (or their facilitator) claims competencies for a contribution.")
    return contribution


def claiming_rules(session: Session, contribution: Contribution, competency_id: uuid.UUID) -> Rules:
    """The scale a learner self-assesses on when claiming this competency for this contribution."""
    _competency, framework = competency_and_framework(session, competency_id)
    project = session.get(Project, contribution.project_id)
    assert project is not None
    return rules_of(session, framework, project.territory_id)


def open_claim_for(session: Session, contribution: Contribution, competency_id: uuid.UUID) -> Claim | None:
    """The claim still open (not refused nor withdrawn) on this competency for this contribution."""
    return session.scalar(
        select(Claim)
        .where(Claim.contribution_id == contribution.id, Claim.competency_id == competency_id, Claim.status.in_(OPEN))
        .limit(1)
    )


def claims_of_contribution(session: Session, contribution: Contribution) -> list[Claim]:
    """Every claim made for a contribution (its learner's page lists them), oldest first."""
    return list(
        session.scalars(
            select(Claim).where(Claim.contribution_id == contribution.id).order_by(Claim.created_at, Claim.id)
        )
    )


def evidence_since_request(session: Session, claim: Claim) -> int:
    """How many pieces of evidence were added to the claim's contribution since the tutor asked."""
    if claim.decided_at is None:
        return 0
    return (
        session.scalar(
            select(func.count())
            .select_from(Evidence)
            .where(Evidence.contribution_id == claim.contribution_id, Evidence.created_at > claim.decided_at)
        )
        or 0
    )
