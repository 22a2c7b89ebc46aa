"""The office console's read queries: the home page's counts and the pending suspects."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

SUSPECTS_ON_PAGE = 200


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
