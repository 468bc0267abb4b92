"""The SQLite full-text index of competencies (FTS5), kept in step by the import service.

PostgreSQL finds words in ``competencies.search_text`` through a pg_trgm GIN index. SQLite has
no such index (a LIKE search reads every row), so there migration ``3c27a90a16cb`` creates:

* ``competencies_fts``: a contentless FTS5 table (unicode61 tokenizer, diacritics removed) over
  ``search_text`` and ``tags`` — ``current`` or ``old``, the source type and ``f<framework id>``
  — so "current versions only" and the other filters are answered by the index itself;
* ``competencies_fts_rows``: what ranking needs, keyed by the FTS rowid (an INTEGER PRIMARY KEY,
  which VACUUM keeps), so ranking reads narrow rows instead of ``competencies``.

Neither is a model: Alembic and the drift test leave them and the FTS5 shadow tables out
(``is_fts_table``). The writer indexes a framework version when it is written and re-tags the
version it replaces (``retire``); frameworks are never updated otherwise. A contentless index
forgets what it indexed, so re-tagging deletes with the exact values indexed: ``search_text``
from ``competencies``, which is never updated, and tags rebuilt by ``_tags``.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Uuid, column, literal_column, table, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

NAME = "competencies_fts"
ROWS = table(
    f"{NAME}_rows", column("id", Integer()), column("competency_id", Uuid()), column("search_label"), column("code")
)
FTS = table(NAME, column("rowid", Integer()))
CHUNK = 500
_enabled: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def is_fts_table(name: str | None) -> bool:
    """Whether a table belongs to the SQLite search index (FTS5, its shadow tables, its rows)."""
    return bool(name) and (name == NAME or str(name).startswith(f"{NAME}_"))


def enabled(session: Session) -> bool:
    """Whether this database has the index (SQLite with FTS5 compiled in, once migrated)."""
    engine = session.get_bind().engine
    if engine.dialect.name != "sqlite":
        return False
    known = _enabled.get(engine)
    if known is None:
        known = session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = :name"), {"name": NAME}) == 1
        _enabled[engine] = known
    return known


def _tags(current: bool, source_type: str, framework_id: str) -> str:
    return f"{'current' if current else 'old'} {source_type} f{framework_id}"


def add_rows(session: Session, rows: Sequence[dict[str, Any]], source_type: str) -> None:
    """Index rows the writer has just inserted for current framework versions."""
    if not rows:
        return
    connection = session.connection()
    # The import holds SQLite's write lock since its first insert: these ids stay ours.
    first = connection.scalar(text(f"SELECT coalesce(max(id), 0) + 1 FROM {NAME}_rows"))
    connection.execute(
        text(
            f"INSERT INTO {NAME}_rows (id, competency_id, framework_id, search_label, code) "
            "VALUES (:id, :competency_id, :framework_id, :search_label, :code)"
        ),
        [
            {
                "id": first + n,
                "competency_id": r["id"].hex,
                "framework_id": r["framework_id"].hex,
                "search_label": r["search_label"],
                "code": (r["code"] or "").lower(),
            }
            for n, r in enumerate(rows)
        ],
    )
    connection.execute(
        text(f"INSERT INTO {NAME} (rowid, search_text, tags) VALUES (:id, :search_text, :tags)"),
        [
            {"id": first + n, "search_text": r["search_text"], "tags": _tags(True, source_type, r["framework_id"].hex)}
            for n, r in enumerate(rows)
        ],
    )


def add_frameworks(session: Session, framework_ids: Sequence[uuid.UUID], source_type: str) -> None:
    """Index every competency of these (current) framework versions, read back from the table."""
    connection = session.connection()
    for start in range(0, len(framework_ids), CHUNK):
        ids = [i.hex for i in framework_ids[start : start + CHUNK]]
        first = connection.scalar(text(f"SELECT coalesce(max(id), 0) + 1 FROM {NAME}_rows"))
        holders = ", ".join(f":f{n}" for n in range(len(ids)))
        values = {f"f{n}": i for n, i in enumerate(ids)}
        connection.execute(
            text(
                f"INSERT INTO {NAME}_rows (competency_id, framework_id, search_label, code) "
                "SELECT id, framework_id, search_label, lower(coalesce(code, '')) FROM competencies "
                f"WHERE framework_id IN ({holders}) ORDER BY id"
            ),
            values,
        )
        connection.execute(
            text(
                f"INSERT INTO {NAME} (rowid, search_text, tags) "
                "SELECT r.id, c.search_text, 'current ' || :source_type || ' f' || r.framework_id "
                f"FROM {NAME}_rows r JOIN competencies c ON c.id = r.competency_id WHERE r.id >= :first"
            ),
            {"source_type": source_type, "first": first},
        )


def retire(session: Session, framework_ids: Sequence[uuid.UUID], source_type: str) -> None:
    """Re-tag the rows of framework versions that stopped being current as ``old``."""
    connection = session.connection()
    for start in range(0, len(framework_ids), CHUNK):
        ids = [i.hex for i in framework_ids[start : start + CHUNK]]
        found = connection.execute(
            text(
                f"SELECT r.id, r.framework_id, c.search_text FROM {NAME}_rows r "
                "JOIN competencies c ON c.id = r.competency_id "
                f"WHERE r.id IN (SELECT rowid FROM {NAME} WHERE {NAME} MATCH :match)"
            ),
            {"match": "tags : (" + " OR ".join(f'"f{i}"' for i in ids) + ")"},
        ).all()
        if not found:
            continue
        connection.execute(
            text(f"INSERT INTO {NAME} ({NAME}, rowid, search_text, tags) VALUES ('delete', :id, :search_text, :tags)"),
            [
                {"id": row.id, "search_text": row.search_text, "tags": _tags(True, source_type, row.framework_id)}
                for row in found
            ],
        )
        connection.execute(
            text(f"INSERT INTO {NAME} (rowid, search_text, tags) VALUES (:id, :search_text, :tags)"),
            [
                {"id": row.id, "search_text": row.search_text, "tags": _tags(False, source_type, row.framework_id)}
                for row in found
            ],
        )


def match(
    words: Sequence[str], *, current: bool, source_type: str | None, framework_id: uuid.UUID | None
) -> ColumnElement[bool]:
    """Every word starts a word of ``search_text``; the filters are tags (words are folded)."""
    query = "search_text : (" + " ".join(f'"{w}"*' for w in words) + ")"
    if framework_id is not None:
        query += f' AND tags : "f{framework_id.hex}"'
    else:
        if current:
            query += " AND tags : current"
        if source_type:
            query += f' AND tags : "{source_type}"'
    return literal_column(NAME).op("MATCH")(query)
