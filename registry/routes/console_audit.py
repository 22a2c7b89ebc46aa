"""The console's Audit section: every change with who, when, what, on what, and the
changed records' before and after (audit rows' `changes`, registry/audit.py Changes).
Read-only, for every role (issue 16: "read-only for viewers"); the client address column
only for administrators (as GET /api/v1/admin/audit, it names where each admin worked)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ocop.clock import vietnam_time_text
from registry import audit
from registry.admins import AdminRole
from registry.audit import AuditAction, AuditEntry, AuditFilter
from registry.deps import ConsoleDep, DatabaseDep, needs_role
from registry.i18n import N_
from registry.routes.console import Section, render

SECTIONS = (Section.AUDIT,)
ENTRIES_ON_PAGE = 50
router = APIRouter(include_in_schema=False)

# What each action is called on the page (English msgid; the code is shown beside it).
ACTION_LABELS: dict[AuditAction, str] = {
    AuditAction.CATALOG_IMPORT: N_("Catalog import"),
    AuditAction.CATALOG_WRITE: N_("Catalog change"),
    AuditAction.CATALOG_DELETE: N_("Catalog deletion"),
    AuditAction.MEDIA_UPLOAD: N_("Picture upload"),
    AuditAction.RATING_REVOKE: N_("Rating revoked"),
    AuditAction.KEY_ROTATE: N_("Signing key rotation"),
    AuditAction.KEY_REVOKE: N_("Signing key revocation"),
    AuditAction.SERIALS_REVOKE: N_("Serial revocation"),
    AuditAction.SUSPECT_ADD: N_("Suspect added"),
    AuditAction.SUSPECT_CLEAR: N_("Suspect cleared"),
    AuditAction.TRUST_PUBLISH: N_("Trust list published"),
    AuditAction.SCANS_ARCHIVE: N_("Scans archived"),
    AuditAction.BLOCK_REPLIES_PRUNE: N_("Old stamp-block replies dropped"),
    AuditAction.ROOT_DELEGATE: N_("Root key delegation"),
    AuditAction.ROOT_ROTATE: N_("Root key rotation"),
    AuditAction.KEK_ROTATE: N_("Key-encryption key rotation"),
    AuditAction.STATION_ADD: N_("Station added"),
    AuditAction.STATION_DISABLE: N_("Station disabled"),
    AuditAction.STATION_ENABLE: N_("Station enabled"),
    AuditAction.STATION_ROTATE_TOKEN: N_("Station token renewed"),
    AuditAction.STATION_RETIRE: N_("Station retired"),
    AuditAction.STATION_SCOPE: N_("Station scope changed"),
    AuditAction.CLONE_APPROVE: N_("Suspect published"),
    AuditAction.CLONE_DISMISS: N_("Suspect dismissed"),
    AuditAction.ADMIN_ADD: N_("API credential added"),
    AuditAction.ADMIN_DISABLE: N_("API credential disabled"),
    AuditAction.ADMIN_ROTATE: N_("API credential renewed"),
    AuditAction.USER_ADD: N_("Account added"),
    AuditAction.USER_DISABLE: N_("Account disabled"),
    AuditAction.USER_RESET: N_("Password reset"),
    AuditAction.USER_SIGN_IN: N_("Sign-in"),
    AuditAction.USER_LOCKED: N_("Account locked"),
    AuditAction.RESTORE: N_("Registry restored"),
}


@dataclass(frozen=True)
class Row:
    """One entry as the page shows it."""

    entry: AuditEntry
    at_local: str
    label: str
    changes: list[dict]
    more_changes: int
    other: dict[str, str]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _row(entry: AuditEntry) -> Row:
    detail = dict(entry.detail)
    changes = detail.pop("changes", None)
    total = detail.pop("changes_total", 0)
    changes = changes if isinstance(changes, list) else []
    try:
        label = ACTION_LABELS[AuditAction(entry.action)]
    except ValueError:  # an action of a newer registry version
        label = entry.action
    return Row(
        entry,
        vietnam_time_text(entry.at, seconds=True),
        label,
        [
            {
                "target": str(c.get("target", "")),
                "before": None
                if c.get("before") is None
                else {k: _text(v) for k, v in dict(c["before"]).items()},
                "after": {k: _text(v) for k, v in dict(c.get("after") or {}).items()},
            }
            for c in changes
            if isinstance(c, dict)
        ],
        max(0, int(total or 0) - len(changes)),
        {k: _text(v) for k, v in detail.items()},
    )


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@needs_role(AdminRole.VIEWER)
def audit_page(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    actor: str = Query("", max_length=100),
    action: str = Query("", max_length=48),
    target: str = Query("", max_length=200),
    first_day: str = Query("", alias="from", max_length=10),
    last_day: str = Query("", alias="to", max_length=10),
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    try:
        wanted_action = AuditAction(action) if action else None
    except ValueError:
        wanted_action = None
    first, last = _day(first_day), _day(last_day)
    bad_day = (first_day and first is None) or (last_day and last is None)
    wanted = AuditFilter(actor.strip(), wanted_action, target.strip(), first, last)
    with database.read() as conn:
        entries, total = audit.page(conn, wanted, (page - 1) * ENTRIES_ON_PAGE, ENTRIES_ON_PAGE)
    pages = max(1, -(-total // ENTRIES_ON_PAGE))
    query = {
        "actor": wanted.actor,
        "action": wanted_action.value if wanted_action else "",
        "target": wanted.target,
        "from": first.isoformat() if first else "",
        "to": last.isoformat() if last else "",
    }
    kept = {k: v for k, v in query.items() if v}

    def page_href(n: int) -> str:
        return Section.AUDIT.href + "?" + urlencode(kept | {"page": n})

    return render(
        request,
        "audit.html",
        caller,
        Section.AUDIT.slug,
        section=Section.AUDIT,
        rows=[_row(e) for e in entries],
        total=total,
        page=page,
        pages=pages,
        newer=page_href(page - 1) if page > 1 else "",
        older=page_href(page + 1) if page < pages else "",
        query=query,
        filtered=bool(kept),
        bad_day=bad_day,
        actions=[(a.value, ACTION_LABELS[a]) for a in AuditAction],
        show_client=caller.principal.role.allows(AdminRole.ADMIN),
    )


router.add_api_route(Section.AUDIT.href, audit_page, methods=["GET"])
