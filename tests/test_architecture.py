"""Dependency direction: badges/ and schemas/ stay pure; services never touch Flask."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


RULES = [
    ("badges", ("flask", "sqlalchemy", "marshmallow", "app", "schemas", "alembic", "flask_smorest")),
    ("schemas", ("flask", "sqlalchemy", "app", "flask_smorest")),
    ("app/services", ("flask", "flask_smorest", "app.api", "app.web", "app.cli", "schemas", "werkzeug")),
    ("app/models", ("flask", "app.services", "app.api", "schemas")),
    ("app/importers", ("flask", "sqlalchemy", "app.models", "app.services", "app.api")),
]


@pytest.mark.parametrize("folder,forbidden", RULES, ids=[r[0] for r in RULES])
def test_layer_imports(folder, forbidden):
    offenders = []
    for path in _files(folder):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_services_do_not_read_request_globals():
    pattern = re.compile(r"\b(current_app|request|g)\.[a-z_]+\(|\bcurrent_app\b|\bfrom flask\b")
    offenders = [str(p.relative_to(ROOT)) for p in _files("app/services") if pattern.search(p.read_text())]
    assert offenders == []
