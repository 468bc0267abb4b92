"""Each domain package imports on its own, first, and exports what its ``__all__`` names."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = [
    "identity",
    "territories",
    "contributions",
    "frameworks",
    "recognition",
    "issuing",
    "verification",
    "dossiers",
    "jobs",
]


def test_the_domain_list_is_the_service_packages():
    found = sorted(p.parent.name for p in (ROOT / "app" / "services").glob("*/__init__.py"))
    assert found == sorted(DOMAINS)


def test_every_package_imports_first():
    # A package __init__ importing its submodules eagerly can hide a cycle that only shows when that
    # package is the first one imported. One interpreter forgets app.* between packages, which is as
    # good as a fresh interpreter per package and eight times cheaper.
    script = (
        "import importlib, sys\n"
        "for domain in sys.argv[1:]:\n"
        "    for name in [m for m in sys.modules if m == 'app' or m.startswith('app.')]:\n"
        "        del sys.modules[name]\n"
        "    try:\n"
        "        importlib.import_module('app.services.' + domain)\n"
        "    except ImportError as error:\n"
        "        print(domain, error)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, *DOMAINS], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert (run.returncode, run.stdout) == (0, "")


@pytest.mark.parametrize("domain", DOMAINS)
def test_package_documents_itself_and_exports_its_names(domain):
    package = importlib.import_module(f"app.services.{domain}")
    assert package.__doc__ and package.__doc__.lower().startswith(domain)
    assert package.__all__ and len(set(package.__all__)) == len(package.__all__)
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert missing == []
    # An exported name never hides a submodule of the same name.
    submodules = {p.stem for p in (ROOT / "app" / "services" / domain).glob("*.py")}
    assert submodules.isdisjoint(package.__all__)
