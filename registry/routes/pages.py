"""HTML routes: the index, the public stamp page (what a phone opens after scanning a
stamp), the reports page and the stylesheet. The rendering is in registry/pages.py."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from registry import admins, audit, pages, reports
from registry.admins import BOOTSTRAP_NAME, AdminRole
from registry.csrf import token_for_request
from registry.deps import ConfigDep, DatabaseDep, KeyRingDep, needs_role, require_admin

AUDIT_ON_PAGE = 50  # newest audit entries on the reports page


def build_router(stamp_path_prefix: str) -> APIRouter:
    """The pages, with the stamp page under `stamp_path_prefix` ('/S/') and under its lower
    case too (phones may lowercase a URL). The routes are matched in this order."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    router.add_api_route(
        stamp_path_prefix.rstrip("/") + "/{code}",
        stamp_page,
        methods=["GET"],
        name="stamp_page_upper",
        include_in_schema=False,
    )
    if stamp_path_prefix != stamp_path_prefix.lower():
        router.add_api_route(
            stamp_path_prefix.lower().rstrip("/") + "/{code}",
            stamp_page,
            methods=["GET"],
            name="stamp_page_lower",
            include_in_schema=False,
        )
    router.add_api_route("/reports", reports_page, methods=["GET"], include_in_schema=False)
    router.add_api_route("/static/{name}", static, methods=["GET"], include_in_schema=False)
    return router


def index() -> HTMLResponse:
    return HTMLResponse(pages.index_page())


def stamp_page(
    code: str, request: Request, config: ConfigDep, database: DatabaseDep, keyring: KeyRingDep
) -> HTMLResponse:
    lang = pages.pick_language(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    with database.read() as conn:
        status, html = pages.stamp_page(conn, config, keyring, code, lang)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@needs_role(AdminRole.VIEWER)
def reports_page(
    request: Request, config: ConfigDep, database: DatabaseDep, days: int = Query(30, ge=1, le=366)
) -> Response:
    """Any admin role; the audit log section only for the admin role."""
    try:
        who = require_admin(request)
    except HTTPException as exc:
        if exc.status_code not in (401, 403):  # 403: a station token (viewer is the least role)
            raise
        return HTMLResponse(
            pages.message_page(
                "Cần đăng nhập / Sign in required",
                "Báo cáo chỉ dành cho văn phòng OCOP tỉnh. / "
                "Reports are for the provincial OCOP office.",
            ),
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="ocop-reports"'},
        )
    notices = []
    with database.read() as conn:
        report = reports.build_report(conn, config, days=days)
        entries = audit.recent(conn, AUDIT_ON_PAGE) if who.role is AdminRole.ADMIN else None
        if config.admin_token_hashes and admins.count_enabled(conn):
            notices.append(
                f"The {BOOTSTRAP_NAME} admin token ($OCOP_REGISTRY_ADMIN_TOKEN / "
                "--admin-token-file) is still configured although named admins exist: "
                "remove it from the service's settings."
            )
    html = pages.reports_page(report, entries, notices, who.name, token_for_request(request))
    return HTMLResponse(html)


def static(name: str) -> Response:
    if name != "style.css":
        raise HTTPException(404, "not found")
    return Response(
        pages.CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )
