"""Retention (issue 17 item 3): heartbeats summed up per day, idempotency keys in their own
table, and on PostgreSQL `events` partitioned (scans by month, registry/partitions.py).

Existing rows:
    events of kind 'heartbeat' (stored by registries before station_heartbeats): summed up
        into station_heartbeat_days (day of received_at), the newest of each station into
        station_heartbeats unless that holds a newer one, then deleted.
    scans and print records: their (station, key) into event_keys; on PostgreSQL the rows
        are copied into the partitioned table (one partition per month that has scans),
        ids and the id sequence kept.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from registry import partitions
from registry.dal.events import heartbeat_summary

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = (
    "id, station_id, idempotency_key, kind, occurred_at, day, received_at, serial, "
    "product_id, verdict, payload_json, key_id, lot_seq"
)


def _create_tables() -> None:
    op.create_table(
        "station_heartbeat_days",
        sa.Column(
            "station_id",
            sa.BigInteger(),
            sa.ForeignKey("stations.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("heartbeats", sa.Integer(), nullable=False),
        sa.Column("first_received_at", sa.String(20), nullable=False),
        sa.Column("last_received_at", sa.String(20), nullable=False),
        sa.Column("min_disk_free_bytes", sa.BigInteger(), nullable=True),
        sa.Column("max_pending_outbox", sa.Integer(), nullable=True),
        sa.Column("max_pending_outbox_oldest_age_s", sa.BigInteger(), nullable=True),
        sa.Column("max_trust_list_age_s", sa.BigInteger(), nullable=True),
        sa.Column("min_uptime_s", sa.BigInteger(), nullable=True),
        sa.Column("last_camera", sa.String(32), nullable=True),
        sa.Column("last_printer", sa.String(32), nullable=True),
        sa.Column("last_paper", sa.String(32), nullable=True),
        sa.Column("last_clock_state", sa.String(32), nullable=True),
        sa.Column("last_app_version", sa.String(64), nullable=True),
    )
    op.create_table(
        "event_keys",
        sa.Column(
            "station_id",
            sa.BigInteger(),
            sa.ForeignKey("stations.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("idempotency_key", sa.String(100), primary_key=True),
    )


def _merge(day: dict | None, received_at: str, summary: dict) -> dict:
    """What registry.dal.events.add_heartbeat_day does in SQL, for one more heartbeat."""
    if day is None:
        return {"heartbeats": 1, "first": received_at, "last": received_at, **summary}
    day["heartbeats"] += 1
    day["last"] = received_at
    for name, value in summary.items():
        if value is None:
            continue
        old = day.get(name)
        if name.startswith("min_"):
            day[name] = value if old is None else min(old, value)
        elif name.startswith("max_"):
            day[name] = value if old is None else max(old, value)
        else:
            day[name] = value
    return day


def _convert_heartbeat_events(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.text(
            "SELECT station_id, idempotency_key, occurred_at, received_at, payload_json "
            "FROM events WHERE kind = 'heartbeat' ORDER BY station_id, received_at, id"
        )
    )
    days: dict[tuple[int, str], dict] = {}
    newest: dict[int, tuple] = {}
    for station_id, key, occurred_at, received_at, payload_json in rows:
        try:
            payload = json.loads(payload_json)
        except ValueError:
            payload = {}
        summary = heartbeat_summary(payload if isinstance(payload, dict) else {})
        slot = (station_id, received_at[:10])
        days[slot] = _merge(days.get(slot), received_at, summary)
        newest[station_id] = (key, occurred_at, received_at, payload_json)
    for (station_id, day), d in days.items():
        conn.execute(
            sa.text(
                "INSERT INTO station_heartbeat_days (station_id, day, heartbeats, "
                "first_received_at, last_received_at, min_disk_free_bytes, max_pending_outbox, "
                "max_pending_outbox_oldest_age_s, max_trust_list_age_s, min_uptime_s, "
                "last_camera, last_printer, last_paper, last_clock_state, last_app_version) "
                "VALUES (:station_id, :day, :heartbeats, :first, :last, :min_disk_free_bytes, "
                ":max_pending_outbox, :max_pending_outbox_oldest_age_s, :max_trust_list_age_s, "
                ":min_uptime_s, :last_camera, :last_printer, :last_paper, :last_clock_state, "
                ":last_app_version)"
            ),
            {"station_id": station_id, "day": day, **d},
        )
    for station_id, (key, occurred_at, received_at, payload_json) in newest.items():
        have = conn.execute(
            sa.text("SELECT received_at FROM station_heartbeats WHERE station_id = :s"),
            {"s": station_id},
        ).scalar()
        if have is not None and have >= received_at:
            continue
        conn.execute(
            sa.text("DELETE FROM station_heartbeats WHERE station_id = :s"), {"s": station_id}
        )
        conn.execute(
            sa.text(
                "INSERT INTO station_heartbeats (station_id, idempotency_key, sent_at, "
                "received_at, payload_json) VALUES (:s, :k, :sent, :received, :payload)"
            ),
            {
                "s": station_id,
                "k": key,
                "sent": occurred_at,
                "received": received_at,
                "payload": payload_json,
            },
        )
    conn.execute(sa.text("DELETE FROM events WHERE kind = 'heartbeat'"))


def _partition_events(conn: sa.Connection) -> None:
    """PostgreSQL: `events` becomes the partitioned table registry/partitions.py describes."""
    op.execute("ALTER TABLE events RENAME TO events_0015")
    op.execute("ALTER TABLE events_0015 DROP CONSTRAINT events_idempotency")
    op.execute("ALTER TABLE events_0015 RENAME CONSTRAINT events_pkey TO events_0015_pkey")
    for index in ("events_kind_serial", "events_kind_day", "events_lot_seq"):
        op.execute(f"ALTER INDEX {index} RENAME TO {index.replace('events', 'events_0015')}")
    op.execute(
        "CREATE TABLE events ("
        "id BIGINT NOT NULL DEFAULT nextval('events_id_seq'::regclass), "
        "station_id BIGINT NOT NULL REFERENCES stations (id), "
        "idempotency_key VARCHAR(100) NOT NULL, "
        "kind VARCHAR(16) NOT NULL, "
        "occurred_at VARCHAR(32) NOT NULL, "
        "day VARCHAR(10) NOT NULL, "
        "received_at VARCHAR(20) NOT NULL, "
        "serial BIGINT, "
        "product_id INTEGER, "
        "verdict VARCHAR(32), "
        "payload_json TEXT NOT NULL, "
        "key_id INTEGER, "
        "lot_seq BIGINT"
        ") PARTITION BY LIST (kind)"
    )
    op.execute(
        f"CREATE TABLE {partitions.SCANS} PARTITION OF events FOR VALUES IN ('scan') "
        "PARTITION BY RANGE (day)"
    )
    op.execute(f"CREATE TABLE {partitions.SCANS_DEFAULT} PARTITION OF {partitions.SCANS} DEFAULT")
    op.execute(f"CREATE TABLE {partitions.OTHERS} PARTITION OF events DEFAULT")
    # No primary key (registry/partitions.py says why): ids come from the sequence.
    op.execute(f"CREATE INDEX {partitions.ID_INDEX} ON events (id)")
    op.execute("CREATE INDEX events_kind_serial ON events (kind, serial)")
    op.execute("CREATE INDEX events_kind_day ON events (kind, day)")
    op.execute("CREATE INDEX events_lot_seq ON events (lot_seq)")
    months = conn.execute(
        sa.text("SELECT DISTINCT substr(day, 1, 7) FROM events_0015 WHERE kind = 'scan'")
    ).scalars()
    for month in sorted(months):
        if len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit():
            partitions.create_month(conn, month)
    partitions.ensure_partitions(conn)
    op.execute(f"INSERT INTO events ({COLUMNS}) SELECT {COLUMNS} FROM events_0015")
    op.execute("ALTER SEQUENCE events_id_seq OWNED BY events.id")
    op.execute("DROP TABLE events_0015")


def upgrade() -> None:
    conn = op.get_bind()
    _create_tables()
    _convert_heartbeat_events(conn)
    op.execute(
        "INSERT INTO event_keys (station_id, idempotency_key) "
        "SELECT station_id, idempotency_key FROM events"
    )
    if conn.dialect.name == "postgresql":
        _partition_events(conn)
    else:
        with op.batch_alter_table("events") as batch:
            batch.drop_constraint("events_idempotency", type_="unique")


def downgrade() -> None:
    raise NotImplementedError("0016 is not reversible (heartbeat rows were summed up)")
