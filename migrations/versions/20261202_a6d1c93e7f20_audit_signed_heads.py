"""signed heads of the audit chain

Revision ID: a6d1c93e7f20
Revises: 5e0c1a7d9b24
Create Date: 2026-12-02 19:30:00.000000

``audit_signed_heads``: the chain's last sequence and hash at some moment, signed with the
platform's Ed25519 key (a compact JWS). Exported outside the database, a signed head lets
``audit-verify --signed-head`` detect a deleted tail whose head row was rewound, or a chain
re-hashed from its first event.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db

revision = "a6d1c93e7f20"
down_revision = "5e0c1a7d9b24"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_signed_heads",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_signed_heads")),
    )


def downgrade() -> None:
    op.drop_table("audit_signed_heads")
