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

from registry import audit, console_text
from registry.admins import AdminRole
from registry.audit import AuditAction, AuditEntry, AuditFilter
from registry.deps import ConsoleDep, DatabaseDep, needs_role
from registry.routes.console import Section, local_time, render

SECTIONS = (Section.AUDIT,)
ENTRIES_ON_PAGE = 50
router = APIRouter(include_in_schema=False)

# What each action is called on the page (English msgid; the code is shown beside it).
ACTION_LABELS: dict[AuditAction, str] = {
    AuditAction.CATALOG_IMPORT: "Catalog import",
    AuditAction.CATALOG_WRITE: "Catalog change",
    AuditAction.CATALOG_DELETE: "Catalog deletion",
    AuditAction.MEDIA_UPLOAD: "Picture upload",
    AuditAction.KEY_ROTATE: "Signing key rotation",
    AuditAction.KEY_REVOKE: "Signing key revocation",
    AuditAction.SERIALS_REVOKE: "Serial revocation",
    AuditAction.SUSPECT_ADD: "Suspect added",
    AuditAction.SUSPECT_CLEAR: "Suspect cleared",
    AuditAction.TRUST_PUBLISH: "Trust list published",
    AuditAction.ROOT_DELEGATE: "Root key delegation",
    AuditAction.ROOT_ROTATE: "Root key rotation",
    AuditAction.STATION_ADD: "Station added",
    AuditAction.STATION_DISABLE: "Station disabled",
    AuditAction.STATION_ENABLE: "Station enabled",
    AuditAction.STATION_ROTATE_TOKEN: "Station token renewed",
    AuditAction.STATION_RETIRE: "Station retired",
    AuditAction.STATION_SCOPE: "Station scope changed",
    AuditAction.CLONE_APPROVE: "Suspect published",
    AuditAction.CLONE_DISMISS: "Suspect dismissed",
    AuditAction.ADMIN_ADD: "API credential added",
    AuditAction.ADMIN_DISABLE: "API credential disabled",
    AuditAction.ADMIN_ROTATE: "API credential renewed",
    AuditAction.USER_ADD: "Account added",
    AuditAction.USER_DISABLE: "Account disabled",
    AuditAction.USER_RESET: "Password reset",
    AuditAction.USER_SIGN_IN: "Sign-in",
    AuditAction.USER_LOCKED: "Account locked",
    AuditAction.RESTORE: "Registry restored",
}

console_text.add_strings(
    {
        "Catalog import": "Nhập danh mục từ tệp",
        "Catalog change": "Sửa danh mục",
        "Catalog deletion": "Xoá khỏi danh mục",
        "Picture upload": "Tải ảnh lên",
        "Signing key rotation": "Đổi khoá ký",
        "Signing key revocation": "Thu hồi khoá ký",
        "Serial revocation": "Thu hồi số sê-ri",
        "Suspect added": "Thêm tem nghi giả",
        "Suspect cleared": "Gỡ tem nghi giả",
        "Trust list published": "Phát hành danh sách tin cậy",
        "Root key delegation": "Uỷ quyền khoá gốc",
        "Root key rotation": "Đổi khoá gốc",
        "Station added": "Thêm trạm",
        "Station disabled": "Tạm dừng trạm",
        "Station enabled": "Mở lại trạm",
        "Station token renewed": "Cấp lại mã truy cập của trạm",
        "Station retired": "Ngừng hẳn trạm",
        "Station scope changed": "Đổi phạm vi của trạm",
        "Suspect published": "Công bố tem nghi giả",
        "Suspect dismissed": "Bỏ qua tem nghi giả",
        "API credential added": "Thêm mã truy cập API",
        "API credential disabled": "Khoá mã truy cập API",
        "API credential renewed": "Cấp lại mã truy cập API",
        "Account added": "Thêm tài khoản",
        "Account disabled": "Khoá tài khoản",
        "Password reset": "Đặt lại mật khẩu",
        "Sign-in": "Đăng nhập",
        "Account locked": "Tài khoản bị tạm khoá",
        "Registry restored": "Khôi phục hệ thống",
        # the page
        "Every change to the registry: who made it, when, and what it was before and after. "
        "Nothing can be changed here.": (
            "Mọi thay đổi trong hệ thống: ai thực hiện, khi nào, trước và sau khi thay đổi. "
            "Trang này chỉ để xem."
        ),
        "Filter": "Lọc",
        "Who": "Người thực hiện",
        "Action": "Hành động",
        "Target": "Đối tượng",
        "From (day)": "Từ ngày",
        "To (day)": "Đến ngày",
        "Any": "Tất cả",
        "Show": "Xem",
        "Clear the filters": "Bỏ lọc",
        "When (Vietnam time)": "Thời điểm (giờ Việt Nam)",
        "Before": "Trước",
        "After": "Sau",
        "Details": "Chi tiết",
        "From": "Từ máy",
        "(new)": "(mới)",
        "(empty)": "(trống)",
        "{total} entries; page {page} of {pages}": "{total} mục; trang {page}/{pages}",
        "No entry matches these filters.": "Không có mục nào khớp bộ lọc.",
        "Newer": "Mới hơn",
        "Older": "Cũ hơn",
        "Pages": "Trang",
        "and {n} more changed records (not kept in the log)": (
            "và {n} bản ghi thay đổi khác (không lưu chi tiết)"
        ),
        "A day is YYYY-MM-DD.": "Ngày viết theo dạng NNNN-TT-NN.",
    }
)


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
        local_time(entry.at),
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
