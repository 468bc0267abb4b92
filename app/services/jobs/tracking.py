"""Job records: submit, claim (one worker), succeed in the work's transaction, fail, reap, read.

State changes are conditional updates (``WHERE state = …``): two workers handed the same message
cannot both run it, and a job reaped as failed while its work was still going cannot then be
marked succeeded (the worker rolls its work back instead). Progress and heartbeat while a job
runs come from the queue's storage through a :class:`LiveReader` (see ``app.worker``), because a
SQLite work transaction holds the write lock and no other connection could update the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from babel.numbers import format_decimal
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Job, JobState
from app.platform.errors import FieldError, NotFound, PermissionDenied, ServiceError
from app.platform.i18n import translator
from app.services.identity.access import Grants, require_login

KINDS = ("framework_import", "bulk_award", "dossier_generation")

INTERRUPTED = "job_error_interrupted"
LOST = "job_error_lost"
REQUEUED = "job_step_requeued"


class Refused(PermissionDenied):
    """A refusal a job reports in words of its own (``job_key``, a catalogue key), not the generic one."""

    def __init__(self, detail: str, *, job_key: str) -> None:
        super().__init__(detail)
        self.job_key = job_key


@dataclass(frozen=True)
class Live:
    """What a running job's worker last reported, from the queue's storage."""

    heartbeat: datetime
    done: int = 0
    total: int | None = None
    step_key: str | None = None
    step_values: dict[str, Any] = field(default_factory=dict)


class LiveReader(Protocol):
    def read(self, job_id: uuid.UUID) -> Live | None: ...


class _NoLive:
    def read(self, job_id: uuid.UUID) -> Live | None:
        return None


def submit(
    session: Session, grants: Grants, kind: str, params: dict[str, Any], *, clock: Callable[[], datetime] = utcnow
) -> Job:
    """Record a queued job for the caller (flushed; the caller commits, then enqueues its id)."""
    require_login(grants)
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    actor = grants.actor
    job = Job(
        id=uuid.uuid4(),
        kind=kind,
        started_by_id=actor.author_id,
        acting_for_id=actor.acting_for,
        state=JobState.QUEUED,
        params=params,
        progress_done=0,
        step_key="job_step_queued",
        step_values={},
        created_at=clock(),
        attempts=0,
    )
    session.add(job)
    session.flush()
    return job


def claim(session: Session, job_id: uuid.UUID, *, clock: Callable[[], datetime] = utcnow) -> Job | None:
    """Take a queued job for this worker: running, started now. None when it is not queued any more."""
    now = clock()
    taken = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, started_at=now, heartbeat_at=now, attempts=Job.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if taken != 1:
        return None
    return session.get(Job, job_id, populate_existing=True)


def succeed(
    session: Session,
    job_id: uuid.UUID,
    result: dict[str, Any],
    *,
    done: int,
    total: int | None,
    clock: Callable[[], datetime] = utcnow,
) -> bool:
    """Mark the job succeeded in the work's own transaction; False if it is no longer running (reaped)."""
    now = clock()
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING)
        .values(
            state=JobState.SUCCEEDED,
            result=result,
            error=None,
            progress_done=done,
            progress_total=total,
            step_key="job_step_done",
            step_values={},
            finished_at=now,
            heartbeat_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return changed == 1


def job_error(
    key: str, *, detail: str | None = None, errors: Sequence[FieldError] = (), **values: Any
) -> dict[str, Any]:
    """An error as stored: its catalogue key and values, and the service's own detail if any."""
    return {
        "key": key,
        "values": values,
        "detail": detail,
        "errors": [{"pointer": e.pointer, "detail": e.detail} for e in errors][:100],
    }


def error_of(exc: BaseException) -> dict[str, Any]:
    """The stored error for what stopped a job's work."""
    if isinstance(exc, ServiceError):
        name = type(exc).__name__
        key = {
            "NotFound": "job_error_not_found",
            "PermissionDenied": "job_error_refused",
            "Unauthenticated": "job_error_refused",
            "Conflict": "job_error_conflict",
        }.get(name, "job_error_invalid")
        key = getattr(exc, "job_key", None) or key
        return job_error(key, detail=exc.detail, errors=exc.errors)
    return job_error("job_error_internal", detail=type(exc).__name__)


def fail(
    session: Session,
    job_id: uuid.UUID,
    error: dict[str, Any],
    *,
    done: int | None = None,
    total: int | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> bool:
    """Mark a queued or running job failed with ``error`` (flushed; the caller commits)."""
    now = clock()
    values: dict[str, Any] = {"state": JobState.FAILED, "error": error, "finished_at": now, "step_key": None}
    if done is not None:
        values["progress_done"] = done
    if total is not None:
        values["progress_total"] = total
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_((JobState.QUEUED, JobState.RUNNING)))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return changed == 1


def _last_beat(job: Job, live: Live | None) -> datetime | None:
    beats = [b for b in (job.heartbeat_at, live.heartbeat if live else None) if b is not None]
    return max(beats) if beats else None


def is_stale(job: Job, live: Live | None, *, now: datetime, timeout: float) -> bool:
    """A running job whose worker has not been heard of for ``timeout`` seconds."""
    if job.state is not JobState.RUNNING:
        return False
    beat = _last_beat(job, live)
    return beat is None or now - beat > timedelta(seconds=timeout)


def reap(
    session: Session, live: LiveReader, *, timeout: float, clock: Callable[[], datetime] = utcnow
) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """Mark failed every running job whose heartbeat is older than ``timeout`` s (flushed; caller commits).

    Its worker died (``kill -9``, a lost machine): its work's transaction was never committed, so
    nothing of it is in the database; the job says so and can be started again. Returns the
    reaped jobs' ids and parameters (their input files can go).
    """
    now = clock()
    cutoff = now - timedelta(seconds=timeout)
    reaped: list[tuple[uuid.UUID, dict[str, Any]]] = []
    for job in session.scalars(
        select(Job).where(Job.state == JobState.RUNNING, Job.heartbeat_at < cutoff).order_by(Job.created_at)
    ):
        if not is_stale(job, live.read(job.id), now=now, timeout=timeout):
            continue
        if fail(session, job.id, job_error(INTERRUPTED, seconds=int(timeout)), clock=clock):
            reaped.append((job.id, dict(job.params or {})))
    return reaped


@dataclass
class Lost:
    """Queued jobs whose queue message is gone: to enqueue again, and those failed for good."""

    requeue: list[uuid.UUID] = field(default_factory=list)
    failed: list[tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=list)


def recover_lost(
    session: Session, waiting: set[uuid.UUID], *, timeout: float, clock: Callable[[], datetime] = utcnow
) -> Lost:
    """Deal with queued jobs whose message is no longer in the queue (flushed; caller commits).

    ``waiting`` holds the ids of the messages the queue still has. A job queued for more than
    ``timeout`` seconds without a message (Redis flushed or lost without persistence, the SQLite
    queue file deleted, a worker killed between taking the message and claiming the job) would
    otherwise stay queued forever. It is **enqueued again once**: ``heartbeat_at``, never set on
    a queued job otherwise, records when, and the step says so. If it is still queued without a
    message ``timeout`` seconds after that, it is marked failed with :data:`LOST` in words. The
    caller enqueues ``requeue`` after its commit; a second message for a job a worker took
    meanwhile is harmless (the claim finds it no longer queued).
    """
    now = clock()
    cutoff = now - timedelta(seconds=timeout)
    lost = Lost()
    stuck = session.execute(
        select(Job.id, Job.heartbeat_at, Job.params)
        .where(Job.state == JobState.QUEUED, Job.created_at < cutoff)
        .order_by(Job.created_at)
    ).all()
    for job_id, requeued_at, params in stuck:
        if job_id in waiting:
            continue
        still_queued = (Job.id == job_id, Job.state == JobState.QUEUED)
        if requeued_at is None:
            changed = session.execute(
                update(Job)
                .where(*still_queued, Job.heartbeat_at.is_(None))
                .values(heartbeat_at=now, step_key=REQUEUED, step_values={})
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if changed == 1:
                lost.requeue.append(job_id)
        elif requeued_at < cutoff:
            changed = session.execute(
                update(Job)
                .where(*still_queued)
                .values(
                    state=JobState.FAILED,
                    error=job_error(LOST, seconds=int(timeout)),
                    finished_at=now,
                    step_key=None,
                    step_values={},
                )
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if changed == 1:
                lost.failed.append((job_id, dict(params or {})))
    return lost


def get_job(session: Session, grants: Grants, job_id: uuid.UUID) -> Job:
    """A job its starter or a platform administrator may see; anyone else is told it does not exist."""
    person_id = require_login(grants)
    job = session.get(Job, job_id)
    author = grants.actor.author_id or person_id
    if job is None or not (grants.platform_admin or job.started_by_id == author):
        raise NotFound("Job not found.")
    return job


def list_jobs(session: Session, grants: Grants, *, page: int = 1, per_page: int = 20) -> tuple[list[Job], int]:
    """The caller's own jobs, newest first."""
    from sqlalchemy import func

    person_id = require_login(grants)
    author = grants.actor.author_id or person_id
    where = Job.started_by_id == author
    total = session.scalar(select(func.count()).select_from(Job).where(where)) or 0
    rows = session.scalars(
        select(Job).where(where).order_by(Job.created_at.desc(), Job.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def _words(key: str | None, values: dict[str, Any], lang: str) -> str | None:
    if not key:
        return None
    shown = {k: format_decimal(v, locale=lang) if isinstance(v, int) else v for k, v in values.items()}
    return translator(lang)(key, **shown)


def view(
    job: Job, live: LiveReader | None = None, *, now: datetime | None = None, timeout: float = 60.0
) -> dict[str, Any]:
    """What a reader is told of a job, progress and outcome in French and English.

    A running job whose heartbeat is stale is shown failed (interrupted) even before a reaper has
    recorded it, so nobody waits on a job that will never end.
    """
    now = now or utcnow()
    current = (live or _NoLive()).read(job.id) if job.state is JobState.RUNNING else None
    state, error = job.state.value, job.error
    done, total = job.progress_done, job.progress_total
    step_key, step_values = job.step_key, job.step_values or {}
    if current is not None:
        done, total, step_key, step_values = current.done, current.total, current.step_key, current.step_values
    if is_stale(job, current, now=now, timeout=timeout):
        state, error, step_key, step_values = "failed", job_error(INTERRUPTED, seconds=int(timeout)), None, {}
    shown_error = None
    if error:
        shown_error = {
            **error,
            "fr": _words(error.get("key"), error.get("values") or {}, "fr"),
            "en": _words(error.get("key"), error.get("values") or {}, "en"),
        }
    return {
        "id": job.id,
        "kind": job.kind,
        "kind_fr": _words(f"job_kind_{job.kind}", {}, "fr"),
        "kind_en": _words(f"job_kind_{job.kind}", {}, "en"),
        "state": state,
        "started_by": job.started_by_id,
        "acting_for": job.acting_for_id,
        "progress": {
            "done": done,
            "total": total,
            "step_key": step_key,
            "step_values": step_values if step_key else {},
            "step_fr": _words(step_key, step_values, "fr"),
            "step_en": _words(step_key, step_values, "en"),
        },
        "result": job.result,
        "error": shown_error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "heartbeat_at": _last_beat(job, current),
    }
