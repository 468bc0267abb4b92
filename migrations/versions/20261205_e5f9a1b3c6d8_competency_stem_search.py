"""competency search with stems (issue 16)

Revision ID: e5f9a1b3c6d8
Revises: d4e8f0a2b5c7
Create Date: 2026-12-05 09:00:00.000000

The search index of ``app.services.frameworks.fts``, filled from the stored competencies:

* SQLite: ``competencies_fts`` becomes an FTS5 table of Snowball stems with a label column, a body
  column and the filter tags; ``competencies_fts_rows`` keeps the terms it indexed. The stems come
  from ``app.services.frameworks.fts.rebuild`` (PyStemmer), as the import writes them.
* PostgreSQL: the ``unaccent`` extension (when the server has it), the text search configurations
  ``blason_fr``, ``blason_en``, ``blason_es`` (unaccent, then the Snowball stemmer of the language)
  and ``blason_simple`` (unaccent only), and ``competencies_fts_vectors`` with its GIN index.

None of these are models; the drift test leaves them out (``is_fts_table``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e5f9a1b3c6d8"
down_revision = "d4e8f0a2b5c7"
branch_labels = None
depends_on = None

CONFIGS = {"blason_fr": "french", "blason_en": "english", "blason_es": "spanish", "blason_simple": "simple"}

OLD_SQLITE_DDL = (
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
    from app.services.frameworks import fts

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if not bind.scalar(sa.text("SELECT sqlite_compileoption_used('ENABLE_FTS5')")):
            return
        op.execute("DROP TABLE IF EXISTS competencies_fts")
        op.execute("DROP TABLE IF EXISTS competencies_fts_rows")
        for statement in fts.SQLITE_DDL:
            op.execute(statement)
        fts.rebuild(bind)
        return
    unaccent = bool(bind.scalar(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'")))
    schema = None
    if unaccent:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        # The extension may live in another schema than this database's tables (as pg_trgm may).
        schema = bind.scalar(
            sa.text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'unaccent'"
            )
        )
    for name, base in CONFIGS.items():
        op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{base})")
        if unaccent:
            dictionary = "simple" if base == "simple" else f"{base}_stem"
            op.execute(
                f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR hword, hword_part, word, "
                f'asciiword, asciihword, hword_asciipart WITH "{schema}".unaccent, {dictionary}'
            )
    op.execute(
        "CREATE TABLE competencies_fts_vectors (competency_id uuid PRIMARY KEY, framework_id uuid NOT NULL, "
        "source_type varchar(32) NOT NULL, current boolean NOT NULL, language varchar(8) NOT NULL, "
        "kind varchar(32) NOT NULL, search_label text NOT NULL, code text NOT NULL, vector tsvector NOT NULL)"
    )
    fts.rebuild(bind)
    op.execute("CREATE INDEX competencies_fts_vectors_vector ON competencies_fts_vectors USING gin (vector)")
    op.execute("CREATE INDEX competencies_fts_vectors_framework ON competencies_fts_vectors (framework_id)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if not bind.scalar(sa.text("SELECT sqlite_compileoption_used('ENABLE_FTS5')")):
            return
        op.execute("DROP TABLE IF EXISTS competencies_fts")
        op.execute("DROP TABLE IF EXISTS competencies_fts_rows")
        for statement in OLD_SQLITE_DDL:
            op.execute(statement)
        return
    op.execute("DROP TABLE IF EXISTS competencies_fts_vectors")
    for name in CONFIGS:
        op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")
