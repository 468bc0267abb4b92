"""Migrations build the schema the models describe, on SQLite and PostgreSQL, both ways."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app import migrate
from app.db import Base, make_engine
from app.services.frameworks.fts import is_fts_table

# The SQLite FTS5 search index and its shadow tables are made by a migration and have no model
# (see app.services.frameworks.fts); migrations/env.py leaves them out of autogenerate the same way.
COMPARE = {
    "compare_type": True,
    "include_name": lambda name, type_, parents: not (type_ == "table" and is_fts_table(name)),
}


def test_models_and_migrations_do_not_drift(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=COMPARE)
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_single_head_and_date_prefixed_names():
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        name = revision.path.rsplit("/", 1)[-1]
        assert name[:8].isdigit() and name.endswith(".py"), name


def test_database_is_at_head(engine):
    assert migrate.is_current(engine)


@pytest.fixture()
def scratch_engine(engine, tmp_path):  # type: ignore[no-untyped-def]
    """An empty database of the same kind as the test database."""
    if engine.dialect.name == "sqlite":
        scratch = make_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
        yield scratch
        scratch.dispose()
        return
    schema = f"scratch_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scratch = make_engine(
        engine.url.render_as_string(hide_password=False), connect_args={"options": f"-csearch_path={schema}"}
    )
    yield scratch
    scratch.dispose()
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_upgrade_downgrade_upgrade(scratch_engine):
    migrate.upgrade(scratch_engine)
    assert migrate.is_current(scratch_engine)
    migrate.downgrade(scratch_engine, "base")
    with scratch_engine.connect() as conn:
        tables = set(scratch_engine.dialect.get_table_names(conn))
    assert tables <= {"alembic_version"}
    migrate.upgrade(scratch_engine)
    with scratch_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=COMPARE)
        assert compare_metadata(context, Base.metadata) == []
