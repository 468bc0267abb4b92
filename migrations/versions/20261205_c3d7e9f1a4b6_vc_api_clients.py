"""VC-API OAuth clients of issuers (issue 15)

Revision ID: c3d7e9f1a4b6
Revises: b2c6d8e0f3a5
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

revision = "c3d7e9f1a4b6"
down_revision = "b2c6d8e0f3a5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
