"""One helper per concern (issue 12): the optimistic lock, the LIKE escape, the slug rule and the
PNG chunk writer are each written once; a second copy in the source fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.platform.filenames import slug
from app.platform.pagination import contains_pattern, page_of_list
from badges.baking import png_chunk, unbake_png, write_png

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for folder in ("app", "badges") for p in (ROOT / folder).rglob("*.py"))

# pattern → the one module allowed to hold it
ONE_PLACE = {
    r"raise PreconditionRequired\(": "app/platform/errors.py",
    r"except StaleDataError": "app/platform/errors.py",
    r"""replace\(\s*["']%["']""": "app/platform/pagination.py",
    r"""normalize\(\s*["']NFKD["'].*encode\(\s*["']ascii""": "app/platform/filenames.py",
    r"zlib\.crc32\(\s*kind": "badges/baking.py",
    r"""struct\.pack\(\s*["']>IIBBBBB""": "badges/baking.py",  # an IHDR written by hand
}


@pytest.mark.parametrize("pattern,home", ONE_PLACE.items())
def test_written_once(pattern: str, home: str) -> None:
    found = sorted({str(p.relative_to(ROOT)) for p in SOURCES if re.search(pattern, p.read_text("utf-8"))})
    assert found == [home], found


def test_slug() -> None:
    assert slug("« Animer une réunion » !", fallback="badge") == "animer-une-reunion"
    assert slug("Œuvre collective_2024", fallback="badge") == "uvre-collective-2024"
    assert slug("日本語", fallback="preuve") == "preuve"
    assert slug("abc def ghi", fallback="x", limit=4) == "abc"  # never ends on a dash


def test_contains_pattern_takes_wildcards_literally() -> None:
    assert contains_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


def test_page_of_list() -> None:
    page = page_of_list(list(range(5)), 2, 2)
    assert (page.items, page.total, page.page, page.per_page) == ([2, 3], 5, 2, 2)
    whole = page_of_list(["a", "b"])
    assert (whole.items, whole.total, whole.page, whole.per_page) == (["a", "b"], 2, 1, 2)


def test_write_png_makes_a_png_baking_reads() -> None:
    png = write_png(2, 1, b"\0" + bytes(8), bit_depth=8, colour_type=6)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png.endswith(png_chunk(b"IEND", b""))
    assert unbake_png(png) is None  # every chunk parsed, CRCs checked, nothing baked
