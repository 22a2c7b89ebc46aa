"""Clone detection queries (registry/clones.py): the sightings of a serial by stations
(verified scans in `events`), the detections (`clone_detections`) and their decisions."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from registry import db

e, s, cd, ss = db.events, db.stations, db.clone_detections, db.suspect_serials
RECENT_ROWS = 500  # the travel rule looks at this many newest sightings of a serial at most


def _counted(serial: int, verdicts: Iterable[str]):
    return sa.and_(e.c.kind == "scan", e.c.serial == serial, e.c.verdict.in_(list(verdicts)))


def station_days(
    conn: Connection, serial: int, verdicts: Iterable[str]
) -> list[tuple[int, str, int]]:
    """[(station id, day, scans)] of a serial's counted scans."""
    return [
        (row.station_id, row.day, row.n)
        for row in conn.execute(
            sa.select(e.c.station_id, e.c.day, sa.func.count().label("n"))
            .where(_counted(serial, verdicts))
            .group_by(e.c.station_id, e.c.day)
        )
    ]


def recent_station_sightings(
    conn: Connection, serial: int, verdicts: Iterable[str], since: str
) -> list[Row]:
    """(station_id, name, district, occurred_at, received_at) of counted scans received at
    or after `since`, newest first, at most RECENT_ROWS."""
    return list(
        conn.execute(
            sa.select(e.c.station_id, s.c.name, s.c.district, e.c.occurred_at, e.c.received_at)
            .select_from(e.join(s, s.c.id == e.c.station_id))
            .where(_counted(serial, verdicts), e.c.received_at >= since)
            .order_by(e.c.id.desc())
            .limit(RECENT_ROWS)
        )
    )


def station_counts(conn: Connection, serials: list[int], verdicts: Iterable[str]) -> dict[int, int]:
    """{serial: distinct stations with counted scans} for the serials that have any."""
    query = (
        sa.select(e.c.serial, sa.func.count(sa.distinct(e.c.station_id)))
        .where(e.c.kind == "scan", e.c.serial.in_(serials), e.c.verdict.in_(list(verdicts)))
        .group_by(e.c.serial)
    )
    return {serial: n for serial, n in conn.execute(query)}


def suspects_among(conn: Connection, serials: Iterable[int]) -> set[int]:
    wanted = list(serials)
    if not wanted:
        return set()
    return set(conn.execute(sa.select(ss.c.serial).where(ss.c.serial.in_(wanted))).scalars())


def rules_of(conn: Connection, serial: int) -> set[str]:
    """The rules that already fired for a serial (any status)."""
    return set(conn.execute(sa.select(cd.c.rule).where(cd.c.serial == serial)).scalars())


def add_detection(
    conn: Connection, serial: int, rule: str, detail: str, status: str, now: str, by: str | None
) -> None:
    conn.execute(
        db.insert_ignore(conn, cd).values(
            serial=serial,
            rule=rule,
            detail=detail,
            status=status,
            detected_at=now,
            decided_at=now if by else None,
            decided_by=by,
        )
    )


def get(conn: Connection, detection_id: int) -> Row | None:
    return conn.execute(sa.select(cd).where(cd.c.id == detection_id)).first()


def decide_serial(conn: Connection, serial: int, old: str, new: str, now: str, by: str) -> int:
    """Every `old` detection of a serial becomes `new`; returns how many."""
    return conn.execute(
        cd.update()
        .where(cd.c.serial == serial, cd.c.status == old)
        .values(status=new, decided_at=now, decided_by=by)
    ).rowcount


def decide(conn: Connection, detection_id: int, old: str, new: str, now: str, by: str) -> bool:
    return (
        conn.execute(
            cd.update()
            .where(cd.c.id == detection_id, cd.c.status == old)
            .values(status=new, decided_at=now, decided_by=by)
        ).rowcount
        == 1
    )


def listing(
    conn: Connection, first: str, status: str | None = None, limit: int = 200
) -> list[tuple[Row, str]]:
    """(detection, product name) with the product_id of the serial's block; those with
    status `first` (pending) first, then newest first."""
    sb, p = db.stamp_blocks, db.products
    product = (
        sa.select(sb.c.product_id)
        .where(sb.c.first_serial <= cd.c.serial, sb.c.last_serial >= cd.c.serial)
        .order_by(sb.c.first_serial.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = sa.select(cd, product.label("product_id"))
    if status is not None:
        query = query.where(cd.c.status == status)
    rows = conn.execute(
        query.order_by((cd.c.status == first).desc(), cd.c.id.desc()).limit(limit)
    ).all()
    names = {
        r.id: r.name_vi
        for r in conn.execute(
            sa.select(p.c.id, p.c.name_vi).where(
                p.c.id.in_({r.product_id for r in rows if r.product_id})
            )
        )
    }
    return [(r, names.get(r.product_id, "")) for r in rows]
