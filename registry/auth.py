"""Bearer tokens. A token is 32 random bytes, urlsafe base64; only its SHA-256 is stored.

Stations: one token each (`ocop-registry station add NAME` prints it once); a station acts
only as itself. Admin: tokens from $OCOP_REGISTRY_ADMIN_TOKEN and/or --admin-token-file,
needed for catalog changes, keys, revocations and the reports page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

STATION_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def generate_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Station:
    id: int
    name: str
    district: str


class StationExists(ValueError):
    pass


def add_station(conn: Connection, name: str, district: str = "") -> tuple[Station, str]:
    """Create a station; returns it and its token (shown once, stored hashed)."""
    if not STATION_NAME_RE.fullmatch(name):
        raise ValueError(f"station name {name!r}: use 1-64 lowercase letters, digits, "
                         f"'.', '_' or '-'")
    if conn.execute(sa.select(db.stations.c.id).where(db.stations.c.name == name)).first():
        raise StationExists(f"station {name!r} already exists")
    token = generate_token()
    result = conn.execute(db.stations.insert().values(
        name=name, token_hash=hash_token(token), district=district, created_at=db.utc_now()))
    return Station(result.inserted_primary_key[0], name, district), token


def set_station_token(conn: Connection, name: str, token: str) -> None:
    conn.execute(db.stations.update().where(db.stations.c.name == name)
                 .values(token_hash=hash_token(token)))


def station_for_token(conn: Connection, token: str) -> Station | None:
    row = conn.execute(sa.select(db.stations.c.id, db.stations.c.name, db.stations.c.district)
                       .where(db.stations.c.token_hash == hash_token(token),
                              db.stations.c.disabled == sa.false())).first()
    return Station(row.id, row.name, row.district) if row else None


def is_admin_token(token: str, admin_hashes: frozenset[str]) -> bool:
    digest = hash_token(token)
    # Compare against every configured hash (constant time per comparison).
    return any(hmac.compare_digest(digest, h) for h in admin_hashes)


def bearer_token(authorization: str | None) -> str | None:
    """The token of 'Bearer TOKEN', or the password of 'Basic base64(user:TOKEN)' (so a
    browser can open the reports page)."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        return value
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def read_token_file(path: Path) -> str:
    token = Path(path).read_text("utf-8").strip()
    if len(token) < 16:
        raise ValueError(f"{path}: token too short (at least 16 characters)")
    return token


def write_secret_file(path: Path, text: str) -> None:
    """Write a token for scripts: mode 0600, replacing an older file."""
    import os
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (text + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
