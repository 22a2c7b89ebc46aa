"""Phone checks of the public stamp page: each view of a verified stamp is recorded, at most
once per serial, client and hour, in batches (ViewLog), and feeds the clone rules
(registry/clones.py: a phone client is a site).

The client is the remote address plus the User-Agent, kept only as HMAC-SHA256 with a salt
of the day (`view_salts`; every other day's salt is deleted when a day's salt is made, so
hashes cannot be linked across days or recomputed from a known address). The address is
the peer's, or, when the peer is a trusted proxy (config.trusted_proxies), the right-most
X-Forwarded-For entry that is not itself a trusted proxy."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.engine import Connection

from registry import db
from registry.dal import views as rows

log = logging.getLogger(__name__)
MAX_USER_AGENT_CHARS = 512
# The in-process "seen this hour" set is cleared when it grows past this (the database's
# unique key still keeps one view per serial, client and hour; the page may then count a
# repeat view for a moment, until the batch is written).
SEEN_MAX = 200_000


@lru_cache(maxsize=64)
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(t) for t in trusted)


def _trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in _networks(trusted))


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """Who is asking, as well as this registry can tell (see the module doc)."""
    address = peer or ""
    if not (trusted and forwarded_for and _trusted(address, trusted)):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        address = hop
        if not _trusted(hop, trusted):
            break
    return address[:64]


class ViewRecorder:
    """Hashes view clients; keeps the day's salt in memory (per process, read from the database
    once a day so that every registry process hashes alike)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._salt: tuple[str, bytes] | None = None

    def _salt_of(self, conn: Connection, day: str) -> bytes:
        with self._lock:
            if self._salt is None or self._salt[0] != day:
                salt = rows.salt_of_day(conn, day, secrets.token_hex(32))
                self._salt = (day, bytes.fromhex(salt))
            return self._salt[1]

    def client_hash(self, conn: Connection, day: str, address: str, user_agent: str) -> str:
        client = f"{address}\n{user_agent[:MAX_USER_AGENT_CHARS]}".encode("utf-8", "replace")
        return hmac.new(self._salt_of(conn, day), client, hashlib.sha256).hexdigest()


@dataclass
class _Pending:
    count: int = 0
    first_at: str | None = None


class ViewLog:
    """The stamp page's phone views, written in batches off the request path.

    `add` (the request) does no I/O: it drops a view this process already saw this hour
    (serial, client, hour: the rule the database's unique key enforces anyway) and queues
    the rest. A flusher thread writes the queue every `flush_s`, or at once when `batch`
    views are waiting, in one transaction: one multi-row INSERT ... ON CONFLICT DO NOTHING,
    then the clone rules (registry/clones.py) for the serials that got a new view. `close`
    (the app's shutdown) writes what is left.

    What a kill -9 loses: the queue, i.e. the views of at most one interval (`flush_s`)
    and never more than `batch` plus what arrived during the write in progress; while the
    database is unreachable the queue is kept (failed batches are retried) up to
    `max_queue` views, the oldest beyond that are dropped and counted in `dropped`.

    `pending(serial)` says what this process queued but has not committed, so the page
    shows the view it is answering (the count reads "checked 1 time" on the first)."""

    def __init__(
        self,
        database: db.Database,
        on_flush: Callable[[Connection, list[int]], None],
        flush_s: float,
        batch: int,
        max_queue: int = 50_000,
        recorder: ViewRecorder | None = None,
    ):
        self.database = database
        self.on_flush = on_flush  # (conn, serials with a new view) in the write transaction
        self.flush_s = flush_s
        self.batch = batch
        self.max_queue = max(max_queue, batch)
        self.recorder = recorder or ViewRecorder()
        self.dropped = 0
        self.flushed = 0  # views committed (new or not) since start
        self._key = secrets.token_bytes(32)  # the in-process "seen" set's, never stored
        self._cond = threading.Condition()
        self._queue: list[tuple[int, str, str, str]] = []  # serial, address, agent, at
        self._pending: dict[int, _Pending] = {}
        self._seen: set[bytes] = set()
        self._seen_hour = ""
        self._thread: threading.Thread | None = None
        self._closed = False
        self._pid = os.getpid()

    # --- the request path ---------------------------------------------------------------

    def add(self, serial: int, address: str, user_agent: str) -> None:
        now = db.utc_now()
        agent = user_agent[:MAX_USER_AGENT_CHARS]
        seen = hmac.new(
            self._key, f"{serial}\n{address}\n{agent}".encode("utf-8", "replace"), hashlib.sha256
        ).digest()
        with self._cond:
            if self._seen_hour != now[:13] or len(self._seen) > SEEN_MAX:
                self._seen_hour, self._seen = now[:13], set()
            if seen in self._seen:
                return
            self._seen.add(seen)
            self._queue.append((serial, address, agent, now))
            waiting = self._pending.setdefault(serial, _Pending())
            waiting.count += 1
            waiting.first_at = waiting.first_at or now
            if len(self._queue) > self.max_queue:
                self._drop(len(self._queue) - self.max_queue)
            if len(self._queue) >= self.batch:
                self._cond.notify()
        self._start()

    def pending(self, serial: int) -> tuple[int, str | None]:
        """(views queued or being written, the first one's time) for a serial."""
        with self._cond:
            waiting = self._pending.get(serial)
            return (waiting.count, waiting.first_at) if waiting else (0, None)

    # --- the flusher --------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._cond:
            if self._thread is None or self._pid != os.getpid():  # first use, or forked
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="view-log", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._closed and len(self._queue) < self.batch:
                    self._cond.wait(self.flush_s)
                if self._closed:
                    return
            self.flush()

    def flush(self) -> int:
        """Write everything queued now (one transaction); returns the views written."""
        with self._cond:
            taken, self._queue = self._queue, []
        if not taken:
            return 0
        try:
            with self.database.write() as conn:
                hashed = [
                    (serial, self.recorder.client_hash(conn, at[:10], address, agent), at)
                    for serial, address, agent, at in taken
                ]
                new = rows.add_views(conn, hashed)
                if new:
                    self.on_flush(conn, sorted(set(new)))
        except Exception:  # the database is away: keep the views for the next round
            log.exception("could not write %d stamp page views; will retry", len(taken))
            with self._cond:
                self._queue = taken + self._queue
                if len(self._queue) > self.max_queue:
                    self._drop(len(self._queue) - self.max_queue)
            time.sleep(min(self.flush_s, 1.0))
            return 0
        with self._cond:
            for serial, *_ in taken:
                self._forget(serial)
            self.flushed += len(taken)
        return len(taken)

    def _forget(self, serial: int) -> None:
        waiting = self._pending.get(serial)
        if waiting is not None:
            waiting.count -= 1
            if waiting.count <= 0:
                del self._pending[serial]

    def _drop(self, n: int) -> None:
        """Drop the n oldest queued views (holding the lock)."""
        for serial, *_ in self._queue[:n]:
            self._forget(serial)
        del self._queue[:n]
        self.dropped += n
        log.warning("stamp page view queue full: %d views dropped so far", self.dropped)

    def close(self) -> None:
        """Stop the flusher and write what is queued (the app's shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        while self.flush():
            pass
