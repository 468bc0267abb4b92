"""Claims: a learner says a submitted contribution shows a competency; editable until reviewed.

Nothing is overwritten: every state of the text is a ClaimRevision, every decision a Review.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Claim, ClaimStatus, Competency, ContributionStatus, Evidence, Framework, Person, Project, Review
from app.models.claims import ClaimRevision
from app.platform.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    check_version,
    flush_versioned,
)
from app.platform.mail import Outcome
from app.platform.pagination import Page, paginate
from app.services.contributions import contributions
from app.services.identity import access, audit
from app.services.identity.access import Grants
from app.services.identity.recipients import PageLinks
from app.services.recognition import notifications
from app.services.recognition.scales import Rules, rules_of

OPEN = (ClaimStatus.PENDING, ClaimStatus.NEEDS_EVIDENCE, ClaimStatus.VALIDATED)


def stage(claim: Claim) -> str:
    """Where a claim stands in review: review, second_review, or its final status."""
    if claim.status is ClaimStatus.PENDING:
        return "second_review" if claim.first_reviewer_id else "review"
    return claim.status.value


def competencies_of(session: Session, claims: Sequence[Claim]) -> dict[uuid.UUID, Competency]:
    """The competencies these claims name, in one statement (a page listing claims)."""
    ids = {claim.competency_id for claim in claims}
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Competency).where(Competency.id.in_(ids)))}


def competency_and_framework(session: Session, competency_id: uuid.UUID) -> tuple[Competency, Framework]:
    competency = session.get(Competency, competency_id)
    if competency is None:
        raise InvalidInput("Unknown competency.", errors=[FieldError("#/competencyId", "Unknown competency.")])
    framework = session.get(Framework, competency.framework_id)
    assert framework is not None
    return competency, framework


def can_see(grants: Grants, claim: Claim, project: Project) -> bool:
    return (
        access.is_own(grants, claim.learner_id, project.id)
        or access.can_tutor(grants, project)
        or access.can_manage_project(grants, project)
    )


def get_claim(session: Session, grants: Grants, claim_id: uuid.UUID) -> Claim:
    """One claim the caller may see: their own, or one of a project they tutor or coordinate."""
    access.require_login(grants)
    claim = session.get(Claim, claim_id)
    project = session.get(Project, claim.project_id) if claim is not None else None
    if claim is None or project is None or not can_see(grants, claim, project):
        raise NotFound("Claim not found.")
    return claim


def _own(session: Session, grants: Grants, claim_id: uuid.UUID) -> Claim:
    claim = get_claim(session, grants, claim_id)
    if claim.learner_id != grants.actor.id:
        raise PermissionDenied("Only the learner (or their facilitator) changes a claim.")
    return claim


def _rules(session: Session, claim: Claim) -> Rules:
    _competency, framework = competency_and_framework(session, claim.competency_id)
    project = session.get(Project, claim.project_id)
    assert project is not None
    return rules_of(session, framework, project.territory_id)


def _revise(
    session: Session, grants: Grants, claim: Claim, kind: str, explanation: str | None, clock: Callable[[], datetime]
) -> ClaimRevision:
    number = (session.scalar(select(func.max(ClaimRevision.number)).where(ClaimRevision.claim_id == claim.id)) or 0) + 1
    revision = ClaimRevision(
        claim_id=claim.id,
        number=number,
        kind=kind,
        justification=claim.justification,
        self_assessment=claim.self_assessment,
        explanation=explanation,
        author_id=grants.actor.author_id,
        created_at=clock(),
    )
    session.add(revision)
    return revision


def create_claim(
    session: Session,
    grants: Grants,
    data: dict[str, Any],
    *,
    clock: Callable[[], datetime] = utcnow,
    links: PageLinks | None = None,
) -> Outcome[Claim]:
    """Claim that one's submitted contribution shows a competency."""
    contribution = contributions.get_contribution(session, grants, data["contribution_id"])
    if contribution.learner_id != grants.actor.id:
        raise PermissionDenied("Only the learner (or their facilitator) claims competencies for a contribution.")
    if contribution.status is not ContributionStatus.SUBMITTED:
        raise Conflict("Submit the contribution before claiming competencies for it.")
    competency, framework = competency_and_framework(session, data["competency_id"])
    project = session.get(Project, contribution.project_id)
    assert project is not None
    rules = rules_of(session, framework, project.territory_id)
    if data.get("self_assessment") is not None:
        rules.scale.require(data["self_assessment"], "#/selfAssessment")
    duplicate = session.scalar(
        select(Claim.id)
        .where(Claim.contribution_id == contribution.id, Claim.competency_id == competency.id, Claim.status.in_(OPEN))
        .limit(1)
    )
    if duplicate is not None:
        raise Conflict(f"This competency is already claimed for this contribution (claim {duplicate}).")
    now = clock()
    claim = Claim(
        contribution_id=contribution.id,
        project_id=contribution.project_id,
        competency_id=competency.id,
        learner_id=contribution.learner_id,
        justification=data["justification"],
        self_assessment=data.get("self_assessment"),
        created_by_id=grants.actor.author_id,
        created_at=now,
        updated_at=now,
    )
    session.add(claim)
    session.flush()
    _revise(session, grants, claim, "created", None, clock)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "claim.created",
        "claim",
        claim.id,
        {"contribution": str(contribution.id), "competency": str(competency.id), "learner": str(claim.learner_id)},
        clock=clock,
    )
    return Outcome(
        claim,
        notifications.claim_submitted(session, claim, competency, claim.justification, resubmitted=False, links=links),
    )


