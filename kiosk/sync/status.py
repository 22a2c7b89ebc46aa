"""Sync state as the UI and `doctor` see it: a SyncStatus, kept in memory by the loop and
persisted in the store's sync_state table (key 'status', JSON), so another process can read
it with `read_sync_status(store)` without talking to the network.

sync_state keys used by kiosk.sync:
    status               JSON of SyncStatus (without pending_outbox, which is counted live)
    last_success_at      the same field as a plain value (read by `ocop-kiosk doctor`)
    last_error           the same field as a plain value ('' after a success)
    catalog_cursor       last applied change sequence (string integer)
    registry_id          the registry database the cursor belongs to
    last_pull_at         UTC time of the last applied catalog reply
    outbox_rejected      count of outbox items the registry rejected for good
    pending_block:<id>   a stamp block request sent but not yet stored (retried with the
                         same request id, so the registry returns the same block)

A round holds a shared flock on `sync.lock` next to the database while it runs (see
`round_running`). The kernel drops it when the process dies, so a reader that finds the
stored state `syncing` while nobody holds the lock knows the round was killed (kill -9, a
power cut) and shows INTERRUPTED instead of `syncing` forever.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from kiosk.i18n import N_, translator
from kiosk.stamps.trust_store import stored_trust_state
from ocop.enums import EnumWithAttributes
from ocop.stamps.freshness import TrustFreshness
from ocop.tone import Tone

STATUS_KEY = "status"
LAST_SUCCESS_KEY = "last_success_at"
LAST_ERROR_KEY = "last_error"
CURSOR_KEY = "catalog_cursor"
REGISTRY_ID_KEY = "registry_id"
LOTS_CURSOR_KEY = "lots_cursor"  # the lots feed's cursor (protocol 3)
LOTS_REGISTRY_ID_KEY = "lots_registry_id"  # the registry database that cursor is from
LAST_PULL_KEY = "last_pull_at"
REJECTED_KEY = "outbox_rejected"
PENDING_BLOCK_PREFIX = "pending_block:"
LOCK_FILENAME = "sync.lock"

log = logging.getLogger(__name__)


class SyncState(EnumWithAttributes):
    """A sync round's state, with its label (msgid) and tone for staff screens and doctor."""

    IDLE = ("idle", N_("Up to date"), Tone.OK)  # last attempt succeeded; waiting
    SYNCING = ("syncing", N_("Syncing…"), Tone.INFO)  # an attempt is running
    # the registry could not be reached (or answered 5xx/garbage)
    OFFLINE = ("offline", N_("Offline"), Tone.WARN)
    # the registry refused us, or sent data the kiosk refuses
    ERROR = ("error", N_("Sync error"), Tone.BAD)
    # a trust list that does not verify under the pinned root
    REFUSED = ("refused", N_("Refused: untrusted registry"), Tone.BAD)
    # a round was killed before it finished (seen at read time)
    INTERRUPTED = ("interrupted", N_("Sync interrupted"), Tone.WARN)
    # no registry URL/token/root key: offline by design
    NOT_CONFIGURED = ("not_configured", N_("No registry configured"), Tone.NEUTRAL)
    # the last round succeeded but the stored trust list has expired: newer lists are not
    # reaching this kiosk (seen at read time, never stored; TrustFreshness.EXPIRED)
    TRUST_EXPIRED = ("trust_expired", TrustFreshness.EXPIRED.label_msgid, Tone.WARN)

    label: str  # msgid
    tone: Tone

    def label_in(self, lang: str) -> str:
        return translator(lang)(self.label)

    @property
    def label_vi(self) -> str:
        return self.label_in("vi")

    @property
    def label_en(self) -> str:
        return self.label_in("en")

    @property
    def is_failure(self) -> bool:
        """The last round did not succeed: staff should see last_error."""
        return self in _SEVERITY or self is SyncState.TRUST_EXPIRED


# Failure states, least to most serious: a round's errors show the most serious one.
_SEVERITY = (SyncState.INTERRUPTED, SyncState.OFFLINE, SyncState.ERROR, SyncState.REFUSED)


def worst_state(states: Iterable[SyncState]) -> SyncState:
    """The most serious of a round's failure states (IDLE when there are none)."""
    found = [s for s in states if s in _SEVERITY]
    return max(found, key=_SEVERITY.index) if found else SyncState.IDLE


