"""competency search vectors in hash partitions (issue 16, performance)

Revision ID: f6a0b2c4d8e1
Revises: e5f9a1b3c6d8
Create Date: 2026-12-06 09:00:00.000000

PostgreSQL only: ``competencies_fts_vectors`` becomes a table partitioned by a hash of the
competency id into ``fts.PARTITIONS`` parts, each with its own GIN index. A GIN index scan reads
every posting of the query's words before the first row comes out, so a broad query paid for all
its hits (70,000 at 720,000 competencies) even with a LIMIT; the parts are read one after the
other and the LIMIT stops at the first that gives enough rows, so a query reads about
``1 / PARTITIONS`` of a common word's postings and a rare word costs a probe per part. SQLite is
left as it is.

Each part's GIN index keeps a pending list of at most 64 kB (``gin_pending_list_limit``; 4 MB by
default). Inserted rows wait in that list, which every search reads whole, until it overflows or
a vacuum moves it into the index: after an import on a server without autovacuum, sixteen 4 MB
lists made a search for a rare word cost 90 ms instead of 1 ms.
"""

from __future__ import annotations

from alembic import op

revision = "f6a0b2c4d8e1"
down_revision = "e5f9a1b3c6d8"
branch_labels = None
depends_on = None

PARTITIONS = 16  # as fts.PARTITIONS when this was written
COLUMNS = (
    "competency_id uuid NOT NULL, framework_id uuid NOT NULL, source_type varchar(32) NOT NULL, "
    "current boolean NOT NULL, language varchar(8) NOT NULL, kind varchar(32) NOT NULL, "
    "search_label text NOT NULL, code text NOT NULL, vector tsvector NOT NULL"
)


def _indexes(options: str = "") -> None:
    op.execute(
        "ALTER TABLE competencies_fts_vectors ADD CONSTRAINT competencies_fts_vectors_pkey PRIMARY KEY (competency_id)"
    )
    op.execute(f"CREATE INDEX competencies_fts_vectors_vector ON competencies_fts_vectors USING gin (vector){options}")
    op.execute("CREATE INDEX competencies_fts_vectors_framework ON competencies_fts_vectors (framework_id)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE competencies_fts_vectors RENAME TO competencies_fts_flat")
    op.execute("ALTER INDEX competencies_fts_vectors_pkey RENAME TO competencies_fts_flat_pkey")
    op.execute("DROP INDEX competencies_fts_vectors_vector")
    op.execute("DROP INDEX competencies_fts_vectors_framework")
    op.execute(f"CREATE TABLE competencies_fts_vectors ({COLUMNS}) PARTITION BY HASH (competency_id)")
    for n in range(PARTITIONS):
        op.execute(
            f"CREATE TABLE competencies_fts_vectors_p{n} PARTITION OF competencies_fts_vectors "
            f"FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {n})"
        )
    op.execute("INSERT INTO competencies_fts_vectors SELECT * FROM competencies_fts_flat")
    op.execute("DROP TABLE competencies_fts_flat")
    _indexes(" WITH (gin_pending_list_limit = 64)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE competencies_fts_vectors RENAME TO competencies_fts_parts")
    op.execute("ALTER INDEX competencies_fts_vectors_pkey RENAME TO competencies_fts_parts_pkey")
    op.execute("DROP INDEX competencies_fts_vectors_vector")
    op.execute("DROP INDEX competencies_fts_vectors_framework")
    op.execute(f"CREATE TABLE competencies_fts_vectors ({COLUMNS})")
    op.execute("INSERT INTO competencies_fts_vectors SELECT * FROM competencies_fts_parts")
    op.execute("DROP TABLE competencies_fts_parts")  # its parts go with it
    _indexes()
