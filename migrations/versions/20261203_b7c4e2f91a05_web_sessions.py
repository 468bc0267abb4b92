"""server-side web sessions

Revision ID: b7c4e2f91a05
Revises: a6d1c93e7f20
Create Date: 2026-12-03 00:30:00.000000

``web_sessions``: one row per signed-in browser, holding the SHA-256 of the random token its
cookie carries (never the token), whose it is, when it started and was last seen, its absolute
expiry, and the assisted learner a facilitator acts for (none yet).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db

revision = "b7c4e2f91a05"
down_revision = "a6d1c93e7f20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acting_for_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["acting_for_id"], ["people.id"], name=op.f("fk_web_sessions_acting_for_id_people")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_web_sessions_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_person_id"), "web_sessions", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_web_sessions_person_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