@dataclass(frozen=True)
class SyncStatus:
    state: SyncState = SyncState.IDLE
    last_success_at: str | None = None  # UTC ISO 8601 'Z'
    last_attempt_at: str | None = None
    last_error: str = ""
    pending_outbox: int = 0
    catalog_cursor: int = 0
    trust_list_sequence: int = 0
    offline_since: str | None = None  # first failed attempt after the last success
    next_attempt_at: str | None = None

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: dict) -> SyncStatus:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        try:
            values["state"] = SyncState(values.get("state", "idle"))
        except ValueError:
            values["state"] = SyncState.ERROR
        return cls(**values)


def pending_outbox_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]


@overload
def get_state(conn: sqlite3.Connection, key: str, default: str) -> str: ...
@overload
def get_state(conn: sqlite3.Connection, key: str, default: None = None) -> str | None: ...
def get_state(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_state(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO sync_state(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def delete_state(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM sync_state WHERE key = ?", (key,))


def write_status(conn: sqlite3.Connection, status: SyncStatus) -> None:
    set_state(conn, STATUS_KEY, json.dumps(status.to_json(), sort_keys=True))
    if status.last_success_at:
        set_state(conn, LAST_SUCCESS_KEY, status.last_success_at)
    set_state(conn, LAST_ERROR_KEY, status.last_error)


def lock_path(db_path: Path | str) -> Path:
    return Path(db_path).with_name(LOCK_FILENAME)


@contextlib.contextmanager
def round_running(db_path: Path | str) -> Iterator[None]:
    """Held for one round. Shared: two processes syncing at once (the app's loop and a
    technician's `sync --once`) do not wait for each other."""
    try:
        fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:  # sync still runs; only a kill -9 would then go unnoticed
        log.warning("sync lock %s unusable: %s", lock_path(db_path), exc)
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _no_round_running(db_path: Path | str) -> Iterator[bool]:
    """True while this reader holds the lock exclusively: no round runs, none can start
    (a starting round waits the few milliseconds this reader needs)."""
    try:
        fd = os.open(lock_path(db_path), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        yield True  # no round ever ran with this code: nothing can be running
        return
    except OSError:
        yield False  # cannot tell: believe the stored state
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def load_status(conn: sqlite3.Connection, db_path: Path | str | None) -> SyncStatus:
    """The persisted status with a live pending-outbox count; a `syncing` left by a killed
    round becomes INTERRUPTED. Read-only (works on a read-only connection)."""
    status = _stored_status(conn)
    if status.state is SyncState.SYNCING and db_path is not None:
        with _no_round_running(db_path) as idle:
            if idle:
                status = _stored_status(conn)  # the round may have just finished
                if status.state is SyncState.SYNCING:
                    status = _interrupted(status)
    cursor = get_state(conn, CURSOR_KEY)
    status = with_trust_freshness(status, conn)
    return dataclasses.replace(
        status,
        pending_outbox=pending_outbox_count(conn),
        catalog_cursor=int(cursor)
        if cursor and cursor.isascii() and cursor.isdigit()
        else status.catalog_cursor,
    )


def with_trust_freshness(status: SyncStatus, conn: sqlite3.Connection) -> SyncStatus:
    """A successful status is not "up to date" while the stored trust list has expired by
    the trusted clock: a proxy that withholds new lists shows within one validity period."""
    if status.state is not SyncState.IDLE:
        return status
    trust = stored_trust_state(conn)
    if trust.freshness is not TrustFreshness.EXPIRED:
        return status
    return dataclasses.replace(
        status,
        state=SyncState.TRUST_EXPIRED,
        last_error=(
            f"trust list {trust.sequence} expired at {trust.expires_at or '(version 1: no expiry)'}"
            "; the registry's newer lists are not reaching this kiosk, so recent "
            "revocations may be missing"
        ),
    )


def _stored_status(conn: sqlite3.Connection) -> SyncStatus:
    raw = get_state(conn, STATUS_KEY)
    if not raw:
        return SyncStatus()
    try:
        return SyncStatus.from_json(json.loads(raw))
    except (ValueError, TypeError):
        return SyncStatus(state=SyncState.ERROR, last_error="unreadable sync status")


def _interrupted(status: SyncStatus) -> SyncStatus:
    error = (
        f"the sync round started at {status.last_attempt_at or '?'} did not finish "
        f"(process stopped or killed)"
    )
    if status.last_error:
        error += f"; before that: {status.last_error}"
    return dataclasses.replace(
        status,
        state=SyncState.INTERRUPTED,
        last_error=error,
        offline_since=status.offline_since or status.last_attempt_at,
    )


def read_sync_status(store) -> SyncStatus:
    """load_status on a Store; for the UI, the loop and `sync status`."""
    return load_status(store.conn, store.path)
