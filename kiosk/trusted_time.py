"""Trusted time on a Raspberry Pi without a real-time clock.

A Pi starts with the clock it saved at shutdown (fake-hwclock), or 1970, or whatever a bad
RTC says, until NTP sets it. Rating validity (36 months, kiosk.catalog) and the age of the
trust list must not follow such a clock back: a reset to 2023 would make an expired rating
show its stars again. So the kiosk decides with

    trusted now = max(system clock, last trusted time)

where the last trusted time (the *floor*) is the later of two marks kept in the store's
`meta` table:

- signed time: the newest `issued_at` of a trust list that verified against the pinned root
  (recorded by ocop.stamps.trust.store_trust_list). Signed by the registry: never doubted,
  never moved back. It is old by nature (the registry signs a list only when something
  changes), so it is a floor, not a clock.
- local mark: the latest wall time this kiosk has seen. Written when the stored mark is at
  least MARK_PERSIST_EVERY_S behind the clock (so at most one SD-card write per 10 minutes
  whatever the number of processes, piggybacked on a scan's transaction when there is one)
  and at clean shutdown (ClockKeeper.stop, TrustedClock.persist(force=True)).

A clock that ran AHEAD (years in the future, then corrected) must not lock the kiosk into the
future, so the local mark, unlike the signed time, may move back:

1. when the kernel says the clock is NTP-synchronized (adjtimex maxerror < 16 s, the rule
   timedatectl's NTPSynchronized uses) and the clock is behind the local mark by more than
   BEHIND_TOLERANCE_S, the mark is wrong: it is reset to the clock (never below the signed
   time) and a warning logged;
2. without NTP (an offline kiosk) a local mark never counts more than LOCAL_MARK_MAX_LEAD_S
   beyond the signed time, so a runaway clock can hold the kiosk in the future for at most
   that long after the last signed time.

Days for ratings are Vietnam days (UTC+7, no daylight saving; the Pi is installed with
Asia/Ho_Chi_Minh): `trusted_today()` rolls over at local midnight whatever TZ the process
has. Stamp issue dates stay UTC days, like the registry's.

What other parts call:
    clock_for(store).today()          # the trusted Vietnam day (catalog, verifier)
    clock_report(store) -> dict       # heartbeat: system_time, trusted_time, state, ...
    staff_clock_note(clock_for(store).reading(), lang)   # "" unless the clock is behind
    record_signed_time(conn, issued_at)                    # after a trust list is stored
    ClockKeeper(clock_for(store)).start() / .stop()        # app and sync processes
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import logging
import sqlite3
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import overload

from kiosk.i18n import translator
from ocop.clock import (  # noqa: F401
    ISO_SECONDS,
    VIETNAM_TZ,
    ClockState,
    system_utc_now,
    system_vietnam_today,
    vietnam_day,
)

log = logging.getLogger(__name__)

BEHIND_TOLERANCE_S = 300.0  # clock earlier than the floor by more: BEHIND
MARK_PERSIST_EVERY_S = 600.0  # SD-card wear: at most one mark write per 10 min
LOCAL_MARK_MAX_LEAD_S = 366 * 86400.0  # how far a local mark may run past the signed time
NTP_MAX_ERROR_US = 16_000_000  # systemd's ntp_synced(): kernel maxerror below 16 s
KEEPER_TICK_S = 60.0
META_SIGNED_TIME = "clock_signed_time"
META_LOCAL_MARK = "clock_local_mark"


@overload
def iso(moment: dt.datetime) -> str: ...
@overload
def iso(moment: dt.datetime | None) -> str | None: ...
def iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).strftime(ISO_SECONDS) if moment else None


def parse_iso(text: str | None) -> dt.datetime | None:
    """A stored UTC ISO 8601 time -> aware datetime; None for missing or unreadable."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        log.warning("unreadable stored time %r ignored", text)
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class _Timex(ctypes.Structure):
    # The head of struct timex (linux/timex.h); the rest is room for the kernel to fill.
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("_rest", ctypes.c_byte * 512),
    ]


@functools.cache
def _adjtimex():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None


def kernel_ntp_synchronized() -> bool | None:
    """True when the kernel says an NTP client has disciplined the clock (what timedatectl
    calls NTPSynchronized), False when not, None when this cannot be asked (not Linux)."""
    adjtimex = _adjtimex()
    if adjtimex is None:
        return None
    timex = _Timex()  # modes = 0: read only, no privileges needed
    if adjtimex(ctypes.byref(timex)) < 0:
        return None
    return timex.maxerror < NTP_MAX_ERROR_US


# --- the marks and the rule --------------------------------------------------------------------


