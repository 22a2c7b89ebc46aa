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
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sqlite3
from dataclasses import dataclass

STATUS_KEY = "status"
LAST_SUCCESS_KEY = "last_success_at"
LAST_ERROR_KEY = "last_error"
CURSOR_KEY = "catalog_cursor"
REGISTRY_ID_KEY = "registry_id"
LAST_PULL_KEY = "last_pull_at"
REJECTED_KEY = "outbox_rejected"
PENDING_BLOCK_PREFIX = "pending_block:"


class SyncState(enum.Enum):
    IDLE = "idle"             # last attempt succeeded; waiting for the next one
    SYNCING = "syncing"       # an attempt is running
    OFFLINE = "offline"       # the registry could not be reached (or answered 5xx/garbage)
    ERROR = "error"           # the registry refused us (token, configuration, data)
    NOT_CONFIGURED = "not_configured"   # no registry URL/token/root key: offline by design

    @property
    def label_vi(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]


_LABELS = {
    SyncState.IDLE: ("Đã đồng bộ", "Up to date"),
    SyncState.SYNCING: ("Đang đồng bộ…", "Syncing…"),
    SyncState.OFFLINE: ("Ngoại tuyến", "Offline"),
    SyncState.ERROR: ("Lỗi đồng bộ", "Sync error"),
    SyncState.NOT_CONFIGURED: ("Chưa kết nối máy chủ", "No registry configured"),
}


@dataclass(frozen=True)
class SyncStatus:
    state: SyncState = SyncState.IDLE
    last_success_at: str | None = None      # UTC ISO 8601 'Z'
    last_attempt_at: str | None = None
    last_error: str = ""
    pending_outbox: int = 0
    catalog_cursor: int = 0
    trust_list_sequence: int = 0
    offline_since: str | None = None        # first failed attempt after the last success
    next_attempt_at: str | None = None

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: dict) -> "SyncStatus":
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        try:
            values["state"] = SyncState(values.get("state", "idle"))
        except ValueError:
            values["state"] = SyncState.ERROR
        return cls(**values)


def pending_outbox_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]


def get_state(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_state(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


def delete_state(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM sync_state WHERE key = ?", (key,))


def write_status(conn: sqlite3.Connection, status: SyncStatus) -> None:
    set_state(conn, STATUS_KEY, json.dumps(status.to_json(), sort_keys=True))
    if status.last_success_at:
        set_state(conn, LAST_SUCCESS_KEY, status.last_success_at)
    set_state(conn, LAST_ERROR_KEY, status.last_error)


def read_sync_status(store) -> SyncStatus:
    """The persisted status with a live pending-outbox count. Read-only; for UI and doctor."""
    conn = store.conn
    raw = get_state(conn, STATUS_KEY)
    status = SyncStatus()
    if raw:
        try:
            status = SyncStatus.from_json(json.loads(raw))
        except (ValueError, TypeError):
            status = SyncStatus(state=SyncState.ERROR, last_error="unreadable sync status")
    cursor = get_state(conn, CURSOR_KEY)
    return dataclasses.replace(status, pending_outbox=pending_outbox_count(conn),
                               catalog_cursor=int(cursor) if cursor and cursor.isdigit()
                               else status.catalog_cursor)
