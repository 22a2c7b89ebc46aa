"""One printing process per data folder: an advisory lock file (released by the kernel when
the process dies, so a kill -9 never leaves it stuck)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ocop.errors import UserError

LOCK_FILENAME = "printing.lock"


class PrinterBusy(UserError):
    pass


class PrintingLock:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / LOCK_FILENAME
        self._fd: int | None = None

    def acquire(self) -> PrintingLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PrinterBusy(
                "another ocop-kiosk process is printing from this data folder "
                "(the kiosk app?); use its staff screen or stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> PrintingLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
