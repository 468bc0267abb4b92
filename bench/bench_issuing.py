"""Bulk award of N credentials in every format, end to end through the service.

Each credential: OB 3.0 with an eddsa-rdfc-2022 proof, VC-JWT (ES256), OB 2.0 hosted assertion
and RS256-signed twin, a random status-list index, evidence and result lookups, an audit event,
all stored in one transaction. SQL statements sent during the award are counted (an executemany
is one). The baseline is badges/ alone signing the same credential in all formats (no database):
the ratio is the service's overhead. It is measured during the award itself, interleaved: after
every fourth credential the bench signs the sample credential once more with badges/ alone, timed
apart and taken out of the award's time, so both run under the same load on a shared machine.
``CPU overhead ×`` compares CPU time (the process's, plus its PostgreSQL backend's when the
server is local); ``CPU × baseline apart`` is the former way: badges/ alone for 5 s after the award.
Peak memory is the process's maximum resident set size (and its growth during the award).
Run: .venv/bin/python bench/bench_issuing.py [--count 5000]  [BLASON_BENCH_DATABASE_URL=postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, select, text  # noqa: E402

import badges  # noqa: E402
from app.db import db  # noqa: E402
from app.models import Credential, Person, ProfileType  # noqa: E402
from app.platform.urls import Urls
from app.runtime import runtime  # noqa: E402
from app.services.identity import access
from app.services.identity.audit import Actor
from app.services.issuing import bulk
from app.services.issuing.signing import IssuingSettings
from app.worker import settle_process
from bench._common import bench_app, bench_badge, pin_one_core, record, table  # noqa: E402

SYSTEM = access.Grants(Actor(None), platform_admin=True)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _backend_cpu(pid: int | None) -> float:
    """CPU seconds used so far by a local PostgreSQL backend (0 when it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _signer(credential: dict[str, object]) -> Callable[[], None]:
    """badges/ alone signing ``credential`` in all formats, as the service does for each award."""
    di, es, rsa = badges.generate_key("Ed25519"), badges.generate_key("P-256"), badges.generate_key("RSA")
    method = f"{credential['issuer']['id']}#{di.public.multibase()}"  # type: ignore[index]
    now = datetime.now(UTC)
    ob2 = badges.OB2Assertion(
        id="https://host/ob2/assertions/1",
        badge="https://host/ob2/badgeclasses/1",
        recipient_email="a@example.fr",
        salt="s4lt",
        issued_on=now,
        signed_by="https://host/k",
    )

    def one() -> None:
        badges.sign_data_integrity(credential, di, method, created=datetime.now(UTC))
        badges.sign_vc_jwt(credential, es, kid="https://host/issuers/1/keys/es")
        badges.build_ob2_assertion(ob2)
        badges.sign_ob2_assertion(badges.build_ob2_assertion(ob2), rsa)

    one()
    return one


def badges_rate(credential: dict[str, object], seconds: float = 5.0) -> tuple[float, float]:
    """Credentials per second that badges/ alone signs in all formats (the floor of the service).

    Per second of wall time, and per second of CPU time (what other processes on a shared
    machine do not change).
    """
    one = _signer(credential)
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        one()
        count += 1
    return count / (time.perf_counter() - start), count / (time.process_time() - cpu)


class Interleaved:
    """The baseline signed during the award: once every ``every`` credentials, timed apart."""

    def __init__(self, credential: dict[str, object], every: int = 4) -> None:
        self.one, self.every = _signer(credential), every
        self.count, self.wall, self.cpu = 0, 0.0, 0.0

    def __call__(self, issued: int, _total: int) -> None:
        if issued and issued % self.every == 0:
            start, cpu = time.perf_counter(), time.process_time()
            self.one()
            self.cpu += time.process_time() - cpu
            self.wall += time.perf_counter() - start
            self.count += 1


def run(count: int, settle: bool = True) -> dict[str, object]:
    with bench_app() as app, app.app_context():
        rt = runtime(app)
        settings = IssuingSettings(urls=Urls(rt.settings.public_base_url), keks=rt.settings.key_encryption_keys)
        session = db.session
        issuer, achievement = bench_badge(session, settings, rt.storage)
        emails = [f"bench{i}-{uuid.uuid4().hex[:6]}@example.fr" for i in range(count + 1)]
        session.execute(
            insert(Person),
            [
                {"id": uuid.uuid4(), "display_name": f"Apprenant {i}", "email": e, "profile_type": ProfileType.AUTRE}
                for i, e in enumerate(emails)
            ],
        )
        session.commit()

        def award(learners: list[str], on_progress: Interleaved | None) -> bulk.BulkReport:
            csv = ("email,achievement_id\n" + "".join(f"{e},{achievement.id}\n" for e in learners)).encode()
            report = bulk.bulk_award(
                session,
                SYSTEM,
                issuer.id,
                io.BytesIO(csv),
                mode="all_or_nothing",
                settings=settings,
                max_bytes=len(csv) + 1,
                on_progress=on_progress,
            )
            session.commit()
            return report

        # One award first: its credential is the baseline's sample, signed during the timed award.
        award(emails[:1], None)
        if settle:
            settle_process()  # as `blason worker` does once the app is loaded
        sample = session.scalar(select(Credential.ob3_credential).limit(1))
        interleaved = Interleaved({k: v for k, v in sample.items() if k != "proof"})
        statements = 0

        def counted(*_args: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(db.engine, "before_cursor_execute", counted)
        # The award runs in this transaction, on this connection: its PostgreSQL backend's CPU counts too.
        backend = session.scalar(text("SELECT pg_backend_pid()")) if db.engine.dialect.name == "postgresql" else None
        rss_before = _maxrss_mb()
        start, cpu, server_cpu = time.perf_counter(), time.process_time(), _backend_cpu(backend)
        report = award(emails[1:], interleaved)
        elapsed = time.perf_counter() - start - interleaved.wall
        cpu = time.process_time() - cpu + _backend_cpu(backend) - server_cpu - interleaved.cpu
        event.remove(db.engine, "before_cursor_execute", counted)
        assert report.issued == count, report
        _apart, apart_cpu = badges_rate({k: v for k, v in sample.items() if k != "proof"})
        dialect = db.engine.dialect.name
    service = count / elapsed
    baseline, baseline_cpu = interleaved.count / interleaved.wall, interleaved.count / interleaved.cpu
    return {
        "database": dialect,
        "credentials": count,
        "seconds": elapsed,
        "service cred/s": service,
        "badges/ cred/s": baseline,
        "overhead ×": baseline / service,
        "CPU overhead ×": baseline_cpu / (count / cpu),
        "CPU × baseline apart": apart_cpu / (count / cpu),
        "statements/credential": f"{statements / count:.3f}",
        "peak RSS MB": _maxrss_mb(),
        "RSS growth MB": _maxrss_mb() - rss_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--no-settle", action="store_true", help="leave the garbage collector as it is (no gc.freeze)")
    args = parser.parse_args()
    pin_one_core()
    row = run(args.count, settle=not args.no_settle)
    print(f"Bulk award through the service, all formats ({row['database']}, one core):")
    print(
        table(
            [row],
            [
                "database",
                "credentials",
                "seconds",
                "service cred/s",
                "badges/ cred/s",
                "overhead ×",
                "CPU overhead ×",
                "CPU × baseline apart",
                "statements/credential",
                "peak RSS MB",
                "RSS growth MB",
            ],
        )
    )
    record(
        1,
        f"bulk award of {row['credentials']:,}, all formats ÷ badges/ signing alone",
        value=f"{row['service cred/s']:,.0f} cred/s",
        baseline=f"badges/ {row['badges/ cred/s']:,.0f} cred/s",
        ratio=float(row["overhead ×"]),  # type: ignore[arg-type]
        at_most=1.3,
        database=str(row["database"]),
        note=f"CPU time: {row['CPU overhead ×']:.2f}×",
    )


if __name__ == "__main__":
    main()
