"""dossier archives stored by key, not by content hash; CRC-32 of stored files

Revision ID: 7f3e2a9c41d8
Revises: 3c27a90a16cb
Create Date: 2026-11-22 09:10:00.000000

* ``stored_files.crc32``: computed on upload from now on, so that a dossier ZIP takes an
  evidence file as it is (the kernel copies it). Files uploaded before stay NULL and are
  checksummed when a dossier copies them.
* ``dossiers.file_sha256`` goes: a generated archive is no longer stored under the SHA-256 of the
  whole ZIP (hashing it doubled the cost of generation) but under a key of its own, with its size
  and the SHA-256 of its signed manifest (which lists the SHA-256 of every member). Dossiers
  generated before this revision have no key: they go back to ``consented`` and are generated
  again on request (their old archives stay in storage under their digest, unreferenced).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7f3e2a9c41d8"
down_revision = "3c27a90a16cb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crc32", sa.BigInteger(), nullable=True))
    op.execute("UPDATE dossiers SET status = 'consented', generated_at = NULL WHERE status = 'ready'")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archive_key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("archive_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("manifest_sha256", sa.String(length=64), nullable=True))
        batch_op.drop_column("file_sha256")


def downgrade() -> None:
    op.execute("UPDATE dossiers SET status = 'consented', generated_at = NULL WHERE status = 'ready'")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_sha256", sa.String(length=64), nullable=True))
        batch_op.drop_column("manifest_sha256")
        batch_op.drop_column("archive_size")
        batch_op.drop_column("archive_key")
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.drop_column("crc32")
