"""competency search index: SQLite FTS5 table, one bulk-insert index less, folded labels backfilled

Revision ID: 3c27a90a16cb
Revises: 52528ccc7179
Create Date: 2026-11-21 23:24:52.138536

* ``ix_competencies_framework_id`` goes: the ``(framework_id, source_key)`` unique constraint
  leads with the same column, and each index costs the framework import a write per row.
* SQLite only: the contentless FTS5 table ``competencies_fts`` and its ranking rows
  ``competencies_fts_rows`` (see ``app.services.frameworks_fts``), filled from the existing
  competencies. They are not models; ``migrations/env.py`` and the drift test leave them and the
  FTS5 shadow tables out. PostgreSQL keeps its pg_trgm GIN index.
* ``search_label`` was added empty by ``d468ce180373``: rows imported before it ranked as if
  their label never matched. It is filled here with the same folding as the import service.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "3c27a90a16cb"
down_revision = "52528ccc7179"
branch_labels = None
depends_on = None

FTS_DDL = (
    "CREATE VIRTUAL TABLE competencies_fts USING fts5(search_text, tags, content = '', "
    "tokenize = 'unicode61 remove_diacritics 2', detail = 'column')",
    "CREATE TABLE competencies_fts_rows (id INTEGER PRIMARY KEY, competency_id CHAR(32) NOT NULL, "
    "framework_id CHAR(32) NOT NULL, search_label TEXT NOT NULL, code TEXT NOT NULL)",
    "INSERT INTO competencies_fts_rows (competency_id, framework_id, search_label, code) "
    "SELECT id, framework_id, search_label, lower(coalesce(code, '')) FROM competencies ORDER BY id",
    "INSERT INTO competencies_fts (rowid, search_text, tags) "
    "SELECT r.id, c.search_text, CASE WHEN f.is_current THEN 'current ' ELSE 'old ' END "
    "|| f.source_type || ' f' || r.framework_id FROM competencies_fts_rows r "
    "JOIN competencies c ON c.id = r.competency_id JOIN frameworks f ON f.id = r.framework_id",
)


def upgrade() -> None:
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competencies_framework_id"))
    _backfill_search_label()
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.scalar(sa.text("SELECT sqlite_compileoption_used('ENABLE_FTS5')")):
        for statement in FTS_DDL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS competencies_fts")
        op.execute("DROP TABLE IF EXISTS competencies_fts_rows")
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_competencies_framework_id"), ["framework_id"], unique=False)


# A copy of app.services.frameworks_query.fold as it was when this migration was written.
_LIGATURES = str.maketrans(
    {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d"}
)


def _fold(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def _backfill_search_label() -> None:
    competencies = sa.table(
        "competencies", sa.column("id", sa.Uuid()), sa.column("label", sa.Text()), sa.column("search_label", sa.Text())
    )
    bind = op.get_bind()
    last = None
    while True:
        stmt = (
            sa.select(competencies.c.id, competencies.c.label)
            .where(competencies.c.search_label == "", competencies.c.label != "")
            .order_by(competencies.c.id)
            .limit(2000)
        )
        if last is not None:
            stmt = stmt.where(competencies.c.id > last)
        rows = bind.execute(stmt).all()
        if not rows:
            return
        bind.execute(
            competencies.update()
            .where(competencies.c.id == sa.bindparam("b_id"))
            .values(search_label=sa.bindparam("b_label")),
            [{"b_id": row.id, "b_label": _fold(row.label)} for row in rows],
        )
        last = rows[-1].id
