"""Restore safety: a database that went backwards starts a new epoch.

Every registry command opens the database through cli.open_registry, which calls
`check_on_start`. It compares the database with the high-water mark in the data folder
(registry/highwater.py). The database "went backwards" when the mark says a restore is
pending (`ocop-registry restore`), when it names another registry_id, when any of its
counters (change_seq, serial, trust-list sequence) is above the database's, or when the
mark is damaged. Then, in one transaction:

    registry_id   a new one: kiosks see it change and pull the catalog again from cursor 0
                  (and re-send what they delivered recently: kiosk/sync/engine.py)
    epoch         +1 (meta 'epoch'; 'epoch_started_at', 'epoch_reason' say when and why)
    serial        counter set to the highest serial ever issued or reported + serial_gap:
                  the mark, stamp_blocks, serials in uploaded print and genuine scan
                  events, and `highest_serial` in kiosk heartbeats
    trust list    published at once with sequence >= the highest ever published or reported
                  (the mark, trust_lists, heartbeats' trust_list_sequence) + trust_sequence_gap,
                  so kiosks accept it by their normal rule (the sequence must increase)
    change_seq    raised to at least the mark's (cursors never repeat across epochs)

After a commit that raised a counter, `Database.write` calls `raise_mark` (one small read
and one atomic file write; uploads and reads raise nothing and write no file).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ocop.heartbeat import Field
from ocop.stamps.codec import MAX_SERIAL
from registry import db, highwater
from registry.dal import events as event_rows
from registry.dal import keys
from registry.highwater import Mark

log = logging.getLogger("registry.epoch")

META_EPOCH = "epoch"
META_EPOCH_STARTED = "epoch_started_at"
META_EPOCH_REASON = "epoch_reason"
# A serial reported by a station (print/scan event, heartbeat) counts only this far above
# what the registry itself knows it issued: one forged report must not use up the serial
# space (2**40) at the next restore. 1000 blocks of 10,000.
REPORTED_SERIAL_SLACK = 10_000_000


@dataclass(frozen=True)
class Gaps:
    serial: int
    trust_sequence: int


@dataclass(frozen=True)
class NewEpoch:
    reason: str
    mark: Mark  # the database's state after the new epoch began


def database_mark(conn: Connection) -> Mark:
    """What the database itself says (the registry_id, epoch and counters)."""
    registry_id = db.get_meta(conn, "registry_id") or ""
    return Mark(
        registry_id=registry_id,
        epoch=int(db.get_meta(conn, META_EPOCH) or 1),
        change_seq=db.counter_value(conn, "change_seq"),
        serial=db.counter_value(conn, "serial"),
        trust_sequence=keys.last_trust_sequence(conn),
    )


def backwards_reason(stored: Mark | None, now: Mark, unreadable: str = "") -> str:
    """Why the database must start a new epoch, or '' when it did not go backwards."""
    if unreadable:
        return f"the high-water mark is damaged ({unreadable})"
    if stored is None:
        return ""  # first start with this data folder (or one made before the mark)
    if stored.new_epoch_pending:
        return stored.new_epoch_pending
    if stored.registry_id != now.registry_id:
        return (
            f"the database is registry {now.registry_id}, the data folder last ran "
            f"registry {stored.registry_id} (an older or another database)"
        )
    behind = [
        f"{name} {now.counters()[name]} < {value}"
        for name, value in stored.counters().items()
        if now.counters()[name] < value
    ]
    if behind:
        return "the database went backwards: " + ", ".join(behind)
    return ""


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _reported_heartbeat_values(conn: Connection) -> tuple[int, int]:
    """(highest serial, highest trust-list sequence) in the stations' last heartbeats."""
    serial = sequence = 0
    for payload in event_rows.newest_heartbeat_payloads(conn):
        try:
            data = json.loads(payload)
        except ValueError:
            continue
        if isinstance(data, dict):
            serial = max(serial, _count(data.get(Field.HIGHEST_SERIAL)))
            sequence = max(sequence, _count(data.get(Field.TRUST_LIST_SEQUENCE)))
    return serial, sequence


