"""Verified uploads and clone detection: refused upload items (station anomalies), phone
views of the stamp page and their daily salts, clone detections, events.key_id.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", BIG_ID, primary_key=True, autoincrement=True)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("key_id", sa.Integer(), nullable=True))
    op.create_table(
        "upload_refusals",
        _id(),
        sa.Column("station_id", sa.BigInteger(), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.String(20), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.UniqueConstraint("station_id", "idempotency_key", name="upload_refusals_idempotency"),
    )
    op.create_index("upload_refusals_day", "upload_refusals", ["day"])
    op.create_table(
        "stamp_views",
        _id(),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("client_hash", sa.String(64), nullable=False),
        sa.Column("hour", sa.String(13), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("viewed_at", sa.String(20), nullable=False),
        sa.UniqueConstraint("serial", "client_hash", "hour", name="stamp_views_once_an_hour"),
    )
    op.create_table(
        "view_salts",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(20), nullable=False),
    )
    op.create_table(
        "clone_detections",
        _id(),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detected_at", sa.String(20), nullable=False),
        sa.Column("decided_at", sa.String(20), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.UniqueConstraint("serial", "rule", name="clone_detections_serial_rule"),
    )
    op.create_index("clone_detections_status", "clone_detections", ["status"])


def downgrade() -> None:
    for table in ("clone_detections", "view_salts", "stamp_views", "upload_refusals"):
        op.drop_table(table)
    with op.batch_alter_table("events") as batch:
        batch.drop_column("key_id")
