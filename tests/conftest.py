"""Test-wide set-up. Kivy reads its environment at import, so it is set here first."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

# A real Kivy window, rendered offscreen by SDL (EGL + Mesa); no user config, no argv parsing.
_KIVY_HOME = tempfile.mkdtemp(prefix="ocop-kivy-home-")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_HOME", _KIVY_HOME)
for _name in ("KIVY_NO_CONSOLELOG", "KIVY_NO_FILELOG", "KIVY_USE_DEFAULTCONFIG", "KIVY_NO_ARGS"):
    os.environ.setdefault(_name, "1")
# python-escpos writes a capabilities cache at import: keep it out of the system temp dir.
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", tempfile.mkdtemp(prefix="ocop-escpos-"))
# Never read the machine's real config or data dir in tests.
for _name in (
    "OCOP_KIOSK_CONFIG",
    "OCOP_KIOSK_DATA",
    "OCOP_KIOSK_REGISTRY_URL",
    "OCOP_KIOSK_REGISTRY_TOKEN",
    "OCOP_KIOSK_ROOT_KEY",
):
    os.environ.pop(_name, None)

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = REPO_ROOT / "tests" / "data"
# A fixed "today" for catalog tests: ratings recognised in 2023-06 are expired, 2024 valid.
TODAY = dt.date(2026, 11, 29)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def store(data_dir: Path):
    from kiosk.store import Store

    s = Store.in_dir(data_dir)
    yield s
    s.close()


def copy_data_dir(template: Path, dest: Path) -> Path:
    """A data folder of its own: the files (media, keys, with their modes) copied, the
    database through SQLite's backup API, so the copy is one consistent state even if the
    template had a -wal file (a raw copy of the main file alone could miss commits)."""
    import shutil
    import sqlite3

    from kiosk.store import DB_FILENAME

    shutil.copytree(
        template,
        dest,
        dirs_exist_ok=True,
        ignore=lambda _, names: [n for n in names if n.startswith(DB_FILENAME)],
    )
    db = template / DB_FILENAME
    if db.exists():
        src, dst = sqlite3.connect(db), sqlite3.connect(dest / DB_FILENAME)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
    return dest


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo data folder, set up once per session (the set-up takes seconds); tests get
    copies (demo_store), never this folder itself."""
    from kiosk.demo.setup import set_up_demo
    from kiosk.store import Store

    path = tmp_path_factory.mktemp("demo-template") / "data"
    path.mkdir()
    s = Store.in_dir(path)
    try:
        set_up_demo(s, path)
    finally:
        s.close()
    return path


@pytest.fixture(scope="session")
def demo_init_template(tmp_path_factory) -> Path:
    """A data folder made by the real `ocop-kiosk init --demo`, once per session, for tests
    whose subject comes after it: they start from a copy (copy_data_dir)."""
    path = tmp_path_factory.mktemp("demo-init-template") / "data"
    made = run_cli("--data-dir", str(path), "init", "--demo")
    assert made.returncode == 0, made.stderr
    return path


@pytest.fixture
def demo_store(demo_template: Path, data_dir: Path):
    """A store holding the demo catalog and demo keys, in this test's own data_dir (a copy
    of demo_template: what one test changes, no other test sees)."""
    from kiosk.store import Store

    copy_data_dir(demo_template, data_dir)
    s = Store.in_dir(data_dir)
    yield s
    s.close()


def run_cli(
    *args: str, env: dict | None = None, input_text: str | None = None, timeout_s: float = 120
):
    """Run `python -m kiosk ARGS` in a subprocess (a real process: exit codes, stderr)."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=input_text,
        timeout=timeout_s,
        cwd=REPO_ROOT,
    )


# --- a real fake ESC/POS printer process on 127.0.0.1 ----------------------------------------


@pytest.fixture(scope="session")
def fake_printer_process(tmp_path_factory):
    from printer.fake_server import FakePrinterProcess

    store = tmp_path_factory.mktemp("fake-printer")
    with FakePrinterProcess(store_dir=store) as fake:
        yield fake


@pytest.fixture
def fake_printer(fake_printer_process):
    """The fake printer with no faults and no received data at the start of each test."""
    fake_printer_process.control.reset()
    fake_printer_process.control.clear()
    yield fake_printer_process
    fake_printer_process.control.reset()


def unused_local_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    return unused_local_port()
