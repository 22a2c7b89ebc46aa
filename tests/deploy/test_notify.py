"""sd_notify and the watchdog helper against a NOTIFY_SOCKET the test owns."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from kiosk import systemd_notify as sdn
from kiosk.watchdog import Watchdog
from tests.conftest import REPO_ROOT


@pytest.fixture
def notify_socket(tmp_path):
    """(environment, receive) for a filesystem AF_UNIX datagram socket."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    yield {"NOTIFY_SOCKET": str(path)}, _receiver(sock)
    sock.close()


@pytest.fixture
def abstract_socket():
    name = f"ocop-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2.0)
    yield {"NOTIFY_SOCKET": "@" + name}, _receiver(sock)
    sock.close()


def _receiver(sock):
    def receive(timeout_s: float = 2.0) -> str | None:
        sock.settimeout(timeout_s)
        try:
            return sock.recv(4096).decode()
        except TimeoutError:
            return None

    return receive


def test_ready_and_status_reach_a_path_socket(notify_socket):
    env, receive = notify_socket
    assert sdn.notify_ready("attract screen", environ=env)
    assert receive() == "READY=1\nSTATUS=attract screen\n"
    assert sdn.notify_watchdog(environ=env)
    assert receive() == "WATCHDOG=1\n"
    assert sdn.notify_status("camera:\nno device", environ=env)
    assert receive() == "STATUS=camera: no device\n"
    assert sdn.notify_stopping(environ=env)
    assert receive() == "STOPPING=1\n"


def test_abstract_socket(abstract_socket):
    env, receive = abstract_socket
    assert sdn.socket_address(env).startswith(b"\0")
    assert sdn.notify_ready(environ=env)
    assert receive() == "READY=1\n"
    assert sdn.notify_watchdog(environ=env)
    assert receive() == "WATCHDOG=1\n"


def test_outside_systemd_everything_is_a_quiet_no_op(tmp_path):
    assert not sdn.notify_ready(environ={})
    assert not sdn.notify_watchdog(environ={"NOTIFY_SOCKET": ""})
    assert not sdn.notify_watchdog(environ={"NOTIFY_SOCKET": "relative/path"})
    # A socket that went away: False, no exception.
    assert not sdn.notify_watchdog(environ={"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    wd = Watchdog(environ={})
    assert not wd.enabled and not wd.heartbeat() and not wd.ready()


def test_watchdog_timeout_is_for_the_main_pid_only():
    assert sdn.watchdog_timeout_s({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert (
        sdn.watchdog_timeout_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())})
        == 30.0
    )
    assert sdn.watchdog_timeout_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert sdn.watchdog_timeout_s({"WATCHDOG_USEC": "junk"}) is None
    assert sdn.watchdog_timeout_s({}) is None


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def _drain(receive) -> list[str]:
    got = []
    while (msg := receive(0.05)) is not None:
        got.append(msg)
    return got


def test_watchdog_pings_at_half_the_timeout_while_healthy(notify_socket):
    env, receive = notify_socket
    env = {**env, "WATCHDOG_USEC": "10000000"}  # WatchdogSec=10s
    clock = FakeClock()
    wd = Watchdog(environ=env, clock=clock)
    assert wd.enabled and wd.interval_s == 5.0 and wd.tick_s == 1.0
    assert wd.ready("attract screen")
    assert _drain(receive) == ["READY=1\nSTATUS=attract screen\n", "WATCHDOG=1\n"]
    sent = []
    for _ in range(20):  # 20 s of 1 s UI ticks
        clock.t += 1.0
        sent.append(wd.heartbeat())
    assert sent.count(True) == 4  # every 5 s
    assert _drain(receive) == ["WATCHDOG=1\n"] * 4
    assert not wd.ready()  # READY only once


def test_watchdog_jittery_ticks_do_not_stretch_the_gap(notify_socket):
    """Kivy's Clock calls heartbeat() every tick_s with jitter. A ping due at exactly
    interval_s missed it by a hair and waited one more tick: gaps of 1.5x the interval
    (seen in CI: 9 pings in 12 s instead of 12)."""
    env, receive = notify_socket
    env = {**env, "WATCHDOG_USEC": "2000000"}  # ping every 1 s, tick 0.5 s
    clock = FakeClock()
    wd = Watchdog(environ=env, clock=clock)
    assert wd.ready()
    _drain(receive)  # READY=1 and the first ping
    ping_times = [clock.t]
    for i in range(40):  # 20 s, ticks up to 20 ms off
        clock.t += wd.tick_s + (i % 3 - 1) * 0.02
        if wd.heartbeat():
            ping_times.append(clock.t)
            assert _drain(receive) == ["WATCHDOG=1\n"]  # read as systemd does
    gaps = [b - a for a, b in itertools.pairwise(ping_times)]
    assert max(gaps) < 1.1 * wd.interval_s, gaps
    assert len(ping_times) >= 19


def test_watchdog_stops_pinging_when_a_worker_is_unhealthy(notify_socket):
    env, receive = notify_socket
    env = {**env, "WATCHDOG_USEC": "2000000"}  # ping every 1 s
    clock = FakeClock()
    wd = Watchdog(environ=env, clock=clock)
    camera_alive = {"value": True}
    wd.add_check("camera", lambda: camera_alive["value"] or "capture thread stopped")
    wd.expect_beats("decode", max_age_s=5.0)
    assert wd.heartbeat()
    assert _drain(receive) == ["WATCHDOG=1\n"]

    camera_alive["value"] = False
    clock.t += 1.0
    assert not wd.heartbeat()
    assert _drain(receive) == ["STATUS=unhealthy: camera: capture thread stopped\n"]
    clock.t += 1.0
    assert not wd.heartbeat()
    assert _drain(receive) == []  # no ping, status not repeated

    camera_alive["value"] = True  # recovered: pings again
    clock.t += 1.0
    wd.beat("decode")
    assert wd.heartbeat()
    assert _drain(receive) == ["STATUS=running\n", "WATCHDOG=1\n"]

    clock.t += 6.0  # decode worker stuck
    assert not wd.heartbeat()
    assert "decode: no progress" in _drain(receive)[0]
    wd.beat("decode")
    assert wd.heartbeat()

    wd.add_check("broken", lambda: 1 / 0)  # a raising check is a failed one
    clock.t += 1.0
    assert not wd.heartbeat()
    assert "broken: check raised ZeroDivisionError" in "".join(_drain(receive))


def test_watch_thread(notify_socket):
    import threading

    env, receive = notify_socket
    env = {**env, "WATCHDOG_USEC": "2000000"}
    clock = FakeClock()
    wd = Watchdog(environ=env, clock=clock)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, name="print-worker")
    worker.start()
    wd.watch_thread("printer", worker)
    assert wd.heartbeat()
    stop.set()
    worker.join()
    clock.t += 1.0
    assert not wd.heartbeat()
    assert "thread print-worker died" in "".join(_drain(receive))


