"""background jobs

Revision ID: e5a9c2d7b316
Revises: d41f7a2c9e83
Create Date: 2026-12-04 09:00:00.000000

``jobs``: one row per piece of long work run by a queue worker (framework import, bulk award,
dossier generation): its kind, who started it, its state, progress, current step (a catalogue key
and values), result or error, times and heartbeat.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db

revision = "e5a9c2d7b316"
down_revision = "d41f7a2c9e83"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("started_by_id", sa.Uuid(), nullable=True),
        sa.Column("acting_for_id", sa.Uuid(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                name="jobstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "params", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("step_key", sa.String(length=80), nullable=True),
        sa.Column(
            "step_values", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "result", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column(
            "error", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["acting_for_id"], ["people.id"], name=op.f("fk_jobs_acting_for_id_people")),
        sa.ForeignKeyConstraint(["started_by_id"], ["people.id"], name=op.f("fk_jobs_started_by_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_started_by_id"), "jobs", ["started_by_id"], unique=False)
    op.create_index("ix_jobs_state_heartbeat_at", "jobs", ["state", "heartbeat_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_jobs_state_heartbeat_at", table_name="jobs")
    op.drop_index(op.f("ix_jobs_started_by_id"), table_name="jobs")
    op.drop_table("jobs")
