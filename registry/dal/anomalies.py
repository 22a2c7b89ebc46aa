"""Refused upload items (`upload_refusals`): each is one anomaly of its station, and the
stored answer to a resend of the same (station, idempotency key)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from registry import db

r, s = db.upload_refusals, db.stations


def add(conn: Connection, rows: list[dict]) -> None:
    """ON CONFLICT DO NOTHING: a concurrent resend counts once."""
    if rows:
        conn.execute(db.insert_ignore(conn, r), rows)


def per_station(conn: Connection, first_day: str) -> list[Row]:
    """(station, reason, n, last_at) of refusals received from first_day on, most first."""
    n = sa.func.count().label("n")
    return list(
        conn.execute(
            sa.select(s.c.name.label("station"), r.c.reason, n, sa.func.max(r.c.received_at))
            .select_from(r.join(s, s.c.id == r.c.station_id))
            .where(r.c.day >= first_day)
            .group_by(s.c.name, r.c.reason)
            .order_by(sa.desc("n"), s.c.name, r.c.reason)
        )
    )
