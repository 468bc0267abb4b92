"""Dependency direction: the import-linter contracts of setup.cfg hold (CI also runs ``lint-imports``);
test modules import no other test module."""

from __future__ import annotations

import ast
import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = {
    "layers",
    "domains",
    "pure-libraries",
    "badges-pure",
    "schemas-pure",
    "no-flask-below-views",
    "views-through-services",
    "importers-pure",
}


def test_every_rule_has_its_contract():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    found = {
        s.removeprefix("importlinter:contract:") for s in config.sections() if s.startswith("importlinter:contract:")
    }
    assert found >= CONTRACTS


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[run.stdout.find("Broken contracts") :] + run.stderr


def test_no_test_module_imports_another():
    # Shared fixtures belong in conftest.py or a plugin module, shared helpers in a helper module.
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("tests")):
                names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("tests")]
            else:
                continue
            if any(name.rsplit(".", 1)[-1].startswith("test_") for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
