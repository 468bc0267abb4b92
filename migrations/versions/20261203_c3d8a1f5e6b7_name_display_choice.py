"""when a person chose whether their name shows on their badges' public pages

Revision ID: c3d8a1f5e6b7
Revises: b7c4e2f91a05
Create Date: 2026-12-03 03:00:00.000000

``people.show_name_chosen_at``: null until the person answers the question *Mes badges* asks
the first time (show my name on my badges' public pages?). Until then the public page says the
name is not published without claiming the holder asked for that.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db

revision = "c3d8a1f5e6b7"
down_revision = "b7c4e2f91a05"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        # A plain ADD COLUMN: SQLite need not copy the table (people is referenced everywhere).
        batch_op.add_column(sa.Column("show_name_chosen_at", app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("show_name_chosen_at")
