"""Named admin credentials with roles (the `admins` table).

Each admin has a name (what the audit log records), a role and a token: 32 random bytes,
urlsafe base64, shown once and stored as its SHA-256 only (like station tokens,
registry/auth.py). `ocop-registry admin add|list|disable|rotate` manages them.

The bootstrap credential: $OCOP_REGISTRY_ADMIN_TOKEN / --admin-token-file still work, as
the admin named BOOTSTRAP_NAME with role admin, so a fresh registry can be set up and
existing scripts keep working. Once named admins exist, the reports page warns while the
bootstrap token is still configured: retire it by removing it from the service's
environment.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db
from registry.auth import generate_token, hash_token

BOOTSTRAP_NAME = "bootstrap"
ADMIN_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
LAST_USED_RESOLUTION_S = 60  # last_used_at is refreshed at most this often (a write)

a = db.admins


class AdminRole(enum.Enum):
    """What an admin credential may do; each role includes the ones before it."""

    VIEWER = "viewer"  # reports, catalog reads
    EDITOR = "editor"  # + catalog changes (products, producers, media, imports)
    ADMIN = "admin"  # + keys, revocations, suspects, stations, clone approvals, audit log

    @property
    def rank(self) -> int:
        return list(AdminRole).index(self)

    def allows(self, needed: AdminRole) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class Principal:
    """An authenticated admin: who (for the audit log) and their role."""

    name: str
    role: AdminRole


@dataclass(frozen=True)
class AdminRow:
    name: str
    role: AdminRole
    created_at: str
    disabled: bool
    last_used_at: str | None


class AdminError(ValueError):
    """Bad name, unknown or duplicate admin."""


def _check_name(name: str) -> None:
    if not ADMIN_NAME_RE.fullmatch(name):
        raise AdminError(
            f"admin name {name!r}: use 1-64 lowercase letters, digits, '.', '_' or '-'"
        )
    if name == BOOTSTRAP_NAME:
        raise AdminError(f"{BOOTSTRAP_NAME!r} is the environment token's name; choose another")


def add(conn: Connection, name: str, role: AdminRole, token: str | None = None) -> str:
    """A new admin; returns its token (generated unless given)."""
    _check_name(name)
    if conn.execute(sa.select(a.c.id).where(a.c.name == name)).first() is not None:
        raise AdminError(f"admin {name!r} already exists")
    token = token or generate_token()
    conn.execute(
        a.insert().values(
            name=name, role=role.value, token_hash=hash_token(token), created_at=db.utc_now()
        )
    )
    return token


def _existing(conn: Connection, name: str) -> None:
    if conn.execute(sa.select(a.c.id).where(a.c.name == name)).first() is None:
        raise AdminError(f"no admin {name!r}")


def disable(conn: Connection, name: str) -> None:
    _existing(conn, name)
    conn.execute(a.update().where(a.c.name == name).values(disabled=True))


def rotate(conn: Connection, name: str, token: str | None = None) -> str:
    """A new token for `name` (the old one stops working at commit); re-enables it."""
    _existing(conn, name)
    token = token or generate_token()
    conn.execute(
        a.update().where(a.c.name == name).values(token_hash=hash_token(token), disabled=False)
    )
    return token


def all_by_name(conn: Connection) -> list[AdminRow]:
    return [
        AdminRow(r.name, AdminRole(r.role), r.created_at, bool(r.disabled), r.last_used_at)
        for r in conn.execute(sa.select(a).order_by(a.c.name))
    ]


def count_enabled(conn: Connection) -> int:
    return conn.execute(
        sa.select(sa.func.count()).select_from(a).where(a.c.disabled == sa.false())
    ).scalar_one()


def by_token(conn: Connection, token: str) -> tuple[Principal, str | None] | None:
    """The enabled admin holding `token` and its last_used_at, or None."""
    row = conn.execute(
        sa.select(a.c.name, a.c.role, a.c.last_used_at).where(
            a.c.token_hash == hash_token(token), a.c.disabled == sa.false()
        )
    ).first()
    if row is None:
        return None
    return Principal(row.name, AdminRole(row.role)), row.last_used_at


def touch(conn: Connection, name: str, now: str) -> None:
    conn.execute(a.update().where(a.c.name == name).values(last_used_at=now))


__all__ = [
    "BOOTSTRAP_NAME",
    "AdminError",
    "AdminRole",
    "AdminRow",
    "Principal",
    "add",
    "all_by_name",
    "by_token",
    "count_enabled",
    "disable",
    "rotate",
    "touch",
]
