"""Root offline (issue 14): delegations of list signing and root successions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "delegations",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("list_public_key", sa.String(64), nullable=False),
        sa.Column("valid_until", sa.String(20), nullable=False),
        sa.Column("signed_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(20), nullable=False),
    )
    op.create_table(
        "root_successions",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("new_root_public_key", sa.String(64), nullable=False),
        sa.Column("signed_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("root_successions")
    op.drop_table("delegations")
