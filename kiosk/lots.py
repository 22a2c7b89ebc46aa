"""The lot of a stamp: what this kiosk printed itself, else what the registry's lots feed
said (sync protocol 3, kiosk/sync/engine.py `pull_lots`), so a kiosk that did not print a
stamp still shows its lot and dates on the scan result.

`lot_ranges` (kiosk store migration 3) holds serial ranges that never overlap: a newer
range splits the older ones it covers (a stamp printed again, or voided: the newest print
record of a serial wins, as on the phone page)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ocop.lots import LotDates


@dataclass(frozen=True)
class StampLot:
    """A printed stamp's lot ('' never: no lot is None) and its dates."""

    lot: str
    dates: LotDates

    @classmethod
    def from_row(cls, lot: str, produced_on: str | None, best_before: str | None) -> StampLot:
        def day(text: str | None) -> dt.date | None:
            return dt.date.fromisoformat(text) if text else None

        return cls(lot, LotDates(day(produced_on), day(best_before)))


def lot_of_serial(
    conn: sqlite3.Connection, serial: int, product_id: int | None = None
) -> StampLot | None:
    """The lot of a verified stamp's serial, None when nobody said one (or it was printed
    for another product than the stamp names: not believed)."""
    row = conn.execute(
        "SELECT j.lot, j.produced_on, j.best_before, j.product_id FROM stamps s "
        "JOIN print_jobs j ON j.id = s.job_id WHERE s.serial = ? AND s.state = 'printed'",
        (serial,),
    ).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT lot, produced_on, best_before, product_id FROM lot_ranges "
            "WHERE first_serial <= ? AND last_serial >= ? ORDER BY first_serial DESC LIMIT 1",
            (serial, serial),
        ).fetchone()
    if row is None or not row[0].strip():
        return None
    if product_id is not None and row[3] != product_id:
        return None
    return StampLot.from_row(row[0].strip(), row[1], row[2])


def apply_lot_ranges(tx: sqlite3.Connection, ranges: Iterable[Mapping[str, Any]]) -> int:
    """Store checked ranges (kiosk.sync.validate.check_lots) in the caller's transaction,
    each replacing what older ranges said of its serials. Returns how many were stored."""
    stored = 0
    for r in ranges:
        first, last = r["first_serial"], r["last_serial"]
        older = tx.execute(
            "SELECT first_serial, last_serial, product_id, lot, produced_on, best_before "
            "FROM lot_ranges WHERE first_serial <= ? AND last_serial >= ?",
            (last, first),
        ).fetchall()
        for o_first, o_last, *rest in older:
            tx.execute("DELETE FROM lot_ranges WHERE first_serial = ?", (o_first,))
            if o_first < first:  # the part before the new range stays
                _insert(tx, o_first, first - 1, *rest)
            if o_last > last:  # and the part after it
                _insert(tx, last + 1, o_last, *rest)
        _insert(tx, first, last, r["product_id"], r["lot"], r["produced_on"], r["best_before"])
        stored += 1
    return stored


def _insert(tx, first, last, product_id, lot, produced_on, best_before) -> None:
    tx.execute(
        "INSERT INTO lot_ranges(first_serial, last_serial, product_id, lot, produced_on, "
        "best_before) VALUES (?, ?, ?, ?, ?, ?)",
        (first, last, product_id, lot, produced_on, best_before),
    )
