"""Station roles, bindings, quotas, retirement and refused-block alerts (registry/stations.py).

Existing stations: one that was ever issued a stamp block becomes a printing `station` bound
to exactly the products it received blocks for, with the default daily quota and a total
quota of what it already received plus the default total; every other station becomes a
`kiosk`. So no printing station stops at the upgrade, and none gains authority: each may
mint only what it minted before, now within finite quotas; kiosks lose the minting they never
used. The office reviews the result with `ocop-registry station list`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Frozen copies of registry.config.DEFAULT_QUOTA_PER_DAY / DEFAULT_QUOTA_TOTAL at this revision.
QUOTA_PER_DAY = 5_000
QUOTA_TOTAL = 100_000


def upgrade() -> None:
    op.add_column(
        "stations", sa.Column("role", sa.String(16), nullable=False, server_default="kiosk")
    )
    op.add_column(
        "stations",
        sa.Column("quota_per_day", sa.Integer(), nullable=True, server_default=str(QUOTA_PER_DAY)),
    )
    op.add_column(
        "stations",
        sa.Column("quota_total", sa.BigInteger(), nullable=True, server_default=str(QUOTA_TOTAL)),
    )
    op.add_column("stations", sa.Column("retired_at", sa.String(20), nullable=True))
    op.create_table(
        "station_bindings",
        sa.Column(
            "station_id",
            sa.BigInteger(),
            sa.ForeignKey("stations.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("ref", sa.String(64), primary_key=True),
    )
    op.create_table(
        "station_alerts",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.BigInteger(), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("stamps_asked", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.String(20), nullable=False),
        sa.Column("last_at", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint(
            "station_id", "day", "reason", "product_id", name="station_alerts_once"
        ),
    )
    op.create_index("ix_station_alerts_day", "station_alerts", ["day"])
    _adopt_printing_stations()


def _adopt_printing_stations() -> None:
    conn = op.get_bind()
    issued = conn.execute(
        sa.text(
            "SELECT station_id, product_id, sum(count) AS n FROM stamp_blocks "
            "GROUP BY station_id, product_id"
        )
    ).all()
    totals: dict[int, int] = {}
    for row in issued:
        totals[row.station_id] = totals.get(row.station_id, 0) + int(row.n)
        conn.execute(
            sa.text(
                "INSERT INTO station_bindings (station_id, kind, ref) VALUES (:s, 'product', :p)"
            ),
            {"s": row.station_id, "p": str(row.product_id)},
        )
    for station_id, total in totals.items():
        conn.execute(
            sa.text("UPDATE stations SET role = 'station', quota_total = :t WHERE id = :s"),
            {"t": total + QUOTA_TOTAL, "s": station_id},
        )


def downgrade() -> None:
    op.drop_index("ix_station_alerts_day", "station_alerts")
    op.drop_table("station_alerts")
    op.drop_table("station_bindings")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("retired_at")
        batch.drop_column("quota_total")
        batch.drop_column("quota_per_day")
        batch.drop_column("role")
