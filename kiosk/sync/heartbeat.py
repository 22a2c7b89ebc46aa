"""The heartbeat: what a kiosk tells the registry about itself each sync round.

Built here from plain values and getters (no Kivy, no network); `SyncEngine.queue_heartbeat`
puts the result in the outbox. The wire field names are the `Field` constants below, defined
once and documented in docs/sync-protocol.md ("Heartbeat").

Which process knows the devices. On a Pi two processes share the data folder: the UI
(`ocop-kiosk run`, which owns the camera and the printer monitor) and `ocop-kiosk sync`
(ocop-kiosk-sync.service, no device at all). Either may send the heartbeat (the UI runs its
own sync loop when a registry is configured). So the UI records what it sees in the store
(`record_devices`, sync_state key 'devices', every DEVICE_RECORD_INTERVAL_S), and a process
without devices reports that record with its age (`RecordedDevices`): a UI that died shows
as an old age, and a kiosk whose UI never ran says `not_watched`, never a made-up state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from kiosk import __version__
from kiosk.trusted_time import parse_iso, read_marks, reading_from
from ocop.clock import ISO_MICROS, ISO_SECONDS, utc_now_iso
from ocop.heartbeat import NOT_WATCHED, Field
from ocop.stamps.freshness import TrustFreshness

log = logging.getLogger(__name__)

DEVICES_KEY = "devices"  # sync_state key: the UI's last device record (JSON)
DEVICE_RECORD_INTERVAL_S = 60.0  # how often the UI writes that record
_MAX_STATE_CHARS = 100


@dataclasses.dataclass(frozen=True)
class DeviceReading:
    """One device as some process saw it. observed_at: UTC ISO time of the observation,
    None when nobody watches it."""

    state: str
    observed_at: str | None = None
    paper: str | None = None  # printers only
    is_demo: bool = False  # cameras only: the demo camera

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data) -> DeviceReading:
        if not isinstance(data, dict) or not isinstance(data.get("state"), str):
            return cls(NOT_WATCHED)
        at = data.get("observed_at")
        paper = data.get("paper")
        return cls(
            data["state"][:_MAX_STATE_CHARS],
            at if isinstance(at, str) else None,
            paper[:_MAX_STATE_CHARS] if isinstance(paper, str) else None,
            data.get("is_demo") is True,
        )


UNWATCHED = DeviceReading(NOT_WATCHED)
DeviceGetter = Callable[[], "DeviceReading | str"]


def read_device(getter: DeviceGetter) -> DeviceReading:
    """Call a device getter; a bare state string means 'seen just now'. A probe that fails
    must never break sync: its error becomes the state."""
    try:
        value = getter()
    except Exception as exc:  # noqa: BLE001 - a broken device reader reports 'unknown', never stops the heartbeat
        return DeviceReading(f"unknown ({type(exc).__name__})", utc_now_iso())
    if isinstance(value, DeviceReading):
        return value
    return DeviceReading(str(value)[:_MAX_STATE_CHARS], utc_now_iso())


# --- the UI's record, read by the sync process -----------------------------------------------


def record_devices(store, camera: DeviceReading, printer: DeviceReading) -> None:
    """UI process: save what it sees for `ocop-kiosk sync` (one small write a minute)."""
    value = json.dumps(
        {
            "camera": camera.to_json(),
            "printer": printer.to_json(),
            "recorded_at": utc_now_iso(),
            "pid": os.getpid(),
        }
    )
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) "
            "DO UPDATE SET value = excluded.value",
            (DEVICES_KEY, value),
        )


class RecordedDevices:
    """Device getters for a process that watches no device: the UI's last record."""

    def __init__(self, store):
        self.store = store

    def _record(self) -> dict:
        row = self.store.query_one("SELECT value FROM sync_state WHERE key = ?", (DEVICES_KEY,))
        try:
            data = json.loads(row[0]) if row else {}
        except ValueError:
            log.warning("sync_state '%s' is not JSON; devices reported as not watched", DEVICES_KEY)
            data = {}
        return data if isinstance(data, dict) else {}

    def camera(self) -> DeviceReading:
        return DeviceReading.from_json(self._record().get("camera"))

    def printer(self) -> DeviceReading:
        return DeviceReading.from_json(self._record().get("printer"))


