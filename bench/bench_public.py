"""The verification page and the JSON credential under concurrent load, through gunicorn.

Seeds one issued credential (through the services) in a temporary SQLite file — or in
BLASON_BENCH_DATABASE_URL (emptied) — starts ``gunicorn -w 2`` on a free loopback port, and
drives it with an HTTP load generator (``wrk`` when installed, else a bounded Python one),
each route for a fixed duration at a fixed concurrency, in the same run:

* ``GET /healthz`` — a minimal Flask route of the same server (the baseline);
* ``GET /credentials/{id}`` with ``Accept: text/html`` — the verification page, verdict computed
  live (Data Integrity proof, controller document, signed status list, all from the database);
* ``GET /credentials/{id}`` with ``Accept: application/json`` — the signed credential.

The HTML page is served from the per-process cache of rendered pages after its first view (one
statement checks nothing it shows has changed), as every repeat view is.

Run: .venv/bin/python bench/bench_public.py  [BENCH_SECONDS=10 BENCH_CONNECTIONS=16 BENCH_RUNS=3]
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import migrate  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.models import Competency, Framework, Membership, Person, Role, ScopeType, SourceType  # noqa: E402
from app.platform.storage import LocalStorage
from app.platform.urls import Urls
from app.services.identity import access
from app.services.issuing import achievements, awarding, issuers
from app.services.issuing.signing import IssuingSettings
from bench._common import BENCH_DB_ENV, record, table  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WORKERS = 2
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(url: str, base: str, storage: Path, keks: list[tuple[str, bytes]]) -> uuid.UUID:
    """One issuer, one achievement aligned to two competencies, one issued credential."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    settings = IssuingSettings(urls=Urls(base), keks=keks)
    with Session(engine, expire_on_commit=False) as session:
        admin = Person(display_name="Iris Émettrice", email="iris@bench.example")
        learner = Person(display_name="Léa Apprenante", email="lea@bench.example", show_name_publicly=True)
        framework = Framework(source_type=SourceType.CUSTOM, source_key="bench", title="Référentiel bench")
        session.add_all([admin, learner, framework])
        session.flush()
        competencies = [
            Competency(
                framework_id=framework.id, source_key=f"c{i}", kind="competence", code=f"C{i}", label=f"Compétence {i}"
            )
            for i in (1, 2)
        ]
        session.add_all(
            [*competencies, Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM)]
        )
        session.flush()
        grants = access.load_grants(session, admin.id)
        issuer = issuers.create_issuer(
            session,
            grants,
            {"name": "Collectif", "url": "https://collectif.example.fr", "email": "badges@collectif.example.fr"},
            settings=settings,
        )
        achievement = achievements.create_achievement(
            session,
            grants,
            issuer.id,
            {
                "name": "Animer une réunion publique",
                "description": "Animation validée.",
                "criteria": "Une réunion publique animée.",
                "achievement_type": "Competency",
                "competency_ids": [c.id for c in competencies],
            },
            storage=LocalStorage(storage),
            urls=settings.urls,
        )
        credential = awarding.award(
            session,
            grants,
            achievement.id,
            {
                "learner_id": learner.id,
                "evidence_url": "https://mairie.example.fr/cr",
                "narrative": "Réunion du 3 mars.",
            },
            settings=settings,
        )
        session.commit()
        credential_id = credential.id
    engine.dispose()
    return credential_id


def get(port: int, path: str, accept: str = "*/*") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            if get(port, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(port: int, path: str, accept: str) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{SECONDS}s",
            "--latency",
            "-H",
            f"Accept: {accept}",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=SECONDS + 60,
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses on {path}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
    }


def run_python(port: int, path: str, accept: str) -> dict[str, float]:
    """A bounded load generator: CONNECTIONS threads, one request at a time each, for SECONDS."""
    durations: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def worker() -> None:
        while time.monotonic() < stop:
            start = time.perf_counter()
            status, _body = get(port, path, accept)
            elapsed = time.perf_counter() - start
            with lock:
                durations.append(elapsed)
                if status != 200:
                    failures.append(status)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 30)
    if failures:
        raise RuntimeError(f"{len(failures)} failed responses on {path}")
    ordered = sorted(durations)
    return {
        "rps": len(ordered) / (time.monotonic() - began),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
    }


