"""Batch upload of scans, print records and heartbeats, exactly once per idempotency key.

(station_id, idempotency_key) is UNIQUE in `events` and in `upload_refusals`. A resent item
(the kiosk died between send and acknowledgement) is answered as the first time: an accepted
one `duplicate` (stores nothing new), a refused one `rejected` with the same reason (counted
once). The kiosk treats all three as delivered.

Nothing is taken at the station's word:
    scan   must carry `text`, the code it read. The registry verifies it itself
           (registry/verification.py) and stores the serial, product and key id of the
           verified stamp and its own verdict (the kiosk's stays in payload_json). Refused:
           no text, a text under our base URL that is not a genuinely signed stamp (forged,
           edited, malformed), and serial/product_id/key_id fields that disagree with the
           text. Other codes (product barcodes, foreign QR codes) are kept as non-stamp
           scans: no serial, so they never feed clone detection.
    print  accepted only for a serial inside one of this station's own stamp blocks; the
           product is the block's.
Each refusal (ocop.wire.Refusal) is an anomaly of the station (reports). Verified scans of
genuine stamps run the clone rules (registry/clones.py) in the same transaction.

Heartbeats are not events: only the station's newest one is kept (`station_heartbeats`, one
row per station, the last one received wins; a kiosk keeps at most one unsent), and a
summary per station and day (`station_heartbeat_days`: how many, extremes, last states). A
resend of that same heartbeat is a `duplicate`.

One transaction per upload (registry/routes/stations.py authenticates inside it) and a
bounded number of statements whatever the batch size (registry/dal/events.py).

Payload fields the registry reads (everything is kept verbatim in payload_json):
    scan:      scanned_at, text; serial, product_id, key_id only to compare with the text
    print:     printed_at (or at), serial, product_id (compared), status (printed | void),
               lot, produced_on, best_before (checked by ocop/lots.py; the phone page shows them)
    heartbeat: at; kept whole as the station's last heartbeat (fields: kiosk.sync.heartbeat)
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from ocop.clock import system_vietnam_today
from ocop.lots import LotDateError, check_lot_dates
from ocop.stamps.codec import MAX_PRODUCT_ID, MAX_SERIAL
from ocop.stamps.verdicts import SIGNATURE_VALID, Verdict
from ocop.stamps.verifier import StampVerifier
from ocop.wire import (
    LOT_CHARS,
    LOT_RANGE,
    Refusal,
    UploadKind,
    UploadStatus,
    WireError,
    check_value,
)
from registry import aggregates, clones, db
from registry.config import CloneRules
from registry.dal import anomalies, events, keys, stations
from registry.dal.stations import Station
from registry.signing import KeyRing
from registry.verification import Verifiers

TIME_FIELDS = {
    "scan": ("scanned_at", "at"),
    "print": ("printed_at", "at"),
    "heartbeat": ("at", "sent_at"),
}
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?")
ERROR_CHARS = 300


class Refused(Exception):
    def __init__(self, reason: Refusal, error: str, serial: int | None = None):
        self.reason, self.error, self.serial = reason, error[:ERROR_CHARS], serial
        super().__init__(error)


@dataclass(frozen=True)
class UploadContext:
    """What checking a batch needs besides the database."""

    verifiers: Verifiers
    keyring: KeyRing
    clone_rules: CloneRules
    max_payload_bytes: int


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


def _claim(payload: dict, name: str, hi: int) -> int | None:
    """A claimed id: None when absent or null; Refused when present but not an id."""
    value = payload.get(name)
    if value is None:
        return None
    checked = _small_int(value, hi)
    if checked is None:
        raise Refused(Refusal.FIELDS_DISAGREE, f"{name} {value!r:.40} is not a valid {name}")
    return checked


def _check_scan(verifier: StampVerifier, payload: dict) -> dict:
    """The verified columns of a scan (serial, product_id, key_id, verdict), or Refused."""
    text = payload.get("text")
    claimed = _claim(payload, "serial", MAX_SERIAL)
    if not isinstance(text, str) or not text:
        raise Refused(Refusal.SCAN_WITHOUT_TEXT, "a scan must carry the text it read", claimed)
    result = verifier.verify(text)
    if result.verdict is Verdict.FORGED:
        raise Refused(Refusal.SCAN_NOT_GENUINE, f"not a genuine stamp: {result.detail}", claimed)
    got = {
        "serial": result.serial,
        "product_id": result.product_id,
        "key_id": result.key_id if result.serial is not None else None,
    }
    limits = {"serial": MAX_SERIAL, "product_id": MAX_PRODUCT_ID, "key_id": 255}
    for name, value in got.items():
        said = _claim(payload, name, limits[name])
        # A stamp's text decides; a non-stamp code names no serial or key (a GTIN may name
        # a product the kiosk knows and the registry does not: not compared).
        compared = result.serial is not None or name != "product_id"
        if said is not None and compared and said != value:
            raise Refused(
                Refusal.FIELDS_DISAGREE,
                f"{name} {said} disagrees with the scanned text ({value})",
                claimed,
            )
    return {**got, "verdict": result.verdict.value}


def _check_print(conn: Connection, station: Station, payload: dict) -> dict:
    serial = _claim(payload, "serial", MAX_SERIAL)
    if serial is None:
        raise Refused(Refusal.PRINT_WITHOUT_SERIAL, "a print record must name its serial")
    block = keys.station_block_of_serial(conn, station.id, serial)
    if block is None:
        raise Refused(
            Refusal.PRINT_NOT_OWN_SERIAL,
            f"serial {serial} is not in a stamp block issued to this station",
            serial,
        )
    said = _claim(payload, "product_id", MAX_PRODUCT_ID)
    if said is not None and said != block.product_id:
        raise Refused(
            Refusal.FIELDS_DISAGREE,
            f"product_id {said} disagrees with serial {serial}'s block (product "
            f"{block.product_id})",
            serial,
        )
    _check_lot(payload, serial)
    status = payload.get("status")
    return {
        "serial": serial,
        "product_id": block.product_id,
        "key_id": block.key_id,
        # an empty status is no status: the report aggregates keep '' for "none"
        "verdict": status if isinstance(status, str) and 0 < len(status) <= 32 else None,
    }


def _check_lot(payload: dict, serial: int) -> None:
    """The lot and its dates as the phone page will show them: refused unless they pass the
    same rules the station's staff screen applies (ocop/lots.py). Stations before issue 15
    send no dates: still accepted."""
    lot = payload.get("lot")
    if lot is not None:
        try:  # what the lots feed will serve it as (ocop/wire.py: one line, LOT_CHARS)
            check_value(LOT_RANGE["lot"], lot, "lot")
        except WireError:
            raise Refused(
                Refusal.LOT_INVALID, f"lot must be one line of at most {LOT_CHARS} chars", serial
            ) from None
    days: list[dt.date | None] = []
    for name in ("produced_on", "best_before"):
        value = payload.get(name)
        if value is None:
            days.append(None)
            continue
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            days.append(dt.date.fromisoformat(value))
        except ValueError:
            raise Refused(Refusal.LOT_INVALID, f"{name} must be an ISO date", serial) from None
    if any(days) and not (isinstance(lot, str) and lot.strip()):
        raise Refused(Refusal.LOT_INVALID, "lot dates without a lot", serial)
    try:
        # a day's grace: the station's trusted day may already be tomorrow in Vietnam
        check_lot_dates(days[0], days[1], system_vietnam_today() + dt.timedelta(days=1))
    except LotDateError as err:
        raise Refused(Refusal.LOT_INVALID, f"lot dates: {err.problem.value}", serial) from None


def _base_row(station: Station, kind: str, key: str, payload: dict, now: str) -> dict:
    occurred = _occurred_at(kind, payload, now)
    return {
        "station_id": station.id,
        "idempotency_key": key,
        "kind": kind,
        "occurred_at": occurred,
        "day": occurred[:10],
        "received_at": now,
        "serial": None,
        "product_id": None,
        "key_id": None,
        "verdict": None,
        "lot_seq": None,
        "payload_json": json.dumps(
            payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True
        ),
    }


def _refusal_row(station: Station, kind: str, key: str, refused: Refused, now: str) -> dict:
    return {
        "station_id": station.id,
        "idempotency_key": key,
        "kind": kind,
        "reason": refused.reason.value,
        "error": refused.error,
        "serial": refused.serial,
        "received_at": now,
        "day": now[:10],
    }


def _rejected(key: str, reason: str, error: str) -> dict:
    return {
        "idempotency_key": key,
        "status": UploadStatus.REJECTED.value,
        "reason": reason,
        "error": error,
    }


@dataclass
class CheckedBatch:
    """What check_batch decided; store_batch writes it."""

    now: str
    results: list[dict]
    rows: list[dict]  # new scans and print records
    refusals: list[dict]
    heartbeat: dict | None  # the newest new heartbeat's row
    heartbeat_payload: dict


def record_batch(
    conn: Connection, station: Station, items: list[dict], ctx: UploadContext
) -> list[dict]:
    """items: {"kind", "idempotency_key", "payload"} (structure already validated).
    Returns one result per item, in order: accepted | duplicate | rejected (+ reason, error).
    check_batch then store_batch on one connection (one transaction)."""
    return store_batch(conn, station, check_batch(conn, station, items, ctx), ctx)


def check_batch(
    conn: Connection, station: Station, items: list[dict], ctx: UploadContext
) -> CheckedBatch:
    """Everything that only reads: what the station sent before, and every new item
    verified (scans: the stamp's signature and product; print records: the station's
    block). May run in a read transaction before store_batch's write transaction (SQLite:
    the single write lock is then held for the inserts only)."""
    now = db.utc_now()
    prior = events.prior_outcomes(conn, station.id, [item["idempotency_key"] for item in items])
    existing, refused_before = prior.accepted, prior.refused
    last_heartbeat_key = prior.last_heartbeat_key
    verifier = ctx.verifiers.for_connection(conn)
    results, rows, refusals, newest_heartbeat = [], [], [], None
    newest_heartbeat_payload: dict = {}
    for item in items:
        key, kind, payload = item["idempotency_key"], item["kind"], item["payload"]
        if key in refused_before:
            results.append(_rejected(key, *refused_before[key]))
            continue
        if key in existing or (kind == "heartbeat" and key == last_heartbeat_key):
            results.append({"idempotency_key": key, "status": UploadStatus.DUPLICATE.value})
            continue
        row = _base_row(station, kind, key, payload, now)
        try:
            if len(row["payload_json"].encode("utf-8")) > ctx.max_payload_bytes:
                raise Refused(
                    Refusal.PAYLOAD_TOO_LARGE,
                    f"payload larger than {ctx.max_payload_bytes} bytes",
                )
            if kind == UploadKind.SCAN.value:
                row.update(_check_scan(verifier, payload))
            elif kind == UploadKind.PRINT.value:
                row.update(_check_print(conn, station, payload))
        except Refused as refused:
            refusals.append(_refusal_row(station, kind, key, refused, now))
            refused_before[key] = (refused.reason.value, refused.error)
            results.append(_rejected(key, refused.reason.value, refused.error))
            continue
        results.append({"idempotency_key": key, "status": UploadStatus.ACCEPTED.value})
        if kind == UploadKind.HEARTBEAT.value:
            newest_heartbeat = row  # the last one in the batch is the newest
            newest_heartbeat_payload = payload
            last_heartbeat_key = key
            continue
        existing.add(key)
        rows.append(row)
    return CheckedBatch(now, results, rows, refusals, newest_heartbeat, newest_heartbeat_payload)


def store_batch(
    conn: Connection, station: Station, checked: CheckedBatch, ctx: UploadContext
) -> list[dict]:
    """Write what check_batch decided, exactly once: keys a concurrent upload stored in the
    meantime are left out by events.add_events (their items were delivered either way)."""
    now, rows, refusals = checked.now, checked.rows, checked.refusals
    newest_heartbeat, newest_heartbeat_payload = checked.heartbeat, checked.heartbeat_payload
    printed = [r for r in rows if r["kind"] == UploadKind.PRINT.value]
    if printed:  # their places in the lots feed, in the order they came
        first = db.take_sequence(conn, "lot_seq", len(printed))
        for i, r in enumerate(printed):
            r["lot_seq"] = first + i
    # Only the rows stored now (a concurrent resend of this batch may have won some keys):
    # the daily aggregates count exactly those (registry/aggregates.py).
    rows = events.add_events(conn, rows)
    aggregates.add_scans(conn, rows)
    anomalies.add(conn, refusals)
    if newest_heartbeat is not None:
        events.set_heartbeat(
            conn,
            station.id,
            newest_heartbeat["idempotency_key"],
            newest_heartbeat["occurred_at"],
            now,
            newest_heartbeat["payload_json"],
            newest_heartbeat_payload,
        )
    stations.touch(conn, station.id, now)
    sighted = {
        r["serial"]
        for r in rows
        if r["kind"] == UploadKind.SCAN.value and r["serial"] and r["verdict"] in clones.COUNTED
    }
    if sighted:
        clones.check(conn, ctx.keyring, ctx.clone_rules, sighted)
    # A genuine signature proves the registry issued that serial, even when a restored
    # database has forgotten the block: new blocks must start above it.
    issued = [
        r["serial"]
        for r in rows
        if r["kind"] == UploadKind.SCAN.value
        and r["serial"]
        and Verdict(r["verdict"]) in SIGNATURE_VALID
    ]
    if issued:
        db.raise_counter(conn, "serial", max(issued))
    return checked.results


def utc_day(days_ago: int = 0) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_ago)).isoformat()
