"""issuer identifiers: did:web (issue 15)

Each issuer chooses the id its new OB 3.0 credentials carry: its https URL (every issuer so
far, the default) or the did:web derived from it.

Revision ID: a1b5c7d9e2f4
Revises: f2b8d6e4a1c9
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a1b5c7d9e2f4"
down_revision = "f2b8d6e4a1c9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "identifier",
                sa.Enum(
                    "https", "did:web", name="issueridentifier", native_enum=False, create_constraint=True, length=32
                ),
                nullable=False,
                server_default="https",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.drop_constraint("issueridentifier", type_="check")
        batch_op.drop_column("identifier")
