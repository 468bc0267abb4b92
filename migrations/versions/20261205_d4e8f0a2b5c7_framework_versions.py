"""framework import fixes (issue 16)

Revision ID: d4e8f0a2b5c7
Revises: c3d7e9f1a4b6
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

revision = "d4e8f0a2b5c7"
down_revision = "c3d7e9f1a4b6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
