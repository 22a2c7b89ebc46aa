"""Rate limits per client address: failed token checks and console sign-ins (a lockout),
the phone pages' typed-serial look-ups and stamp reports (a budget per window).

A client with AuthLimits.max_failures unknown tokens within window_s is locked out for
window_s: every request that needs a token gets 429 with Retry-After, even with a correct
token, so guessing gains nothing by mixing in a known token. The address is the TCP peer's
(behind a proxy every client shares the proxy's address: the limit then protects the
tokens, at the cost of locking out everyone behind it).

Where the counts live (one interface, `failure_limiter` / `request_limiter` pick):
    PostgreSQL  the `rate_limits` table, shared by every worker (`serve --workers N`) and
                host: one INSERT ... ON CONFLICT DO UPDATE ... RETURNING per counted
                request, so concurrent workers never lose a count, and windows on the
                database's clock (now()), so hosts with skewed clocks agree. Only a failure
                writes: the lockout check on every authenticated request is one indexed
                read, in the transaction the request opens anyway (no round trip
                of its own). Windows are fixed, starting at a
                client's first counted request.
    SQLite      in memory (one process by design: `serve --workers` above 1 is refused):
                measured ~1 us a check against ~0.2 ms for the same UPSERT on the SQLite
                file, which would also take the one write lock (docs/security.md).
The table stays bounded: rows whose window and lockout ended are deleted every
PRUNE_EVERY_WRITES writes of a process (and by `ocop-registry prune`), and beyond
max_clients rows the counters that expire soonest go first (a hostile client spraying
addresses evicts counters, as in memory), lockouts only after every counter.
"""

from __future__ import annotations

import enum
import math
import threading
import time
from collections import deque
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db
from registry.config import AuthLimits

MAX_TRACKED_CLIENTS = 10_000  # in memory: beyond this the stalest entries are dropped
PRUNE_EVERY_WRITES = 256  # shared: a process deletes ended rows after this many writes


class Scope(enum.Enum):
    """Which limit a counter row belongs to (rate_limits.scope)."""

    TOKEN = "token"  # failed token checks (API, stations and admins)
    SIGN_IN = "sign_in"  # failed console sign-ins
    LOOKUP = "lookup"  # typed-serial look-ups on the phone pages
    REPORT = "report"  # stamp reports from the phone pages


class FailureLimit(Protocol):
    def retry_after_s(self, client: str, conn: Connection | None = None) -> int | None: ...

    def failed(self, client: str) -> None: ...


class RequestLimit(Protocol):
    def allow(self, client: str) -> bool: ...


# --- in memory (SQLite: one process) --------------------------------------------------------


class FailedAuthLimiter:
    def __init__(self, limits: AuthLimits, clock=time.monotonic):
        self.limits = limits
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()  # sync route handlers run in a thread pool

    def retry_after_s(self, client: str, conn: Connection | None = None) -> int | None:
        """Seconds until `client` may try again, or None when it is not locked out (`conn`:
        the caller's connection, for the shared limiter; unused here)."""
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


# --- shared (PostgreSQL: every worker and host) --------------------------------------------

_WINDOW = "(:window_s * interval '1 second')"
_ENDED = f"r.window_start <= now() - {_WINDOW}"  # the row's window is over

# A failure: counted in the row's window (a new one when it ended); the max_failures-th
# locks the client out for window_s and starts the count again, as in memory.
_NEW_FAILURES = f"(CASE WHEN {_ENDED} THEN 1 ELSE r.hits + 1 END)"
_LOCKS = f"({_NEW_FAILURES} >= :max_hits)"
_FAILED_SQL = sa.text(
    f"""
    INSERT INTO rate_limits AS r (scope, client, window_start, hits, locked_until, expires_at)
    VALUES (:scope, :client, now(), CASE WHEN :max_hits <= 1 THEN 0 ELSE 1 END,
            CASE WHEN :max_hits <= 1 THEN now() + {_WINDOW} END, now() + {_WINDOW})
    ON CONFLICT (scope, client) DO UPDATE SET
        window_start = CASE WHEN {_LOCKS} OR {_ENDED} THEN now() ELSE r.window_start END,
        hits = CASE WHEN {_LOCKS} THEN 0 ELSE {_NEW_FAILURES} END,
        locked_until = CASE WHEN {_LOCKS} THEN now() + {_WINDOW} ELSE r.locked_until END,
        expires_at = GREATEST(
            CASE WHEN {_LOCKS} OR {_ENDED} THEN now() ELSE r.window_start END + {_WINDOW},
            CASE WHEN {_LOCKS} THEN now() + {_WINDOW} ELSE r.locked_until END)
    """
)
_RETRY_AFTER_SQL = sa.text(
    "SELECT ceil(extract(epoch FROM locked_until - now())) FROM rate_limits "
    "WHERE scope = :scope AND client = :client AND locked_until > now()"
)
# A request: counted while within the budget; the count stops one above it, so RETURNING
# tells the request that used the last of it (hits = max) from one refused (max + 1).
_ALLOW_SQL = sa.text(
    f"""
    INSERT INTO rate_limits AS r (scope, client, window_start, hits, expires_at)
    VALUES (:scope, :client, now(), 1, now() + {_WINDOW})
    ON CONFLICT (scope, client) DO UPDATE SET
        window_start = CASE WHEN {_ENDED} THEN now() ELSE r.window_start END,
        hits = CASE WHEN {_ENDED} THEN 1 WHEN r.hits <= :max_hits THEN r.hits + 1
                    ELSE r.hits END,
        expires_at = CASE WHEN {_ENDED} THEN now() + {_WINDOW} ELSE r.expires_at END
    RETURNING hits
    """
)
_DELETE_ENDED_SQL = sa.text("DELETE FROM rate_limits WHERE expires_at < now()")
_COUNT_SQL = sa.text("SELECT count(*) FROM rate_limits")
# Beyond max_clients: counters first (those that expire soonest), lockouts last, so a
# spray of addresses does not lift a lockout.
_DELETE_SOONEST_SQL = sa.text(
    "DELETE FROM rate_limits WHERE (scope, client) IN ("
    "SELECT scope, client FROM rate_limits "
    "ORDER BY coalesce(locked_until > now(), false), expires_at LIMIT :n)"
)


