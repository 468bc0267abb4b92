"""issuer identifiers: did:web (issue 15)

Revision ID: a1b5c7d9e2f4
Revises: f2b8d6e4a1c9
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

revision = "a1b5c7d9e2f4"
down_revision = "f2b8d6e4a1c9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
