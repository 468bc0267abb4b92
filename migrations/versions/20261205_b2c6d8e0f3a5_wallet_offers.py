"""OpenID4VCI credential offers and wallet copies (issue 15)

Revision ID: b2c6d8e0f3a5
Revises: a1b5c7d9e2f4
Create Date: 2026-12-05 09:00:00.000000

``wallet_offers`` (a pre-authorized code offer for one credential, its code and optional
transaction code kept as SHA-256), ``wallet_access_tokens`` and ``wallet_nonces`` (short-lived,
hashed), ``wallet_copies`` (the credentials signed for a holder's DID).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db

revision = "b2c6d8e0f3a5"
down_revision = "a1b5c7d9e2f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("credential_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("tx_code_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "configuration_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name=op.f("fk_wallet_offers_created_by_id_people")),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credentials.id"], name=op.f("fk_wallet_offers_credential_id_credentials")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_offers")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_wallet_offers_code_hash")),
    )
    op.create_index(op.f("ix_wallet_offers_credential_id"), "wallet_offers", ["credential_id"], unique=False)
    op.create_table(
        "wallet_access_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["wallet_offers.id"], name=op.f("fk_wallet_access_tokens_offer_id_wallet_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_wallet_access_tokens_token_hash")),
    )
    op.create_index(op.f("ix_wallet_access_tokens_offer_id"), "wallet_access_tokens", ["offer_id"], unique=False)
    op.create_table(
        "wallet_nonces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_nonces")),
        sa.UniqueConstraint("nonce_hash", name=op.f("uq_wallet_nonces_nonce_hash")),
    )
    op.create_index(op.f("ix_wallet_nonces_expires_at"), "wallet_nonces", ["expires_at"], unique=False)
    op.create_table(
        "wallet_copies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("credential_id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("holder_did", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column(
            "document", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("jwt", sa.Text(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credentials.id"], name=op.f("fk_wallet_copies_credential_id_credentials")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["wallet_offers.id"], name=op.f("fk_wallet_copies_offer_id_wallet_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_copies")),
    )
    op.create_index(op.f("ix_wallet_copies_credential_id"), "wallet_copies", ["credential_id"], unique=False)
    op.create_index(op.f("ix_wallet_copies_offer_id"), "wallet_copies", ["offer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_wallet_copies_offer_id"), table_name="wallet_copies")
    op.drop_index(op.f("ix_wallet_copies_credential_id"), table_name="wallet_copies")
    op.drop_table("wallet_copies")
    op.drop_index(op.f("ix_wallet_nonces_expires_at"), table_name="wallet_nonces")
    op.drop_table("wallet_nonces")
    op.drop_index(op.f("ix_wallet_access_tokens_offer_id"), table_name="wallet_access_tokens")
    op.drop_table("wallet_access_tokens")
    op.drop_index(op.f("ix_wallet_offers_credential_id"), table_name="wallet_offers")
    op.drop_table("wallet_offers")
