"""Schema 1: the tables registry.db's metadata.create_all made before there were migrations.

Frozen: never edit this file (databases created before migrations are stamped with this
revision, so it must stay exactly what they hold); change the schema in a new revision.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# An auto-incrementing 64-bit key: BIGINT (BIGSERIAL) on PostgreSQL, INTEGER PRIMARY KEY
# on SQLite (its rowid).
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", BIG_ID, primary_key=True, autoincrement=True)


def _text(name: str) -> sa.Column:
    """A NOT NULL text column defaulting to ''."""
    return sa.Column(name, sa.Text(), nullable=False, server_default="")


def _flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())


def _at(name: str = "created_at", nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(20), nullable=nullable)


def _seq() -> sa.Column:
    return sa.Column("seq", sa.BigInteger(), nullable=False)


def _seq_index(table: str) -> None:
    op.create_index(f"ix_{table}_seq", table, ["seq"])


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "producers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="other"),
        _text("commune"),
        _text("district"),
        _text("address"),
        sa.Column("phone", sa.String(32), nullable=False, server_default=""),
        _at("updated_at"),
        _seq(),
    )
    _seq_index("producers")
    op.create_table(
        "media",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("mime", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _at(),
        _seq(),
    )
    _seq_index("media")
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("gtin", sa.String(14), nullable=True, unique=True),
        sa.Column("name_vi", sa.Text(), nullable=False),
        _text("name_en"),
        sa.Column("group_code", sa.Integer(), nullable=False),
        _text("subgroup"),
        _text("description_vi"),
        _text("description_en"),
        _text("story_vi"),
        _text("story_en"),
        _text("commune"),
        _text("district"),
        sa.Column("producer_id", sa.String(64), sa.ForeignKey("producers.id"), nullable=False),
        sa.Column("image_hash", sa.String(64), sa.ForeignKey("media.hash"), nullable=True),
        _flag("featured"),
        _flag("is_demo"),
        _at("updated_at"),
        _seq(),
    )
    _seq_index("products")
    op.create_table(
        "ratings",
        _id(),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(16), nullable=False, server_default=""),
        _text("body"),
        _text("decision_no"),
        sa.Column("recognised_on", sa.String(10), nullable=True),
        sa.Column("valid_until", sa.String(10), nullable=True),
        sa.Column("status", sa.String(10), nullable=False, server_default="valid"),
    )
    op.create_index("ix_ratings_product_id", "ratings", ["product_id"])
    op.create_table(
        "tombstones",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("entity_id", sa.String(64), primary_key=True),
        _at("deleted_at"),
        _seq(),
    )
    _seq_index("tombstones")
    op.create_table(
        "stations",
        _id(),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _text("district"),
        _at(),
        _flag("disabled"),
        _at("last_seen_at", nullable=True),
        sa.Column("last_heartbeat_json", sa.Text(), nullable=True),
    )
    op.create_table(
        "station_heartbeats",
        sa.Column(
            "station_id",
            sa.BigInteger(),
            sa.ForeignKey("stations.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("sent_at", sa.String(32), nullable=False),
        _at("received_at"),
        sa.Column("payload_json", sa.Text(), nullable=False),
    )
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.String(10), nullable=False),
        sa.Column("valid_until", sa.String(10), nullable=True),
        _at(),
    )
    op.create_table(
        "revoked_ranges",
        _id(),
        sa.Column("first_serial", sa.BigInteger(), nullable=False),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
        _text("reason"),
        _at(),
    )
    op.create_table(
        "revoked_keys",
        sa.Column("key_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("revoked_from", sa.String(10), nullable=False),
        sa.Column("last_good_serial", sa.BigInteger(), nullable=True),
        _text("reason"),
        _at(),
    )
    op.create_table(
        "suspect_serials",
        sa.Column("serial", sa.BigInteger(), primary_key=True, autoincrement=False),
        _text("reason"),
        _at(),
    )
    op.create_table(
        "trust_lists",
        sa.Column("sequence", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("signed_json", sa.Text(), nullable=False),
        _at(),
    )
    op.create_table(
        "stamp_blocks",
        _id(),
        sa.Column("station_id", sa.BigInteger(), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.String(10), nullable=False),
        sa.Column("first_serial", sa.BigInteger(), nullable=False),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _at(),
        sa.UniqueConstraint("station_id", "request_id", name="stamp_blocks_request"),
    )
    op.create_index("ix_stamp_blocks_first_serial", "stamp_blocks", ["first_serial"])
    op.create_table(
        "events",
        _id(),
        sa.Column("station_id", sa.BigInteger(), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        _at("received_at"),
        sa.Column("serial", sa.BigInteger(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(32), nullable=True),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.UniqueConstraint("station_id", "idempotency_key", name="events_idempotency"),
    )
    op.create_index("events_kind_serial", "events", ["kind", "serial"])
    op.create_index("events_kind_day", "events", ["kind", "day"])


def downgrade() -> None:
    for table in (
        "events",
        "stamp_blocks",
        "trust_lists",
        "suspect_serials",
        "revoked_keys",
        "revoked_ranges",
        "signing_keys",
        "station_heartbeats",
        "stations",
        "tombstones",
        "ratings",
        "products",
        "media",
        "producers",
        "counters",
        "meta",
    ):
        op.drop_table(table)
