"""VC-API OAuth clients of issuers (issue 15)

Revision ID: c3d7e9f1a4b6
Revises: b2c6d8e0f3a5
Create Date: 2026-12-05 09:00:00.000000

``api_clients``: the programs an issuer's administrators registered for the W3C VC-API
(``POST /credentials/issue`` and ``/credentials/verify``), their secret as an argon2id hash,
their scopes, and when and by whom they were revoked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db

revision = "c3d7e9f1a4b6"
down_revision = "b2c6d8e0f3a5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("issuer_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "scopes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name=op.f("fk_api_clients_created_by_id_people")),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=op.f("fk_api_clients_issuer_id_issuers")),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["people.id"], name=op.f("fk_api_clients_revoked_by_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_clients_client_id")),
    )
    op.create_index(op.f("ix_api_clients_issuer_id"), "api_clients", ["issuer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_clients_issuer_id"), table_name="api_clients")
    op.drop_table("api_clients")
