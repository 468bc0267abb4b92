"""single-use e-mail links: invitations and password resets

Revision ID: d41f7a2c9e83
Revises: c3d8a1f5e6b7
Create Date: 2026-12-03 03:30:00.000000

``account_links``: one row per link e-mailed to choose a password (an invitation or a password
reset), holding the SHA-256 of its random token (never the token), whose it is, its purpose, when
it was sent, when it expires and when it was used (once at most).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db

revision = "d41f7a2c9e83"
down_revision = "c3d8a1f5e6b7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("invitation", "reset", name="linkpurpose", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_account_links_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
    )
    op.create_index(op.f("ix_account_links_person_id"), "account_links", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_account_links_person_id"), table_name="account_links")
    op.drop_table("account_links")
