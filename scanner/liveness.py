"""How long a thread has been inside one call into a driver or a decoder.

A camera driver whose read() never returns, or a decoder that hangs on one frame, leaves
its thread alive but stuck. The capture thread and the decode worker wrap those calls in a
CallTimer; whoever watches them (the kiosk's systemd watchdog) asks `stuck_for_s()` and
decides what is too long. Reading it takes no lock: one float written by one thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class CallTimer:
    """`with timer:` around a call that might never return."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._since_s: float | None = None

    def __enter__(self) -> CallTimer:
        self._since_s = self._clock()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._since_s = None

    def stuck_for_s(self) -> float:
        """Seconds spent in the call under way; 0.0 when the thread is not in one."""
        since_s = self._since_s
        return 0.0 if since_s is None else max(0.0, self._clock() - since_s)


__all__ = ["CallTimer"]
