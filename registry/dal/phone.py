"""What the public phone pages read beyond the catalog: a serial's checks (station scans and
phone views together), its newest print record's lot, and the producer's other products."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

e, v, p = db.events, db.stamp_views, db.products
SCAN, PRINT = "scan", "print"


def checks_of_serial(conn: Connection, serial: int) -> tuple[int, str | None]:
    """(checks, first check's UTC time or None): every uploaded station scan plus every
    recorded phone view (one per phone client and hour: registry/views.py)."""
    scans, first_scan = conn.execute(
        sa.select(sa.func.count(), sa.func.min(e.c.occurred_at)).where(
            e.c.serial == serial, e.c.kind == SCAN
        )
    ).one()
    views, first_view = conn.execute(
        sa.select(sa.func.count(), sa.func.min(v.c.viewed_at)).where(v.c.serial == serial)
    ).one()
    firsts = [t for t in (first_scan, first_view) if t]
    return scans + views, (min(firsts) if firsts else None)


def print_record(conn: Connection, serial: int) -> dict[str, Any] | None:
    """The newest print record's payload for the serial (lot, status, and whatever dates
    the printing station sent), or None when no print record arrived."""
    row = conn.execute(
        sa.select(e.c.payload_json)
        .where(e.c.serial == serial, e.c.kind == PRINT)
        .order_by(e.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    try:
        payload = json.loads(row.payload_json)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def related_products(
    conn: Connection, product_id: int, producer_id: str, commune: str, limit: int
) -> list[tuple[int, str, str]]:
    """[(id, name_vi, name_en)] of the producer's other products, else the commune's."""
    base = sa.select(p.c.id, p.c.name_vi, p.c.name_en).where(p.c.id != product_id)
    rows = conn.execute(base.where(p.c.producer_id == producer_id).order_by(p.c.id).limit(limit))
    found = [(r.id, r.name_vi, r.name_en) for r in rows]
    if not found and commune:
        rows = conn.execute(base.where(p.c.commune == commune).order_by(p.c.id).limit(limit))
        found = [(r.id, r.name_vi, r.name_en) for r in rows]
    return found


def key_of_serial(conn: Connection, serial: int) -> int | None:
    """The signing key id of the block the serial was issued in."""
    sb = db.stamp_blocks
    return conn.execute(
        sa.select(sb.c.key_id)
        .where(sb.c.first_serial <= serial, sb.c.last_serial >= serial)
        .order_by(sb.c.first_serial.desc())
        .limit(1)
    ).scalar()
