"""Contributions, their co-contributors and evidence; content-addressed stored files."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, new_id, utcnow
from app.models._types import enum_column


class ContributionStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class EvidenceKind(str, enum.Enum):
    FILE = "file"
    LINK = "link"
    TEXT = "text"


class Visibility(str, enum.Enum):
    PRIVATE = "private"
    TUTORS = "tutors"
    JURY = "jury"
    PUBLIC = "public"


class StoredFile(Base):
    """A file in storage, named by the SHA-256 of its bytes."""

    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # Computed on upload, so that a ZIP can take the file as it is (None: uploaded before it was kept).
    crc32: Mapped[int | None] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contribution(Base):
    __tablename__ = "contributions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    learner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    narrative: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(200), default="")
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    status: Mapped[ContributionStatus] = mapped_column(
        enum_column(ContributionStatus), default=ContributionStatus.DRAFT
    )
    submitted_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    co_contributors: Mapped[list[CoContributor]] = relationship(
        cascade="all, delete-orphan", order_by="CoContributor.position"
    )
    evidence: Mapped[list[Evidence]] = relationship(back_populates="contribution", order_by="Evidence.created_at")

    __mapper_args__ = {"version_id_col": version}
    # Lists are newest first; this index lets a page stop after LIMIT rows instead of sorting all.
    __table_args__ = (Index("ix_contributions_created_at_id", "created_at", "id"),)


class CoContributor(Base):
    """Someone who took part: an account, or only a name (many neighbours have none)."""

    __tablename__ = "co_contributors"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contribution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contributions.id"), index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contribution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contributions.id"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(enum_column(EvidenceKind))
    title: Mapped[str] = mapped_column(String(200))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.TUTORS)
    url: Mapped[str | None] = mapped_column(String(2000))
    text: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    # Shown to people only; never used to build a path.
    filename: Mapped[str | None] = mapped_column(String(255))
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    contribution: Mapped[Contribution] = relationship(back_populates="evidence")

    __mapper_args__ = {"version_id_col": version}
