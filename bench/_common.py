"""Helpers shared by the benchmarks: a throw-away app on SQLite or PostgreSQL, timing, tables."""

from __future__ import annotations

import base64
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from app import create_app, migrate
from app.db import make_engine
from app.services.identity import access
from app.services.identity.audit import Actor
from app.services.issuing import achievements, issuers

BENCH_DB_ENV = "BLASON_BENCH_DATABASE_URL"
RESULTS_ENV = "BLASON_BENCH_RESULTS"


def bench_database() -> str:
    """The database a bench runs on: "postgresql" when BLASON_BENCH_DATABASE_URL names one, else "sqlite"."""
    return "postgresql" if os.environ.get(BENCH_DB_ENV, "").startswith("postgresql") else "sqlite"


def record(
    row: int,
    measure: str,
    *,
    value: str,
    baseline: str,
    ratio: float,
    at_most: float | None = None,
    at_least: float | None = None,
    database: str | None = None,
    note: str = "",
) -> None:
    """Keep one figure of issue 18's table (a JSON line in the file BLASON_BENCH_RESULTS names, if set).

    ``ratio`` is the measure over its same-run ``baseline`` (as the target reads it); it meets the
    target when it is at most ``at_most`` or at least ``at_least``. ``database`` is "sqlite",
    "postgresql" (default: the bench's) or "-" for a bench that uses none. bench/run_all.py prints them.
    """
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    target = f"≤ {at_most:g}×" if at_most is not None else f"≥ {at_least:g}×"
    met = ratio <= at_most if at_most is not None else at_least is not None and ratio >= at_least
    line = {
        "row": row,
        "measure": measure,
        "database": database or bench_database(),
        "value": value,
        "baseline": baseline,
        "ratio": round(ratio, 3),
        "target": target,
        "met": met,
        "note": note,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


def pin_one_core() -> None:
    """Run on one core so figures compare across machines of the same kind."""
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass


@contextmanager
def bench_app(extra: dict[str, Any] | None = None) -> Iterator[Any]:
    """A migrated app on a temporary SQLite file, or on BLASON_BENCH_DATABASE_URL (emptied)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get(BENCH_DB_ENV) or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        migrate.upgrade(engine)
        key = (
            Ed25519PrivateKey.generate()
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode()
        )
        app = create_app(
            {
                "ENV": "testing",
                "INSTANCE_DIR": tmp,
                "ENGINE": engine,
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "JWT_PRIVATE_KEY": key,
                "KEY_ENCRYPTION_KEYS": "b1:" + base64.b64encode(os.urandom(32)).decode(),
                "PASSWORD_HASH_TIME_COST": 1,
                "PASSWORD_HASH_MEMORY_KIB": 8,
                "LOG_LEVEL": "WARNING",
                **(extra or {}),
            }
        )
        try:
            yield app
        finally:
            engine.dispose()


def timed(fn: Callable[[], Any], n: int, warmup: int = 20) -> list[float]:
    """Call ``fn`` n times after a warm-up; return each duration in seconds."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def summary(durations: list[float]) -> dict[str, float]:
    ordered = sorted(durations)
    return {
        "rps": len(ordered) / sum(ordered),
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
    }


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:,.1f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


def bench_badge(session: Any, settings: Any, storage: Any) -> tuple[Any, Any]:
    """The benchmarks' issuer and its badge ("Tenir un stand"), created by the platform itself."""
    system = access.Grants(Actor(None), platform_admin=True)
    issuer = issuers.create_issuer(
        session,
        system,
        {"name": "Banc d'essai", "url": "https://bench.example.fr", "email": "bench@example.fr"},
        settings=settings,
    )
    achievement = achievements.create_achievement(
        session,
        system,
        issuer.id,
        {
            "name": "Tenir un stand",
            "description": "Accueillir le public.",
            "criteria": "Avoir tenu un stand.",
            "achievement_type": "Badge",
        },
        storage=storage,
        urls=settings.urls,
    )
    return issuer, achievement
