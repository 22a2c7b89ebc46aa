"""Batch upload of scans, print records and heartbeats, exactly once per idempotency key.

(station_id, idempotency_key) is UNIQUE in `events`. A resent item (the kiosk died between
send and acknowledgement) is answered `duplicate` and stores nothing new; the kiosk treats
`accepted` and `duplicate` alike: delivered.

Heartbeats are not events: only the station's newest one is kept (`station_heartbeats`, one
row per station, the last one received wins; a kiosk keeps at most one unsent). A resend of
that same heartbeat is a `duplicate`.

Payload fields the registry reads (everything is kept verbatim in payload_json):
    scan:      scanned_at, serial, product_id, verdict, text (serial/product from the text
               when they are missing and the text is one of our stamps)
    print:     printed_at (or at), serial, product_id, status (printed | void)
    heartbeat: at; kept whole as the station's last heartbeat (fields: kiosk.sync.heartbeat)
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy.engine import Connection

from ocop.stamps.codec import MAX_PRODUCT_ID, MAX_SERIAL, parse_stamp_text
from ocop.stamps.errors import StampFormatError
from registry import db
from registry.dal import events, stations
from registry.dal.stations import Station

KINDS = ("scan", "print", "heartbeat")
TIME_FIELDS = {
    "scan": ("scanned_at", "at"),
    "print": ("printed_at", "at"),
    "heartbeat": ("at", "sent_at"),
}
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?")


def _occurred_at(kind: str, payload: dict, now: str) -> str:
    for name in TIME_FIELDS[kind]:
        value = payload.get(name)
        if isinstance(value, str) and len(value) <= 32 and _TIME_RE.fullmatch(value):
            return value
    return now


def _small_int(value: Any, hi: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
        return None
    return value


def event_row(
    station: Station, kind: str, key: str, payload: dict, now: str, base_url: str
) -> dict:
    occurred = _occurred_at(kind, payload, now)
    serial = _small_int(payload.get("serial"), MAX_SERIAL)
    product_id = _small_int(payload.get("product_id"), MAX_PRODUCT_ID)
    text = payload.get("text")
    if kind == "scan" and serial is None and isinstance(text, str) and len(text) < 1000:
        try:
            fields = parse_stamp_text(text, base_url).fields
            serial, product_id = fields.serial, product_id or fields.product_id
        except StampFormatError:
            pass
    # scans: the kiosk's verdict; print records: their status (printed | void)
    verdict = payload.get("verdict") if kind == "scan" else payload.get("status")
    verdict = verdict if isinstance(verdict, str) and len(verdict) <= 32 else None
    return {
        "station_id": station.id,
        "idempotency_key": key,
        "kind": kind,
        "occurred_at": occurred,
        "day": occurred[:10],
        "received_at": now,
        "serial": serial,
        "product_id": product_id,
        "verdict": verdict,
        "payload_json": json.dumps(
            payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True
        ),
    }


def record_batch(
    conn: Connection, station: Station, items: list[dict], base_url: str, max_payload_bytes: int
) -> list[dict]:
    """items: {"kind", "idempotency_key", "payload"} (structure already validated).
    Returns one result per item, in order: accepted | duplicate | rejected (+ error)."""
    now = db.utc_now()
    keys = [item["idempotency_key"] for item in items]
    existing = events.known_keys(conn, station.id, keys)
    last_heartbeat_key = events.last_heartbeat_key(conn, station.id)
    results, rows, newest_heartbeat = [], [], None
    for item in items:
        key, kind, payload = item["idempotency_key"], item["kind"], item["payload"]
        if key in existing or (kind == "heartbeat" and key == last_heartbeat_key):
            results.append({"idempotency_key": key, "status": "duplicate"})
            continue
        row = event_row(station, kind, key, payload, now, base_url)
        if len(row["payload_json"].encode("utf-8")) > max_payload_bytes:
            results.append(
                {
                    "idempotency_key": key,
                    "status": "rejected",
                    "error": f"payload larger than {max_payload_bytes} bytes",
                }
            )
            continue
        results.append({"idempotency_key": key, "status": "accepted"})
        if kind == "heartbeat":
            newest_heartbeat = row  # the last one in the batch is the newest
            last_heartbeat_key = key
            continue
        existing.add(key)
        rows.append(row)
    events.add_events(conn, rows)
    if newest_heartbeat is not None:
        events.set_heartbeat(
            conn,
            station.id,
            newest_heartbeat["idempotency_key"],
            newest_heartbeat["occurred_at"],
            now,
            newest_heartbeat["payload_json"],
        )
    stations.touch(conn, station.id, now)
    return results


def utc_day(days_ago: int = 0) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_ago)).isoformat()
