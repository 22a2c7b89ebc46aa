"""Background sync: a thread that runs SyncEngine.sync_once every sync_interval_s, and after
a failure retries with capped exponential backoff and jitter. Sleeps on a threading.Event,
so stop() returns at once (at most the current HTTP request's timeout)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import threading
from collections.abc import Callable

from kiosk.sync.engine import SyncEngine, SyncReport
from kiosk.sync.status import SyncState, SyncStatus, read_sync_status

log = logging.getLogger(__name__)

FIRST_RETRY_DELAY_S = 5.0
MAX_RETRY_DELAY_S = 600.0


def backoff_delay_s(
    failures: int,
    *,
    first_s: float = FIRST_RETRY_DELAY_S,
    cap_s: float = MAX_RETRY_DELAY_S,
    rand: Callable[[], float] = random.random,
) -> float:
    """Delay before retry number `failures` (1, 2, ...): first_s * 2**(failures-1), capped,
    then 'equal jitter': uniformly in [d/2, d], so a province of kiosks coming back online
    after an outage does not hit the registry in lockstep."""
    if failures < 1:
        return 0.0
    delay = min(cap_s, first_s * 2 ** min(failures - 1, 30))
    return delay / 2 + rand() * delay / 2


class SyncLoop:
    """Owns one SyncEngine on its own thread. The UI reads `status` (a frozen SyncStatus) or
    subscribes with `on_status` (called on the sync thread: hop to the UI thread yourself,
    e.g. with Clock.schedule_once)."""

    def __init__(
        self,
        engine: SyncEngine,
        interval_s: float | None = None,
        *,
        first_retry_s: float = FIRST_RETRY_DELAY_S,
        max_retry_s: float = MAX_RETRY_DELAY_S,
        on_status: Callable[[SyncStatus], None] | None = None,
        rand: Callable[[], float] = random.random,
    ):
        self.engine = engine
        self.interval_s = float(
            interval_s if interval_s is not None else engine.settings.registry.sync_interval_s
        )
        self.first_retry_s = first_retry_s
        self.max_retry_s = max_retry_s
        self.on_status = on_status
        self._rand = rand
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._status = read_sync_status(engine.store)
        self.failures = 0
        self.last_report: SyncReport | None = None

    @property
    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ocop-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def trigger(self) -> None:
        """Sync now (e.g. staff pressed 'sync', or a print job needs a block)."""
        self._wake.set()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> SyncReport:
        report, status = self.engine.sync_once(self.status)
        self.last_report = report
        self.failures = 0 if report.ok else self.failures + 1
        self._publish(status)
        return report

    def next_delay_s(self) -> float:
        if self.failures == 0:
            return self.interval_s
        return backoff_delay_s(
            self.failures,
            first_s=self.first_retry_s,
            cap_s=max(self.max_retry_s, self.first_retry_s),
            rand=self._rand,
        )

    def _publish(self, status: SyncStatus) -> None:
        with self._lock:
            self._status = status
        if self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:
                log.exception("sync status listener failed")

    def _run(self) -> None:
        log.info("sync loop started (every %.0f s)", self.interval_s)
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bug must not kill the loop: log it, back off, go on
                log.exception("sync round crashed")
                self.failures += 1
                self._publish(
                    dataclasses.replace(
                        self.status, state=SyncState.ERROR, last_error="internal error (see log)"
                    )
                )
            delay = self.next_delay_s()
            next_at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            with self._lock:
                self._status = dataclasses.replace(self._status, next_attempt_at=next_at)
            self._wake.clear()
            self._wake.wait(delay)
        log.info("sync loop stopped")
