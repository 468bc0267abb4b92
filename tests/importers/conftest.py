"""Fixtures for the importer tests: the shared samples (skipped when absent) and helpers."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from app.importers import CompetencyRecord, FrameworkHeader, StreamItem

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FRAMEWORKS = SHARED / "frameworks"


def sample(*parts: str) -> Path:
    """Return a path under ../shared/frameworks, skipping the test when it is absent."""
    path = FRAMEWORKS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared samples absent ({path} not found beside the repository)")
    return path


def records(stream: Iterable[StreamItem]) -> list[CompetencyRecord]:
    """Return the competency records of a stream."""
    return [item for item in stream if isinstance(item, CompetencyRecord)]


def header_of(items: list[StreamItem]) -> FrameworkHeader:
    """Check the first item is the header and return it."""
    assert isinstance(items[0], FrameworkHeader)
    assert not any(isinstance(item, FrameworkHeader) for item in items[1:])
    return items[0]


def make_zip(members: dict[str, bytes], *, raw_names: dict[str, bytes] | None = None) -> bytes:
    """Build a zip in memory; ``raw_names`` rewrites ASCII placeholder names to raw bytes
    (UTF-8 names without the zip UTF-8 flag, as the RNCP export writes them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = buffer.getvalue()
    for placeholder, raw in (raw_names or {}).items():
        assert len(placeholder.encode()) == len(raw)
        data = data.replace(placeholder.encode(), raw)
    return data
