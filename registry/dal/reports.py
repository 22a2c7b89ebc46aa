"""Report queries (registry/reports.py assembles them): scans per day, product, district
and verdict and prints, read from the daily aggregates (registry/aggregates.py: a period's
cost is its days, never all history), and station health. `signed` is the tuple of verdicts
that say a scan read a validly signed stamp (reports.SIGNED_VERDICTS); a scan without a
verdict counts as signed too. Plain Core: the same SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from registry import aggregates, db

e, s, p = db.events, db.stations, db.products
ec = db.event_counts_daily


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
        day: int(n)
        for day, n in conn.execute(
            sa.select(ec.c.day, sa.func.sum(ec.c.count))
            .where(ec.c.kind == "scan", ec.c.day.between(first_day, last_day))
            .group_by(ec.c.day)
        )
    }


def _period_counts(daily: sa.Table, monthly: sa.Table, key: str, first_day: str, last_day: str):
    """(key, n) over a period: whole months from the monthly table, the days at its ends
    from the daily one (aggregates.period_parts)."""
    months, ranges = aggregates.period_parts(first_day, last_day)
    parts = [
        sa.select(daily.c[key], daily.c.count).where(daily.c.day.between(a, b)) for a, b in ranges
    ]
    if months:
        parts.append(sa.select(monthly.c[key], monthly.c.count).where(monthly.c.month.in_(months)))
    both = sa.union_all(*parts).subquery()
    return (
        sa.select(both.c[key], sa.func.sum(both.c.count).label("n"))
        .group_by(both.c[key])
        .subquery()
    )


def scans_per_product(
    conn: Connection, first_day: str, last_day: str
) -> list[tuple[int, str | None, int]]:
    """[(product id, its name or None when not in the catalog, scans)], most first."""
    counted = _period_counts(
        db.scan_counts_product_daily,
        db.scan_counts_product_monthly,
        "product_id",
        first_day,
        last_day,
    )
    return [
        (r.product_id, r.name_vi, int(r.n))
        for r in conn.execute(
            sa.select(counted.c.product_id, p.c.name_vi, counted.c.n)
            .select_from(counted.outerjoin(p, p.c.id == counted.c.product_id))
            .order_by(counted.c.n.desc(), counted.c.product_id)
        )
    ]


def scans_per_district(conn: Connection, first_day: str, last_day: str) -> list[tuple[str, int]]:
    """[(the scanning station's district, scans)], most first."""
    counted = _period_counts(
        db.scan_counts_station_daily,
        db.scan_counts_station_monthly,
        "station_id",
        first_day,
        last_day,
    )
    n = sa.func.sum(counted.c.n).label("n")
    return [
        (r.district, int(r.n))
        for r in conn.execute(
            sa.select(s.c.district, n)
            .select_from(counted.join(s, s.c.id == counted.c.station_id))
            .group_by(s.c.district)
            .order_by(n.desc(), s.c.district)
        )
    ]


def scans_per_verdict(
    conn: Connection, first_day: str, last_day: str
) -> list[tuple[str | None, int]]:
    n = sa.func.sum(ec.c.count).label("n")
    return [
        (r.verdict if r.verdict != aggregates.NO_VERDICT else None, int(r.n))
        for r in conn.execute(
            sa.select(ec.c.verdict, n)
            .where(ec.c.kind == "scan", ec.c.day.between(first_day, last_day))
            .group_by(ec.c.verdict)
            .order_by(n.desc())
        )
    ]


def prints_since(conn: Connection, first_day: str) -> int:
    """Print records (not voided) from first_day on."""
    return int(
        conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(ec.c.count), 0)).where(
                ec.c.kind == "print",
                ec.c.day >= first_day,
                ec.c.verdict.in_([aggregates.NO_VERDICT, "printed"]),
            )
        ).scalar_one()
    )


def stations_with_heartbeat(conn: Connection, day: str) -> list[Row]:
    """Every station (name, district, role, disabled, last_seen_at) with its newest heartbeat's
    received_at and payload_json (None without one) and its heartbeat summary of `day`
    (station_heartbeat_days columns prefixed day_; None without one), by name."""
    h, d = db.station_heartbeats, db.station_heartbeat_days
    summary = [c.label(f"day_{c.name}") for c in d.c if c.name not in ("station_id", "day")]
    return list(
        conn.execute(
            sa.select(
                s.c.name,
                s.c.district,
                s.c.role,
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