# --- small facts ------------------------------------------------------------------------------

_IMPORTED_MONOTONIC = time.monotonic()


def process_uptime_s() -> float:
    """Seconds since this process started (Linux /proc), else since this module was
    imported (the sync service's ProcSubset=pid hides /proc/uptime)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            system_up_s = float(fh.read().split()[0])
        return max(0.0, system_up_s - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED_MONOTONIC


def disk_free_bytes(data_dir: Path) -> int | None:
    try:
        return shutil.disk_usage(data_dir).free
    except OSError:
        return None


def parse_utc(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    for fmt in (ISO_SECONDS, ISO_MICROS):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    return None


def age_s(then: str | None, now: dt.datetime) -> int | None:
    """Whole seconds from `then` to `now` (0 if the clock went back); None if unknown."""
    parsed = parse_utc(then)
    return None if parsed is None else max(0, int((now - parsed).total_seconds()))


def clock_field(conn, system_now: dt.datetime) -> dict:
    """The heartbeat's `clock`: the system time, the trusted time and the ClockState
    (kiosk.trusted_time: "behind" is a Pi without RTC that booted before NTP answered)."""
    return reading_from(system_now, read_marks(conn)).to_json()


def outbox_backlog(conn) -> tuple[int, str | None]:
    """(unsent rows, created_at of the oldest one) before this heartbeat is queued."""
    row = conn.execute(
        "SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL AND kind != 'heartbeat'"
    ).fetchone()
    return row[0], row[1]


# --- the payload ------------------------------------------------------------------------------


def build_payload(
    conn,
    *,
    settings,
    data_dir: Path,
    trust_list,
    catalog_cursor: int,
    last_sync_at: str | None,
    camera: DeviceReading,
    printer: DeviceReading,
    now: dt.datetime | None = None,
) -> dict:
    """The heartbeat payload. `trust_list`: the newest verified kiosk.stamps TrustList or
    None; `conn` reads the outbox (inside the caller's transaction)."""
    system_now = now or dt.datetime.now(dt.UTC)
    clock = clock_field(conn, system_now)
    # Ages are measured from the trusted time: a clock set back at boot must not make a
    # week-old trust list look fresh (or 'negative').
    now = parse_iso(clock["trusted_time"]) or system_now
    now_iso = system_now.strftime(ISO_SECONDS)
    pending, oldest = outbox_backlog(conn)
    return {
        Field.AT: now_iso,
        Field.APP_VERSION: __version__,
        Field.UPTIME_S: int(process_uptime_s()),
        Field.MODE: settings.mode.value,
        Field.SITE: settings.site.name,
        Field.DISTRICT: settings.site.district,
        Field.LAST_SYNC_AT: last_sync_at,
        Field.CAMERA: camera.state,
        Field.CAMERA_IS_DEMO: camera.is_demo,
        Field.CAMERA_AGE_S: age_s(camera.observed_at, now),
        Field.PRINTER: printer.state,
        Field.PAPER: printer.paper or (NOT_WATCHED if printer.state == NOT_WATCHED else "unknown"),
        Field.PRINTER_AGE_S: age_s(printer.observed_at, now),
        Field.DISK_FREE_BYTES: disk_free_bytes(data_dir),
        Field.TRUST_LIST_SEQUENCE: trust_list.sequence if trust_list else 0,
        Field.TRUST_LIST_AGE_S: age_s(trust_list.issued_at, now) if trust_list else None,
        Field.HIGHEST_SERIAL: conn.execute(
            "SELECT coalesce(max(serial), 0) FROM stamps"
        ).fetchone()[0],
        Field.TRUST_LIST_EXPIRES_AT: trust_list.expires_at if trust_list else None,
        Field.TRUST_LIST_STALE: (
            trust_list.freshness(now) if trust_list else TrustFreshness.NONE
        ).is_stale,
        Field.PENDING_OUTBOX: pending,
        Field.PENDING_OUTBOX_OLDEST_AGE_S: age_s(oldest, now),
        Field.CATALOG_CURSOR: catalog_cursor,
        Field.CLOCK: clock,
    }
