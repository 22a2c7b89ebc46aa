"""Shoppers' reports of a bad stamp from the phone page's form (issue 15).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stamp_reports",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("serial", sa.BigInteger(), nullable=True),
        sa.Column("code", sa.String(320), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("problem", sa.String(16), nullable=False),
        sa.Column("where_bought", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("callback_consent", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("client_network", sa.String(64), nullable=False),
        sa.Column("client_agent", sa.String(64), nullable=False),
        sa.Column("token_nonce", sa.String(32), nullable=False),
        sa.Column("reported_at", sa.String(20), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.UniqueConstraint("token_nonce", name="stamp_reports_token_once"),
    )
    op.create_index("stamp_reports_day", "stamp_reports", ["day"])
    op.create_index("stamp_reports_serial", "stamp_reports", ["serial"])


def downgrade() -> None:
    op.drop_table("stamp_reports")
