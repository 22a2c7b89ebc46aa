"""Report queries (registry/reports.py assembles them): scans per day, product, district
and verdict, prints and station health. `signed` is the tuple of verdicts
that say a scan read a validly signed stamp (reports.SIGNED_VERDICTS); a scan without a
verdict counts as signed too. Plain Core: the same SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from registry import db

e, s, p = db.events, db.stations, db.products


def _scans_between(first_day: str, last_day: str):
    return sa.and_(e.c.kind == "scan", e.c.day >= first_day, e.c.day <= last_day)


def _signed(signed: Iterable[str]):
    return sa.or_(e.c.verdict.is_(None), e.c.verdict.in_(list(signed)))


def scans_by_station_of_serial(
    conn: Connection, serial: int, signed: Iterable[str]
) -> list[tuple[str, str, int]]:
    """[(station, district, scans)] of one serial, most scans first."""
    rows = conn.execute(
        sa.select(s.c.name, s.c.district, sa.func.count().label("n"))
        .select_from(e.join(s, s.c.id == e.c.station_id))
        .where(e.c.kind == "scan", e.c.serial == serial, _signed(signed))
        .group_by(s.c.name, s.c.district)
        .order_by(sa.desc("n"))
    ).all()
    return [(r.name, r.district, r.n) for r in rows]


def scans_per_day(conn: Connection, first_day: str, last_day: str) -> dict[str, int]:
    return {
        day: n
        for day, n in conn.execute(
            sa.select(e.c.day, sa.func.count())
            .where(_scans_between(first_day, last_day))
            .group_by(e.c.day)
        )
    }


def scans_per_product(
    conn: Connection, first_day: str, last_day: str
) -> list[tuple[int, str | None, int]]:
    """[(product id, its name or None when not in the catalog, scans)], most first."""
    return [
        (r.product_id, r.name_vi, r.n)
        for r in conn.execute(
            sa.select(e.c.product_id, p.c.name_vi, sa.func.count().label("n"))
            .select_from(e.outerjoin(p, p.c.id == e.c.product_id))
            .where(_scans_between(first_day, last_day), e.c.product_id.is_not(None))
            .group_by(e.c.product_id, p.c.name_vi)
            .order_by(sa.desc("n"), e.c.product_id)
        )
    ]


def scans_per_district(conn: Connection, first_day: str, last_day: str) -> list[tuple[str, int]]:
    """[(the scanning station's district, scans)], most first."""
    return [
        (r.district, r.n)
        for r in conn.execute(
            sa.select(s.c.district, sa.func.count().label("n"))
            .select_from(e.join(s, s.c.id == e.c.station_id))
            .where(_scans_between(first_day, last_day))
            .group_by(s.c.district)
            .order_by(sa.desc("n"), s.c.district)
        )
    ]


def scans_per_verdict(
    conn: Connection, first_day: str, last_day: str
) -> list[tuple[str | None, int]]:
    return [
        (r.verdict, r.n)
        for r in conn.execute(
            sa.select(e.c.verdict, sa.func.count().label("n"))
            .where(_scans_between(first_day, last_day))
            .group_by(e.c.verdict)
            .order_by(sa.desc("n"))
        )
    ]


def prints_since(conn: Connection, first_day: str) -> int:
    """Print records (not voided) from first_day on."""
    return conn.execute(
        sa.select(sa.func.count()).where(
            e.c.kind == "print",
            e.c.day >= first_day,
            sa.or_(e.c.verdict.is_(None), e.c.verdict == "printed"),
        )
    ).scalar_one()


def stations_with_heartbeat(conn: Connection, day: str) -> list[Row]:
    """Every station (name, district, disabled, last_seen_at) with its newest heartbeat's
    received_at and payload_json (None without one) and its heartbeat summary of `day`
    (station_heartbeat_days columns prefixed day_; None without one), by name."""
    h, d = db.station_heartbeats, db.station_heartbeat_days
    summary = [c.label(f"day_{c.name}") for c in d.c if c.name not in ("station_id", "day")]
    return list(
        conn.execute(
            sa.select(
                s.c.name,
                s.c.district,
                s.c.disabled,
                s.c.last_seen_at,
                h.c.received_at,
                h.c.payload_json,
                *summary,
            )
            .select_from(
                s.outerjoin(h, h.c.station_id == s.c.id).outerjoin(
                    d, sa.and_(d.c.station_id == s.c.id, d.c.day == day)
                )
            )
            .order_by(s.c.name)
        )
    )
