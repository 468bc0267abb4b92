"""Real worker processes (`flask --app wsgi blason worker`) against a database of their own.

* A worker killed with SIGKILL in the middle of an import leaves no row of it, and the next worker
  to start marks the job failed with a clear message (the heartbeat stopped), never "running".
* Two workers draining one Redis queue with PostgreSQL run each job exactly once.

The database is a SQLite file, or a PostgreSQL database created beside BLASON_TEST_DATABASE_URL's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.engine import Engine

from app import create_app, migrate
from app.db import database_of, make_engine
from app.models import Competency, Framework, Job, JobState, Membership, Person, ProfileType, Role, ScopeType
from app.runtime import runtime
from app.services import jobs
from app.services.identity.access import load_grants
from app.worker import queue_of, submit
from tests.conftest import JWT_PEM, KEK, TEST_DB_ENV

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("BLASON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TIMEOUT = 2.0  # heartbeat timeout of these tests' workers, seconds


def _redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@pytest.fixture()
def own_database(tmp_path: Path) -> Iterator[str]:
    """A migrated database that worker processes share with the test (committed data, no rollback)."""
    base = os.environ.get(TEST_DB_ENV)
    if not base:
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    name = f"{make_url(base).database}_procs_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    own = make_url(base).set(database=name)
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = own.render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _settings(database_url: str, instance: Path, queue_url: str, queue_name: str) -> dict[str, str]:
    return {
        "ENV": "testing",
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": "https://blason.test",
        "SECRET_KEY": "test-secret",
        "JWT_PRIVATE_KEY": JWT_PEM,
        "KEY_ENCRYPTION_KEYS": KEK,
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "8",
        "LOG_LEVEL": "INFO",
        "QUEUE_URL": queue_url,
        "QUEUE_NAME": queue_name,
        "JOB_HEARTBEAT_TIMEOUT": str(TIMEOUT),
    }


class Deployment:
    """The test's app (to submit jobs and read results) and worker processes on the same settings."""

    def __init__(self, settings: dict[str, str], logs: Path) -> None:
        self.settings = settings
        self.app = create_app(dict(settings))
        self.engine: Engine = database_of(self.app).engine
        self.logs = logs
        self.workers: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start_worker(self, *, step_delay: float = 0.0, threads: int = 1) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BLASON_")}
        env.update({f"BLASON_{k}": v for k, v in self.settings.items()})
        env["BLASON_JOB_TEST_STEP_DELAY"] = str(step_delay)
        log = self.logs / f"worker-{len(self.workers)}.log"
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "blason", "worker", "--poll", "0.2"]
        command += ["--workers", str(threads)]
        with open(log, "wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.workers.append((process, log))
        return process

    def stop(self) -> None:
        for process, _log in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process, _log in self.workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def admin(self) -> Person:
        with database_of(self.app).factory() as session:
            person = Person(display_name="Ada Admin", email="ada@example.org", profile_type=ProfileType.AUTRE)
            session.add(person)
            session.flush()
            session.add(
                Membership(person_id=person.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM, scope_id=None)
            )
            session.commit()
            return person

    def submit_import(self, person: Person, csv: bytes, name: str) -> uuid.UUID:
        rt = runtime(self.app)
        with self.app.app_context(), database_of(self.app).factory() as session:
            import io

            key = jobs.store_input(rt.storage, io.BytesIO(csv), 10**8, name=name)
            params = {"files": [{"key": key, "name": name}], "format": "custom-csv", "options": {}}
            job_id = submit(session, self.app, load_grants(session, person.id), "framework_import", params)
            session.commit()  # then the queue gets the job's id
        return job_id

    def job(self, job_id: uuid.UUID) -> Job:
        with database_of(self.app).factory() as session:
            job = session.get(Job, job_id)
            assert job is not None
            session.expunge(job)
            return job

    def count(self, model: Any) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(model)).scalar_one()

    def wait(self, check: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            for process, log in self.workers:
                if process.poll() not in (None, -signal.SIGKILL, 0):
                    pytest.fail(f"a worker stopped ({process.returncode}):\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        logs = "\n".join(log.read_text()[-2000:] for _p, log in self.workers)
        pytest.fail(f"timed out waiting for {what}\n{logs}")


def framework_csv(title: str, rows: int) -> bytes:
    lines = [
        f"# title: {title}",
        "# version: 1",
        "# language: fr",
        "key;parent_key;kind;code;label;description;alt_labels",
    ]
    lines.append("D;;domain;D;Domaine;Le domaine.;")
    lines += [f"C{i};D;competence;C{i};Compétence {i};Savoir faire la chose {i}.;" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture()
def sqlite_or_pg(own_database: str, tmp_path: Path) -> Iterator[Deployment]:
    """The embedded default: a SQLite queue file beside the instance; the database under test."""
    instance = tmp_path / "instance"
    deployment = Deployment(
        _settings(own_database, instance, f"sqlite:///{tmp_path / 'queue.db'}", "blason-jobs"), tmp_path
    )
    try:
        yield deployment
    finally:
        deployment.stop()
        deployment.engine.dispose()


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_ends_failed(sqlite_or_pg: Deployment) -> None:
    d = sqlite_or_pg
    admin = d.admin()
    job_id = d.submit_import(admin, framework_csv("Référentiel lent", 2600), "lent.csv")
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
    again = d.submit_import(admin, framework_csv("Référentiel lent", 2600), "lent.csv")
    d.wait(lambda: d.job(again).state is JobState.SUCCEEDED, "the import to run again", timeout=120)
    assert d.count(Competency) == 2601


@pytest.fixture()
def redis_pg(own_database: str, tmp_path: Path) -> Iterator[Deployment]:
    if not own_database.startswith("postgresql"):
        pytest.skip(f"workers on several machines need PostgreSQL: set {TEST_DB_ENV}")
    if not _redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (set BLASON_TEST_REDIS_URL)")
    queue_name = f"blason-test-{uuid.uuid4().hex}"  # a queue of this test's own
    deployment = Deployment(_settings(own_database, tmp_path / "instance", REDIS_URL, queue_name), tmp_path)
    try:
        yield deployment
    finally:
        deployment.stop()
        queue_of(deployment.app).huey.storage.flush_all()
        deployment.engine.dispose()


def test_two_workers_drain_one_redis_queue_each_job_once(redis_pg: Deployment) -> None:
    d = redis_pg
    admin = d.admin()
    d.start_worker(step_delay=0.05)
    d.start_worker(step_delay=0.05)
    ids = [d.submit_import(admin, framework_csv(f"Référentiel {n}", 40), f"ref-{n}.csv") for n in range(8)]
    d.wait(lambda: all(d.job(i).state is JobState.SUCCEEDED for i in ids), "every job to succeed", timeout=120)
    assert all(d.job(i).attempts == 1 for i in ids)
    assert d.count(Framework) == 8 and d.count(Competency) == 8 * 41
    d.stop()
    logs = [log.read_text() for _p, log in d.workers]
    for job_id in ids:
        assert sum(log.count(f"job {job_id} (framework_import) succeeded") for log in logs) == 1
    assert all("succeeded" in log for log in logs), "both workers took jobs"
