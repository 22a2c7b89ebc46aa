"""The background sync loop: backoff, status for the UI, stopping at once."""

from __future__ import annotations

import threading
import time

from hypothesis import given
from hypothesis import strategies as st

from kiosk.sync import SyncLoop, SyncState, backoff_delay_s, read_sync_status


@given(failures=st.integers(min_value=1, max_value=1000), r=st.floats(min_value=0.0, max_value=1.0))
def test_backoff_is_capped_and_jittered(failures, r):
    delay = backoff_delay_s(failures, first_s=5.0, cap_s=600.0, rand=lambda: r)
    full = min(600.0, 5.0 * 2 ** min(failures - 1, 30))
    assert full / 2 <= delay <= full <= 600.0


def test_backoff_grows():
    delays = [backoff_delay_s(n, first_s=1, cap_s=100, rand=lambda: 1.0) for n in range(1, 10)]
    assert delays == [1, 2, 4, 8, 16, 32, 64, 100, 100]


def test_loop_syncs_reports_status_and_stops_at_once(registry, make_kiosk):
    kiosk = make_kiosk(registry, sync_interval_s=3600.0)
    seen = []
    done = threading.Event()

    def on_status(status):
        seen.append(status.state)
        if status.state is SyncState.IDLE:
            done.set()

    loop = SyncLoop(kiosk.engine, on_status=on_status)
    loop.start()
    try:
        assert done.wait(30), seen
        assert loop.status.state is SyncState.IDLE and loop.status.last_success_at
        assert kiosk.product_count() >= 27
        # Wake it for a second round (e.g. staff pressed "sync now").
        done.clear()
        loop.trigger()
        assert done.wait(30)
    finally:
        started = time.monotonic()
        loop.stop(timeout_s=10)
        assert time.monotonic() - started < 2.0  # the hour-long sleep is cut short
    assert not loop.is_alive()
    assert read_sync_status(kiosk.store).state is SyncState.IDLE


def test_loop_backs_off_while_offline(registry, faults, make_kiosk):
    kiosk = make_kiosk(registry, url=faults.url, sync_interval_s=3600.0)
    faults.mode = "500"
    loop = SyncLoop(kiosk.engine, first_retry_s=0.05, max_retry_s=0.2, rand=lambda: 1.0)
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while loop.failures < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert loop.failures >= 3
        assert loop.status.state is SyncState.OFFLINE and loop.status.offline_since
        assert "500" in loop.status.last_error
        faults.mode = "proxy"  # the link comes back
        while loop.failures and time.monotonic() < deadline:
            time.sleep(0.02)
        assert loop.status.state is SyncState.IDLE and loop.status.offline_since is None
    finally:
        loop.stop(timeout_s=10)
