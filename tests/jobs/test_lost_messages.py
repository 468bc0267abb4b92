"""Queued jobs whose queue message was lost: enqueued again once, then failed in words.

In process, on the test app's own queue (SQLite under its instance folder): the reaper is called
as a worker calls it at start and every minute. The same with real workers, on a deleted SQLite
queue file and a flushed Redis, is in test_worker_recovery.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.models import Job, JobState
from app.runtime import runtime
from app.services import jobs
from app.services.identity.access import load_grants
from app.worker import reap


@pytest.fixture()
def queued(app, session, make_person, grant, job_queue):  # type: ignore[no-untyped-def]
    """A queued import job with its message in the queue; ``age(seconds)`` makes it older."""
    admin = make_person()
    grant(admin, "platform_admin")
    params: dict[str, Any] = {"files": [], "format": "custom-csv", "options": {}}
    job = jobs.submit(session, load_grants(session, admin.id), "framework_import", params, clock=runtime(app).clock)
    session.commit()
    job_queue.enqueue(job.id)
    return job.id


def _age(session, job_id: uuid.UUID, app, seconds: float, column: str = "created_at") -> None:  # type: ignore[no-untyped-def]
    when = runtime(app).clock() - timedelta(seconds=seconds)
    session.execute(update(Job).where(Job.id == job_id).values({column: when}))
    session.commit()


def _row(session, job_id: uuid.UUID) -> Job:  # type: ignore[no-untyped-def]
    job = session.get(Job, job_id)
    assert job is not None
    session.refresh(job)
    return job


def test_a_lost_message_is_enqueued_again_once_then_the_job_fails_in_words(app, session, job_queue, queued) -> None:  # type: ignore[no-untyped-def]
    timeout = runtime(app).settings.job_heartbeat_timeout
    _age(session, queued, app, timeout + 5)
    job_queue.huey.flush()  # the message is lost
    assert reap(app) == []
    job = _row(session, queued)
    assert job.state is JobState.QUEUED and job.step_key == "job_step_requeued" and job.heartbeat_at is not None
    assert queued in job_queue.waiting()  # enqueued again
    shown = jobs.view(job, job_queue, timeout=timeout)
    assert shown["state"] == "queued" and shown["progress"]["step_fr"].startswith("Remis en attente")

    reap(app)  # its new message is there: nothing more happens
    assert _row(session, queued).state is JobState.QUEUED and job_queue.huey.pending_count() == 1

    job_queue.huey.flush()  # lost again; too recently enqueued again to give up yet
    reap(app)
    assert _row(session, queued).state is JobState.QUEUED and queued not in job_queue.waiting()

    _age(session, queued, app, timeout + 5, column="heartbeat_at")
    reap(app)
    job = _row(session, queued)
    assert job.state is JobState.FAILED and job.finished_at is not None and job.attempts == 0
    assert queued not in job_queue.waiting()
    shown = jobs.view(job, job_queue, timeout=timeout)
    assert shown["error"]["key"] == "job_error_lost"
    assert shown["error"]["fr"].startswith("Le traitement n'a jamais commencé : la file des traitements l'a perdu")
    assert shown["error"]["en"].startswith("The job never started: the job queue lost it twice")


def test_a_queued_job_whose_message_is_there_is_left_alone(app, session, job_queue, queued) -> None:  # type: ignore[no-untyped-def]
    _age(session, queued, app, 3600)  # long in a busy queue, but its message waits its turn
    reap(app)
    job = _row(session, queued)
    assert job.state is JobState.QUEUED and job.step_key == "job_step_queued" and job_queue.huey.pending_count() == 1


def test_a_young_job_without_message_is_left_alone(app, session, job_queue, queued) -> None:  # type: ignore[no-untyped-def]
    job_queue.huey.flush()  # its message may not be written yet: the row is committed first
    reap(app)
    assert _row(session, queued).step_key == "job_step_queued" and job_queue.huey.pending_count() == 0


def test_an_unreadable_queue_leaves_queued_jobs_alone(app, session, job_queue, queued, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _age(session, queued, app, 3600)
    job_queue.huey.flush()

    def unreachable() -> set[uuid.UUID]:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(job_queue, "waiting", unreachable)
    reap(app)  # Redis down: the messages may well be there; nothing is decided
    job = _row(session, queued)
    assert job.state is JobState.QUEUED and job.heartbeat_at is None


def test_a_job_taken_by_a_worker_meanwhile_is_not_failed(app, session, job_queue, queued) -> None:  # type: ignore[no-untyped-def]
    """The reaper's conditional updates only touch a job still queued: a claim in between wins."""
    timeout = runtime(app).settings.job_heartbeat_timeout
    _age(session, queued, app, timeout + 5)
    _age(session, queued, app, timeout + 5, column="heartbeat_at")
    assert jobs.claim(session, queued, clock=runtime(app).clock) is not None
    session.commit()
    lost = jobs.recover_lost(session, set(), timeout=timeout, clock=runtime(app).clock)
    assert lost.requeue == [] and lost.failed == []
    assert _row(session, queued).state is JobState.RUNNING
