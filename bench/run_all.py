"""Run every benchmark in bench/ (bench_*.py), then print issue 18's table with its same-run baselines.

Every bench runs on a temporary SQLite database first. When BLASON_BENCH_DATABASE_URL names a
PostgreSQL database (it is emptied), the benches that use a database run again on it. Benches
record their issue-18 figures through bench._common.record (a JSON line each, in a file this
script names in BLASON_BENCH_RESULTS); the table at the end gives one line per row and database:
the measure, its baseline measured in the same run, the ratio, the target and whether it is met.

Benchmarks report, they do not fail: the exit status is 0 unless a bench crashed (a traceback or a
signal). A bench that stops on a missed target of its own is listed, not counted as a crash.

Run: make bench, or .venv/bin/python bench/run_all.py [bench_public bench_badges ...] (a subset).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import deque
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._common import BENCH_DB_ENV, RESULTS_ENV  # noqa: E402

# Benches that use no database run once.
NO_DATABASE = {"bench_badges.py"}
# Issue 18's rows: the bench that measures each and whether it runs on each database.
ROWS = {
    1: ("bulk award of 5,000, all formats ÷ badges/ signing alone", "bench_issuing.py"),
    2: ("public verification page (HTML) against /healthz, gunicorn + wrk", "bench_public.py"),
    3: ("eddsa-rdfc-2022 signing against Digital Bazaar JS and raw Ed25519", "bench_badges.py"),
    4: ("VC-JWT ES256 / EdDSA signing ÷ the raw signature", "bench_badges.py"),
    5: ("RNCP national import ÷ parsing the same file alone", "bench_frameworks.py"),
}


def _run(script: Path, env: dict[str, str]) -> tuple[int, bool, str]:
    """Run one bench, its output passed through; return its status, whether it crashed, its last error line."""
    process = subprocess.Popen([sys.executable, str(script)], env=env, stderr=subprocess.PIPE, text=True)
    tail: deque[str] = deque(maxlen=40)

    def relay() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            sys.stderr.write(line)
            tail.append(line)

    reader = threading.Thread(target=relay)
    reader.start()
    status = process.wait()
    reader.join()
    crashed = status < 0 or (status != 0 and any(line.startswith("Traceback") for line in tail))
    last = next((line.strip() for line in reversed(tail) if line.strip()), "")
    return status, crashed, last


def _table(results: list[dict[str, object]], databases: list[str], ran: set[str]) -> str:
    lines = [
        "| row | measure | database | value | same-run baseline | ratio | target | met | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for number, (title, script) in ROWS.items():
        if script not in ran:
            continue
        wanted = ["-"] if script in NO_DATABASE else databases
        for database in wanted:
            found = [r for r in results if r["row"] == number and r["database"] == database]
            if not found:
                lines.append(f"| {number} | {title} | {database} | no figure (bench not run or crashed) | | | | | |")
            for r in found:
                met = "met" if r["met"] else "**not met**"
                lines.append(
                    f"| {number} | {r['measure']} | {database} | {r['value']} | {r['baseline']} | "
                    f"{r['ratio']:.2f}× | {r['target']} | {met} | {r['note']} |"
                )
    return "\n".join(lines)


def main(only: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        names = {name if name.endswith(".py") else f"{name}.py" for name in only}
        unknown = names - {script.name for script in scripts}
        if unknown:
            print(f"unknown bench(es): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        scripts = [script for script in scripts if script.name in names]
    url = os.environ.get(BENCH_DB_ENV, "")
    passes = [("sqlite", {k: v for k, v in os.environ.items() if k != BENCH_DB_ENV})]
    if url.startswith("postgresql"):
        passes.append(("postgresql", dict(os.environ)))
    else:
        print(f"(PostgreSQL skipped: set {BENCH_DB_ENV}=postgresql+psycopg://… to include it)", flush=True)
    outcomes: list[tuple[str, str, int, bool, str]] = []
    with tempfile.TemporaryDirectory(prefix="blason-bench-results-") as tmp:
        results_file = Path(tmp) / "results.jsonl"
        for database, env in passes:
            env = {**env, RESULTS_ENV: str(results_file)}
            for script in scripts:
                if database != "sqlite" and script.name in NO_DATABASE:
                    continue
                print(f"\n=== {script.name} ({database})", flush=True)
                status, crashed, last = _run(script, env)
                outcomes.append((script.name, database, status, crashed, last))
        results = (
            [json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines() if line.strip()]
            if results_file.exists()
            else []
        )
    print("\n=== Issue 18: each measure against its baseline of the same run\n")
    print(_table(results, [database for database, _env in passes], {script.name for script in scripts}))
    stopped = [o for o in outcomes if o[2] != 0]
    for name, database, status, crashed, last in stopped:
        kind = "crashed" if crashed else "stopped"
        print(f"\n{name} ({database}) {kind} with status {status}: {last}")
    return 1 if any(o[3] for o in stopped) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
