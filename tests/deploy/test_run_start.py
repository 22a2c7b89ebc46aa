"""`ocop-kiosk run` as a newcomer starts it: a real process on a fresh data folder, with and
without a display. It must say when nothing will be shown (SDL would render offscreen
without a word) and write its log file from the first start on."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kiosk.display import DRI_DIR_ENV, missing_display_reason
from kiosk.logs import LOG_FILENAME
from tests.conftest import REPO_ROOT

NO_DISPLAY_LINE = "no display found"
# A bound for a loaded CI machine (a first start builds the demo data), not a speed claim.
START_DEADLINE_S = 90.0
# Written by Kivy once the window exists and the app loop runs: past the display check.
APP_LOOP_MARK = "Base: Start application main loop"
HEADLESS_ENV = ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")


def _ctrl_c_as_in_a_terminal() -> None:
    """The kiosk gets Ctrl+C as from a terminal, however this suite was started: a shell
    without job control starts background commands with SIGINT ignored, and an ignored
    signal stays ignored across exec (a CI run started with `... &` made Ctrl+C do nothing)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class RunningKiosk:
    """`python -m kiosk --data-dir DIR run` with its stderr read line by line."""

    def __init__(self, data_dir: Path, env: dict):
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--data-dir", str(data_dir), "run"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for_stderr(self, needle: str, deadline_s: float) -> bool:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.stderr.append(line)
            if needle in line:
                return True
        return False

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / LOG_FILENAME

    def wait_for_log(self, needle: str, deadline_s: float) -> bool:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end and self.proc.poll() is None:
            if self.log_file.exists() and needle in self.log_file.read_text(errors="replace"):
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> str:
        """Ctrl+C, as a person in the terminal would; all of stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.2)  # the reader thread drains the pipe
        while not self.lines.empty():
            self.stderr.append(self.lines.get())
        return "".join(self.stderr)


@pytest.fixture
def run_kiosk(tmp_path):
    started = []
    no_card = tmp_path / "no-dri"
    no_card.mkdir()

    def start(**extra_env: str) -> RunningKiosk:
        env = {k: v for k, v in os.environ.items() if k not in HEADLESS_ENV}
        # No display here, whatever this machine has: no session, no DRM card.
        env.update({DRI_DIR_ENV: str(no_card), "PYTHONPATH": str(REPO_ROOT), **extra_env})
        kiosk = RunningKiosk(tmp_path / "fresh-data", env)
        started.append(kiosk)
        return kiosk

    yield start
    for kiosk in started:
        kiosk.stop()


def test_without_a_display_run_says_so_and_logs_from_the_first_start(run_kiosk):
    kiosk = run_kiosk()
    assert not kiosk.data_dir.exists()
    found = kiosk.wait_for_stderr(NO_DISPLAY_LINE, START_DEADLINE_S)
    assert found, "".join(kiosk.stderr)
    line = kiosk.stderr[-1]
    assert "nothing will be shown" in line and "ocop-kiosk screenshot" in line
    assert "no DISPLAY/WAYLAND_DISPLAY" in line
    # The first start created the data folder, and its log file says the same.
    assert kiosk.wait_for_log(NO_DISPLAY_LINE, START_DEADLINE_S), kiosk.log_file
    log_text = kiosk.log_file.read_text()
    assert "starting: data " + str(kiosk.data_dir) in log_text
    # It goes on headless (tests and benches run that way on purpose) until stopped.
    assert kiosk.proc.poll() is None
    kiosk.stop()
    assert kiosk.proc.returncode == 130


@pytest.mark.parametrize("display_var", ["DISPLAY", "WAYLAND_DISPLAY"])
def test_with_a_display_variable_run_says_nothing(run_kiosk, display_var):
    kiosk = run_kiosk(**{display_var: ":97" if display_var == "DISPLAY" else "wayland-97"})
    # No display server answers there, so SDL still ends up offscreen: the app loop starts.
    assert kiosk.wait_for_log(APP_LOOP_MARK, START_DEADLINE_S), kiosk.stop()
    stderr = kiosk.stop()
    assert NO_DISPLAY_LINE not in stderr
    assert NO_DISPLAY_LINE not in kiosk.log_file.read_text()


# --- the detection itself (kiosk.display), for the cases a process test cannot stage -------


def test_reasons(tmp_path):
    no_card = {DRI_DIR_ENV: str(tmp_path)}
    assert missing_display_reason(no_card) == (f"no DISPLAY/WAYLAND_DISPLAY, no {tmp_path}/card*")
    assert missing_display_reason({**no_card, DRI_DIR_ENV: str(tmp_path / "absent")})
    assert missing_display_reason({**no_card, "DISPLAY": ""})  # empty is not a display
    assert missing_display_reason({**no_card, "DISPLAY": ":0"}) is None
    assert missing_display_reason({**no_card, "WAYLAND_DISPLAY": "wayland-0"}) is None
    # A driver chosen on purpose (the unit's kmsdrm, the tests' offscreen): not our call.
    assert missing_display_reason({**no_card, "SDL_VIDEODRIVER": "kmsdrm"}) is None
    (tmp_path / "renderD128").touch()  # a render node alone shows nothing
    assert missing_display_reason(no_card)
    (tmp_path / "card0").touch()  # the Pi's console: KMS/DRM
    assert missing_display_reason(no_card) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root may open any device")
def test_card_this_user_cannot_open(tmp_path):
    card = tmp_path / "card0"
    card.touch()
    card.chmod(0o000)
    reason = missing_display_reason({DRI_DIR_ENV: str(tmp_path)})
    assert reason and "'video'" in reason and str(card) in reason