@dataclass(frozen=True)
class Marks:
    signed_time: dt.datetime | None
    local_mark: dt.datetime | None


def read_marks(conn: sqlite3.Connection) -> Marks:
    """Works on the kiosk's connections and on the doctor's read-only one."""
    rows = dict(
        conn.execute(
            "SELECT key, value FROM meta WHERE key IN (?, ?)", (META_SIGNED_TIME, META_LOCAL_MARK)
        ).fetchall()
    )
    return Marks(parse_iso(rows.get(META_SIGNED_TIME)), parse_iso(rows.get(META_LOCAL_MARK)))


def capped_local_mark(local: dt.datetime | None, signed: dt.datetime | None) -> dt.datetime | None:
    """Rule 2: a local mark counts at most LOCAL_MARK_MAX_LEAD_S past the signed time."""
    if local is None or signed is None:
        return local
    return min(local, signed + dt.timedelta(seconds=LOCAL_MARK_MAX_LEAD_S))


def mark_is_ahead_of_ntp(
    system: dt.datetime, local: dt.datetime | None, ntp_synchronized: Callable[[], bool | None]
) -> bool:
    """Rule 1: an NTP-synchronized clock behind the local mark proves the mark wrong."""
    if local is None or (local - system).total_seconds() <= BEHIND_TOLERANCE_S:
        return False
    return ntp_synchronized() is True


@dataclass(frozen=True)
class ClockReading:
    system: dt.datetime
    signed_time: dt.datetime | None
    local_mark: dt.datetime | None  # as it counts (capped; None when NTP proved it wrong)

    @property
    def floor(self) -> dt.datetime | None:
        """The last trusted time."""
        marks = [m for m in (self.signed_time, self.local_mark) if m is not None]
        return max(marks) if marks else None

    @property
    def trusted(self) -> dt.datetime:
        floor = self.floor
        return self.system if floor is None else max(self.system, floor)

    @property
    def behind_s(self) -> float:
        """How far the system clock is behind the trusted time (0 when it is not)."""
        return (self.trusted - self.system).total_seconds()

    @property
    def state(self) -> ClockState:
        if self.floor is None:
            return ClockState.UNKNOWN
        return ClockState.BEHIND if self.behind_s > BEHIND_TOLERANCE_S else ClockState.OK

    def to_json(self) -> dict:
        return {
            "system_time": iso(self.system),
            "trusted_time": iso(self.trusted),
            "state": self.state.value,
            "behind_s": round(self.behind_s),
            "signed_time": iso(self.signed_time),
            "local_mark": iso(self.local_mark),
        }


def reading_from(
    system: dt.datetime,
    marks: Marks,
    seen: dt.datetime | None = None,
    ntp_synchronized: Callable[[], bool | None] = kernel_ntp_synchronized,
) -> ClockReading:
    """The rule in one place. `seen`: the latest clock this process saw, not yet written."""
    local = max((m for m in (marks.local_mark, seen) if m is not None), default=None)
    local = capped_local_mark(local, marks.signed_time)
    if mark_is_ahead_of_ntp(system, local, ntp_synchronized):
        local = None
    return ClockReading(system, marks.signed_time, local)


def _set(conn: sqlite3.Connection, key: str, moment: dt.datetime) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
        "SET value = excluded.value",
        (key, iso(moment)),
    )


def record_signed_time(conn: sqlite3.Connection, issued_at: str) -> bool:
    """A verified trust list's `issued_at` raises the signed time (never lowers it). Call
    inside the transaction that stores the list. Returns whether it moved."""
    signed = parse_iso(issued_at)
    if signed is None:
        return False
    current = read_marks(conn).signed_time
    if current is not None and signed <= current:
        return False
    _set(conn, META_SIGNED_TIME, signed)
    return True


def trusted_now(
    conn: sqlite3.Connection, system_now: Callable[[], dt.datetime] = system_utc_now
) -> dt.datetime:
    """Trusted now from the store's marks alone (code that has a connection, not a Store)."""
    return reading_from(system_now(), read_marks(conn)).trusted


def trusted_now_iso(conn: sqlite3.Connection) -> str:
    """Trusted now as the store's timestamp text (e.g. when a trust list was received)."""
    return iso(trusted_now(conn))


# --- the clock a process uses ------------------------------------------------------------------


