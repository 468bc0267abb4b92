"""Alembic environment: runs on a connection the app hands over, or on BLASON_DATABASE_URL."""

from __future__ import annotations

from alembic import context

import app.models  # noqa: F401  (registers every table on the metadata)
from app.db import Base, make_engine
from app.services.frameworks.fts import is_fts_table

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    """Leave out the SQLite FTS5 index and its shadow tables: a migration made them, no model."""
    return not (type_ == "table" and is_fts_table(name))


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from app import config as settings

    engine = make_engine(settings.load().database_url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
