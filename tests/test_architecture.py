"""Dependency direction: the import-linter contracts of setup.cfg hold (CI also runs ``lint-imports``)."""
from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = {"layers", "domains", "pure-libraries", "badges-pure", "schemas-pure", "no-flask-below-views",
             "views-through-services", "importers-pure"}


def test_every_rule_has_its_contract():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    found = {s.removeprefix("importlinter:contract:") for s in config.sections()
             if s.startswith("importlinter:contract:")}
    assert found >= CONTRACTS


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[run.stdout.find("Broken contracts"):] + run.stderr
