"""Stations: one row each, the token stored as its SHA-256 only (registry/auth.py); their
bindings, the stamps issued to them, and refused-block alerts (registry/stations.py decides,
this module only reads and writes rows)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from registry import db

s = db.stations
sb = db.stamp_blocks
b = db.station_bindings
al = db.station_alerts


@dataclass(frozen=True)
class Station:
    id: int
    name: str
    district: str


def exists(conn: Connection, name: str) -> bool:
    return conn.execute(sa.select(s.c.id).where(s.c.name == name)).first() is not None


def insert(conn: Connection, name: str, token_hash: str, district: str, **values) -> Station:
    """A new station; `values`: role, quota_per_day, quota_total (else the columns'
    defaults: a kiosk, the default quotas)."""
    result = conn.execute(
        s.insert().values(
            name=name, token_hash=token_hash, district=district, created_at=db.utc_now(), **values
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return Station(key[0], name, district)


def set_token_hash(conn: Connection, name: str, token_hash: str) -> None:
    conn.execute(s.update().where(s.c.name == name).values(token_hash=token_hash))


def by_token_hash(conn: Connection, token_hash: str) -> Station | None:
    """The enabled station holding this token, or None (disabled and retired: None)."""
    row = conn.execute(
        sa.select(s.c.id, s.c.name, s.c.district).where(
            s.c.token_hash == token_hash, s.c.disabled == sa.false()
        )
    ).first()
    return Station(row.id, row.name, row.district) if row else None


def row_by_name(conn: Connection, name: str, lock: bool = False) -> Row | None:
    """The station's row; lock=True holds its row lock until the transaction ends (what
    serialises block requests, quota changes and retirement of one station on PostgreSQL;
    SQLite's BEGIN IMMEDIATE serialises every writer anyway)."""
    query = sa.select(s).where(s.c.name == name)
    return conn.execute(query.with_for_update() if lock else query).first()


def row_by_id(conn: Connection, station_id: int, lock: bool = False) -> Row | None:
    query = sa.select(s).where(s.c.id == station_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def update(conn: Connection, station_id: int, **values) -> None:
    conn.execute(s.update().where(s.c.id == station_id).values(**values))


def all_by_name(conn: Connection) -> list[Row]:
    return list(conn.execute(sa.select(s).order_by(s.c.name)))


def touch(conn: Connection, station_id: int, now: str) -> None:
    """Record an upload: the station's last_seen_at."""
    conn.execute(s.update().where(s.c.id == station_id).values(last_seen_at=now))


# --- bindings -------------------------------------------------------------------------------


def bindings(conn: Connection, station_id: int) -> list[tuple[str, str]]:
    """[(kind, ref)] sorted."""
    return [
        (r.kind, r.ref)
        for r in conn.execute(
            sa.select(b.c.kind, b.c.ref)
            .where(b.c.station_id == station_id)
            .order_by(b.c.kind, b.c.ref)
        )
    ]


def replace_bindings(conn: Connection, station_id: int, kind: str, refs: Iterable[str]) -> None:
    conn.execute(b.delete().where(b.c.station_id == station_id, b.c.kind == kind))
    rows = [{"station_id": station_id, "kind": kind, "ref": ref} for ref in sorted(set(refs))]
    if rows:
        conn.execute(b.insert(), rows)


def producer_of_product(conn: Connection, product_id: int) -> str | None:
    p = db.products
    return conn.execute(sa.select(p.c.producer_id).where(p.c.id == product_id)).scalar()


def producer_ids_exist(conn: Connection, ids: Iterable[str]) -> set[str]:
    p = db.producers
    return set(conn.execute(sa.select(p.c.id).where(p.c.id.in_(list(ids)))).scalars())


def product_ids_exist(conn: Connection, ids: Iterable[int]) -> set[int]:
    p = db.products
    return set(conn.execute(sa.select(p.c.id).where(p.c.id.in_(list(ids)))).scalars())


# --- stamps issued ------------------------------------------------------------------------


def stamps_issued(
    conn: Connection, station_id: int, from_at: str | None = None, to_at: str | None = None
) -> int:
    """Stamps in the station's blocks created in [from_at, to_at) (db.TIME_FORMAT, UTC)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(sb.c.count), 0)).where(
        sb.c.station_id == station_id
    )
    if from_at is not None:
        query = query.where(sb.c.created_at >= from_at)
    if to_at is not None:
        query = query.where(sb.c.created_at < to_at)
    return int(conn.execute(query).scalar_one())


def blocks_of(conn: Connection, station_id: int) -> list[Row]:
    return list(
        conn.execute(sa.select(sb).where(sb.c.station_id == station_id).order_by(sb.c.first_serial))
    )


def printed_serials(conn: Connection, station_id: int, first: int, last: int) -> set[int]:
    """Serials in [first, last] that this station reported printed (an accepted print
    record with status 'printed' and no 'void' record for the same serial)."""
    e = db.events

    def of(status: str) -> set[int]:
        return set(
            conn.execute(
                sa.select(e.c.serial).where(
                    e.c.station_id == station_id,
                    e.c.kind == "print",
                    e.c.verdict == status,
                    e.c.serial >= first,
                    e.c.serial <= last,
                )
            ).scalars()
        )

    return of("printed") - of("void")


# --- alerts ----------------------------------------------------------------------------------


def add_alert(
    conn: Connection,
    station_id: int,
    day: str,
    reason: str,
    product_id: int,
    stamps_asked: int,
    detail: str,
) -> None:
    """One more refused attempt: a new row for the (station, day, reason, product), or its
    attempts and stamps_asked counted up (one statement, safe against a concurrent insert)."""
    now = db.utc_now()
    statement = db.dialect_insert(conn, al).values(
        station_id=station_id,
        day=day,
        reason=reason,
        product_id=product_id,
        attempts=1,
        stamps_asked=stamps_asked,
        first_at=now,
        last_at=now,
        detail=detail,
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["station_id", "day", "reason", "product_id"],
            set_={
                "attempts": al.c.attempts + 1,
                "stamps_asked": al.c.stamps_asked + stamps_asked,
                "last_at": now,
                "detail": detail,
            },
        )
    )


def alerts_since(conn: Connection, first_day: str, limit: int = 500) -> list[Row]:
    """Alert rows from first_day on, newest first, with the station's name."""
    return list(
        conn.execute(
            sa.select(al, s.c.name.label("station"))
            .join(s, s.c.id == al.c.station_id)
            .where(al.c.day >= first_day)
            .order_by(al.c.last_at.desc(), al.c.id.desc())
            .limit(limit)
        )
    )
