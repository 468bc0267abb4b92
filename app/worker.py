"""The job queue (Huey) and the work of each kind of job: framework import, bulk award, dossier.

One queue per app, built on first use from the settings: SQLite (``<instance>/queue.db``) on the
embedded default, Redis when ``BLASON_QUEUE_URL`` is ``redis://…`` (workers on several machines,
with PostgreSQL and shared storage). A message carries only a job's id; the job's row holds
what the work needs, and uploaded files are read from storage by their digest.

A worker runs a job in three steps: it claims the row (``queued`` → ``running``, committed, so two
workers can never run the same job), does the work in **one** transaction that also marks the row
``succeeded`` (so the job is succeeded exactly when its work is committed), or rolls the work back
and marks the row ``failed`` with the error in words. While it works, a heartbeat thread writes
the job's progress and the time to the queue's storage every few seconds; a job whose heartbeat is
older than ``BLASON_JOB_HEARTBEAT_TIMEOUT`` was abandoned by a dead worker (``kill -9``, a lost
machine) and is marked failed by the next worker to start, by a reaper every minute, and shown
failed to readers at once. Its work was never committed: nothing of it is in the database.

A queued job whose message was lost (Redis flushed or restarted without persistence, the SQLite
queue file deleted) is found by the same reaper: queued for longer than the heartbeat timeout
and absent from the queue, it is **enqueued again once**; if its message is lost again, it is
marked failed with words (``job_error_lost``). See :func:`reap`.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from flask import Flask
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import UnitOfWork, database_of, expect_writes, expecting_writes
from app.platform import mail
from app.platform.errors import NotFound, PermissionDenied, ServiceError
from app.runtime import Runtime, runtime
from app.services import jobs
from app.services.identity.access import Grants, load_grants
from app.services.issuing import oid4vci
from app.services.jobs import Live, tracking

log = logging.getLogger(__name__)

EXTENSION = "blason.queue"
_LIVE_PREFIX = "blason.job."


def build_huey(settings: Settings) -> Huey:
    """The Huey instance the settings name (results are not kept: outcomes are in the jobs table)."""
    url, name = settings.queue_url, settings.queue_name
    if url is None:
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(settings.instance_dir / "queue.db"), results=False, utc=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False, utc=True)
    if url.startswith("sqlite:///"):
        return SqliteHuey(name, filename=url.removeprefix("sqlite:///"), results=False, utc=True)
    if url == "memory:":
        return MemoryHuey(name, results=False, utc=True)
    raise ValueError("BLASON_QUEUE_URL: redis://…, rediss://…, sqlite:///path or memory:")


class Queue:
    """An app's job queue: enqueue a job's id, read and write a running job's live progress."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.huey = build_huey(settings)
        self.timeout = settings.job_heartbeat_timeout
        self._run = self.huey.task(name="blason.run_job")(self._run_message)
        self.huey.periodic_task(crontab(minute="*"), name="blason.reap_jobs")(self._reap_periodically)
        self.huey.periodic_task(crontab(minute="*/10"), name="blason.sweep_wallet_secrets")(self._sweep_wallets)

    def enqueue(self, job_id: uuid.UUID) -> None:
        self._run(str(job_id))

    def waiting(self) -> set[uuid.UUID]:
        """The ids of the jobs whose message the queue holds now (raises if the queue is unreachable)."""
        found: set[uuid.UUID] = set()
        for task in [*self.huey.pending(), *self.huey.scheduled()]:
            if task.name == self._run.name and task.args:
                with contextlib.suppress(ValueError, TypeError):
                    found.add(uuid.UUID(str(task.args[0])))
        return found

    def _run_message(self, job_id: str) -> None:
        run_job(self.app, uuid.UUID(job_id))

    def _reap_periodically(self) -> None:
        reap(self.app)

    def _sweep_wallets(self) -> None:
        sweep_wallet_secrets(self.app)

    # The live channel (tracking.LiveReader) ------------------------------------------------------

    def read(self, job_id: uuid.UUID) -> Live | None:
        try:
            data = self.huey.get(_LIVE_PREFIX + str(job_id), peek=True)
        except Exception:  # the queue unreachable: readers fall back on the row
            log.warning("queue storage unreachable while reading a job's progress", exc_info=True)
            return None
        if not isinstance(data, dict):
            return None
        return Live(
            heartbeat=datetime.fromtimestamp(float(data["heartbeat"]), UTC),
            done=int(data.get("done") or 0),
            total=data.get("total"),
            step_key=data.get("step_key"),
            step_values=dict(data.get("step_values") or {}),
        )

    def publish(self, job_id: uuid.UUID, progress: Progress) -> None:
        self.huey.put(
            _LIVE_PREFIX + str(job_id),
            {
                "heartbeat": time.time(),
                "done": progress.done,
                "total": progress.total,
                "step_key": progress.step_key,
                "step_values": progress.step_values,
            },
        )

    def forget(self, job_id: uuid.UUID) -> None:
        with contextlib.suppress(Exception):
            self.huey.delete(_LIVE_PREFIX + str(job_id))

    def drain(self) -> int:
        """Run every job waiting in the queue, here and now (tests, ``blason worker --once``)."""
        count = 0
        while (task := self.huey.dequeue()) is not None:
            self.huey.execute(task)
            count += 1
        return count


