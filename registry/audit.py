"""The audit log: who did what to the registry, when, and from where.

Every admin operation (catalog, keys, revocations, suspects, admins) and every station
lifecycle operation (add, disable, enable, rotate token, retire, bindings, quotas) writes
one row with `record()`, in the same transaction as the change itself: an operation that
rolls back leaves no audit row, and one that commits always has one. The reports page and
GET /api/v1/admin/audit show it (newest first).

Actors: an admin credential's name, `cli:<os user>` for the command line, `system` for
what the registry does by itself (e.g. publishing an automatic clone detection).
"""

from __future__ import annotations

import enum
import getpass
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

ACTOR_CHARS = 100
CLIENT_CHARS = 100
SYSTEM_ACTOR = "system"
CLI_CLIENT = "local"


class AuditAction(enum.Enum):
    """Every kind of audited operation (stored by value; one place to add a new one)."""

    # catalog
    CATALOG_IMPORT = "catalog.import"
    CATALOG_WRITE = "catalog.write"
    CATALOG_DELETE = "catalog.delete"
    MEDIA_UPLOAD = "media.upload"
    # keys and trust list
    KEY_ROTATE = "key.rotate"
    KEY_REVOKE = "key.revoke"
    SERIALS_REVOKE = "serials.revoke"
    SUSPECT_ADD = "suspect.add"
    SUSPECT_CLEAR = "suspect.clear"
    TRUST_PUBLISH = "trust.publish"
    # retention
    SCANS_ARCHIVE = "scans.archive"
    ROOT_DELEGATE = "root.delegate"
    ROOT_ROTATE = "root.rotate"
    # stations
    STATION_ADD = "station.add"
    STATION_DISABLE = "station.disable"
    STATION_ENABLE = "station.enable"
    STATION_ROTATE_TOKEN = "station.rotate_token"
    STATION_RETIRE = "station.retire"
    STATION_SCOPE = "station.scope"  # role, bindings, quotas
    # clone detections
    CLONE_APPROVE = "clone.approve"
    CLONE_DISMISS = "clone.dismiss"
    # admin credentials
    ADMIN_ADD = "admin.add"
    ADMIN_DISABLE = "admin.disable"
    ADMIN_ROTATE = "admin.rotate"
    # console accounts (registry/users.py) and their sign-ins
    USER_ADD = "user.add"
    USER_DISABLE = "user.disable"
    USER_RESET = "user.reset"
    USER_SIGN_IN = "user.sign_in"
    USER_LOCKED = "user.locked"  # too many wrong passwords: the account is locked for a while
    # the registry itself
    RESTORE = "registry.restore"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    target: str
    client: str
    detail: dict[str, Any]


def cli_actor() -> str:
    """The command line's actor name: the operating-system user running it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container): still say it was the CLI
        user = "unknown"
    return f"cli:{user}"[:ACTOR_CHARS]


def record(
    conn: Connection,
    actor: str,
    action: AuditAction,
    target: str = "",
    client: str = "",
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One audit row in the caller's transaction."""
    conn.execute(
        db.audit_log.insert().values(
            at=db.utc_now(),
            actor=actor[:ACTOR_CHARS],
            action=action.value,
            target=target,
            client=client[:CLIENT_CHARS],
            detail_json=json.dumps(
                dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str
            ),
        )
    )


def recent(
    conn: Connection, limit: int = 100, action: AuditAction | None = None
) -> list[AuditEntry]:
    """The newest entries first."""
    a = db.audit_log
    query = sa.select(a).order_by(a.c.id.desc()).limit(limit)
    if action is not None:
        query = query.where(a.c.action == action.value)
    return [
        AuditEntry(
            r.id, r.at, r.actor, r.action, r.target, r.client, json.loads(r.detail_json or "{}")
        )
        for r in conn.execute(query)
    ]


__all__ = ["AuditAction", "AuditEntry", "cli_actor", "recent", "record"]
