"""Tutor reviews: the queue of claims to decide, and the decision itself.

A decision is validated (with a level of the scale), rejected or needs_evidence, always with a
comment. Two tutors deciding the same claim at once: the claim's version column lets exactly
one UPDATE through; the other gets a 409 and nothing of the first is overwritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import (
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    Decision,
    Evidence,
    Framework,
    Person,
    Project,
    Review,
)
from app.platform.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    check_version,
    flush_versioned,
)
from app.platform.mail import Message, Outcome
from app.platform.pagination import Page, paginate
from app.services.contributions import evidence
from app.services.identity import access, audit
from app.services.identity.access import Grants
from app.services.identity.recipients import PageLinks
from app.services.recognition import claims, notifications
from app.services.recognition.claims import ReviewEntry, review_entries
from app.services.recognition.scales import Rules, rules_for, rules_of
from app.services.recognition.standing import recompute_standing

FINAL_STATUS = {
    Decision.VALIDATED: ClaimStatus.VALIDATED,
    Decision.REJECTED: ClaimStatus.REJECTED,
    Decision.NEEDS_EVIDENCE: ClaimStatus.NEEDS_EVIDENCE,
}


def _claim_to_decide(session: Session, grants: Grants, claim_id: uuid.UUID) -> tuple[Claim, Project]:
    access.require_login(grants)
    claim = session.get(Claim, claim_id)
    project = session.get(Project, claim.project_id) if claim is not None else None
    if claim is None or project is None or not claims.can_see(grants, claim, project):
        raise NotFound("Claim not found.")
    if not access.can_tutor(grants, project):
        raise PermissionDenied("Only the project's tutors decide on its claims.")
    if grants.actor.acting_for:
        raise PermissionDenied("A decision is taken in one's own name, not for someone else.")
    if claim.learner_id == grants.actor.id:
        raise PermissionDenied("A tutor never reviews their own claim.")
    return claim, project


def review_claim(
    session: Session,
    grants: Grants,
    claim_id: uuid.UUID,
    data: dict[str, Any],
    *,
    expected_version: int | None,
    clock: Callable[[], datetime] = utcnow,
    links: PageLinks | None = None,
) -> Outcome[Review]:
    """Decide on a pending claim; recompute the standing when the decision is final."""
    claim, project = _claim_to_decide(session, grants, claim_id)
    check_version(claim.version, expected_version, "claim")  # no one decides on text they did not see
    if claim.status is not ClaimStatus.PENDING:
        raise Conflict(f"This claim is not waiting for a decision (it is {claim.status.value}).")
    me = grants.person_id
    if claim.first_reviewer_id == me:
        raise PermissionDenied("You already validated this claim; a second, distinct tutor must confirm it.")
    decision = Decision(data["decision"])
    comment = (data.get("comment") or "").strip()
    if not comment:
        raise InvalidInput(
            "A decision always comes with a comment.", errors=[FieldError("#/comment", "A comment is required.")]
        )
    competency, framework = claims.competency_and_framework(session, claim.competency_id)
    rules = rules_of(session, framework, project.territory_id)
    level = None
    if decision is Decision.VALIDATED:
        if not data.get("level"):
            raise InvalidInput("A validation needs a level.", errors=[FieldError("#/level", "A level is required.")])
        level = rules.scale.require(data["level"], "#/level")
    elif data.get("level"):
        raise InvalidInput(
            "Only a validation has a level.", errors=[FieldError("#/level", "Only a validation has a level.")]
        )

    now = clock()
    first_of_two = decision is Decision.VALIDATED and rules.second_review and claim.first_reviewer_id is None
    if first_of_two:
        claim.first_reviewer_id = me
    else:
        claim.status = FINAL_STATUS[decision]
        claim.level = level.code if level else None
        claim.decided_at = now
    flush_versioned(session, "claim")  # the concurrency guard: only one of two racing tutors gets past here

    review = Review(
        claim_id=claim.id,
        reviewer_id=me,
        decision=decision,
        level=level.code if level else None,
        level_rank=rules.scale.rank(level.code) if level else None,
        proficient=level.proficient if level else None,
        comment=comment,
        round=claim.round,
        final=not first_of_two,
        created_at=now,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        grants.actor,
        f"review.{decision.value}",
        "claim",
        claim.id,
        {
            "review": str(review.id),
            "learner": str(claim.learner_id),
            "competency": str(claim.competency_id),
            "decision": decision.value,
            "level": review.level,
            "final": review.final,
            "comment": comment,
        },
        clock=clock,
    )
    messages: tuple[Message, ...]
    if first_of_two:
        assert level is not None
        messages = notifications.second_review_needed(session, claim, competency, review, level, links=links)
    else:
        recompute_standing(session, claim, review, framework_id=framework.id, clock=clock)
        messages = notifications.decision_made(session, claim, competency, review, level, links=links)
    return Outcome(review, messages)


QUEUE_STATES = ("pending", "needs_evidence", "validated", "rejected", "withdrawn")


@dataclass
class QueueItem:
    claim: Claim
    stage: str
    can_decide: bool
    competency: Competency
    framework: Framework
    learner: Person
    contribution: Contribution
    project: Project
    evidence: list[Evidence]
    reviews: list[ReviewEntry]
    rules: Rules


def review_queue(
    session: Session,
    grants: Grants,
    *,
    project_id: uuid.UUID | None = None,
    learner_id: uuid.UUID | None = None,
    framework_id: uuid.UUID | None = None,
    state: str = "pending",
    page: int = 1,
    per_page: int = 20,
) -> Page[QueueItem]:
    """Claims of the projects the caller tutors, oldest first, each with what is needed to decide.

    A fixed number of queries per page, however long the queue.
    """
    stmt = queue_statement(
        session, grants, project_id=project_id, learner_id=learner_id, framework_id=framework_id, state=state
    )
    result = paginate(session, stmt, page, per_page)
    return Page(queue_items(session, grants, result.items), result.total, result.page, result.per_page)


def queue_statement(
    session: Session,
    grants: Grants,
    *,
    project_id: uuid.UUID | None = None,
    learner_id: uuid.UUID | None = None,
    framework_id: uuid.UUID | None = None,
    state: str = "pending",
) -> Select[Claim]:
    """The claims of :func:`review_queue`, oldest first, as a statement (the pages page through it too)."""
    me = grants.person_id
    stmt = select(Claim).where(Claim.status == ClaimStatus(state)).order_by(Claim.created_at, Claim.id)
    if project_id:
        project = access.get_project(session, grants, project_id)
        if not access.can_tutor(grants, project):
            raise PermissionDenied("You do not tutor this project.")
        stmt = stmt.where(Claim.project_id == project_id)
    elif not grants.platform_admin:
        stmt = stmt.where(Claim.project_id.in_(grants.tutor_of))
    if learner_id:
        stmt = stmt.where(Claim.learner_id == learner_id)
    if framework_id:
        stmt = stmt.where(Claim.competency_id.in_(select(Competency.id).where(Competency.framework_id == framework_id)))
    if state == "pending":
        # What waits for this tutor: not their own claims, nor those they validated first.
        stmt = stmt.where(Claim.learner_id != me, or_(Claim.first_reviewer_id.is_(None), Claim.first_reviewer_id != me))
    return stmt


def _by_id(session: Session, model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}


def queue_items(session: Session, grants: Grants, page: list[Claim]) -> list[QueueItem]:
    """Queue items for these claims (already checked visible), with evidence, history and rules."""
    if not page:
        return []
    competencies = _by_id(session, Competency, {c.competency_id for c in page})
    frameworks = _by_id(session, Framework, {c.framework_id for c in competencies.values()})
    contributions = _by_id(session, Contribution, {c.contribution_id for c in page})
    projects = _by_id(session, Project, {c.project_id for c in page})
    learners = _by_id(session, Person, {c.learner_id for c in page})
    shown: dict[uuid.UUID, list[Evidence]] = {}
    for item in session.scalars(
        select(Evidence).where(Evidence.contribution_id.in_(contributions)).order_by(Evidence.created_at, Evidence.id)
    ):
        contribution = contributions[item.contribution_id]
        if evidence.can_read(grants, item, contribution, projects[contribution.project_id]):
            shown.setdefault(item.contribution_id, []).append(item)
    # Every review of these learners on these competencies: several tutors' observations together,
    # but only those given in the territories the caller serves (another's comments stay there).
    me = grants.person_id
    history_stmt = (
        select(Review, Claim.competency_id, Claim.learner_id)
        .join(Claim, Claim.id == Review.claim_id)
        .where(Claim.learner_id.in_(learners), Claim.competency_id.in_(competencies))
        .order_by(Review.created_at, Review.id)
    )
    served = access.served_territory_ids(session, grants)
    if served is not None:
        history_stmt = history_stmt.where(
            (Claim.learner_id == me) | Claim.project_id.in_(select(Project.id).where(Project.territory_id.in_(served)))
        )
    rows = session.execute(history_stmt).all()
    wanted = {(c.learner_id, c.competency_id) for c in page}
    kept = [(r, comp, learner) for r, comp, learner in rows if (learner, comp) in wanted]
    entries = review_entries(session, [(r, comp) for r, comp, _l in kept])
    history: dict[tuple[uuid.UUID, uuid.UUID], list[ReviewEntry]] = {}
    for entry, (_r, comp, learner) in zip(entries, kept, strict=False):
        history.setdefault((learner, comp), []).append(entry)
    rules = rules_for(
        session,
        {(frameworks[competencies[c.competency_id].framework_id], projects[c.project_id].territory_id) for c in page},
    )
    items = []
    for claim in page:
        competency = competencies[claim.competency_id]
        framework = frameworks[competency.framework_id]
        project = projects[claim.project_id]
        items.append(
            QueueItem(
                claim=claim,
                stage=claims.stage(claim),
                can_decide=(
                    claim.status is ClaimStatus.PENDING
                    and claim.learner_id != me
                    and claim.first_reviewer_id != me
                    and not grants.actor.acting_for
                    and access.can_tutor(grants, project)
                ),
                competency=competency,
                framework=framework,
                learner=learners[claim.learner_id],
                contribution=contributions[claim.contribution_id],
                project=project,
                evidence=shown.get(claim.contribution_id, []),
                reviews=history.get((claim.learner_id, claim.competency_id), []),
                rules=rules[(framework.id, project.territory_id)],
            )
        )
    return items
