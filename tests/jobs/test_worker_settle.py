"""A worker keeps the objects of its loaded app out of the garbage collector's rounds (issue 18)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import app.worker as worker

ROOT = Path(__file__).resolve().parents[2]


def test_settling_freezes_what_the_loaded_app_holds() -> None:
    # In a process of its own: freezing is for the rest of a process's life.
    script = (
        "import gc\n"
        "from app.worker import settle_process\n"
        "before = gc.get_freeze_count()\n"
        "settle_process()\n"
        "print(before, gc.get_freeze_count())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    before, after = (int(n) for n in out.split())
    assert before == 0 and after > 50_000  # the modules the worker imports, their functions and tables


def test_the_worker_command_settles_before_running_jobs(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    monkeypatch.setattr(worker, "settle_process", lambda: calls.append("settled"))
    result = app.test_cli_runner().invoke(args=["blason", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert calls == ["settled"] and "job(s) run" in result.output
