"""Shared helpers for the deployment tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

SYSTEMD_DIR = REPO_ROOT / "systemd"
INSTALLER = REPO_ROOT / "scripts" / "install-pi.sh"
INSTALLED_BIN = "/opt/ocop-kiosk/.venv/bin/"

# Until kiosk.cli.main lists the doctor module, run the CLI with it added.
_CLI_SHIM = """
import sys
from kiosk.cli import main as m
if "kiosk.cli.doctor_cmd" not in m.COMMAND_MODULES:
    m.COMMAND_MODULES = tuple(m.COMMAND_MODULES) + ("kiosk.cli.doctor_cmd",)
sys.exit(m.main(sys.argv[1:]))
"""


def run_kiosk_cli(*args: str, env: dict | None = None, timeout_s: float = 120):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-c", _CLI_SHIM, *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout_s, cwd=REPO_ROOT)


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on (bound then released)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
