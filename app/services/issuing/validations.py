"""Who validated the competencies behind an award, as the award records it.

For each competency, the validation that counts (the claim validated at the highest level, the
latest on a tie): the tutor who decided it (and the first tutor when a second review was the
rule), their role, the date and the level with its label on the scale in force. Kept in the
credential's ``award_data`` when it is awarded, so its public page keeps showing what the badge
proves even if a claim, a scale or a name changes later. Names only: never an e-mail address,
never the tutor's comment (it may speak of the learner).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Claim,
    ClaimStatus,
    Competency,
    Decision,
    Framework,
    Membership,
    Person,
    Project,
    Review,
    Role,
    ScopeType,
)
from app.services.issuing import award_scope
from app.services.recognition.scales import rules_for

TUTOR, PLATFORM_ADMIN = "tutor", "platform_admin"


def _deciding(reviews: list[Review]) -> list[Review] | None:
    """The reviews that validated a claim, deciding one last, when its latest final decision is a validation."""
    final = [r for r in reviews if r.final]
    if not final:
        return None
    last = max(final, key=lambda r: (r.created_at, str(r.id)))
    if last.decision is not Decision.VALIDATED:
        return None
    first = [
        r
        for r in reviews
        if not r.final
        and r.decision is Decision.VALIDATED
        and r.round == last.round
        and r.created_at <= last.created_at
    ]
    return [*first[-1:], last]


def _weight(review: Review) -> tuple[int, datetime]:
    """Higher level first, then the latest."""
    return (-1 if review.level_rank is None else review.level_rank, review.created_at)


def validations(
    session: Session,
    learner_id: uuid.UUID,
    competency_ids: Iterable[uuid.UUID],
    *,
    territories: set[uuid.UUID] | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """One entry per competency the learner has validated (among ``competency_ids``), as JSON values.

    ``territories``: only claims made in those territories' projects. ``until``: only reviews
    given by then (an award recorded before validations were kept, read as of its date); without
    it, only claims validated now.
    """
    ids = list(dict.fromkeys(competency_ids))
    if not ids:
        return []
    claims_stmt = select(Claim).where(Claim.learner_id == learner_id, Claim.competency_id.in_(ids))
    if until is None:
        claims_stmt = claims_stmt.where(Claim.status == ClaimStatus.VALIDATED)
    if territories is not None:
        claims_stmt = claims_stmt.where(Claim.project_id.in_(award_scope.projects_in(territories)))
    claims = {c.id: c for c in session.scalars(claims_stmt)}
    if not claims:
        return []
    reviews_stmt = select(Review).where(Review.claim_id.in_(list(claims))).order_by(Review.created_at, Review.id)
    if until is not None:
        reviews_stmt = reviews_stmt.where(Review.created_at <= until)
    by_claim: dict[uuid.UUID, list[Review]] = {}
    for review in session.scalars(reviews_stmt):
        by_claim.setdefault(review.claim_id, []).append(review)

    best: dict[uuid.UUID, tuple[Claim, list[Review]]] = {}
    for claim_id, reviews in by_claim.items():
        deciding = _deciding(reviews)
        if deciding is None:
            continue
        claim, last = claims[claim_id], deciding[-1]
        held = best.get(claim.competency_id)
        if held is None or _weight(last) > _weight(held[1][-1]):
            best[claim.competency_id] = (claim, deciding)
    if not best:
        return []

    chosen = list(best.values())
    reviewer_ids = {r.reviewer_id for _c, rs in chosen for r in rs}
    project_ids = {c.project_id for c, _rs in chosen}
    names = dict(session.execute(select(Person.id, Person.display_name).where(Person.id.in_(reviewer_ids))).all())
    projects = {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(project_ids)))}
    competencies = {
        c.id: (c, f)
        for c, f in session.execute(
            select(Competency, Framework)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(Competency.id.in_(list(best)))
        )
    }
    tutors, admins = set(), set()
    for person_id, held_role, scope_id in session.execute(
        select(Membership.person_id, Membership.role, Membership.scope_id).where(
            Membership.person_id.in_(reviewer_ids),
            ((Membership.role == Role.TUTOR) & (Membership.scope_type == ScopeType.PROJECT))
            | (Membership.role == Role.PLATFORM_ADMIN),
        )
    ):
        if held_role is Role.TUTOR:
            tutors.add((person_id, scope_id))
        else:
            admins.add(person_id)
    rules = rules_for(
        session,
        {
            (competencies[c.competency_id][1], projects[c.project_id].territory_id)
            for c, _rs in chosen
            if c.competency_id in competencies and c.project_id in projects
        },
    )

    def role_of(person_id: uuid.UUID, project_id: uuid.UUID) -> str:
        # Only a project's tutors and platform admins decide; one no longer tutor was one then.
        return PLATFORM_ADMIN if person_id in admins and (person_id, project_id) not in tutors else TUTOR

    out: list[dict[str, Any]] = []
    for competency_id in ids:
        if competency_id not in best or competency_id not in competencies:
            continue
        claim, deciding = best[competency_id]
        competency, framework = competencies[competency_id]
        project = projects.get(claim.project_id)
        last = deciding[-1]
        scale = rules[(framework.id, project.territory_id)].scale if project else None
        level = scale.get(last.level) if scale else None
        out.append(
            {
                "competency": str(competency_id),
                "code": competency.code,
                "label": competency.label,
                "framework": framework.title,
                "project": project.title if project else None,
                "date": last.created_at.isoformat(),
                "level": last.level,
                "levelLabel": {"fr": level.label_fr, "en": level.label_en} if level else None,
                "by": [
                    {"name": names.get(r.reviewer_id, ""), "role": role_of(r.reviewer_id, claim.project_id)}
                    for r in deciding
                ],
            }
        )
    return out
