"""version columns for conditional updates of evidence, issuers, achievements, credentials, people

Revision ID: 5e0c1a7d9b24
Revises: 7f3e2a9c41d8
Create Date: 2026-12-02 19:00:00.000000

Every PATCH is conditional (``If-Match`` with the ETag read): these rows get the optimistic-lock
counter the other editable rows already had. Existing rows start at version 1 (the
server default).
``achievements.lock_version`` is distinct from ``current_version`` (which counts content
versions, not edits).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5e0c1a7d9b24"
down_revision = "7f3e2a9c41d8"
branch_labels = None
depends_on = None

COLUMNS = (
    ("evidence", "version"),
    ("issuers", "version"),
    ("achievements", "lock_version"),
    ("credentials", "version"),
    ("people", "version"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            # A plain ADD COLUMN: SQLite need not copy the table (people is referenced everywhere).
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
