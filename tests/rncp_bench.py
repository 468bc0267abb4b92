"""The benchmark's RNCP XML generator (bench/gen_rncp.py), for the importer and import-service tests."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

GENERATOR = Path(__file__).resolve().parents[1] / "bench" / "gen_rncp.py"


def rncp_generator() -> ModuleType:
    """Load bench/gen_rncp.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("gen_rncp", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_rncp"] = module
    spec.loader.exec_module(module)
    return module


def rncp_export(fiches: int, blocs: int) -> bytes:
    """An RNCP XML export of that many fiches, each with that many blocs."""
    out = io.BytesIO()
    rncp_generator().write(out, fiches, blocs)
    return out.getvalue()
