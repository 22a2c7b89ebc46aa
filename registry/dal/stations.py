"""Stations: one row each, the token stored as its SHA-256 only (registry/auth.py)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from registry import db

s = db.stations


@dataclass(frozen=True)
class Station:
    id: int
    name: str
    district: str


def exists(conn: Connection, name: str) -> bool:
    return conn.execute(sa.select(s.c.id).where(s.c.name == name)).first() is not None


def insert(conn: Connection, name: str, token_hash: str, district: str) -> Station:
    result = conn.execute(
        s.insert().values(
            name=name, token_hash=token_hash, district=district, created_at=db.utc_now()
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return Station(key[0], name, district)


def set_token_hash(conn: Connection, name: str, token_hash: str) -> None:
    conn.execute(s.update().where(s.c.name == name).values(token_hash=token_hash))


def by_token_hash(conn: Connection, token_hash: str) -> Station | None:
    """The enabled station holding this token, or None."""
    row = conn.execute(
        sa.select(s.c.id, s.c.name, s.c.district).where(
            s.c.token_hash == token_hash, s.c.disabled == sa.false()
        )
    ).first()
    return Station(row.id, row.name, row.district) if row else None


def all_by_name(conn: Connection) -> list[Row]:
    return list(conn.execute(sa.select(s).order_by(s.c.name)))


def touch(conn: Connection, station_id: int, now: str) -> None:
    """Record an upload: the station's last_seen_at."""
    conn.execute(s.update().where(s.c.id == station_id).values(last_seen_at=now))
