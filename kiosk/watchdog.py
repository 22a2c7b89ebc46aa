"""Liveness for systemd's watchdog: ping only while the app is really working.

`ocop-kiosk.service` has `WatchdogSec=`: if no WATCHDOG=1 arrives within that time, systemd
kills the kiosk (SIGABRT) and `Restart=always` starts it again. So the ping must come from
the UI's main loop (a frozen loop then stops the pings by itself) and only while the worker
threads are alive too (a dead camera or print thread behind a live screen is also a hang).

Use from the Kivy app (the only place that knows when the first screen is up)::

    from kiosk.watchdog import Watchdog

    self.watchdog = Watchdog()
    self.watchdog.watch_worker("camera", capture, capture.in_driver, stuck_after_s=15)
    self.watchdog.watch_thread("print worker", print_worker)          # must stay alive
    every(self.watchdog.tick_s, self.watchdog.heartbeat)   # kiosk.ui.ticks: never unscheduled
    Clock.schedule_once(lambda dt: self.watchdog.ready("attract screen"), 0)  # after 1st frame
    # in App.on_stop:                             watchdog.stopping()

Outside systemd (no NOTIFY_SOCKET / WATCHDOG_USEC) everything is a cheap no-op, so the same
code runs on a desktop and in tests. `health()` works everywhere (doctor, staff screen).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import typing
from collections.abc import Callable

from kiosk import systemd_notify

log = logging.getLogger(__name__)

MAX_TICK_S = 1.0  # how often the UI should call heartbeat() at most apart
Check = Callable[[], object]  # returns True/None = healthy; False or a reason string = not


class Watchdog:
    """Sends WATCHDOG=1 at half the unit's WatchdogSec, only while every check passes."""

    def __init__(
        self,
        *,
        environ: typing.Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval_s: float | None = None,
    ):
        self._environ = os.environ if environ is None else environ
        self._clock = clock
        self.timeout_s = systemd_notify.watchdog_timeout_s(self._environ)
        if interval_s is None and self.timeout_s is not None:
            interval_s = self.timeout_s / 2
        self.interval_s = interval_s
        self._checks: dict[str, Check] = {}
        self._beats: dict[str, list[float]] = {}  # name -> [max_age_s, last beat time]
        self._lock = threading.Lock()
        self._last_ping: float | None = None
        self._ready_sent = False
        self.unhealthy_reason: str | None = None
        self.pings_sent = 0

    # -- configuration ------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        """True when systemd expects pings from this process."""
        return self.interval_s is not None and systemd_notify.under_systemd(self._environ)

    @property
    def tick_s(self) -> float:
        """How often to call heartbeat(): often enough to ping on time."""
        if self.interval_s is None:
            return MAX_TICK_S
        return max(0.05, min(MAX_TICK_S, self.interval_s / 2))

    def add_check(self, name: str, check: Check) -> None:
        """A cheap, non-blocking health test run before each ping (on the UI thread)."""
        with self._lock:
            self._checks[name] = check

    def remove_check(self, name: str) -> None:
        with self._lock:
            self._checks.pop(name, None)
            self._beats.pop(name, None)

    def watch_thread(self, name: str, thread: threading.Thread) -> None:
        """Unhealthy once `thread` has died (it must run for the app's whole life)."""
        self.add_check(name, lambda: thread.is_alive() or f"thread {thread.name} died")

    def watch_worker(
        self, name: str, thread: threading.Thread, in_call, stuck_after_s: float
    ) -> None:
        """Unhealthy once `thread` died, or while it has been inside one call (a driver
        read, a decode) for longer than stuck_after_s. `in_call` has `stuck_for_s()`
        (scanner.liveness.CallTimer); a thread that waits for work between calls is fine."""

        def check() -> object:
            if not thread.is_alive():
                return f"thread {thread.name} died"
            stuck_s = in_call.stuck_for_s()
            if stuck_s > stuck_after_s:
                return f"thread {thread.name} stuck in one call for {stuck_s:.0f} s"
            return True

        self.add_check(name, check)

    def expect_beats(self, name: str, max_age_s: float) -> None:
        """Unhealthy when `beat(name)` was not called for `max_age_s` (a stuck worker loop).
        The clock starts now, so a worker gets max_age_s to report the first time."""
        with self._lock:
            self._beats[name] = [float(max_age_s), self._clock()]

    def beat(self, name: str) -> None:
        """A worker's loop made progress. Thread-safe, O(1)."""
        with self._lock:
            entry = self._beats.get(name)
            if entry is not None:
                entry[1] = self._clock()

    # -- health -------------------------------------------------------------------------
    def health(self) -> tuple[bool, str]:
        """(healthy, reason). Runs every check; a check that raises counts as failed."""
        with self._lock:
            checks = list(self._checks.items())
            beats = [(name, entry[0], entry[1]) for name, entry in self._beats.items()]
        now = self._clock()
        problems = []
        for name, max_age_s, last in beats:
            if now - last > max_age_s:
                problems.append(f"{name}: no progress for {now - last:.0f} s")
        for name, check in checks:
            try:
                result = check()
            except Exception as exc:  # noqa: BLE001 - a broken check is a failed check, not a crash
                problems.append(f"{name}: check raised {type(exc).__name__}: {exc}")
                continue
            if result is None or result is True:
                continue
            problems.append(f"{name}: {result if isinstance(result, str) else 'unhealthy'}")
        return (not problems, "; ".join(problems))

    # -- talking to systemd -------------------------------------------------------------
    def heartbeat(self) -> bool:
        """Call from the main loop (e.g. Kivy Clock every tick_s). Sends WATCHDOG=1 when a
        ping is due and every check passes. Returns True when a ping was sent."""
        interval_s = self.interval_s
        if interval_s is None or not self.enabled:
            return False
        now = self._clock()
        # Due half a tick early: the Clock calls us every tick_s with jitter, and a ping
        # that just misses `interval_s` would otherwise wait a whole extra tick (1.5x).
        due_after_s = interval_s - self.tick_s / 2
        if self._last_ping is not None and now - self._last_ping < due_after_s:
            return False
        healthy, reason = self.health()
        if not healthy:
            if reason != self.unhealthy_reason:
                log.warning("watchdog: not pinging systemd, unhealthy: %s", reason)
                systemd_notify.notify_status(f"unhealthy: {reason}", environ=self._environ)
            self.unhealthy_reason = reason
            return False
        if self.unhealthy_reason is not None:
            log.warning("watchdog: healthy again")
            systemd_notify.notify_status("running", environ=self._environ)
            self.unhealthy_reason = None
        if systemd_notify.notify_watchdog(environ=self._environ):
            self._last_ping = now
            self.pings_sent += 1
            return True
        return False

    def ready(self, status: str | None = "running") -> bool:
        """READY=1 once, when the first screen is on the display. Also the first ping."""
        if self._ready_sent:
            return False
        sent = systemd_notify.notify_ready(status, environ=self._environ)
        self._ready_sent = sent or self._ready_sent
        if sent and self.enabled:
            self._last_ping = None  # ping at the next heartbeat
            self.heartbeat()
        return sent

    def status(self, text: str) -> bool:
        return systemd_notify.notify_status(text, environ=self._environ)

    def stopping(self) -> bool:
        return systemd_notify.notify_stopping(environ=self._environ)


__all__ = ["Check", "Watchdog"]
