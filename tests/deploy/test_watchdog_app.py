"""systemd's watchdog protocol against the real kiosk app, over many periods.

The app runs headless (SDL offscreen) as a separate process with NOTIFY_SOCKET pointing at a
socket this test owns, exactly as systemd runs it. A test that checks that one ping
arrived passed while the pings stopped after the first one; these tests check that they
keep arriving for several WatchdogSec periods, and that they stop when the UI loop, the
decoder or the camera driver hangs.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time

import pytest

from bench.soak import NotifyListener
from tests.conftest import REPO_ROOT
from tests.deploy.watchdog_driver import STUCK_AFTER_S

WATCHDOG_USEC = 2_000_000  # WatchdogSec=2s: the app pings every 1 s
PERIOD_S = WATCHDOG_USEC / 1e6


def wait_for(listener: NotifyListener, key: str, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = listener.times(key)
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no {key}=1 within {timeout_s} s; got {listener.events}")


def _start(cmd: list[str], tmp_path, listener: NotifyListener) -> subprocess.Popen:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "WATCHDOG_PID")
    }
    env.update(
        NOTIFY_SOCKET=str(listener.path),
        WATCHDOG_USEC=str(WATCHDOG_USEC),
        SDL_VIDEODRIVER="offscreen",
        KIVY_NO_CONSOLELOG="1",
        KIVY_NO_FILELOG="1",
        KIVY_USE_DEFAULTCONFIG="1",
        OCOP_KIOSK_CONFIG=str(tmp_path / "none.toml"),
        PYTHONPATH=str(REPO_ROOT),
    )
    # slides every second: the rotation is seen within the run
    (tmp_path / "none.toml").write_text("[ui]\nattract_cycle_s = 1.0\n", encoding="utf-8")
    return subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    out, _ = proc.communicate()
    return out


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


@pytest.fixture
def listener(tmp_path):
    sock = NotifyListener(tmp_path / "notify.sock")
    sock.start()
    yield sock
    sock.close()


@pytest.mark.slow
def test_the_shipped_command_untouched_after_boot_keeps_pinging_and_rotating(tmp_path, listener):
    """`ocop-kiosk run` as the unit starts it, nobody touching it: READY once, then
    WATCHDOG=1 at half the period for 6 periods, never a gap systemd would kill for,
    STOPPING at the end; and the attract slides rotate from boot on."""
    proc = _start(
        [
            sys.executable,
            "-m",
            "kiosk",
            "--verbose",
            "--data-dir",
            str(tmp_path / "data"),
            "run",
            "--windowed",
        ],
        tmp_path,
        listener,
    )
    try:
        ready_at = wait_for(listener, "READY", 90)
        time.sleep(6 * PERIOD_S)
        assert proc.poll() is None, "the kiosk exited"
    finally:
        out = _stop(proc)
    pings = [t for t in listener.times("WATCHDOG") if t >= ready_at]
    window = [t for t in pings if t <= ready_at + 6 * PERIOD_S]
    assert len(window) >= 10, (len(window), out[-2000:])  # ~12 expected: 1 per 1 s
    assert max(_gaps(pings)) < PERIOD_S, _gaps(pings)
    assert len(listener.times("READY")) == 1
    assert listener.times("STOPPING"), out[-2000:]
    slides = [line for line in out.splitlines() if "attract slide" in line]
    assert len(slides) >= 6, out[-3000:]  # ~12 s at one slide a second
    assert len({line.rsplit("product", 1)[1] for line in slides}) >= 3  # different products


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault, reason",
    [
        ("freeze-ui", None),  # a frozen UI loop cannot even say why
        ("hang-decoder", "decode: thread decode-worker stuck"),
        ("hang-camera", "camera: thread camera-capture stuck"),
    ],
)
def test_pings_stop_when_a_part_of_the_app_hangs(tmp_path, listener, fault, reason):
    fault_at_s = 4 * PERIOD_S
    proc = _start(
        [
            sys.executable,
            "-m",
            "tests.deploy.watchdog_driver",
            str(tmp_path / "data"),
            fault,
            str(fault_at_s),
            "60",
        ],
        tmp_path,
        listener,
    )
    try:
        ready_at = wait_for(listener, "READY", 90)
        injected_at = ready_at + fault_at_s
        # healthy until the fault: pings over several periods
        time.sleep(fault_at_s + 4 * PERIOD_S + 2.0)
        assert proc.poll() is None, "the kiosk exited"
    finally:
        out = _stop(proc)
    pings = listener.times("WATCHDOG")
    before = [t for t in pings if ready_at <= t < injected_at - 0.5]
    assert len(before) >= 5, (pings, out[-2000:])
    assert max(_gaps(before)) < PERIOD_S
    # A hung worker is noticed after STUCK_AFTER_S stuck; one ping may still be on its way.
    late = [t for t in pings if t > injected_at + STUCK_AFTER_S + PERIOD_S]
    assert late == [], (fault, [round(t - injected_at, 2) for t in pings], out[-2000:])
    if reason is not None:
        status = [
            f["STATUS"] for _t, f in listener.events if f.get("STATUS", "").startswith("unhealthy")
        ]
        assert status and reason in status[0], listener.events
