"""Uploaded scans and print records (`events`; their idempotency keys in `event_keys`,
unique per station and key), each station's newest heartbeat (`station_heartbeats`, one row
per station) and its heartbeats summed up per day (`station_heartbeat_days`).

An upload costs few statements whatever its size: one read of what the station sent
before (prior_outcomes), one INSERT of the new keys that says which are new, one INSERT of
their rows (add_events), two upserts for a heartbeat."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ocop.heartbeat import Field
from registry import db

e, k, hb, hd = db.events, db.event_keys, db.station_heartbeats, db.station_heartbeat_days
r = db.upload_refusals
CHUNK = 900  # keys per IN (...): below SQLite's old limit of 999 parameters
# Bound parameters per multi-row INSERT: far below SQLite's 32,766 and PostgreSQL's 65,535.
MAX_PARAMS = 30_000


@dataclass
class PriorOutcomes:
    """What a station's earlier uploads left for these keys."""

    accepted: set[str] = field(default_factory=set)  # stored scans and print records
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (reason, error)
    last_heartbeat_key: str | None = None


def prior_outcomes(conn: Connection, station_id: int, keys: list[str]) -> PriorOutcomes:
    """Accepted keys, refused keys and the newest heartbeat's key of the station, in one
    statement per CHUNK keys (one for any batch the API accepts)."""
    found = PriorOutcomes()
    for i in range(0, max(len(keys), 1), CHUNK):
        part = keys[i : i + CHUNK]
        query = sa.union_all(
            sa.select(
                sa.literal("a").label("what"),
                k.c.idempotency_key,
                sa.null().label("reason"),
                sa.null().label("error"),
            ).where(k.c.station_id == station_id, k.c.idempotency_key.in_(part)),
            sa.select(sa.literal("r"), r.c.idempotency_key, r.c.reason, r.c.error).where(
                r.c.station_id == station_id, r.c.idempotency_key.in_(part)
            ),
            sa.select(sa.literal("h"), hb.c.idempotency_key, sa.null(), sa.null()).where(
                hb.c.station_id == station_id
            ),
        )
        for row in conn.execute(query):
            if row.what == "a":
                found.accepted.add(row.idempotency_key)
            elif row.what == "r":
                found.refused[row.idempotency_key] = (row.reason, row.error)
            else:
                found.last_heartbeat_key = row.idempotency_key
    return found


def _chunks(rows: list[dict]) -> list[list[dict]]:
    if not rows:
        return []
    per = max(1, MAX_PARAMS // len(rows[0]))
    return [rows[i : i + per] for i in range(0, len(rows), per)]


def claim_keys(conn: Connection, station_id: int, keys: list[str]) -> set[str]:
    """Insert these keys; returns those that were new. One INSERT ... ON CONFLICT DO NOTHING
    RETURNING: a concurrent upload of the same key waits for the other transaction (the
    primary key's lock) and then finds it, so only one of them stores the event."""
    new: set[str] = set()
    for part in _chunks([{"station_id": station_id, "idempotency_key": key} for key in keys]):
        statement = db.insert_ignore(conn, k).values(part).returning(k.c.idempotency_key)
        new.update(conn.execute(statement).scalars())
    return new


def add_events(conn: Connection, rows: list[dict]) -> list[dict]:
    """Store scans and print records exactly once: claims their keys (claim_keys), then one
    multi-row INSERT of the rows whose key was new. Returns those rows (what aggregates of
    the new rows must count: call them next to this)."""
    if not rows:
        return []
    station_ids = {row["station_id"] for row in rows}
    new = []
    for station_id in station_ids:
        mine = [row for row in rows if row["station_id"] == station_id]
        claimed = claim_keys(conn, station_id, [row["idempotency_key"] for row in mine])
        new += [row for row in mine if row["idempotency_key"] in claimed]
    for part in _chunks(new):
        conn.execute(e.insert().values(part))
    return new


def set_heartbeat(
    conn: Connection,
    station_id: int,
    idempotency_key: str,
    sent_at: str,
    received_at: str,
    payload_json: str,
    payload: dict | None = None,
) -> None:
    """Replace the station's heartbeat (the last one received wins) and count it into the
    station's day (`payload`: the decoded payload_json, for the summary)."""
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
    add_heartbeat_day(conn, station_id, received_at, payload or {})


def _number(payload: dict, name: str) -> int | None:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(max(-(2**62), min(2**62, value)))


def _state(value, chars: int = 32) -> str | None:
    return value[:chars] if isinstance(value, str) else None


def heartbeat_summary(payload: dict) -> dict:
    """The columns of station_heartbeat_days one heartbeat contributes (before merging)."""
    clock = payload.get(Field.CLOCK)
    return {
        "min_disk_free_bytes": _number(payload, Field.DISK_FREE_BYTES),
        "max_pending_outbox": _number(payload, Field.PENDING_OUTBOX),
        "max_pending_outbox_oldest_age_s": _number(payload, Field.PENDING_OUTBOX_OLDEST_AGE_S),
        "max_trust_list_age_s": _number(payload, Field.TRUST_LIST_AGE_S),
        "min_uptime_s": _number(payload, Field.UPTIME_S),
        "last_camera": _state(payload.get(Field.CAMERA)),
        "last_printer": _state(payload.get(Field.PRINTER)),
        "last_paper": _state(payload.get(Field.PAPER)),
        "last_clock_state": _state(clock.get("state")) if isinstance(clock, dict) else None,
        "last_app_version": _state(payload.get(Field.APP_VERSION), 64),
    }


def _extreme(conn: Connection, pick: str, old: sa.ColumnElement, new: sa.ColumnElement):
    """min/max of the stored and the new value, either of which may be NULL (kept: the
    other). SQLite's scalar min()/max() and PostgreSQL's LEAST()/GREATEST()."""
    a, b = sa.func.coalesce(old, new), sa.func.coalesce(new, old)
    if conn.dialect.name == "sqlite":
        return getattr(sa.func, pick)(a, b)
    return (sa.func.least if pick == "min" else sa.func.greatest)(a, b)


def add_heartbeat_day(conn: Connection, station_id: int, received_at: str, payload: dict) -> None:
    """Count one heartbeat into the station's summary of the day it was received (one
    upsert)."""
    values = {
        "station_id": station_id,
        "day": received_at[:10],
        "heartbeats": 1,
        "first_received_at": received_at,
        "last_received_at": received_at,
        **heartbeat_summary(payload),
    }
    statement = db.dialect_insert(conn, hd).values(**values)
    x = statement.excluded
    merged: dict = {
        "heartbeats": hd.c.heartbeats + 1,
        "last_received_at": x.last_received_at,
    }
    for name in values:
        if name.startswith(("min_", "max_")):
            merged[name] = _extreme(conn, name[:3], hd.c[name], x[name])
        elif name.startswith("last_") and name != "last_received_at":
            merged[name] = sa.func.coalesce(x[name], hd.c[name])
    conn.execute(statement.on_conflict_do_update(index_elements=["station_id", "day"], set_=merged))


def newest_heartbeat_payloads(conn: Connection) -> list[str]:
    """payload_json of every station's newest heartbeat (registry/epoch.py reads them)."""
    return list(conn.execute(sa.select(hb.c.payload_json)).scalars())


def heartbeat_days(conn: Connection, station_id: int, first_day: str) -> list[Row]:
    """The station's daily heartbeat summaries from first_day on, oldest first."""
    return list(
        conn.execute(
            sa.select(hd)
            .where(hd.c.station_id == station_id, hd.c.day >= first_day)
            .order_by(hd.c.day)
        )
    )
