"""Several processes and hosts (issue 17): the online private keys wrapped with a KEK in the
database, and stamp blocks signed outside the write transaction (their stored reply and the
signing lease).

Key files already in a data folder are moved into private_keys by the first start with a
KEK configured (the migration cannot: it has no KEK), see registry/keystore.py.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "private_keys",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("kek_id", sa.String(32), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.String(20), nullable=False),
    )
    with op.batch_alter_table("stamp_blocks") as batch:
        batch.add_column(sa.Column("reply_body", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("signing_until", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stamp_blocks") as batch:
        batch.drop_column("signing_until")
        batch.drop_column("reply_body")
    op.drop_table("private_keys")