def queue_of(app: Flask) -> Queue:
    """The app's queue, built on first use (for the app itself, never for ``current_app``'s proxy)."""
    app = getattr(app, "_get_current_object", lambda: app)()
    queue = app.extensions.get(EXTENSION)
    if queue is None:
        queue = app.extensions[EXTENSION] = Queue(app, runtime(app).settings)
    return queue  # type: ignore[no-any-return]


def submit(session: Session, app: Flask, grants: Grants, kind: str, params: dict[str, Any]) -> uuid.UUID:
    """Record a queued job; it is enqueued once the caller's unit of work commits.

    If the queue cannot take it then, the job is marked failed at once (never queued forever).
    """
    job = tracking.submit(session, grants, kind, params, clock=runtime(app).clock)
    job_id = job.id

    def enqueue() -> None:
        try:
            queue_of(app).enqueue(job_id)
        except Exception:
            log.error("job %s could not be enqueued; marked failed", job_id, exc_info=True)
            with _session(app) as other:
                tracking.fail(other, job_id, tracking.job_error("job_error_queue"), clock=runtime(app).clock)
                other.commit()

    unit = session if isinstance(session, UnitOfWork) else database_of(app).registry()
    unit.after_commit(enqueue)
    return job_id


@contextlib.contextmanager
def _session(app: Flask) -> Iterator[Session]:
    """A unit of work of its own, that writes (SQLite takes the write lock when it begins)."""
    before = expecting_writes()
    expect_writes(True)
    session = database_of(app).factory()
    try:
        yield session
    finally:
        session.close()
        expect_writes(before)


# Progress and heartbeat ---------------------------------------------------------------------------


@dataclass
class Progress:
    """How far a job is; the heartbeat thread publishes it. ``delay``: tests only, sleep per step."""

    delay: float = 0.0
    done: int = 0
    total: int | None = None
    step_key: str | None = None
    step_values: dict[str, Any] = field(default_factory=dict)
    changed: threading.Event = field(default_factory=threading.Event)

    def step(self, key: str, done: int | None = None, total: int | None = None, **values: Any) -> None:
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        self.step_key, self.step_values = key, values
        self.changed.set()
        if self.delay:
            time.sleep(self.delay)


class Heartbeat(threading.Thread):
    """Publishes a running job's progress and the time, every ``interval`` seconds and on changes.

    At most one write every ``gap`` seconds however often the work reports progress: a bulk award
    reports each badge, and a write per badge to the queue's storage (a committed SQLite
    transaction, or a Redis round trip) would cost the work itself several per cent.
    """

    def __init__(self, queue: Queue, job_id: uuid.UUID, progress: Progress, interval: float, gap: float = 0.5) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.queue, self.job_id, self.progress, self.interval = queue, job_id, progress, interval
        self.gap = min(gap, interval)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.queue.publish(self.job_id, self.progress)
            except Exception:
                log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)
            self.progress.changed.wait(self.interval)
            self.progress.changed.clear()
            self.stopping.wait(self.gap)

    def stop(self) -> None:
        self.stopping.set()
        self.progress.changed.set()
        self.join(timeout=5)


# Running a job ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    result: dict[str, Any]
    done: int
    total: int | None


Runner = Callable[[Session, Grants, dict[str, Any], Progress, Runtime], Outcome]


