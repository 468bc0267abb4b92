"""OpenID4VCI credential offers and wallet copies (issue 15)

Revision ID: b2c6d8e0f3a5
Revises: a1b5c7d9e2f4
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

revision = "b2c6d8e0f3a5"
down_revision = "a1b5c7d9e2f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
