"""Long work as background jobs against the same work called directly, in the same run.

Two workloads: a bulk award of 5,000 rows (CSV, all formats signed, one transaction) and the
import of a synthetic RNCP XML export of 20,000 fiches (bench/gen_rncp.py, 5 blocs a fiche).
Each runs twice, each time in a fresh process on a fresh database:

* **direct**: the service called in the process (as the synchronous API endpoint does);
* **job**: the input stored, the job submitted, a real worker process (``blason worker``, the
  queue on SQLite under the instance folder, or Redis with BLASON_BENCH_QUEUE_URL) runs it; timed
  from the upload's storing to the job's row reading ``succeeded``.

With ``--repeat n`` each is run n times in turns and the fastest kept (the machine may be shared).
The ratio job/direct is the queue's overhead (target: under 5 %), in wall time and in CPU time
of the process doing the work (the worker's threads, plus storing the upload in the submitting
process): on a machine other processes share, wall time measures them too, CPU time much less. Memory: the resident set of
the process doing the work (the direct process, or the worker) sampled every 50 ms from /proc:
at the start of the work, at its middle and its peak; flat memory shows as a peak close to the
start, whatever the number of rows. Work processes run pinned to one core.

Run: .venv/bin/python bench/bench_jobs.py [--quick] [--rows 5000] [--fiches 20000]
     BLASON_BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from bench import gen_rncp  # noqa: E402
from bench._common import bench_app, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUEUE_ENV = "BLASON_BENCH_QUEUE_URL"
DELIVER: list[Callable[[], None]] = []  # e-mails, sent after the commit (not timed, in either run)
WORK_CORE = 0  # the process doing the work (direct, or the worker); the poller runs elsewhere


def _rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (all its threads)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pin(pid: int, core: int) -> None:
    try:
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(pid, {cores[core % len(cores)]})
    except (AttributeError, OSError):
        pass


class Sampler(threading.Thread):
    """Samples a process's resident set every 50 ms until stopped."""

    def __init__(self, pid: int | str = "self") -> None:
        super().__init__(daemon=True)
        self.pid, self.samples = pid, []  # type: ignore[var-annotated]
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.samples.append(_rss_mb(self.pid))
            except OSError:
                return
            self.stopping.wait(0.05)

    def stop(self) -> dict[str, float]:
        self.stopping.set()
        self.join()
        s = self.samples or [0.0]
        return {"rss_start_mb": s[0], "rss_mid_mb": s[len(s) // 2], "rss_peak_mb": max(s)}


def _keys() -> dict[str, str]:
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    return {"JWT_PRIVATE_KEY": pem, "KEY_ENCRYPTION_KEYS": "b1:" + base64.b64encode(os.urandom(32)).decode()}


# Preparing each workload's data (not timed) ------------------------------------------------------


def _admin(session: Any) -> uuid.UUID:
    from app.models import Membership, Person, ProfileType, Role, ScopeType

    person = Person(display_name="Banc d'essai", email="bench-admin@example.fr", profile_type=ProfileType.AUTRE)
    session.add(person)
    session.flush()
    session.add(Membership(person_id=person.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM, scope_id=None))
    session.commit()
    return person.id


def _prepare_bulk(app: Any, session: Any, grants: Any, rows: int) -> dict[str, Any]:
    from sqlalchemy import insert

    from app.models import Person, ProfileType
    from app.runtime import runtime
    from app.services.issuing import achievements, issuers

    rt = runtime(app)
    issuer = issuers.create_issuer(
        session,
        grants,
        {"name": "Banc d'essai", "url": "https://bench.example.fr", "email": "bench@example.fr"},
        settings=rt.issuing,
    )
    achievement = achievements.create_achievement(
        session,
        grants,
        issuer.id,
        {
            "name": "Tenir un stand",
            "description": "Accueillir le public.",
            "criteria": "Avoir tenu un stand.",
            "achievement_type": "Badge",
        },
        storage=rt.storage,
        urls=rt.issuing.urls,
    )
    emails = [f"bench{i}@example.fr" for i in range(rows)]
    session.execute(
        insert(Person),
        [
            {"id": uuid.uuid4(), "display_name": f"Apprenant {i}", "email": e, "profile_type": ProfileType.AUTRE}
            for i, e in enumerate(emails)
        ],
    )
    session.commit()
    csv = ("email,achievement_id\n" + "".join(f"{e},{achievement.id}\n" for e in emails)).encode()
    return {"issuer_id": issuer.id, "csv": csv}


def _direct_bulk(app: Any, session: Any, grants: Any, data: dict[str, Any]) -> int:
    from app.platform import mail
    from app.runtime import runtime
    from app.services.issuing import badge_mail, bulk

    rt = runtime(app)
    report = bulk.bulk_award(
        session,
        grants,
        data["issuer_id"],
        io.BytesIO(data["csv"]),
        mode="all_or_nothing",
        settings=rt.issuing,
        max_bytes=rt.settings.max_upload_bytes,
    )
    issued = [row.credential_id for row in report.rows if row.credential_id is not None]
    messages = badge_mail.badges_issued(session, issued, settings=rt.issuing)
    session.commit()  # the end of the work, as a job's is the commit that marks it succeeded
    DELIVER.append(lambda: mail.deliver(rt.mailer, messages))  # after the timing, as the worker's
    return report.issued


def _direct_import(app: Any, session: Any, grants: Any, path: Path) -> int:
    from app.services.frameworks.imports import import_framework_file, sha256_of

    report = import_framework_file(session, grants, path, file_sha256=sha256_of([path]))
    session.commit()
    return report.counts.records


def _submit(app: Any, rt: Any, admin_id: uuid.UUID, kind: str, data: Any) -> uuid.UUID:
    """Store the input and submit the job; the queue gets its id on commit."""
    from app.db import database_of
    from app.services import jobs
    from app.services.identity.access import load_grants
    from app.worker import submit

    with database_of(app).factory() as own:
        grants = load_grants(own, admin_id)
        if kind == "bulk":
            key = jobs.store_input(rt.storage, io.BytesIO(data["csv"]), 10**9, name="awards.csv")
            params: dict[str, Any] = {"key": key, "issuer_id": str(data["issuer_id"]), "mode": "all_or_nothing"}
            params["achievement_id"] = None
            job_id = submit(own, app, grants, "bulk_award", params)
        else:
            with open(data, "rb") as stream:
                key = jobs.store_input(rt.storage, stream, 10**10, name=data.name)
            params = {"files": [{"key": key, "name": data.name}], "format": None, "options": {}}
            job_id = submit(own, app, grants, "framework_import", params)
        own.commit()
    return job_id


# One run, in its own process --------------------------------------------------------------------


def _worker(settings: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """Start `blason worker` on the app's settings and wait until it listens."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLASON_")}
    env.update({f"BLASON_{k}": v for k, v in settings.items()})
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "blason", "worker", "--poll", "0.1"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True, bufsize=1
    )
    _pin(process.pid, WORK_CORE)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Job worker:"):
            return process
    raise RuntimeError(f"the worker did not start:\n{log.read_text()[-3000:]}")


def _wait_for(engine: Any, job_id: uuid.UUID) -> str:
    from sqlalchemy import select

    from app.models import Job

    while True:
        with engine.connect() as conn:
            state = conn.execute(select(Job.state).where(Job.id == job_id)).scalar_one()
        if state.value in ("succeeded", "failed"):
            return str(state.value)
        time.sleep(0.05)


def run_one(kind: str, mode: str, size: int, workdir: Path) -> dict[str, Any]:
    """Prepare one workload on a fresh database and run it directly or as a job (one JSON line)."""
    from app.db import database_of, db
    from app.runtime import runtime
    from app.services.identity.access import load_grants

    keys = _keys()
    queue_url = os.environ.get(QUEUE_ENV)
    extra: dict[str, Any] = {**keys, "LOG_LEVEL": "WARNING"}
    if queue_url:
        extra.update({"QUEUE_URL": queue_url, "QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}"})
    with bench_app(extra) as app, app.app_context():
        rt = runtime(app)
        session = db.session
        admin_id = _admin(session)
        grants = load_grants(session, admin_id)
        path = workdir / f"export_fiches_RNCP_V4_1_{size}.xml"
        if kind == "bulk":
            data = _prepare_bulk(app, session, grants, size)
        backend = db.engine.dialect.name
        if mode == "direct":
            _pin(os.getpid(), WORK_CORE)
            sampler = Sampler()
            sampler.start()
            start, cpu_start = time.perf_counter(), _cpu_s(os.getpid())
            units = (
                _direct_bulk(app, session, grants, data)
                if kind == "bulk"
                else _direct_import(app, session, grants, path)
            )
            seconds, cpu = time.perf_counter() - start, _cpu_s(os.getpid()) - cpu_start
            memory = sampler.stop()
            state = "direct"
            for deliver in DELIVER:
                deliver()
        else:
            _pin(os.getpid(), WORK_CORE + 1)
            session.close()
            s = rt.settings
            settings = {
                "ENV": "testing",
                "INSTANCE_DIR": str(s.instance_dir),
                "DATABASE_URL": s.database_url,
                "SECRET_KEY": "bench",
                "PASSWORD_HASH_TIME_COST": "1",
                "PASSWORD_HASH_MEMORY_KIB": "8",
                "LOG_LEVEL": "WARNING",
                **keys,
            }
            if queue_url:
                settings.update({"QUEUE_URL": queue_url, "QUEUE_NAME": extra["QUEUE_NAME"]})
            worker = _worker(settings, workdir / f"worker-{kind}.log")
            try:
                sampler = Sampler(worker.pid)
                sampler.start()
                for attempt in range(5):  # a loaded machine: the worker's start may hold SQLite's lock
                    try:
                        start, cpu_start = time.perf_counter(), _cpu_s(worker.pid)
                        submitting = time.process_time()
                        job_id = _submit(app, rt, admin_id, kind, data if kind == "bulk" else path)
                        submitting = time.process_time() - submitting  # storing the upload counts
                        break
                    except OperationalError:
                        if attempt == 4:
                            raise
                        time.sleep(1)
                state = _wait_for(database_of(app).engine, job_id)
                seconds = time.perf_counter() - start
                cpu = _cpu_s(worker.pid) - cpu_start + submitting
                memory = sampler.stop()
                with database_of(app).factory() as own:
                    from app.models import Job

                    job = own.get(Job, job_id)
                    units = job.progress_done if job else 0
                    if state != "succeeded":
                        raise RuntimeError(f"the job failed: {job.error if job else None}")
            finally:
                worker.send_signal(2)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
        return {"backend": backend, "kind": kind, "mode": mode, "size": size, "units": units, "seconds": seconds} | {
            "cpu_s": cpu,
            "state": state,
            **memory,
        }


def _run(kind: str, mode: str, size: int, workdir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--one", kind, mode, str(size), "--workdir", str(workdir)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        logs = "".join(p.read_text()[-2000:] for p in workdir.glob("worker-*.log"))
        raise SystemExit(f"{kind} {mode} failed:\n{done.stderr[-4000:]}\n{logs}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 rows and 2,000 fiches")
    parser.add_argument("--rows", type=int, help="bulk award rows (default 5,000)")
    parser.add_argument("--fiches", type=int, help="RNCP fiches (default 20,000)")
    parser.add_argument("--only", choices=("bulk", "import"), help="one workload only")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, in turns; the fastest is kept")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, mode, size = args.one
        print(json.dumps(run_one(kind, mode, int(size), Path(args.workdir))))
        return
    rows = args.rows or (500 if args.quick else 5000)
    fiches = args.fiches or (2000 if args.quick else 20_000)
    workloads: list[tuple[str, int]] = [("bulk", rows), ("import", fiches)]
    if args.only:
        workloads = [w for w in workloads if w[0] == args.only]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="blason-bench-jobs-") as tmp:
        for kind, size in workloads:
            if kind == "import":
                with open(Path(tmp) / f"export_fiches_RNCP_V4_1_{size}.xml", "wb") as out:
                    gen_rncp.write(out, size, 5)
            for _turn in range(args.repeat):
                for mode in ("direct", "job"):
                    results.append(_run(kind, mode, size, Path(tmp)))
                    print(f"  {kind} {mode}: {results[-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
    backend = results[0]["backend"]
    queue = "Redis" if os.environ.get(QUEUE_ENV) else "SQLite"
    print(f"bench_jobs on {backend}, queue on {queue}; work pinned to one core; each run in a fresh process")
    rows_out: list[dict[str, Any]] = []
    by: Callable[[str, str], dict[str, Any]] = lambda k, m: min(  # noqa: E731
        (r for r in results if r["kind"] == k and r["mode"] == m), key=lambda r: r["seconds"]
    )
    for kind, size in workloads:
        direct, job = by(kind, "direct"), by(kind, "job")
        name = f"bulk award, {size:,} rows" if kind == "bulk" else f"RNCP import, {size:,} fiches"
        for r in (direct, job):
            rows_out.append(
                {
                    "work": name,
                    "run": "direct (service)" if r is direct else "job (queue + worker)",
                    "units": r["units"],
                    "seconds": r["seconds"],
                    "CPU s": r["cpu_s"],
                    "job/direct": f"{job['seconds'] / direct['seconds']:.3f}" if r is job else "",
                    "overhead %": f"{(job['seconds'] / direct['seconds'] - 1) * 100:+.1f}" if r is job else "",
                    "CPU job/direct": f"{job['cpu_s'] / direct['cpu_s']:.3f}" if r is job else "",
                    "CPU overhead %": f"{(job['cpu_s'] / direct['cpu_s'] - 1) * 100:+.1f}" if r is job else "",
                    "RSS start MB": r["rss_start_mb"],
                    "RSS middle MB": r["rss_mid_mb"],
                    "RSS peak MB": r["rss_peak_mb"],
                }
            )
    print(
        table(
            rows_out,
            [
                "work",
                "run",
                "units",
                "seconds",
                "job/direct",
                "overhead %",
                "CPU s",
                "CPU job/direct",
                "CPU overhead %",
                "RSS start MB",
                "RSS middle MB",
                "RSS peak MB",
            ],
        )
    )


if __name__ == "__main__":
    main()