class TrustedClock:
    """One per store and process (clock_for). Thread-safe. Reading never writes; persist()
    writes the local mark when it is due."""

    def __init__(
        self,
        store,
        *,
        system_now: Callable[[], dt.datetime] = system_utc_now,
        ntp_synchronized: Callable[[], bool | None] = kernel_ntp_synchronized,
    ):
        self.store = store
        self.system_now = system_now
        self.ntp_synchronized = ntp_synchronized
        self._seen: dt.datetime | None = None
        self._lock = threading.Lock()

    def reading(self, conn: sqlite3.Connection | None = None) -> ClockReading:
        system = self.system_now()
        with self._lock:
            self._seen = system if self._seen is None else max(self._seen, system)
            if mark_is_ahead_of_ntp(system, self._seen, self.ntp_synchronized):
                self._seen = system
            seen = self._seen
        return reading_from(
            system, read_marks(conn or self.store.conn), seen, self.ntp_synchronized
        )

    def now(self) -> dt.datetime:
        return self.reading().trusted

    def today(self) -> dt.date:
        """The trusted Vietnam day: what rating validity is judged by."""
        return vietnam_day(self.now())

    def utc_today(self) -> dt.date:
        """The trusted UTC day: what stamp issue dates use."""
        return self.now().date()

    def persist(self, conn: sqlite3.Connection | None = None, *, force: bool = False) -> bool:
        """Write the local mark when the stored one is MARK_PERSIST_EVERY_S behind the clock
        (force: any amount, for a clean shutdown), or when NTP proved it wrong. Pass `conn`
        to join an open transaction. Returns whether it wrote."""
        if conn is None:
            if self._due(self.store.conn, force)[0] is None:  # no write lock if not due
                return False
            with self.store.transaction() as tx:
                return self.persist(tx, force=force)
        value, stored = self._due(conn, force)
        if value is None:
            return False
        if stored is not None and value < stored:
            log.warning(
                "clock mark %s was ahead of the NTP-synchronized clock %s: the clock "
                "had run ahead; mark reset",
                iso(stored),
                iso(value),
            )
        _set(conn, META_LOCAL_MARK, value)
        return True

    def _due(
        self, conn: sqlite3.Connection, force: bool
    ) -> tuple[dt.datetime | None, dt.datetime | None]:
        """(the local mark to write now or None, the stored one)."""
        stored = read_marks(conn).local_mark
        reading = self.reading(conn)
        if stored is not None and reading.local_mark is None:
            return reading.system, stored  # rule 1: NTP proved the mark wrong
        candidate = reading.local_mark
        if candidate is None:
            return None, stored
        if stored is not None:
            gained_s = (candidate - stored).total_seconds()
            if gained_s <= 0 or (not force and gained_s < MARK_PERSIST_EVERY_S):
                return None, stored
        return candidate, stored


_CLOCKS: weakref.WeakKeyDictionary[object, TrustedClock] = weakref.WeakKeyDictionary()
_CLOCKS_LOCK = threading.Lock()


def clock_for(store) -> TrustedClock:
    """The process's trusted clock for this store (one, so its in-memory mark is shared)."""
    with _CLOCKS_LOCK:
        clock = _CLOCKS.get(store)
        if clock is None:
            clock = _CLOCKS[store] = TrustedClock(store)
        return clock


def clock_report(store, clock: TrustedClock | None = None) -> dict:
    """For the heartbeat: {"system_time", "trusted_time", "state", "behind_s",
    "signed_time", "local_mark"} (UTC ISO 8601 with Z, or None; state a ClockState value)."""
    return (clock or clock_for(store)).reading().to_json()


def _local_text(moment: dt.datetime, lang: str) -> str:
    local = moment.astimezone(VIETNAM_TZ)
    return local.strftime("%d/%m/%Y %H:%M" if lang == "vi" else "%Y-%m-%d %H:%M")


def staff_clock_note(reading: ClockReading, lang: str) -> str:
    """What staff see about the clock: '' unless it is BEHIND."""
    if reading.state is not ClockState.BEHIND:
        return ""
    _ = translator(lang)
    return _(
        "{state}: the clock says {system}, the last trusted time is {trusted}. OCOP "
        "ratings are judged by the trusted time. Connect the network so the clock is "
        "set."
    ).format(
        state=_(reading.state.label_msgid),
        system=_local_text(reading.system, lang),
        trusted=_local_text(reading.trusted, lang),
    )


class ClockKeeper:
    """Keeps the local mark written while the kiosk runs, and once more at a clean stop.
    A thread with a stop Event, like the other long-running pieces."""

    def __init__(self, clock: TrustedClock, tick_s: float = KEEPER_TICK_S):
        self.clock = clock
        self.tick_s = tick_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ClockKeeper:
        self._thread = threading.Thread(target=self._run, name="clock-keeper", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            self._persist(force=False)
            if self._stop.wait(self.tick_s):
                return

    def _persist(self, force: bool) -> None:
        try:
            self.clock.persist(force=force)
        except Exception:  # a full disk or a locked store must not end the keeper
            log.exception("clock mark not written")

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._persist(force=True)
