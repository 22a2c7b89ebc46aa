"""The office console's read queries: the home page's counts, the pending suspects, a
detection's evidence and the stamp blocks issued (per station and newest first)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

SUSPECTS_ON_PAGE = 200
BLOCKS_ON_PAGE = 200


@dataclass(frozen=True)
class HomeCounts:
    products: int
    producers: int
    active_stations: int
    pending_suspects: int
    stamps_last_30_days: int


def _count(conn: Connection, query) -> int:
    return int(conn.execute(query).scalar_one() or 0)


def home_counts(conn: Connection, since_day: str, pending: str) -> HomeCounts:
    """since_day: the first Vietnam day (YYYY-MM-DD) of the stamp count; pending: the
    status of detections waiting for the office (clones.DetectionStatus.PENDING)."""
    c = sa.func.count()
    return HomeCounts(
        products=_count(conn, sa.select(c).select_from(db.products)),
        producers=_count(conn, sa.select(c).select_from(db.producers)),
        active_stations=_count(
            conn, sa.select(c).select_from(db.stations).where(db.stations.c.disabled == sa.false())
        ),
        pending_suspects=_count(
            conn,
            sa.select(c)
            .select_from(db.clone_detections)
            .where(db.clone_detections.c.status == pending),
        ),
        stamps_last_30_days=_count(
            conn,
            sa.select(sa.func.coalesce(sa.func.sum(db.stamp_blocks.c.count), 0)).where(
                db.stamp_blocks.c.issued_on >= since_day
            ),
        ),
    )


def pending_suspects(conn: Connection, pending: str) -> list[sa.Row]:
    cd = db.clone_detections
    return list(
        conn.execute(
            sa.select(cd.c.id, cd.c.serial, cd.c.rule, cd.c.detail, cd.c.detected_at)
            .where(cd.c.status == pending)
            .order_by(cd.c.detected_at.desc(), cd.c.id.desc())
            .limit(SUSPECTS_ON_PAGE)
        )
    )


@dataclass(frozen=True)
class StationBlocks:
    """The stamp blocks one station received: how many, how many stamps, first and last day."""

    station: str
    blocks: int
    stamps: int
    first_issued_on: str
    last_issued_on: str


def blocks_per_station(conn: Connection) -> list[StationBlocks]:
    st, sb = db.stations, db.stamp_blocks
    query = (
        sa.select(
            st.c.name,
            sa.func.count(sb.c.id),
            sa.func.coalesce(sa.func.sum(sb.c.count), 0),
            sa.func.min(sb.c.issued_on),
            sa.func.max(sb.c.issued_on),
        )
        .select_from(sb.join(st, st.c.id == sb.c.station_id))
        .group_by(st.c.name)
        .order_by(st.c.name)
    )
    return [StationBlocks(n, int(b), int(c), lo, hi) for n, b, c, lo, hi in conn.execute(query)]


def recent_blocks(
    conn: Connection, station: str | None = None, limit: int = BLOCKS_ON_PAGE
) -> list[sa.Row]:
    """Stamp blocks newest first (all stations, or one by name), with the station's name."""
    st, sb = db.stations, db.stamp_blocks
    query = (
        sa.select(
            sb.c.id,
            st.c.name.label("station"),
            sb.c.product_id,
            sb.c.key_id,
            sb.c.issued_on,
            sb.c.first_serial,
            sb.c.last_serial,
            sb.c.count,
            sb.c.created_at,
        )
        .select_from(sb.join(st, st.c.id == sb.c.station_id))
        .order_by(sb.c.id.desc())
        .limit(limit)
    )
    if station is not None:
        query = query.where(st.c.name == station)
    return list(conn.execute(query))


EVIDENCE_ROWS = 200  # stations / phone days shown for one detection


def station_evidence(conn: Connection, serial: int, verdicts: list[str]) -> list[sa.Row]:
    """(name, district, scans, first_at, last_at) per station of a serial's counted scans
    (as the clone rules count them: registry/clones.py COUNTED), first sighting first."""
    e, s = db.events, db.stations
    first = sa.func.min(e.c.occurred_at).label("first_at")
    return list(
        conn.execute(
            sa.select(
                s.c.name,
                s.c.district,
                sa.func.count().label("scans"),
                first,
                sa.func.max(e.c.occurred_at).label("last_at"),
            )
            .select_from(e.join(s, s.c.id == e.c.station_id))
            .where(e.c.kind == "scan", e.c.serial == serial, e.c.verdict.in_(verdicts))
            .group_by(s.c.name, s.c.district)
            .order_by(first, s.c.name)
            .limit(EVIDENCE_ROWS)
        )
    )


def phone_evidence(conn: Connection, serial: int) -> list[sa.Row]:
    """(day, phones, views) of a serial's phone checks, newest day first (a phone is a
    salted hash of a day: the same phone on two days counts twice)."""
    v = db.stamp_views
    return list(
        conn.execute(
            sa.select(
                v.c.day,
                sa.func.count(sa.distinct(v.c.client_hash)).label("phones"),
                sa.func.count().label("views"),
            )
            .where(v.c.serial == serial)
            .group_by(v.c.day)
            .order_by(v.c.day.desc())
            .limit(EVIDENCE_ROWS)
        )
    )


def detections_of_serial(conn: Connection, serial: int) -> list[sa.Row]:
    cd = db.clone_detections
    return list(conn.execute(sa.select(cd).where(cd.c.serial == serial).order_by(cd.c.id)))


def product_name(conn: Connection, product_id: int) -> str:
    """The product's Vietnamese name, "" when the catalog does not have it."""
    p = db.products
    return conn.execute(sa.select(p.c.name_vi).where(p.c.id == product_id)).scalar() or ""
