"""Lots with dates (issue 15): each printed run of serials with its lot, production and
best-before dates.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "printed_lots",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("first_serial", sa.BigInteger(), nullable=False),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
        sa.Column("lot", sa.String(40), nullable=False),
        sa.Column("produced_on", sa.String(10), nullable=True),
        sa.Column("best_before", sa.String(10), nullable=True),
        sa.Column("station_id", sa.BigInteger(), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("created_at", sa.String(20), nullable=False),
    )
    op.create_index("printed_lots_first_serial", "printed_lots", ["first_serial"])


def downgrade() -> None:
    op.drop_index("printed_lots_first_serial", "printed_lots")
    op.drop_table("printed_lots")
