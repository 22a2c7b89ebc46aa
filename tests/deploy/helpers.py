"""Shared helpers for the deployment tests."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO_ROOT, run_cli, unused_local_port

SYSTEMD_DIR = REPO_ROOT / "systemd"
INSTALLER = REPO_ROOT / "scripts" / "install-pi.sh"
INSTALLED_BIN = "/opt/ocop-kiosk/.venv/bin/"


def run_kiosk_cli(*args: str, env: dict | None = None, timeout_s: float = 120):
    return run_cli(*args, env=env, timeout_s=timeout_s)


closed_port = unused_local_port


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
