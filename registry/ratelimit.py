"""Failed token checks per client address, in memory (one registry process: a restart, or
a second process, starts from zero; documented in docs/security.md).

A client with AuthLimits.max_failures unknown tokens within window_s is locked out for
window_s: every request that needs a token gets 429 with Retry-After, even with a correct
token, so guessing gains nothing by mixing in a known token. The address is the TCP peer's
(behind a proxy every client shares the proxy's address: the limit then protects the
tokens, at the cost of locking out everyone behind it).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from registry.config import AuthLimits

MAX_TRACKED_CLIENTS = 10_000  # beyond this the stalest entries are dropped (memory bound)


class FailedAuthLimiter:
    def __init__(self, limits: AuthLimits, clock=time.monotonic):
        self.limits = limits
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()  # sync route handlers run in a thread pool

    def retry_after_s(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it is not locked out."""
        now = self.clock()
        with self._lock:
            until = self._locked_until.get(client)
            if until is None:
                return None
            if until <= now:
                del self._locked_until[client]
                return None
            return max(1, math.ceil(until - now))

    def failed(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            times = self._failures.setdefault(client, deque())
            times.append(now)
            while times and times[0] <= now - self.limits.window_s:
                times.popleft()
            if len(times) >= self.limits.max_failures:
                self._locked_until[client] = now + self.limits.window_s
                del self._failures[client]
            if len(self._failures) > MAX_TRACKED_CLIENTS:
                stalest = min(self._failures, key=lambda c: self._failures[c][-1])
                del self._failures[stalest]
            if len(self._locked_until) > MAX_TRACKED_CLIENTS:
                for c in [c for c, t in self._locked_until.items() if t <= now]:
                    del self._locked_until[c]


class RequestLimiter:
    """At most `max_requests` per client in any `window_s` (in memory, per process, like
    FailedAuthLimiter): the phone pages' typed-serial look-ups and stamp reports."""

    def __init__(self, max_requests: int, window_s: float, clock=time.monotonic):
        self.max_requests, self.window_s, self.clock = max_requests, window_s, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """True (and counted) when `client` is within its limit; False, not counted, else."""
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(client, deque())
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if len(times) >= self.max_requests:
                return False
            times.append(now)
            if len(self._seen) > MAX_TRACKED_CLIENTS:
                stalest = min(self._seen, key=lambda c: self._seen[c][-1] if self._seen[c] else 0)
                del self._seen[stalest]
            return True
