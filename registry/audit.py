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

import datetime as dt
import enum
import getpass
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ocop.clock import VIETNAM_TZ
from registry import db

ACTOR_CHARS = 100
CLIENT_CHARS = 100
SYSTEM_ACTOR = "system"
CLI_CLIENT = "local"
MAX_VALUE_CHARS = 300  # a before/after value longer than this is cut (a story, a description)
MAX_CHANGES = 50  # before/after pairs kept per audit row (an import of 20,000 rows: the first)


class AuditAction(enum.Enum):
    """Every kind of audited operation (stored by value; one place to add a new one)."""

    # catalog
    CATALOG_IMPORT = "catalog.import"
    CATALOG_WRITE = "catalog.write"
    CATALOG_DELETE = "catalog.delete"
    MEDIA_UPLOAD = "media.upload"
    RATING_REVOKE = "rating.revoke"  # the office withdrew a product's OCOP rating (a reason)
    # keys and trust list
    KEY_ROTATE = "key.rotate"
    KEY_REVOKE = "key.revoke"
    SERIALS_REVOKE = "serials.revoke"
    SUSPECT_ADD = "suspect.add"
    SUSPECT_CLEAR = "suspect.clear"
    TRUST_PUBLISH = "trust.publish"
    # retention
    SCANS_ARCHIVE = "scans.archive"
    BLOCK_REPLIES_PRUNE = "block_replies.prune"  # stored stamp-block replies dropped
    ROOT_DELEGATE = "root.delegate"
    ROOT_ROTATE = "root.rotate"
    KEK_ROTATE = "kek.rotate"  # the online private keys re-wrapped with a new KEK
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


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + "…"
    if isinstance(value, list):
        return [_short(v) for v in value]
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    return value


def change(target: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict:
    """One changed record for an audit row's `changes`: its target and, of the fields that
    differ, the values before and after (`before` None: the record is new). The one shape
    the console's audit page shows (registry/routes/console_audit.py)."""
    if before is None:  # new: what it was given (an empty field says nothing)
        given = {k: v for k, v in after.items() if v not in ("", None, [])}
        return {"target": target, "before": None, "after": _short(given)}
    keys = [k for k in after if before.get(k) != after[k]]
    return {
        "target": target,
        "before": _short({k: before.get(k) for k in keys}),
        "after": _short({k: after[k] for k in keys}),
    }


@dataclass
class Changes:
    """An operation's changed records, at most MAX_CHANGES kept (`total` counts all)."""

    items: list[dict] = field(default_factory=list)
    total: int = 0

    def add(self, target: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]):
        self.total += 1
        if len(self.items) < MAX_CHANGES:
            self.items.append(change(target, before, after))

    def to_detail(self) -> dict:
        return {"changes": self.items, "changes_total": self.total}


@dataclass(frozen=True)
class AuditFilter:
    """The audit page's filters (each empty: any): actor and target are substrings (case
    ignored), action one AuditAction, the days Vietnam days, both included."""

    actor: str = ""
    action: AuditAction | None = None
    target: str = ""
    first_day: dt.date | None = None
    last_day: dt.date | None = None


def _day_start_utc(day: dt.date) -> str:
    """The UTC time (db.TIME_FORMAT, as `at`) at which a Vietnam day begins."""
    start = dt.datetime.combine(day, dt.time(), VIETNAM_TZ).astimezone(dt.UTC)
    return start.strftime(db.TIME_FORMAT)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _entry(r) -> AuditEntry:
    return AuditEntry(
        r.id, r.at, r.actor, r.action, r.target, r.client, json.loads(r.detail_json or "{}")
    )


def page(conn: Connection, wanted: AuditFilter, offset: int, limit: int) -> tuple[list, int]:
    """One page of the entries `wanted` selects, newest first, and how many it selects."""
    a = db.audit_log
    where: list[sa.ColumnElement[bool]] = []
    if wanted.actor:
        where.append(sa.func.lower(a.c.actor).like(_like(wanted.actor), escape="\\"))
    if wanted.target:
        where.append(sa.func.lower(a.c.target).like(_like(wanted.target), escape="\\"))
    if wanted.action is not None:
        where.append(a.c.action == wanted.action.value)
    if wanted.first_day:
        where.append(a.c.at >= _day_start_utc(wanted.first_day))
    if wanted.last_day:
        where.append(a.c.at < _day_start_utc(wanted.last_day + dt.timedelta(days=1)))
    total = conn.execute(sa.select(sa.func.count()).select_from(a).where(*where)).scalar_one()
    query = sa.select(a).where(*where).order_by(a.c.id.desc()).offset(offset).limit(limit)
    return [_entry(r) for r in conn.execute(query)], int(total)


def recent(
    conn: Connection,
    limit: int = 100,
    action: AuditAction | None = None,
    target: str | None = None,
) -> list[AuditEntry]:
    """The newest entries first (of one action, on one target, when given)."""
    a = db.audit_log
    query = sa.select(a).order_by(a.c.id.desc()).limit(limit)
    if action is not None:
        query = query.where(a.c.action == action.value)
    if target is not None:
        query = query.where(a.c.target == target)
    return [_entry(r) for r in conn.execute(query)]


__all__ = [
    "AuditAction",
    "AuditEntry",
    "AuditFilter",
    "Changes",
    "change",
    "cli_actor",
    "page",
    "recent",
    "record",
]
