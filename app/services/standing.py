"""Standings: a learner's current level on each competency, derived from every final review.

The standing is the highest level any tutor validated (the latest one on a tie), so a later,
narrower observation elsewhere never takes away what was shown; every review stays visible
beside it. Each change writes a ``standing.changed`` domain event in the same transaction, for
the awarding rules to consume.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import (Claim, ClaimStatus, Competency, Contribution, Decision, DomainEvent, Evidence, Framework,
                        Person, Project, Review, Standing)
from app.services import access, evidence
from app.services.access import Grants
from app.services.claims import ReviewEntry, review_entries
from app.services.errors import Conflict, NotFound
from app.services.pagination import Page, paginate

STANDING_CHANGED = "standing.changed"


def _rank(review: Review) -> tuple[bool, int]:
    return bool(review.proficient), review.level_rank if review.level_rank is not None else -1


def recompute_standing(session: Session, claim: Claim, latest: Review, *, framework_id: uuid.UUID,
                       clock: Callable[[], datetime] = utcnow) -> Standing:
    """Derive the standing of the claim's learner on its competency; record a change as an event."""
    rows = list(session.scalars(
        select(Review).join(Claim, Claim.id == Review.claim_id)
        .where(Claim.learner_id == claim.learner_id, Claim.competency_id == claim.competency_id,
               Review.final.is_(True), Review.id != latest.id)
        .order_by(Review.created_at, Review.id)))
    rows.append(latest)  # the decision being taken is the newest, whatever the clock says
    best: Review | None = None
    for review in rows:
        if review.decision is Decision.VALIDATED and (best is None or _rank(review) >= _rank(best)):
            best = review
    chosen = best or rows[-1]
    state = Decision.VALIDATED.value if best else chosen.decision.value
    level = best.level if best else None
    proficient = bool(best and best.proficient)

    standing = session.scalar(select(Standing).where(Standing.learner_id == claim.learner_id,
                                                     Standing.competency_id == claim.competency_id))
    before = (standing.level, standing.state, standing.proficient) if standing else None
    if standing is None:
        standing = Standing(learner_id=claim.learner_id, competency_id=claim.competency_id, state=state)
        try:
            with session.begin_nested():
                session.add(standing)
        except IntegrityError:
            raise Conflict("Another decision on this competency was recorded at the same moment; "
                           "try again.") from None
    standing.level, standing.state, standing.proficient = level, state, proficient
    standing.decided_at, standing.decided_by_id, standing.review_id = (
        chosen.created_at, chosen.reviewer_id, chosen.id)
    standing.updated_at = clock()
    session.flush()
    if before != (level, state, proficient):
        session.add(DomainEvent(kind=STANDING_CHANGED, created_at=clock(), payload={
            "learner": str(claim.learner_id), "competency": str(claim.competency_id),
            "framework": str(framework_id), "standing": str(standing.id), "review": str(chosen.id),
            "level": level, "proficient": proficient, "state": state,
            "previous": None if before is None else {"level": before[0], "state": before[1],
                                                     "proficient": before[2]}}))
        session.flush()
    return standing


def check_can_view_learner(session: Session, grants: Grants, learner_id: uuid.UUID) -> None:
    """The learner, platform admins, and tutors or coordinators of a project they claimed in."""
    access.require_login(grants)
    if learner_id == grants.actor.id or grants.platform_admin:
        if session.get(Person, learner_id) is None:
            raise NotFound("Learner not found.")
        return
    followed = select(Project.id).where(
        Project.territory_id.in_(grants.coordinator_of) | Project.id.in_(grants.tutor_of))
    if not session.scalar(select(exists().where(Claim.learner_id == learner_id,
                                                Claim.project_id.in_(followed)))):
        raise NotFound("Learner not found.")


@dataclass
class StandingEntry:
    competency_id: uuid.UUID
    framework_id: uuid.UUID
    code: str | None
    label: str
    level: str | None
    state: str
    proficient: bool
    decided_at: datetime | None
    decided_by_id: uuid.UUID | None
    review_id: uuid.UUID | None


def list_standings(session: Session, grants: Grants, learner_id: uuid.UUID, *,
                   framework_id: uuid.UUID | None = None, proficient: bool | None = None,
                   page: int = 1, per_page: int = 20) -> Page[StandingEntry]:
    """A learner's standings as a flat list, by framework and code."""
    check_can_view_learner(session, grants, learner_id)
    stmt = (select(Standing, Competency).join(Competency, Competency.id == Standing.competency_id)
            .where(Standing.learner_id == learner_id)
            .order_by(Competency.framework_id, Competency.code, Competency.id))
    if framework_id:
        stmt = stmt.where(Competency.framework_id == framework_id)
    if proficient is not None:
        stmt = stmt.where(Standing.proficient.is_(proficient))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = [StandingEntry(c.id, c.framework_id, c.code, c.label, s.level, s.state, s.proficient, s.decided_at,
                           s.decided_by_id, s.review_id) for s, c in rows]
    return Page(items, total, page, per_page)


@dataclass
class EvidenceRef:
    id: uuid.UUID
    contribution_id: uuid.UUID
    kind: str
    title: str


@dataclass
class Node:
    id: uuid.UUID
    code: str | None
    label: str
    kind: str
    standing: Any = None  # a row of the standing's columns
    reviews: list[ReviewEntry] = field(default_factory=list)
    evidence: list[EvidenceRef] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    position: int = 0


