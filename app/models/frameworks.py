"""Competency frameworks (versioned), their competencies, associations and rating scales."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow
from app.models._types import enum_column


class SourceType(str, enum.Enum):
    RNCP = "rncp"
    ESCO = "esco"
    CASE = "case"
    CUSTOM = "custom"


class Confidence(str, enum.Enum):
    HIGH = "high"
    LOW = "low"


class RatingScale(Base):
    """An ordered list of levels; ``levels`` = [{code, labelFr, labelEn, proficient}]."""

    __tablename__ = "rating_scales"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    territory_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("territories.id"), index=True)
    levels: Mapped[list[Any]] = mapped_column()
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Framework(Base):
    """One imported version of a framework; re-imports add versions, old ones stay."""

    __tablename__ = "frameworks"
    __table_args__ = (UniqueConstraint("source_type", "source_key", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    source_type: Mapped[SourceType] = mapped_column(enum_column(SourceType))
    # Stable identity across versions (RNCP fiche number, ESCO release, CASE document id...).
    source_key: Mapped[str] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    version_label: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="fr")
    uri: Mapped[str | None] = mapped_column(String(2000))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    territory_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("territories.id"))
    rating_scale_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rating_scales.id"))
    requires_second_review: Mapped[bool] = mapped_column(Boolean, default=False)
    source_filename: Mapped[str | None] = mapped_column(String(255))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    # Hash of this framework's own records: an unchanged re-import adds no version.
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    # Identifier of its CFDocument in the CASE export (stable across versions).
    case_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))


class Competency(Base):
    """A node of a framework tree (fiche, bloc, compétence, skill group, skill, CASE item)."""

    __tablename__ = "competencies"
    __table_args__ = (
        UniqueConstraint("framework_id", "source_key"),
        # parent_id first: it also serves the self-referencing foreign key (deleting a row looks
        # up its children), which would otherwise scan the whole table for every deleted row.
        Index("ix_competencies_parent_framework", "parent_id", "framework_id"),
        # Trigram GIN index for LIKE '%token%' on PostgreSQL (pg_trgm). SQLite has no use for
        # it, so there it is an empty partial index: same name and column on both backends,
        # which keeps the models and the migrations comparable.
        Index(
            "ix_competencies_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            sqlite_where=text("0"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # No index of its own: the (framework_id, source_key) unique constraint leads with it, and
    # every index costs the bulk import a write per row.
    framework_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("frameworks.id"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("competencies.id"))
    source_key: Mapped[str] = mapped_column(String(500))
    # The parent's source key as the file gave it; parent_id is resolved from it after insert.
    parent_key: Mapped[str | None] = mapped_column(String(500))
    # Identifier of its CFItem in the CASE export (stable across versions), so it resolves.
    case_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    uri: Mapped[str | None] = mapped_column(String(2000))
    raw_text: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[Confidence] = mapped_column(enum_column(Confidence), default=Confidence.HIGH)
    language: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Accent- and case-folded label, description and alternative labels, for portable search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The folded label alone, to rank exact and prefix label matches first.
    search_label: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CompetencyAssociation(Base):
    """A non-tree relation; the target may lie outside the package (then only its URI)."""

    __tablename__ = "competency_associations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    framework_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("frameworks.id"), index=True)
    origin_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("competencies.id"), index=True)
    origin_uri: Mapped[str | None] = mapped_column(String(2000))
    # Source keys from the file; ids are resolved from them when both ends are in the framework.
    origin_key: Mapped[str | None] = mapped_column(String(500))
    target_key: Mapped[str | None] = mapped_column(String(500))
    target_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("competencies.id"), index=True)
    target_uri: Mapped[str | None] = mapped_column(String(2000))
    association_type: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
