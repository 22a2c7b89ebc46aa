"""Refused upload items (`upload_refusals`): each is one anomaly of its station, and the
stored answer to a resend of the same (station, idempotency key)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from registry import db
from registry.dal.events import CHUNK

r, s = db.upload_refusals, db.stations


def known(conn: Connection, station_id: int, keys: list[str]) -> dict[str, tuple[str, str]]:
    """key -> (reason, error) for those of `keys` this station had refused before."""
    found: dict[str, tuple[str, str]] = {}
    for i in range(0, len(keys), CHUNK):
        for row in conn.execute(
            sa.select(r.c.idempotency_key, r.c.reason, r.c.error).where(
                r.c.station_id == station_id, r.c.idempotency_key.in_(keys[i : i + CHUNK])
            )
        ):
            found[row.idempotency_key] = (row.reason, row.error)
    return found


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