def highest_serial(conn: Connection, stored: Mark | None) -> int:
    """The highest serial ever issued (mark, counter, blocks) or plausibly reported."""
    sb, ev = db.stamp_blocks, db.events
    known = max(
        stored.serial if stored else 0,
        db.counter_value(conn, "serial"),
        conn.execute(sa.select(sa.func.max(sb.c.last_serial))).scalar() or 0,
    )
    reported = (
        conn.execute(
            sa.select(sa.func.max(ev.c.serial)).where(
                sa.or_(
                    ev.c.kind == "print",
                    sa.and_(ev.c.kind == "scan", ev.c.verdict.like("genuine%")),
                )
            )
        ).scalar()
        or 0
    )
    reported = max(reported, _reported_heartbeat_values(conn)[0])
    if reported > known + REPORTED_SERIAL_SLACK:
        log.warning(
            "a station reported serial %d, far above the %d issued: ignored", reported, known
        )
        reported = 0
    return max(known, reported)


def highest_trust_sequence(conn: Connection, stored: Mark | None) -> int:
    return max(
        stored.trust_sequence if stored else 0,
        keys.last_trust_sequence(conn),
        _reported_heartbeat_values(conn)[1],
    )


def begin_new_epoch(conn: Connection, keyring, stored: Mark | None, gaps: Gaps, reason: str):
    """The new epoch's steps (module docstring), in the caller's write transaction."""
    serial = min(highest_serial(conn, stored) + gaps.serial, MAX_SERIAL)
    db.set_counter(conn, "serial", max(serial, db.counter_value(conn, "serial")))
    if stored is not None and stored.change_seq > db.counter_value(conn, "change_seq"):
        db.set_counter(conn, "change_seq", stored.change_seq)
    keys.raise_trust_sequence_floor(
        conn, highest_trust_sequence(conn, stored) + gaps.trust_sequence
    )
    epoch = max(stored.epoch if stored else 1, int(db.get_meta(conn, META_EPOCH) or 1)) + 1
    db.set_meta(conn, "registry_id", uuid.uuid4().hex)
    db.set_meta(conn, META_EPOCH, str(epoch))
    db.set_meta(conn, META_EPOCH_STARTED, db.utc_now())
    db.set_meta(conn, META_EPOCH_REASON, reason[:500])
    keyring.publish(conn)


def check_on_start(database: db.Database, keyring, data_dir: Path, gaps: Gaps) -> NewEpoch | None:
    """Compare the database with the mark; begin a new epoch when it went backwards; leave
    the mark at the database's state (raised, never lowered). Returns the new epoch or
    None. A crash after the epoch's commit and before the mark is written is safe: the mark
    still names the old registry_id, so the next start begins one more epoch."""
    with highwater.locked(data_dir):
        unreadable = ""
        try:
            stored = highwater.read(data_dir)
        except highwater.Unreadable as exc:
            stored, unreadable = None, str(exc)
        with database.read() as conn:
            now = database_mark(conn)
        reason = backwards_reason(stored, now, unreadable)
        started = None
        if reason:
            with database.write(raises_mark=False) as conn:
                begin_new_epoch(conn, keyring, stored, gaps, reason)
            with database.read() as conn:
                now = database_mark(conn)
            started = NewEpoch(reason, now)
            log.warning(
                "new registry epoch %d (registry id %s): %s; serial counter %d, trust list %d",
                now.epoch,
                now.registry_id,
                reason,
                now.serial,
                now.trust_sequence,
            )
        elif stored is None:
            log.info("high-water mark started in %s", highwater.path_in(data_dir))
        mark = now if stored is None or started else now.raised(stored)
        highwater.write(data_dir, dataclasses.replace(mark, written_at=db.utc_now()))
    return started


def request_new_epoch(data_dir: Path, reason: str) -> None:
    """Make the next start begin a new epoch whatever the counters say (`restore` calls it
    BEFORE replacing the database, so a crash in between still ends in a new epoch)."""
    with highwater.locked(data_dir):
        try:
            stored = highwater.read(data_dir)
        except highwater.Unreadable:
            return  # a damaged mark already forces a new epoch
        mark = stored or Mark(registry_id="")
        highwater.write(
            data_dir, dataclasses.replace(mark, new_epoch_pending=reason, written_at=db.utc_now())
        )


def raise_mark(database: db.Database, data_dir: Path) -> None:
    """After a commit that raised a counter: the mark follows the database (never down)."""
    with database.read() as conn:
        now = database_mark(conn)
    with highwater.locked(data_dir):
        try:
            stored = highwater.read(data_dir)
        except highwater.Unreadable:
            return  # leave it damaged: the next start begins a new epoch, which is safe
        if stored is not None and (
            stored.new_epoch_pending or stored.registry_id != now.registry_id
        ):
            return  # a restore is under way or the epoch changed under us: start decides
        mark = now if stored is None else now.raised(stored)
        if stored is not None and mark.counters() == stored.counters():
            return
        highwater.write(data_dir, dataclasses.replace(mark, written_at=db.utc_now()))