def prune_counters(database: db.Database, max_clients: int | None = None) -> int:
    """Delete counters whose window and lockout ended, then (`max_clients`) the ones that
    expire soonest beyond that many rows; returns how many rows went. Nothing on SQLite
    (the limits are in memory there)."""
    if database.is_sqlite:
        return 0
    with database.snapshot() as conn:
        gone = conn.execute(_DELETE_ENDED_SQL).rowcount
        if max_clients is not None:
            over = conn.execute(_COUNT_SQL).scalar_one() - max_clients
            if over > 0:
                gone += conn.execute(_DELETE_SOONEST_SQL, {"n": over}).rowcount
    return gone


class _SharedCounters:
    def __init__(self, database: db.Database, scope: Scope, max_clients: int):
        self.database, self.scope, self.max_clients = database, scope, max_clients
        self._writes = 0
        self._lock = threading.Lock()

    def _written(self) -> None:
        with self._lock:
            self._writes += 1
            due = self._writes % PRUNE_EVERY_WRITES == 0
        if due:
            prune_counters(self.database, self.max_clients)

    def _key(self, client: str) -> dict:
        return {"scope": self.scope.value, "client": client[:100]}


class SharedFailedAuthLimiter(_SharedCounters):
    """FailedAuthLimiter's rules in the rate_limits table (module docstring)."""

    def __init__(self, database: db.Database, scope: Scope, limits: AuthLimits, max_clients: int):
        super().__init__(database, scope, max_clients)
        self.limits = limits

    def retry_after_s(self, client: str, conn: Connection | None = None) -> int | None:
        """One indexed read, on `conn` when given (the request's own transaction)."""
        if conn is None:
            with self.database.snapshot() as own:
                wait = own.execute(_RETRY_AFTER_SQL, self._key(client)).scalar()
        else:
            wait = conn.execute(_RETRY_AFTER_SQL, self._key(client)).scalar()
        return None if wait is None else max(1, int(wait))

    def failed(self, client: str) -> None:
        args = {
            **self._key(client),
            "max_hits": self.limits.max_failures,
            "window_s": self.limits.window_s,
        }
        with self.database.snapshot() as conn:
            conn.execute(_FAILED_SQL, args)
        self._written()


class SharedRequestLimiter(_SharedCounters):
    """RequestLimiter's budget in the rate_limits table (module docstring)."""

    def __init__(
        self,
        database: db.Database,
        scope: Scope,
        max_requests: int,
        window_s: float,
        max_clients: int,
    ):
        super().__init__(database, scope, max_clients)
        self.max_requests, self.window_s = max_requests, window_s

    def allow(self, client: str) -> bool:
        args = {**self._key(client), "max_hits": self.max_requests, "window_s": self.window_s}
        with self.database.snapshot() as conn:
            hits = conn.execute(_ALLOW_SQL, args).scalar_one()
        self._written()
        return hits <= self.max_requests


# --- the one way callers get a limiter --------------------------------------------------------


def failure_limiter(
    database: db.Database, scope: Scope, limits: AuthLimits, max_clients: int
) -> FailureLimit:
    """A lockout after failures: shared on PostgreSQL, in memory on SQLite."""
    if database.is_sqlite:
        return FailedAuthLimiter(limits)
    return SharedFailedAuthLimiter(database, scope, limits, max_clients)


def request_limiter(
    database: db.Database, scope: Scope, max_requests: int, window_s: float, max_clients: int
) -> RequestLimit:
    """A budget of requests per window: shared on PostgreSQL, in memory on SQLite."""
    if database.is_sqlite:
        return RequestLimiter(max_requests, window_s)
    return SharedRequestLimiter(database, scope, max_requests, window_s, max_clients)
