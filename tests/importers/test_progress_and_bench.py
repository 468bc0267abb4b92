"""Progress reporting, and streaming in bounded memory on the bench generator's output."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from app.importers import Counts, count_stream, parse_rncp_xml
from tests.rncp_bench import rncp_export, rncp_generator


def test_generator_output_imports_with_the_expected_counts() -> None:
    gen = rncp_generator()
    counts = count_stream(parse_rncp_xml(rncp_export(60, 5)))
    expected = sum(gen.expected_competences(gen.shape_for(30000 + f, b), 4, 3) for f in range(60) for b in range(1, 6))
    assert (counts.fiches, counts.blocs, counts.competences, counts.warnings) == (60, 300, expected, 0)


def test_progress_callback_is_called_periodically_and_at_the_end() -> None:
    seen: list[Counts] = []
    list(parse_rncp_xml(rncp_export(30, 2), on_progress=seen.append, progress_every=50))
    assert len(seen) > 3
    assert all(not c.done for c in seen[:-1]) and seen[-1].done
    assert [c.records for c in seen] == sorted(c.records for c in seen)
    assert (seen[-1].fiches, seen[-1].blocs) == (30, 60)


@pytest.mark.slow
def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    peaks = []
    for fiches in (20, 200):
        path = tmp_path / f"export_{fiches}.xml"
        path.write_bytes(rncp_export(fiches, 5))
        tracemalloc.start()
        count_stream(parse_rncp_xml(path))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 2, peaks  # 10x the data, roughly the same peak
