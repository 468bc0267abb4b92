"""Jury (VAE) evidence dossiers: request, consent, generated archive."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow
from app.models._types import enum_column


class DossierStatus(str, enum.Enum):
    AWAITING_CONSENT = "awaiting_consent"
    CONSENTED = "consented"
    READY = "ready"
    FAILED = "failed"
    REFUSED = "refused"


class Dossier(Base):
    __tablename__ = "dossiers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    learner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    # The RNCP fiche (a competency of kind "fiche" in one framework version).
    certification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("competencies.id"), index=True)
    bloc_ids: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[DossierStatus] = mapped_column(enum_column(DossierStatus))
    consented_at: Mapped[datetime | None]
    # The generated ZIP: its storage key (one per generation), size, and the SHA-256 of its
    # signed manifest, which lists the SHA-256 of every member.
    archive_key: Mapped[str | None] = mapped_column(String(100))
    archive_size: Mapped[int | None] = mapped_column(BigInteger)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    gaps: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    generated_at: Mapped[datetime | None]
