"""claims waiting index

Revision ID: f2b8d6e4a1c9
Revises: e5a9c2d7b316
Create Date: 2026-12-04 12:00:00.000000

``ix_claims_waiting`` on ``claims (status, project_id, learner_id, first_reviewer_id,
competency_id)``: the tutor's queue is counted, and its filters' options (the learners and the
frameworks with claims waiting) are read, off this index alone, without visiting the claims.
"""

from __future__ import annotations

from alembic import op

revision = "f2b8d6e4a1c9"
down_revision = "e5a9c2d7b316"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(
            "ix_claims_waiting",
            ["status", "project_id", "learner_id", "first_reviewer_id", "competency_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_waiting")