@dataclass
class FrameworkTree:
    id: uuid.UUID
    title: str
    source_type: str
    version: int
    version_label: str | None
    nodes: list[Node]


@dataclass
class Portfolio:
    learner_id: uuid.UUID
    standings: int
    frameworks: list[FrameworkTree]


def portfolio(session: Session, grants: Grants, learner_id: uuid.UUID, *,
              framework_id: uuid.UUID | None = None) -> Portfolio:
    """The framework trees of the competencies the learner has standings in, with the reviews
    and the evidence (as the caller may see it) behind each validated node.

    A fixed number of queries whatever the size: the ancestors come from one recursive query.
    """
    check_can_view_learner(session, grants, learner_id)
    # Plain rows, not ORM objects: thousands of them are read and only serialised.
    stmt = select(Standing.competency_id, Standing.level, Standing.state, Standing.proficient, Standing.decided_at,
                  Standing.decided_by_id, Standing.review_id).where(Standing.learner_id == learner_id)
    if framework_id:
        stmt = stmt.join(Competency, Competency.id == Standing.competency_id).where(
            Competency.framework_id == framework_id)
    standings = {row.competency_id: row for row in session.execute(stmt)}
    if not standings:
        return Portfolio(learner_id, 0, [])

    held = select(Standing.competency_id).where(Standing.learner_id == learner_id)
    tree = select(Competency.id, Competency.parent_id).where(Competency.id.in_(held)).cte("tree", recursive=True)
    tree = tree.union(select(Competency.id, Competency.parent_id).join(tree, Competency.id == tree.c.parent_id))
    competencies = list(session.execute(
        select(Competency.id, Competency.parent_id, Competency.framework_id, Competency.code, Competency.label,
               Competency.kind, Competency.position).where(Competency.id.in_(select(tree.c.id)))))
    framework_ids = {c.framework_id for c in competencies}
    if framework_id:
        framework_ids &= {framework_id}
    frameworks = list(session.scalars(select(Framework).where(Framework.id.in_(framework_ids))
                                      .order_by(Framework.title, Framework.id)))

    validated = [(cl_id, comp_id, contrib_id) for cl_id, comp_id, contrib_id in session.execute(
        select(Claim.id, Claim.competency_id, Claim.contribution_id)
        .where(Claim.learner_id == learner_id, Claim.status == ClaimStatus.VALIDATED))]
    review_rows = [(row, row.competency_id) for row in session.execute(
        select(Review.id, Review.claim_id, Review.reviewer_id, Review.decision, Review.level, Review.proficient,
               Review.comment, Review.round, Review.final, Review.created_at, Claim.competency_id)
        .join(Claim, Claim.id == Review.claim_id)
        .where(Claim.learner_id == learner_id).order_by(Review.created_at, Review.id))]
    evidence_by_contribution = _visible_evidence(session, grants, learner_id)

    nodes = {c.id: Node(c.id, c.code, c.label, c.kind, standings.get(c.id), position=c.position)
             for c in competencies}
    for entry in review_entries(session, review_rows):
        if entry.competency_id in nodes:
            nodes[entry.competency_id].reviews.append(entry)
    for _claim_id, competency_id, contribution_id in validated:
        node = nodes.get(competency_id)
        if node is not None:
            known = {e.id for e in node.evidence}
            node.evidence.extend(e for e in evidence_by_contribution.get(contribution_id, []) if e.id not in known)
    roots: dict[uuid.UUID, list[Node]] = {f: [] for f in framework_ids}
    for c in competencies:
        if c.framework_id not in roots:
            continue
        if c.parent_id in nodes:
            nodes[c.parent_id].children.append(nodes[c.id])
        else:
            roots[c.framework_id].append(nodes[c.id])
    for node in nodes.values():
        node.children.sort(key=_order)
    return Portfolio(learner_id, len(standings), [
        FrameworkTree(f.id, f.title, f.source_type.value, f.version, f.version_label,
                      sorted(roots[f.id], key=_order)) for f in frameworks])


def _order(node: Node) -> tuple[int, str, str]:
    return node.position, node.code or "", str(node.id)


def _visible_evidence(session: Session, grants: Grants, learner_id: uuid.UUID) -> dict[uuid.UUID, list[EvidenceRef]]:
    """Evidence of the learner's validated contributions that the caller may read."""
    behind = select(Claim.contribution_id).where(Claim.learner_id == learner_id,
                                                 Claim.status == ClaimStatus.VALIDATED)
    contributions = {c.id: c for c in session.scalars(select(Contribution).where(Contribution.id.in_(behind)))}
    projects = {p.id: p for p in session.scalars(select(Project).where(
        Project.id.in_({c.project_id for c in contributions.values()})))} if contributions else {}
    out: dict[uuid.UUID, list[EvidenceRef]] = {}
    for item in session.scalars(select(Evidence).where(Evidence.contribution_id.in_(behind))
                                .order_by(Evidence.created_at, Evidence.id)):
        contribution = contributions[item.contribution_id]
        if evidence.can_read(grants, item, contribution, projects[contribution.project_id]):
            out.setdefault(item.contribution_id, []).append(
                EvidenceRef(item.id, item.contribution_id, item.kind.value, item.title))
    return out


def pending_events(session: Session, *, limit: int = 100) -> list[DomainEvent]:
    """Unprocessed standing changes, oldest first, for the awarding rules."""
    return list(session.scalars(select(DomainEvent).where(DomainEvent.processed_at.is_(None))
                                .order_by(DomainEvent.id).limit(limit)))
