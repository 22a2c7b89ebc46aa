"""Printed lots (`printed_lots`): which lot, and its dates, a printed serial belongs to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

t = db.printed_lots


@dataclass(frozen=True)
class SerialLot:
    lot: str
    produced_on: dt.date | None
    best_before: dt.date | None


def add_printed_lot(
    conn: Connection,
    station_id: int,
    first_serial: int,
    last_serial: int,
    lot: str,
    produced_on: dt.date | None = None,
    best_before: dt.date | None = None,
) -> None:
    """Record a printed run (the caller checked the values: ocop.lots, the station's
    blocks)."""
    conn.execute(
        t.insert().values(
            station_id=station_id,
            first_serial=first_serial,
            last_serial=last_serial,
            lot=lot,
            produced_on=produced_on and produced_on.isoformat(),
            best_before=best_before and best_before.isoformat(),
            created_at=db.utc_now(),
        )
    )


def lot_for_serial(conn: Connection, serial: int) -> SerialLot | None:
    """The lot and dates of the printed run holding `serial` (the newest report wins), or
    None when no station reported one."""
    row = conn.execute(
        sa.select(t.c.lot, t.c.produced_on, t.c.best_before)
        .where(t.c.first_serial <= serial, t.c.last_serial >= serial)
        .order_by(t.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return SerialLot(
        row.lot,
        dt.date.fromisoformat(row.produced_on) if row.produced_on else None,
        dt.date.fromisoformat(row.best_before) if row.best_before else None,
    )


__all__ = ["SerialLot", "add_printed_lot", "lot_for_serial"]