def run_job(app: Flask, job_id: uuid.UUID) -> str:
    """Claim the job, do its work in one transaction with the row's success, or record its failure.

    Returns the job's final state (``skipped`` when another worker had it, or it is gone).
    """
    rt = runtime(app)
    with app.app_context():
        with _session(app) as session:
            job = tracking.claim(session, job_id, clock=rt.clock)
            if job is None:
                session.rollback()
                log.info("job %s: not queued any more (another worker took it, or it is gone)", job_id)
                return "skipped"
            kind, params = job.kind, dict(job.params)
            person_id, acting_for = job.started_by_id, job.acting_for_id
            session.commit()
        queue = queue_of(app)
        progress = Progress(delay=rt.settings.job_test_step_delay)
        progress.step("job_step_started")
        heart = Heartbeat(queue, job_id, progress, interval=max(0.1, rt.settings.job_heartbeat_timeout / 6))
        heart.start()
        try:
            with _session(app) as work:
                try:
                    if person_id is None:
                        raise NotFound("The person who started this job no longer exists.")
                    grants = load_grants(work, person_id, acting_for)
                    outcome = RUNNERS[kind](work, grants, params, progress, rt)
                    progress.step("job_step_saving", outcome.done, outcome.total)
                    if not tracking.succeed(
                        work, job_id, outcome.result, done=outcome.done, total=outcome.total, clock=rt.clock
                    ):
                        work.rollback()  # reaped meanwhile: the job says failed, so nothing is kept
                        log.warning("job %s: marked failed while it ran; its work is rolled back", job_id)
                        return "failed"
                    work.commit()
                    log.info("job %s (%s) succeeded", job_id, kind)
                    return "succeeded"
                except Exception as exc:
                    work.rollback()
                    if not isinstance(exc, ServiceError):
                        log.error("job %s (%s) failed", job_id, kind, exc_info=True)
                    with _session(app) as other:
                        tracking.fail(
                            other,
                            job_id,
                            tracking.error_of(exc),
                            done=progress.done,
                            total=progress.total,
                            clock=rt.clock,
                        )
                        other.commit()
                    log.info("job %s (%s) failed", job_id, kind)
                    return "failed"
        finally:
            heart.stop()
            queue.forget(job_id)
            jobs.discard_inputs(rt.storage, params)


def settle_process() -> None:
    """Once the app is loaded, before the first job: keep what exists now out of the collector's rounds.

    The app's modules, templates, schemas and caches (about 250,000 objects) live as long as the
    worker; every full collection would walk them all again (issue 18: two full collections per
    3,000 credentials of a bulk award, about 5 % of its time). Objects made later are collected as
    usual.
    """
    gc.collect()
    gc.freeze()


def reap(app: Flask) -> list[uuid.UUID]:
    """Mark failed the running jobs whose worker stopped beating; recover queued jobs whose message was lost.

    Runs when a worker starts and every minute in each worker. A queued job older than the
    heartbeat timeout whose message the queue no longer holds is enqueued again once, then, if
    lost again, marked failed in words (``job_error_lost``). When the queue cannot be read
    (Redis down) queued jobs are left alone: their messages may well be there.
    Returns the ids of the running jobs marked failed (lost messages are logged).
    """
    rt = runtime(app)
    queue = queue_of(app)
    timeout = rt.settings.job_heartbeat_timeout
    try:
        waiting: set[uuid.UUID] | None = queue.waiting()
    except Exception:
        log.warning("jobs reaper: the queue cannot be read; queued jobs left as they are", exc_info=True)
        waiting = None
    with app.app_context(), _session(app) as session:
        try:
            reaped = tracking.reap(session, queue, timeout=timeout, clock=rt.clock)
            lost = (
                tracking.recover_lost(session, waiting, timeout=timeout, clock=rt.clock)
                if waiting is not None
                else tracking.Lost()
            )
            session.commit()
        except Exception:  # SQLite busy with a job's work: the next round will do it
            session.rollback()
            log.warning("jobs reaper: could not write now; will try again", exc_info=True)
            return []
    for job_id, params in reaped:
        log.warning("job %s: its worker stopped (no heartbeat); marked failed", job_id)
        jobs.discard_inputs(rt.storage, params)
    for job_id in lost.requeue:
        log.warning("job %s: queued but its message was lost; enqueued again", job_id)
        try:
            queue.enqueue(job_id)
        except Exception:  # the next round finds it without a message again, and fails it
            log.warning("job %s: could not be enqueued again", job_id, exc_info=True)
    for job_id, params in lost.failed:
        log.warning("job %s: its message was lost twice; marked failed", job_id)
        jobs.discard_inputs(rt.storage, params)
    return [job_id for job_id, _params in reaped]


def sweep_wallet_secrets(app: Flask, *, rounds: int = 100) -> int:
    """Delete the expired OpenID4VCI offers, access tokens and nonces (every ten minutes in each worker)."""
    rt, gone = runtime(app), 0
    with app.app_context(), _session(app) as session:
        for _ in range(rounds):  # a thousand rows a table a round, each round committed
            swept = oid4vci.sweep(session, now=rt.clock(), limit=1000)
            session.commit()
            gone += swept
            if swept == 0:
                break
    return gone


