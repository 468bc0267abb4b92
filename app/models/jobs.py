"""Background jobs: long work (framework imports, bulk awards, dossiers) run by a queue worker."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow
from app.models._types import enum_column


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(Base):
    """One piece of long work: who asked for it, what it is, how far it went, how it ended.

    The worker writes ``succeeded`` and the result in the work's own transaction, so a job is
    succeeded exactly when its work is committed. While it runs, its progress and heartbeat are
    also kept live in the queue's storage (a SQLite work transaction holds the database's write
    lock); the row has the values of its start and of its end.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_heartbeat_at", "state", "heartbeat_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40))
    # The person at the keyboard, and the assisted learner they acted for (if any).
    started_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), index=True)
    acting_for_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.QUEUED)
    # What the work needs: ids, options and the storage digests of uploaded files (never the bytes).
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    # The current step in words: a catalogue key and its values (shown in French or English).
    step_key: Mapped[str | None] = mapped_column(String(80))
    step_values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None]
    # {"key": catalogue key, "values": {...}, "detail": the service's own words, "errors": [...]}
    error: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
