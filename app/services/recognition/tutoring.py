"""What the tutor's pages read: the review queue with its filters' options, one claim with its
context, and the claim that comes next.

The claims are those of :func:`reviews.review_queue` (same statement, same checks), so a page
never shows a tutor what the API would not.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.models import Claim, Competency, Framework, Person, Project
from app.models.claims import ClaimRevision
from app.platform.errors import PermissionDenied
from app.platform.pagination import Page
from app.services.identity import access
from app.services.identity.access import Grants
from app.services.recognition import claims
from app.services.recognition.claims import ReviewEntry
from app.services.recognition.reviews import QueueItem, queue_items, queue_statement


def require_tutor(grants: Grants) -> None:
    """Only a tutor (in their own name) has a queue; others are refused."""
    access.require_login(grants)
    if grants.actor.acting_for or not (grants.tutor_of or grants.platform_admin):
        raise PermissionDenied("Only the tutors of a project review its claims.")


@dataclass(frozen=True)
class Choice:
    id: uuid.UUID
    label: str


@dataclass(frozen=True)
class QueueChoices:
    """What each filter of the queue offers: the projects, learners and frameworks with claims waiting."""

    projects: list[Choice]
    learners: list[Choice]
    frameworks: list[Choice]


@dataclass(frozen=True)
class TutorQueue:
    """A page of the review queue and its filters' options."""

    page: Page[QueueItem]
    choices: QueueChoices


def tutor_queue(
    session: Session,
    grants: Grants,
    *,
    project_id: uuid.UUID | None = None,
    learner_id: uuid.UUID | None = None,
    framework_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 20,
) -> TutorQueue:
    """The review queue's page (as :func:`reviews.review_queue` gives it) with the filters' options.

    The options are the projects, learners and frameworks that have claims waiting. One grouped
    pass over the waiting claims by project and learner (read off an index, in its order) gives
    those two options and the total under a project or learner filter; the frameworks are those of
    the competencies claimed, found without grouping the claims by them. Only a framework filter
    costs a count of its own.
    """
    require_tutor(grants)
    filtered = queue_statement(
        session, grants, project_id=project_id, learner_id=learner_id, framework_id=framework_id
    )  # checks the project filter as the API does
    waiting = queue_statement(session, grants).order_by(None)
    groups = (
        waiting.with_only_columns(Claim.project_id, Claim.learner_id, func.count().label("n"))
        .group_by(Claim.project_id, Claim.learner_id)
        .subquery()
    )
    rows = session.execute(  # the names joined to the few groups, not to the thousands of claims
        select(groups, Project.title, Person.display_name)
        .join(Project, Project.id == groups.c.project_id)
        .join(Person, Person.id == groups.c.learner_id)
    ).all()
    claimed = waiting.join(Competency, Competency.id == Claim.competency_id).with_only_columns(Competency.framework_id)
    frameworks = session.execute(select(Framework.id, Framework.title).where(Framework.id.in_(claimed))).all()
    if framework_id is None:
        total = sum(
            row.n for row in rows if project_id in (None, row.project_id) and learner_id in (None, row.learner_id)
        )
    else:
        total = session.scalar(select(func.count()).select_from(filtered.order_by(None).subquery())) or 0
    page = max(1, min(page, -(-total // per_page) or 1))  # past the end: the last page
    ids = list(session.scalars(filtered.with_only_columns(Claim.id).limit(per_page).offset((page - 1) * per_page)))
    # The page's claims by their ids alone, in the queue's order: filtering and ordering them again
    # would have SQLite walk the whole queue's index rather than fetch twenty rows.
    found = {c.id: c for c in session.scalars(select(Claim).where(Claim.id.in_(ids)))} if ids else {}
    items = queue_items(session, grants, [found[i] for i in ids if i in found])

    def options(pairs: set[tuple[uuid.UUID, str]]) -> list[Choice]:
        return [Choice(i, label) for i, label in sorted(pairs, key=lambda p: (p[1].casefold(), str(p[0])))]

    choices = QueueChoices(
        options({(r.project_id, r.title) for r in rows}),
        options({(r.learner_id, r.display_name) for r in rows}),
        options({(f.id, f.title) for f in frameworks}),
    )
    return TutorQueue(Page(items, total, page, per_page), choices)


@dataclass
class ClaimToReview:
    """A claim as its page shows it: the queue's item, where the competency sits, the learner's answer."""

    item: QueueItem
    parents: list[Competency]  # the competency's ancestors, root first (fiche, bloc...)
    explanation: str | None  # what the learner wrote when sending the claim back
    first_review: ReviewEntry | None  # the validation waiting for a second tutor

    @property
    def bloc(self) -> Competency | None:
        blocs = [p for p in self.parents if p.kind == "bloc"]
        return blocs[-1] if blocs else (self.parents[-1] if self.parents else None)

    @property
    def decisions(self) -> list[ReviewEntry]:
        """The reviews given on this very claim, oldest first."""
        return [r for r in self.item.reviews if r.claim_id == self.item.claim.id]


def claim_to_review(session: Session, grants: Grants, claim_id: uuid.UUID) -> ClaimToReview:
    """One claim of a project the caller tutors, with everything needed to decide on it."""
    claim = claims.get_claim(session, grants, claim_id)  # what the caller may not see does not exist
    project = session.get(Project, claim.project_id)
    assert project is not None
    if not access.can_tutor(grants, project):
        raise PermissionDenied("Only the project's tutors review its claims.")
    [item] = queue_items(session, grants, [claim])
    parents: list[Competency] = []
    cursor: Competency | None = item.competency
    while cursor is not None and cursor.parent_id is not None and len(parents) < 20:
        cursor = session.get(Competency, cursor.parent_id)
        if cursor is not None:
            parents.insert(0, cursor)
    explanation = None
    if claim.round > 1:
        explanation = session.scalar(
            select(ClaimRevision.explanation)
            .where(ClaimRevision.claim_id == claim.id, ClaimRevision.kind == "resubmitted")
            .order_by(ClaimRevision.number.desc())
            .limit(1)
        )
    first = None
    if claim.first_reviewer_id is not None:
        first = next(
            (r for r in reversed(item.reviews) if r.claim_id == claim.id and not r.final and r.round == claim.round),
            None,
        )
    return ClaimToReview(item, parents, explanation, first)


def next_claim_id(
    session: Session,
    grants: Grants,
    *,
    after: uuid.UUID | None = None,
    project_id: uuid.UUID | None = None,
    learner_id: uuid.UUID | None = None,
    framework_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """The claim that comes after ``after`` in the (filtered) queue, else its first; None when it is empty."""
    stmt = queue_statement(
        session, grants, project_id=project_id, learner_id=learner_id, framework_id=framework_id
    ).with_only_columns(Claim.id)
    current = session.get(Claim, after) if after else None
    if current is not None:
        later = or_(
            Claim.created_at > current.created_at, and_(Claim.created_at == current.created_at, Claim.id > current.id)
        )
        found = session.scalar(stmt.where(later).limit(1))
        if found is not None:
            return found
    return session.scalar(stmt.limit(1))
