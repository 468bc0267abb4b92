"""Claims, tutor reviews, derived standings and the domain-event outbox."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow
from app.models._types import enum_column


class ClaimStatus(str, enum.Enum):
    PENDING = "pending"
    NEEDS_EVIDENCE = "needs_evidence"
    VALIDATED = "validated"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Decision(str, enum.Enum):
    VALIDATED = "validated"
    REJECTED = "rejected"
    NEEDS_EVIDENCE = "needs_evidence"


class Claim(Base):
    """A learner's claim that a contribution shows a competency; edits append ClaimRevisions."""

    __tablename__ = "claims"
    # The tutor queue: pending claims of a few projects, oldest first.
    __table_args__ = (
        Index("ix_claims_queue", "status", "project_id", "created_at"),
        # The tutor's queue read off the index alone: its count, and its filters' options (the
        # learners and the frameworks of the competencies with claims waiting in each project).
        Index("ix_claims_waiting", "status", "project_id", "learner_id", "first_reviewer_id", "competency_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contribution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contributions.id"), index=True)
    # Copied from the contribution (whose project never changes) so the queue needs no join.
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    competency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("competencies.id"), index=True)
    learner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    justification: Mapped[str] = mapped_column(Text)
    self_assessment: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus), default=ClaimStatus.PENDING, index=True)
    # Each return to the queue after needs_evidence starts a new round of review.
    round: Mapped[int] = mapped_column(Integer, default=1)
    # Under the second-review rule: the tutor whose validation awaits a second, distinct tutor.
    first_reviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    level: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ClaimRevision(Base):
    """One state of a claim's text as the learner wrote it; never changed, only appended."""

    __tablename__ = "claim_revisions"
    __table_args__ = (UniqueConstraint("claim_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claims.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # created, edited, resubmitted
    justification: Mapped[str] = mapped_column(Text)
    self_assessment: Mapped[str | None] = mapped_column(String(64))
    explanation: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Base):
    """A tutor's decision on a claim. Never edited: a new decision is a new row."""

    __tablename__ = "reviews"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claims.id"), index=True)
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    decision: Mapped[Decision] = mapped_column(enum_column(Decision))
    level: Mapped[str | None] = mapped_column(String(64))
    # The level's position and proficiency on the scale in force when decided, kept so
    # standings compare levels without re-reading a scale that may since have changed.
    level_rank: Mapped[int | None] = mapped_column(Integer)
    proficient: Mapped[bool | None] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text)
    round: Mapped[int] = mapped_column(Integer, default=1)
    # False for a first validation still awaiting the second tutor: it does not count yet.
    final: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Standing(Base):
    """The learner's current standing on one competency, derived from all reviews."""

    __tablename__ = "standings"
    __table_args__ = (UniqueConstraint("learner_id", "competency_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    learner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    competency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("competencies.id"), index=True)
    level: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    proficient: Mapped[bool] = mapped_column(default=False)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    review_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reviews.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReviewSettings(Base):
    """A territory's own review rules: its rating scale and the second-review rule."""

    __tablename__ = "review_settings"

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territories.id"), primary_key=True)
    rating_scale_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rating_scales.id"))
    requires_second_review: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DomainEvent(Base):
    """Outbox of domain events (e.g. standing changed) written in the same transaction."""

    __tablename__ = "domain_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(index=True)
