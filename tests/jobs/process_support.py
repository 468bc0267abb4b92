"""Helpers of the job tests that run real worker processes (no tests here).

A database of the test's own that worker processes share (a SQLite file, or a PostgreSQL database
created beside BLASON_TEST_DATABASE_URL's), the app the test submits jobs with, and `blason worker`
processes started on the same settings.
"""

from __future__ import annotations

import contextlib
import io
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
from sqlalchemy.orm import Session

from app import create_app, migrate
from app.db import database_of, make_engine
from app.models import Job, JobState, Membership, Person, ProfileType, Role, ScopeType
from app.runtime import runtime
from app.services import jobs
from app.services.identity import auth
from app.services.identity.access import load_grants
from app.worker import _session, submit
from tests.conftest import JWT_PEM, KEK, TEST_DB_ENV

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("BLASON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TIMEOUT = 2.0  # heartbeat timeout of these tests' workers, seconds


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@contextlib.contextmanager
def own_database(tmp_path: Path, suffix: str) -> Iterator[str]:
    """A migrated database that worker processes share with the test (committed data, no rollback)."""
    base = os.environ.get(TEST_DB_ENV)
    if not base:
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    name = f"{make_url(base).database}_{suffix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def framework_csv(title: str, rows: int) -> bytes:
    """A custom-CSV framework: one domain and ``rows`` competencies."""
    lines = [
        f"# title: {title}",
        "# version: 1",
        "# language: fr",
        "key;parent_key;kind;code;label;description;alt_labels",
    ]
    lines.append("D;;domain;D;Domaine;Le domaine.;")
    lines += [f"C{i};D;competence;C{i};Compétence {i};Savoir faire la chose {i}.;" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def settings_for(database_url: str, instance: Path, queue_url: str, queue_name: str) -> dict[str, str]:
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

    def start_worker(self, *, step_delay: float = 0.0) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BLASON_")}
        env.update({f"BLASON_{k}": v for k, v in self.settings.items()})
        env["BLASON_JOB_TEST_STEP_DELAY"] = str(step_delay)
        log = self.logs / f"worker-{len(self.workers)}.log"
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "blason", "worker", "--poll", "0.2"]
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

    def session(self) -> Session:
        return database_of(self.app).factory()  # type: ignore[no-any-return]

    def writing(self) -> contextlib.AbstractContextManager[Session]:
        """A session whose transaction takes SQLite's write lock at BEGIN: the worker's own writers' session.

        A transaction begun as a reader that then writes cannot wait for a worker's write: when a
        worker committed in between, SQLite answers "database is locked" at once.
        """
        return _session(self.app)

    def person(self, name: str, email: str, role: Role | None = None, scope: uuid.UUID | None = None) -> Person:
        scopes = {Role.PLATFORM_ADMIN: ScopeType.PLATFORM, Role.JURY_OFFICER: ScopeType.CERTIFICATION}
        with self.writing() as session:
            person = Person(display_name=name, email=email, profile_type=ProfileType.AUTRE)
            session.add(person)
            session.flush()
            if role is not None:
                session.add(Membership(person_id=person.id, role=role, scope_type=scopes[role], scope_id=scope))
            session.commit()
            session.expunge(person)
            return person

    def headers(self, person: Person) -> dict[str, str]:
        with self.writing() as session:
            own = session.get(Person, person.id)
            assert own is not None
            pair = auth._issue(session, own, uuid.uuid4(), runtime(self.app).tokens)
            session.commit()
        return {"Authorization": f"Bearer {pair.access_token}"}

    def submit(self, person: Person, kind: str, params: dict[str, Any], upload: bytes | None = None) -> uuid.UUID:
        """Submit a job as ``person``; ``upload`` is stored as its input file (``params["key"]``)."""
        rt = runtime(self.app)
        with self.app.app_context(), self.writing() as session:
            if upload is not None:
                params = {**params, "key": jobs.store_input(rt.storage, io.BytesIO(upload), 10**8, name="upload")}
            job_id = submit(session, self.app, load_grants(session, person.id), kind, params)
            session.commit()  # then the queue gets the job's id
        return job_id

    def submit_import(self, person: Person, csv: bytes, name: str) -> uuid.UUID:
        """Submit a framework import of ``csv`` (stored as its input file ``name``) as ``person``."""
        with self.app.app_context():
            key = jobs.store_input(runtime(self.app).storage, io.BytesIO(csv), 10**8, name=name)
        params = {"files": [{"key": key, "name": name}], "format": "custom-csv", "options": {}}
        return self.submit(person, "framework_import", params)

    def job(self, job_id: uuid.UUID) -> Job:
        with self.session() as session:
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
        with self.session() as session:
            failed = session.scalars(select(Job).where(Job.state == JobState.FAILED)).all()
            errors = "\n".join(f"job {job.id} failed: {job.error}" for job in failed)
        pytest.fail(f"timed out waiting for {what}\n{errors}\n{logs}")

    def close(self) -> None:
        self.stop()
        self.engine.dispose()