def update_claim(
    session: Session,
    grants: Grants,
    claim_id: uuid.UUID,
    data: dict[str, Any],
    *,
    expected_version: int | None,
    clock: Callable[[], datetime] = utcnow,
) -> Claim:
    """Edit the justification or self-assessment until a tutor has reviewed the claim."""
    claim = _own(session, grants, claim_id)
    check_version(claim.version, expected_version, "claim")
    if claim.status is not ClaimStatus.PENDING or claim.first_reviewer_id is not None:
        raise Conflict("A tutor has already reviewed this claim; it can no longer be edited.")
    if data.get("self_assessment") is not None:
        _rules(session, claim).scale.require(data["self_assessment"], "#/selfAssessment")
    for key in ("justification", "self_assessment"):
        if key in data:
            setattr(claim, key, data[key])
    flush_versioned(session, "claim")
    _revise(session, grants, claim, "edited", None, clock)
    session.flush()
    audit.record(session, grants.actor, "claim.edited", "claim", claim.id, {"fields": sorted(data)}, clock=clock)
    return claim


def withdraw_claim(
    session: Session,
    grants: Grants,
    claim_id: uuid.UUID,
    *,
    expected_version: int | None,
    clock: Callable[[], datetime] = utcnow,
) -> Claim:
    """Withdraw a claim not yet decided (pending or waiting for evidence); it stays in history."""
    claim = _own(session, grants, claim_id)
    check_version(claim.version, expected_version, "claim")
    if claim.status not in (ClaimStatus.PENDING, ClaimStatus.NEEDS_EVIDENCE):
        raise Conflict(f"A {claim.status.value} claim can no longer be withdrawn.")
    claim.status = ClaimStatus.WITHDRAWN
    claim.decided_at = clock()
    flush_versioned(session, "claim")
    audit.record(
        session, grants.actor, "claim.withdrawn", "claim", claim.id, {"learner": str(claim.learner_id)}, clock=clock
    )
    return claim


def resubmit_claim(
    session: Session,
    grants: Grants,
    claim_id: uuid.UUID,
    data: dict[str, Any],
    *,
    expected_version: int | None,
    clock: Callable[[], datetime] = utcnow,
    links: PageLinks | None = None,
) -> Outcome[Claim]:
    """After needs_evidence: with new evidence or an explanation, send the claim back to the queue."""
    claim = _own(session, grants, claim_id)
    check_version(claim.version, expected_version, "claim")
    if claim.status is not ClaimStatus.NEEDS_EVIDENCE:
        raise Conflict("Only a claim waiting for more evidence can be sent back for review.")
    explanation = (data.get("explanation") or "").strip() or None
    new_evidence = session.scalar(
        select(func.count())
        .select_from(Evidence)
        .where(Evidence.contribution_id == claim.contribution_id, Evidence.created_at > claim.decided_at)
    )
    if not new_evidence and explanation is None:
        raise InvalidInput(
            "Add evidence to the contribution or write an explanation first.",
            errors=[FieldError("#/explanation", "Needed when no evidence was added since the tutor's request.")],
        )
    if data.get("self_assessment") is not None:
        _rules(session, claim).scale.require(data["self_assessment"], "#/selfAssessment")
    for key in ("justification", "self_assessment"):
        if key in data:
            setattr(claim, key, data[key])
    claim.status = ClaimStatus.PENDING
    claim.round += 1
    claim.first_reviewer_id = None
    claim.decided_at = None
    flush_versioned(session, "claim")
    _revise(session, grants, claim, "resubmitted", explanation, clock)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "claim.resubmitted",
        "claim",
        claim.id,
        {"round": claim.round, "newEvidence": int(new_evidence or 0)},
        clock=clock,
    )
    competency, _framework = competency_and_framework(session, claim.competency_id)
    text = explanation or f"({int(new_evidence or 0)} nouvelle(s) preuve(s))"
    return Outcome(
        claim, notifications.claim_submitted(session, claim, competency, text, resubmitted=True, links=links)
    )


