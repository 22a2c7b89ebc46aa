"""Phone views of the public stamp page (`stamp_views`, at most one per serial, client and
hour) and the daily salts their client hashes are made with (`view_salts`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

v, salts = db.stamp_views, db.view_salts


def salt_of_day(conn: Connection, day: str, new_salt: str) -> str:
    """The salt for `day` (`new_salt` stored when there is none yet; a concurrent first
    view's wins), after deleting every other day's salt: yesterday's hashes can no longer
    be recomputed, so views cannot be linked across days."""
    conn.execute(salts.delete().where(salts.c.day != day))
    conn.execute(
        db.insert_ignore(conn, salts).values(day=day, salt=new_salt, created_at=db.utc_now())
    )
    return conn.execute(sa.select(salts.c.salt).where(salts.c.day == day)).scalar_one()


def add_views(conn: Connection, views: list[tuple[int, str, str]]) -> list[int]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING of [(serial, client_hash, viewed_at)];
    returns the serials of the rows stored (a client's first view of the serial that hour)."""
    if not views:
        return []
    rows = [
        {"serial": serial, "client_hash": h, "hour": at[:13], "day": at[:10], "viewed_at": at}
        for serial, h, at in views
    ]
    inserted = conn.execute(db.insert_ignore(conn, v).values(rows).returning(v.c.serial))
    return [row.serial for row in inserted]


def client_days(conn: Connection, serial: int) -> list[tuple[str, str, int]]:
    """[(client hash, day, views)] of a serial."""
    return [
        (row.client_hash, row.day, row.n)
        for row in conn.execute(
            sa.select(v.c.client_hash, v.c.day, sa.func.count().label("n"))
            .where(v.c.serial == serial)
            .group_by(v.c.client_hash, v.c.day)
        )
    ]


def client_counts(conn: Connection, serials: list[int]) -> dict[int, int]:
    """{serial: distinct phone clients ever recorded} for the serials that have any."""
    query = (
        sa.select(v.c.serial, sa.func.count(sa.distinct(v.c.client_hash)))
        .where(v.c.serial.in_(serials))
        .group_by(v.c.serial)
    )
    return {serial: n for serial, n in conn.execute(query)}


def recent_clients(conn: Connection, serial: int, since: str) -> int:
    """Distinct clients that viewed the serial at or after `since`."""
    return conn.execute(
        sa.select(sa.func.count(sa.distinct(v.c.client_hash))).where(
            v.c.serial == serial, v.c.viewed_at >= since
        )
    ).scalar_one()
