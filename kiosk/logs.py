"""Logging set-up: a size-capped rotating file in the data folder (SD cards wear out)."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

LOG_FILENAME = "ocop-kiosk.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3


class _ProcessStderrHandler(logging.StreamHandler):
    """Writes to the process's real stderr. Not to `sys.stderr`: Kivy replaces that with a
    stream that logs (a loop through this handler), and test harnesses swap in streams that
    are closed later."""

    _ocop = True  # setup_logging replaces its own handlers, never another's

    def __init__(self):
        super().__init__(sys.__stderr__)

    @property
    def stream(self):
        return sys.__stderr__

    @stream.setter
    def stream(self, _value):
        pass


class _LogFileHandler(logging.handlers.RotatingFileHandler):
    _ocop = True


def setup_logging(log_dir: Path | None, verbose: bool = False) -> Path | None:
    """Log to <log_dir>/ocop-kiosk.log (warnings and up also to stderr). Returns the file."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        if getattr(handler, "_ocop", False):
            root.removeHandler(handler)
    console = _ProcessStderrHandler()
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    if log_dir is None:
        return None
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / LOG_FILENAME
        handler = _LogFileHandler(
            path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    return path
