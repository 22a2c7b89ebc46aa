"""Bearer tokens. A token is 32 random bytes, urlsafe base64; only its SHA-256 is stored.

Stations: one token each (`ocop-registry station add NAME` prints it once); a station acts
only as itself. Admins: named credentials with roles (registry/admins.py), plus the
bootstrap token from $OCOP_REGISTRY_ADMIN_TOKEN and/or --admin-token-file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from registry.dal import stations
from registry.dal.stations import Station

STATION_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def generate_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class StationExists(ValueError):
    pass


def add_station(conn: Connection, name: str, district: str = "") -> tuple[Station, str]:
    """Create a station; returns it and its token (shown once, stored hashed)."""
    if not STATION_NAME_RE.fullmatch(name):
        raise ValueError(
            f"station name {name!r}: use 1-64 lowercase letters, digits, '.', '_' or '-'"
        )
    if stations.exists(conn, name):
        raise StationExists(f"station {name!r} already exists")
    token = generate_token()
    return stations.insert(conn, name, hash_token(token), district), token


def set_station_token(conn: Connection, name: str, token: str) -> None:
    stations.set_token_hash(conn, name, hash_token(token))


def station_for_token(conn: Connection, token: str) -> Station | None:
    return stations.by_token_hash(conn, hash_token(token))


def is_admin_token(token: str, admin_hashes: frozenset[str]) -> bool:
    digest = hash_token(token)
    # Compare against every configured hash (constant time per comparison).
    return any(hmac.compare_digest(digest, h) for h in admin_hashes)


@dataclass(frozen=True)
class Credential:
    """A token from an Authorization header, and whether it came as HTTP Basic (a browser
    resends Basic credentials by itself, even on a cross-site form post: such a credential
    may only view HTML pages, or post a form with its CSRF token, registry/csrf.py)."""

    token: str
    basic: bool


def parse_authorization(authorization: str | None) -> Credential | None:
    """'Bearer TOKEN', or 'Basic base64(user:TOKEN)' (so a browser can open the reports
    page); None for anything else."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        return Credential(value, basic=False)
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        password = decoded.partition(":")[2]
        return Credential(password, basic=True) if password else None
    return None


def read_token_file(path: Path) -> str:
    token = Path(path).read_text("utf-8").strip()
    if len(token) < 16:
        raise ValueError(f"{path}: token too short (at least 16 characters)")
    return token


def write_secret_file(path: Path, text: str) -> None:
    """Write a token for scripts: mode 0600, replacing an older file."""
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


__all__ = [
    "Credential",
    "Station",
    "StationExists",
    "add_station",
    "generate_token",
    "hash_token",
    "is_admin_token",
    "parse_authorization",
    "read_token_file",
    "set_station_token",
    "station_for_token",
    "write_secret_file",
]
