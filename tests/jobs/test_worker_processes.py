"""Real worker processes (`flask --app wsgi blason worker`) against a database of their own.

* A worker killed with SIGKILL in the middle of an import leaves no row of it, and the next worker
  to start marks the job failed with a clear message (the heartbeat stopped), never "running".
* Two workers draining one Redis queue with PostgreSQL run each job exactly once.

The database is a SQLite file, or a PostgreSQL database created beside BLASON_TEST_DATABASE_URL's.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.models import Competency, Framework, JobState, Role
from app.runtime import runtime
from app.services import jobs
from app.worker import queue_of
from tests.conftest import TEST_DB_ENV
from tests.jobs.process_support import (
    REDIS_URL,
    TIMEOUT,
    Deployment,
    framework_csv,
    own_database,
    redis_reachable,
    settings_for,
)


@pytest.fixture()
def sqlite_or_pg(tmp_path: Path) -> Iterator[Deployment]:
    """The embedded default: a SQLite queue file beside the instance; the database under test."""
    with own_database(tmp_path, "procs") as url:
        queue = f"sqlite:///{tmp_path / 'queue.db'}"
        deployment = Deployment(settings_for(url, tmp_path / "instance", queue, "blason-jobs"), tmp_path)
        try:
            yield deployment
        finally:
            deployment.close()


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_ends_failed(sqlite_or_pg: Deployment) -> None:
    d = sqlite_or_pg
    ada = d.person("Ada Admin", "ada@example.org", Role.PLATFORM_ADMIN)
    job_id = d.submit_import(ada, framework_csv("Référentiel lent", 2600), "lent.csv")
    queue = queue_of(d.app)
    victim = d.start_worker(step_delay=0.04)

    def far_enough() -> bool:  # past the first batch the writer flushes (2,000 rows), not yet committed
        live = queue.read(job_id)
        return live is not None and live.done >= 2200

    d.wait(far_enough, "the import to be past its first flushed batch")
    assert d.job(job_id).state is JobState.RUNNING
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)

    assert d.count(Competency) == 0 and d.count(Framework) == 0  # the work's transaction died with it
    # Readers are told at once that it stopped, once its heartbeat is stale.
    time.sleep(TIMEOUT + 0.5)
    shown = jobs.view(d.job(job_id), queue, timeout=TIMEOUT)
    assert shown["state"] == "failed" and shown["error"]["key"] == "job_error_interrupted"

    d.start_worker()  # marks it failed for good when it starts
    d.wait(lambda: d.job(job_id).state is JobState.FAILED, "the next worker to reap the job")
    job = d.job(job_id)
    assert job.error is not None and job.error["key"] == "job_error_interrupted" and job.finished_at is not None
    assert d.count(Competency) == 0 and d.count(Framework) == 0
    assert not runtime(d.app).storage.keyed_exists(job.params["files"][0]["key"])  # its input is gone too

    # The same file, submitted again, imports whole.
    again = d.submit_import(ada, framework_csv("Référentiel lent", 2600), "lent.csv")
    d.wait(lambda: d.job(again).state is JobState.SUCCEEDED, "the import to run again", timeout=120)
    assert d.count(Competency) == 2601


@pytest.fixture()
def redis_pg(tmp_path: Path) -> Iterator[Deployment]:
    with own_database(tmp_path, "procs") as url:
        if not url.startswith("postgresql"):
            pytest.skip(f"workers on several machines need PostgreSQL: set {TEST_DB_ENV}")
        if not redis_reachable():
            pytest.skip(f"Redis is not reachable at {REDIS_URL} (set BLASON_TEST_REDIS_URL)")
        queue_name = f"blason-test-{uuid.uuid4().hex}"  # a queue of this test's own
        deployment = Deployment(settings_for(url, tmp_path / "instance", REDIS_URL, queue_name), tmp_path)
        try:
            yield deployment
        finally:
            deployment.stop()
            queue_of(deployment.app).huey.storage.flush_all()
            deployment.close()


def test_two_workers_drain_one_redis_queue_each_job_once(redis_pg: Deployment) -> None:
    d = redis_pg
    ada = d.person("Ada Admin", "ada@example.org", Role.PLATFORM_ADMIN)
    d.start_worker(step_delay=0.05)
    d.start_worker(step_delay=0.05)
    ids = [d.submit_import(ada, framework_csv(f"Référentiel {n}", 40), f"ref-{n}.csv") for n in range(8)]
    d.wait(lambda: all(d.job(i).state is JobState.SUCCEEDED for i in ids), "every job to succeed", timeout=120)
    assert all(d.job(i).attempts == 1 for i in ids)
    assert d.count(Framework) == 8 and d.count(Competency) == 8 * 41
    d.stop()
    logs = [log.read_text() for _p, log in d.workers]
    for job_id in ids:
        assert sum(log.count(f"job {job_id} (framework_import) succeeded") for log in logs) == 1
    assert all("succeeded" in log for log in logs), "both workers took jobs"