@dataclass
class ReviewEntry:
    """A review as shown to people: the decision, its level and rationale, and who took it."""

    id: uuid.UUID
    claim_id: uuid.UUID
    competency_id: uuid.UUID
    reviewer_id: uuid.UUID
    reviewer_name: str
    decision: str
    level: str | None
    proficient: bool | None
    comment: str
    round: int
    final: bool
    created_at: datetime


def review_entries(session: Session, rows: Sequence[tuple[Any, uuid.UUID]]) -> list[ReviewEntry]:
    """(review or row of review columns, competency id) pairs as entries; names in one query."""
    ids = {r.reviewer_id for r, _c in rows}
    names = (
        {pid: name for pid, name in session.execute(select(Person.id, Person.display_name).where(Person.id.in_(ids)))}
        if ids
        else {}
    )
    return [
        ReviewEntry(
            r.id,
            r.claim_id,
            competency_id,
            r.reviewer_id,
            names.get(r.reviewer_id, ""),
            r.decision.value,
            r.level,
            r.proficient,
            r.comment,
            r.round,
            r.final,
            r.created_at,
        )
        for r, competency_id in rows
    ]


@dataclass
class ClaimDetail:
    claim: Claim
    stage: str
    revisions: list[ClaimRevision]
    reviews: list[ReviewEntry]
    rules: Rules


def claim_detail(session: Session, grants: Grants, claim_id: uuid.UUID) -> ClaimDetail:
    """A claim with its whole history: every revision of its text and every review."""
    claim = get_claim(session, grants, claim_id)
    revisions = list(
        session.scalars(select(ClaimRevision).where(ClaimRevision.claim_id == claim.id).order_by(ClaimRevision.number))
    )
    reviews = list(
        session.scalars(select(Review).where(Review.claim_id == claim.id).order_by(Review.created_at, Review.id))
    )
    return ClaimDetail(
        claim,
        stage(claim),
        revisions,
        review_entries(session, [(r, claim.competency_id) for r in reviews]),
        _rules(session, claim),
    )


def list_claims(
    session: Session,
    grants: Grants,
    *,
    contribution_id: uuid.UUID | None = None,
    learner_id: uuid.UUID | None = None,
    competency_id: uuid.UUID | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Claim]:
    """One's own claims, and those of the projects one tutors or coordinates; newest first."""
    me = grants.person_id
    stmt = select(Claim).order_by(Claim.created_at.desc(), Claim.id.desc())
    lent = access.lent_projects(grants)
    own = (Claim.learner_id == me) if lent is None else (Claim.learner_id == me) & Claim.project_id.in_(lent)
    if lent is not None or not grants.platform_admin:
        followed = select(Project.id).where(
            Project.territory_id.in_(grants.coordinator_of) | Project.id.in_(grants.tutor_of)
        )
        stmt = stmt.where(own | Claim.project_id.in_(followed))
    if contribution_id:
        stmt = stmt.where(Claim.contribution_id == contribution_id)
    if learner_id:
        stmt = stmt.where(Claim.learner_id == learner_id)
    if competency_id:
        stmt = stmt.where(Claim.competency_id == competency_id)
    if status:
        stmt = stmt.where(Claim.status == ClaimStatus(status))
    return paginate(session, stmt, page, per_page)