CHILD = textwrap.dedent("""
    import time
    from kiosk.watchdog import Watchdog
    wd = Watchdog()
    wd.ready("first screen")
    end = time.monotonic() + 1.0
    while time.monotonic() < end:          # a healthy main loop
        wd.heartbeat()
        time.sleep(wd.tick_s / 5)
    wd.status("hanging")
    time.sleep(1.0)                         # the loop hangs: no heartbeat() calls
    wd.stopping()
""")


def test_a_real_process_pings_until_its_loop_hangs(notify_socket):
    """What systemd sees from a kiosk process: READY, regular pings, then silence."""
    env, receive = notify_socket
    child_env = {
        **os.environ,
        **env,
        "WATCHDOG_USEC": "200000",
        "WATCHDOG_PID": "",
    }  # 0.2 s: ping every 0.1 s
    proc = subprocess.Popen([sys.executable, "-c", CHILD], env=child_env, cwd=REPO_ROOT)
    messages = []
    try:
        while (msg := receive(5.0)) is not None:
            messages.append((time.monotonic(), msg))
            if msg == "STOPPING=1\n":
                break
    finally:
        assert proc.wait(timeout=30) == 0
    texts = [m for _, m in messages]
    assert texts[0] == "READY=1\nSTATUS=first screen\n"
    hang = texts.index("STATUS=hanging\n")
    pings = [t for t, m in messages[:hang] if m == "WATCHDOG=1\n"]
    assert len(pings) >= 5
    assert max(b - a for a, b in itertools.pairwise(pings)) < 0.2 + 0.15  # within WatchdogSec
    assert "WATCHDOG=1\n" not in texts[hang:]  # the hang stops the pings
    assert texts[-1] == "STOPPING=1\n"


def test_a_manager_that_does_not_read_never_blocks_the_sender(notify_socket):
    """The kernel queues 10 datagrams per socket by default (net.unix.max_dgram_qlen); a
    blocking send past that froze the caller (the UI thread) until pytest's timeout."""
    env, receive = notify_socket
    sent = [sdn.notify("WATCHDOG=1", environ=env) for _ in range(200)]
    assert sent[0] and not sent[-1]  # later pings are dropped, not waited for
    assert _drain(receive)[:1] == ["WATCHDOG=1\n"]
    assert sdn.notify("WATCHDOG=1", environ=env)  # once read, pings go through again
