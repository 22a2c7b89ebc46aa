"""The lots feed (GET /lots/changes, protocol 3): what print records say of each serial's
lot, as serial ranges, after a cursor.

The cursor is `events.lot_seq`, taken from the counter 'lot_seq' in the transaction that
stores the print record (registry/uploads.py), so it becomes visible in commit order: a
kiosk that has seen N never later misses a record at or below N. A page holds the print
records with `since < lot_seq <= cursor` (at most `limit`), the newest record of a serial
winning inside the page, merged into ranges of consecutive serials with the same product,
lot and dates. A later page's range replaces what an earlier one said of its serials (a
stamp printed again, or voided: a void serial comes with an empty lot).

Print records stored before the registry checked lots strictly may hold a lot the kiosk
would refuse (a control character, dates out of order): those are served as "no lot"
(`ocop.wire.lot_problem`), so one old record never blocks every kiosk's feed.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ocop import wire
from ocop.wire import UploadKind, WireError
from registry import db

e = db.events
NO_LOT: tuple[str, str | None, str | None] = ("", None, None)


def served_lot(payload_json: str) -> tuple[str, str | None, str | None]:
    """(lot, produced_on, best_before) as the feed serves them for one print record."""
    try:
        payload = json.loads(payload_json)
    except ValueError:
        return NO_LOT
    if not isinstance(payload, dict) or payload.get("status") != "printed":
        return NO_LOT
    try:
        lot = wire.check_value(wire.LOT_RANGE["lot"], payload.get("lot") or "", "lot")
        days = [
            wire.check_value(wire.LOT_RANGE[name], payload.get(name), name)
            for name in ("produced_on", "best_before")
        ]
    except WireError:
        return NO_LOT
    lot = lot.strip()
    if wire.lot_problem(lot, days[0], days[1]):
        return NO_LOT
    return lot, days[0], days[1]


def lot_ranges_since(conn: Connection, since: int, limit: int) -> dict[str, Any]:
    """{"cursor", "more", "lots": [range, ...]} after cursor `since` (see the module)."""
    rows = conn.execute(
        sa.select(e.c.lot_seq, e.c.serial, e.c.product_id, e.c.payload_json)
        .where(e.c.kind == UploadKind.PRINT.value, e.c.lot_seq > since)
        .order_by(e.c.lot_seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    newest: dict[int, tuple] = {}  # serial -> (product_id, lot, produced_on, best_before)
    for r in rows:
        if r.serial is not None and r.product_id is not None:
            newest[r.serial] = (r.product_id, *served_lot(r.payload_json))
    ranges: list[dict[str, Any]] = []
    for serial in sorted(newest):
        what = newest[serial]
        last = ranges[-1] if ranges else None
        if last is not None and last["last_serial"] == serial - 1 and last["_what"] == what:
            last["last_serial"] = serial
            continue
        ranges.append({"first_serial": serial, "last_serial": serial, "_what": what})
    lots = [
        {
            "first_serial": r["first_serial"],
            "last_serial": r["last_serial"],
            "product_id": r["_what"][0],
            "lot": r["_what"][1],
            "produced_on": r["_what"][2],
            "best_before": r["_what"][3],
        }
        for r in ranges
    ]
    return {"cursor": rows[-1].lot_seq if rows else since, "more": more, "lots": lots}
