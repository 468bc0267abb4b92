"""What keeps a search's cost from growing with its hits (issue 16, performance), checked for correctness.

SQLite: the BM25 of the candidates is computed in Python (FTS5's ``bm25()`` first counts every row
holding each term); for a word in fewer rows than ``fts.IDF_CAP`` it must be FTS5's own figure.
PostgreSQL: the vectors sit in ``fts.PARTITIONS`` hash parts read one after the other; a search must
still find, count and rank the hits of every part. Runs on the database under test.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.services.frameworks import fts, stems
from app.services.frameworks.imports import import_framework_file
from app.services.frameworks.query import search_competencies
from app.services.identity.access import Grants
from app.services.identity.audit import Actor

ADMIN = Grants(Actor(None), platform_admin=True)
COUNT = 120


def _framework() -> bytes:
    lines = [
        "# title: Ateliers",
        "# language: fr",
        "key;parent_key;kind;code;label;description",
        "A;;domain;A;Ateliers;",
    ]
    for n in range(COUNT):
        # Every row says "atelier"; one in three says "bois" in its label, one in five in its description.
        label = f"Animer l'atelier {n}" + (" du bois" if n % 3 == 0 else "")
        description = "Travail du bois et du métal" if n % 5 == 0 else "Accueil du public"
        lines.append(f"A{n};A;competence;A{n};{label};{description}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture()
def imported(session):  # type: ignore[no-untyped-def]
    import_framework_file(session, ADMIN, _framework(), "ateliers.csv")
    session.flush()


def _sqlite_only(session) -> None:  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("FTS5 on SQLite only")


def test_python_bm25_is_fts5s_for_words_below_the_cap(session, imported):
    _sqlite_only(session)
    for words in (["bois"], ["atelier"], ["bois", "atelier"], ["public"]):
        groups = [[stems.Term(stems.stem(w, "fr"), False)] for w in words]
        rows = session.execute(
            text(
                f"SELECT r.label_terms, r.body_terms, bm25({fts.NAME}, {fts.LABEL_WEIGHT}, 1.0, 0.0) "
                f"FROM {fts.NAME} f JOIN {fts.NAME}_rows r ON r.id = f.rowid WHERE {fts.NAME} MATCH :m"
            ),
            {"m": fts._fts_match(groups, False, "label body")},
        ).all()
        assert rows, words
        bm25 = fts._Bm25(session, groups)
        assert bm25.rows == COUNT + 1
        for label_terms, body_terms, expected in rows:
            assert bm25.score(label_terms, body_terms) == pytest.approx(expected, rel=1e-9), (words, label_terms)


def test_ranking_is_fts5s_order(session, imported):
    _sqlite_only(session)
    groups = [stems.alternatives("bois", ["fr"])]
    found = fts.ranked(session, groups, fts.Filters(), phrase="bois", limit=COUNT, ordered_by_score=True)
    by_fts5 = session.execute(
        text(
            f"SELECT r.competency_id FROM {fts.NAME} f JOIN {fts.NAME}_rows r ON r.id = f.rowid "
            f"WHERE {fts.NAME} MATCH :m ORDER BY bm25({fts.NAME}, {fts.LABEL_WEIGHT}, 1.0, 0.0), "
            "length(r.search_label), r.search_label, r.id"
        ),
        {"m": fts._fts_match(groups, False, "label body")},
    ).all()
    assert [c.competency_id.hex for c in found] == [r[0] for r in by_fts5]
    assert len(found) == COUNT // 3 + COUNT // 5 - COUNT // 15


def test_varints_read_sqlite_records():
    assert list(fts._varints(bytes([0x05, 0x81, 0x00, 0xAB, 0xF8, 0x78]))) == [5, 128, 719_992]


def test_every_part_is_searched_counted_and_ranked(session, imported):
    if session.get_bind().dialect.name == "postgresql":
        parts = session.scalar(
            text("SELECT count(*) FROM pg_inherits WHERE inhparent = CAST(:name AS regclass)"), {"name": fts.VECTORS}
        )
        assert parts == fts.PARTITIONS
        spread = session.scalar(
            text(f"SELECT count(DISTINCT tableoid) FROM {fts.VECTORS} WHERE vector @@ CAST('bois' AS tsquery)")
        )
        assert spread > 1  # the hits sit in several parts
        # Every search reads a GIN index's pending list whole: each part's stays small.
        options = session.scalars(
            text(
                "SELECT c.reloptions::text FROM pg_inherits i JOIN pg_index x ON x.indrelid = i.inhrelid "
                "JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "WHERE i.inhparent = CAST(:name AS regclass) AND a.amname = 'gin'"
            ),
            {"name": fts.VECTORS},
        ).all()
        assert options == ["{gin_pending_list_limit=64}"] * fts.PARTITIONS
    page = search_competencies(session, None, q="bois", per_page=100)
    expected = COUNT // 3 + COUNT // 5 - COUNT // 15
    assert page.total == len(page.items) == expected
    # Label hits first (one in three), then the description-only ones.
    assert all("bois" in h.competency.label for h in page.items[: COUNT // 3])
    assert not any("bois" in h.competency.label for h in page.items[COUNT // 3 :])
    broad = search_competencies(session, None, q="atelier", per_page=20)
    assert broad.total == COUNT + 1 and len(broad.items) == 20
