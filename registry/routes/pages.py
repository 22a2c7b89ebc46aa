"""HTML routes: the index, the public stamp page (what a phone opens after scanning a
stamp), the reports page and the stylesheet. The rendering is in registry/pages.py."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from registry import pages, reports
from registry.auth import bearer_token, is_admin_token
from registry.deps import ConfigDep, DatabaseDep, KeyRingDep


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


def reports_page(
    request: Request, config: ConfigDep, database: DatabaseDep, days: int = Query(30, ge=1, le=366)
) -> Response:
    token = bearer_token(request.headers.get("authorization"))
    if token is None or not is_admin_token(token, config.admin_token_hashes):
        return HTMLResponse(
            pages.message_page(
                "Cần đăng nhập / Sign in required",
                "Báo cáo chỉ dành cho văn phòng OCOP tỉnh. / "
                "Reports are for the provincial OCOP office.",
            ),
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="ocop-reports"'},
        )
    with database.read() as conn:
        report = reports.build_report(conn, config, days=days)
    return HTMLResponse(pages.reports_page(report))


def static(name: str) -> Response:
    if name != "style.css":
        raise HTTPException(404, "not found")
    return Response(
        pages.CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )
