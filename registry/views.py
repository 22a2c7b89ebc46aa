"""Phone checks of the public stamp page: each view of a verified stamp is recorded, at most
once per serial, client and hour, and feeds the clone rules (registry/clones.py: a phone
client is a site).

The client is the remote address plus the User-Agent, kept only as HMAC-SHA256 with a salt
of the day (`view_salts`; every other day's salt is deleted when a day's salt is made, so
hashes cannot be linked across days or recomputed from a known address). The address is
the peer's, or, when the peer is a trusted proxy (config.trusted_proxies), the right-most
X-Forwarded-For entry that is not itself a trusted proxy."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
from functools import lru_cache

from sqlalchemy.engine import Connection

from registry import db
from registry.dal import views as rows

MAX_USER_AGENT_CHARS = 512


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
    """Records views; keeps the day's salt in memory (per process, read from the database
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

    def record(self, conn: Connection, serial: int, address: str, user_agent: str) -> bool:
        """True when this is the client's first view of the serial this hour (then the caller
        runs the clone rules)."""
        now = db.utc_now()
        return rows.add_view(
            conn, serial, self.client_hash(conn, now[:10], address, user_agent), now
        )