def main() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get(BENCH_DB_ENV) or f"sqlite:///{tmp}/bench.db"
        kek = os.urandom(32)
        credential_id = seed(url, base, Path(tmp) / "storage", [("b1", kek)])
        jwt_key = (
            Ed25519PrivateKey.generate()
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode()
        )
        env = {
            **os.environ,
            "BLASON_ENV": "production",
            "BLASON_INSTANCE_DIR": tmp,
            "BLASON_DATABASE_URL": url,
            "BLASON_PUBLIC_BASE_URL": base,
            "BLASON_SECRET_KEY": "bench",
            "BLASON_JWT_PRIVATE_KEY": jwt_key,
            "BLASON_KEY_ENCRYPTION_KEYS": "b1:" + base64.b64encode(kek).decode(),
            "BLASON_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [GUNICORN, "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        try:
            wait_ready(port, server)
            page = f"/credentials/{credential_id}"
            status, body = get(port, page, "text/html")
            assert status == 200 and b"Badge authentique" in body, body[:500]
            status, body = get(port, page, "application/json")
            assert status == 200 and body.startswith(b"{"), body[:200]
            load = run_wrk if shutil.which("wrk") else run_python
            generator = "wrk -t1" if load is run_wrk else "Python threads"
            routes = [
                ("GET /healthz (minimal route, same server)", "/healthz", "*/*"),
                ("GET /credentials/{id} — verification page (text/html)", page, "text/html"),
                ("GET /credentials/{id} — signed credential (application/json)", page, "application/json"),
            ]
            for _name, path, accept in routes:
                for _ in range(2 * WORKERS):  # warm every worker (imports, connections, templates)
                    get(port, path, accept)
            # RUNS rounds, every route in each: a busy moment of the machine weighs on all of them.
            runs = [[load(port, path, accept) for _name, path, accept in routes] for _ in range(RUNS)]
            rows = []
            for index, (name, _path, _accept) in enumerate(routes):
                ratios = [run[0]["rps"] / run[index]["rps"] for run in runs]
                p99_ratios = [run[index]["p99_ms"] / run[0]["p99_ms"] for run in runs]
                rows.append(
                    {
                        "route": name,
                        **{k: statistics.median(run[index][k] for run in runs) for k in ("rps", "p50_ms", "p99_ms")},
                        "ratio": statistics.median(ratios),
                        "p99_ratio": statistics.median(p99_ratios),
                    }
                )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
    backend = url.split(":", 1)[0]
    backend_name = "postgresql" if backend.startswith("postgresql") else "sqlite"
    print(
        f"bench_public on {backend}: gunicorn -w {WORKERS} (sync), {generator}, {CONNECTIONS} connections, "
        f"{SECONDS} s per route, {os.cpu_count()} CPU(s) shared with the load generator; median of {RUNS} runs; "
        "ratio = baseline rps / route rps, p99_ratio = route p99 / baseline p99 (same run)"
    )
    print(table(rows, ["route", "rps", "p50_ms", "p99_ms", "ratio", "p99_ratio"]))
    healthz, page = rows[0], rows[1]
    for measure, value, baseline, ratio in (
        (
            "verification page (HTML): /healthz req/s ÷ page req/s",
            f"{page['rps']:,.0f} req/s",
            f"/healthz {healthz['rps']:,.0f} req/s",
            page["ratio"],
        ),
        (
            "verification page (HTML): p99 ÷ /healthz p99",
            f"p99 {page['p99_ms']:.1f} ms",
            f"/healthz p99 {healthz['p99_ms']:.1f} ms",
            page["p99_ratio"],
        ),
    ):
        record(
            2,
            measure,
            value=value,
            baseline=baseline,
            ratio=ratio,
            at_most=3,
            database=backend_name,
            note=f"median of {RUNS} rounds",
        )


if __name__ == "__main__":
    main()
