"""competency search with stems (issue 16)

Revision ID: e5f9a1b3c6d8
Revises: d4e8f0a2b5c7
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

revision = "e5f9a1b3c6d8"
down_revision = "d4e8f0a2b5c7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
