"""Report aggregates (issue 17): daily counts of the stored events per kind and verdict,
per product and per station, and monthly per product and per station
(registry/aggregates.py), backfilled from the existing events in the migration's
transaction (one GROUP BY over `events` per daily table, the monthly ones from the daily).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_counts_daily",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("verdict", sa.String(32), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "scan_counts_product_daily",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("product_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "scan_counts_station_daily",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column(
            "station_id",
            sa.BigInteger(),
            sa.ForeignKey("stations.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    for dimension, column in (
        ("product", sa.Column("product_id", sa.Integer(), primary_key=True, autoincrement=False)),
        (
            "station",
            sa.Column(
                "station_id",
                sa.BigInteger(),
                sa.ForeignKey("stations.id"),
                primary_key=True,
                autoincrement=False,
            ),
        ),
    ):
        op.create_table(
            f"scan_counts_{dimension}_monthly",
            sa.Column("month", sa.String(7), primary_key=True),
            column,
            sa.Column("count", sa.BigInteger(), nullable=False),
        )
    # The same counts registry/aggregates.recount defines (frozen here, as SQL of this
    # revision's schema); '' stands for a NULL verdict.
    op.execute(
        "INSERT INTO event_counts_daily(day, kind, verdict, count) "
        "SELECT day, kind, COALESCE(verdict, ''), COUNT(*) FROM events "
        "GROUP BY day, kind, COALESCE(verdict, '')"
    )
    op.execute(
        "INSERT INTO scan_counts_product_daily(day, product_id, count) "
        "SELECT day, product_id, COUNT(*) FROM events "
        "WHERE kind = 'scan' AND product_id IS NOT NULL GROUP BY day, product_id"
    )
    op.execute(
        "INSERT INTO scan_counts_station_daily(day, station_id, count) "
        "SELECT day, station_id, COUNT(*) FROM events WHERE kind = 'scan' "
        "GROUP BY day, station_id"
    )

    for dimension in ("product", "station"):
        op.execute(
            f"INSERT INTO scan_counts_{dimension}_monthly(month, {dimension}_id, count) "
            f"SELECT SUBSTR(day, 1, 7), {dimension}_id, SUM(count) "
            f"FROM scan_counts_{dimension}_daily GROUP BY SUBSTR(day, 1, 7), {dimension}_id"
        )


def downgrade() -> None:
    op.drop_table("scan_counts_station_monthly")
    op.drop_table("scan_counts_product_monthly")
    op.drop_table("scan_counts_station_daily")
    op.drop_table("scan_counts_product_daily")
    op.drop_table("event_counts_daily")
