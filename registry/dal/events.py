"""Uploaded scans and print records (`events`, unique per station and idempotency key) and
each station's newest heartbeat (`station_heartbeats`, one row per station)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

e, hb = db.events, db.station_heartbeats
CHUNK = 900  # keys per IN (...): below SQLite's old limit of 999 parameters


def known_keys(conn: Connection, station_id: int, keys: list[str]) -> set[str]:
    """Which of these idempotency keys the station has uploaded before."""
    found: set[str] = set()
    for i in range(0, len(keys), CHUNK):
        found.update(
            conn.execute(
                sa.select(e.c.idempotency_key).where(
                    e.c.station_id == station_id, e.c.idempotency_key.in_(keys[i : i + CHUNK])
                )
            ).scalars()
        )
    return found


def add_events(conn: Connection, rows: list[dict]) -> list[dict]:
    """Insert event rows; ON CONFLICT DO NOTHING, so a concurrent resend of the same batch
    stores nothing twice. Returns the rows this INSERT stored (RETURNING: a row a concurrent
    transaction stored first is not among them), which is what the report aggregates count
    (registry/aggregates.py): a multi-row INSERT must keep returning exactly those."""
    if not rows:
        return []
    stored = {
        (r.station_id, r.idempotency_key)
        for r in conn.execute(
            db.insert_ignore(conn, e).returning(e.c.station_id, e.c.idempotency_key), rows
        )
    }
    return [r for r in rows if (r["station_id"], r["idempotency_key"]) in stored]


def last_heartbeat_key(conn: Connection, station_id: int) -> str | None:
    return conn.execute(
        sa.select(hb.c.idempotency_key).where(hb.c.station_id == station_id)
    ).scalar()


def set_heartbeat(
    conn: Connection,
    station_id: int,
    idempotency_key: str,
    sent_at: str,
    received_at: str,
    payload_json: str,
) -> None:
    """Replace the station's heartbeat (the last one received wins)."""
    db.upsert(
        conn,
        hb,
        "station_id",
        {
            "station_id": station_id,
            "idempotency_key": idempotency_key,
            "sent_at": sent_at,
            "received_at": received_at,
            "payload_json": payload_json,
        },
    )