# The work of each kind ----------------------------------------------------------------------------


def _safe_name(filename: str, index: int) -> str:
    # Keep the base name: the importers read the language, part and export date from it.
    name = re.sub(r"[^\w.-]+", "_", PurePath(filename.replace("\\", "/")).name).strip("._")
    return name[:120] or f"upload-{index}"


def _framework_import(
    session: Session, grants: Grants, params: dict[str, Any], progress: Progress, rt: Runtime
) -> Outcome:
    from app.services.frameworks.imports import import_framework_file, sha256_of
    from schemas.frameworks import ImportReportSchema

    files = params["files"]
    progress.step("job_step_reading", 0, None, files=len(files))
    with tempfile.TemporaryDirectory(prefix="blason-job-") as folder:
        paths: list[Path] = []
        for index, item in enumerate(files):
            path = Path(folder) / _safe_name(item["name"], index)
            if path.exists():
                path = path.with_name(f"{index}-{path.name}")
            with rt.storage.open_keyed(item["key"]) as source, open(path, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            paths.append(path)

        def on_progress(counts: Any) -> None:
            progress.step("job_step_import_records", counts.records, None, records=counts.records)

        report = import_framework_file(
            session,
            grants,
            paths[0] if len(paths) == 1 else paths,
            format=params.get("format"),
            options=params.get("options") or {},
            on_progress=on_progress,
            progress_every=20 if progress.delay else 2000,
            file_sha256=sha256_of(paths),
            clock=rt.clock,
        )
    result = ImportReportSchema().dump(report)
    return Outcome(result, report.counts.records, report.counts.records)


def _bulk_award(session: Session, grants: Grants, params: dict[str, Any], progress: Progress, rt: Runtime) -> Outcome:
    from app.services.issuing import badge_mail, bulk
    from schemas.issuing import BulkReportSchema

    progress.step("job_step_checking_rows")

    def on_progress(issued: int, total: int) -> None:
        progress.step("job_step_issuing", issued, total, issued=issued, count=total)

    settings = rt.issuing
    with rt.storage.open_keyed(params["key"]) as stream:
        report = bulk.bulk_award(
            session,
            grants,
            uuid.UUID(params["issuer_id"]),
            stream,
            mode=params["mode"],
            achievement_id=uuid.UUID(params["achievement_id"]) if params.get("achievement_id") else None,
            settings=settings,
            max_bytes=rt.settings.max_upload_bytes,
            on_progress=on_progress,
        )
    issued = [row.credential_id for row in report.rows if row.credential_id is not None]
    messages = badge_mail.badges_issued(session, issued, settings=settings)
    if messages:
        mailer = rt.mailer
        session.after_commit(lambda: mail.deliver(mailer, messages))  # type: ignore[attr-defined]
    return Outcome(BulkReportSchema().dump(report), report.issued, report.valid + report.invalid + report.duplicates)


def _dossier_generation(
    session: Session, grants: Grants, params: dict[str, Any], progress: Progress, rt: Runtime
) -> Outcome:
    from app.services.dossiers import lifecycle
    from app.services.dossiers.scope import get_dossier, require_consent

    progress.step("job_step_dossier_building", 0, 1)
    config = rt.dossiers
    # Consent may have been refused or withdrawn since the job was asked for: say so in words.
    dossier = get_dossier(session, grants, uuid.UUID(params["dossier_id"]))
    session.refresh(dossier, with_for_update=True)  # as generate() does: the learner's answer waits
    try:
        require_consent(dossier)
    except PermissionDenied as exc:
        raise tracking.Refused(exc.detail, job_key="job_error_no_consent") from exc
    result = lifecycle.generate(session, grants, uuid.UUID(params["dossier_id"]), settings=config)
    storage, new_key, replaced_key = config.storage, result.dossier.archive_key, result.replaced_key
    session.on_abandon(lambda: lifecycle.discard_archive(storage, new_key))  # type: ignore[attr-defined]
    session.after_commit(lambda: lifecycle.discard_archive(storage, replaced_key))  # type: ignore[attr-defined]
    gaps = result.dossier.gaps or []
    return Outcome(
        {
            "dossierId": str(result.dossier.id),
            "size": result.size,
            "annexes": len(result.content.annexes),
            "gaps": gaps,
            "manifestSha256": result.dossier.manifest_sha256,
        },
        1,
        1,
    )


RUNNERS: dict[str, Runner] = {
    "framework_import": _framework_import,
    "bulk_award": _bulk_award,
    "dossier_generation": _dossier_generation,
}
