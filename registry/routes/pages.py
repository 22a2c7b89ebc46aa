"""HTML routes: the index, the public stamp page (what a phone opens after scanning a
stamp) and its report form, the reports page (with the clone-detection buttons) and the
stylesheet. The rendering is in registry/pages.py."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ocop.i18n import LANGUAGES
from ocop.stamps.verdicts import COUNTED_FOR_CLONES
from registry import (
    admins,
    audit,
    clones,
    lookups,
    pages,
    phone_page,
    phone_paths,
    public_reports,
    reports,
)
from registry.admins import BOOTSTRAP_NAME, AdminRole, Principal
from registry.csrf import FORM_TYPE, token_for_request
from registry.dal import stamp_reports
from registry.deps import (
    ConfigDep,
    DatabaseDep,
    KeyRingDep,
    VerifiersDep,
    client_address,
    needs_role,
    require_admin,
)
from registry.public_reports import FormProblem, PostedForm
from registry.ratelimit import RequestLimit, Scope, request_limiter
from registry.routes import console as console_routes

log = logging.getLogger(__name__)
AUDIT_ON_PAGE = 50  # newest audit entries on the reports page
REPORTS_ON_PAGE = 100  # newest stamp reports on the reports page
REPORT_WINDOW_S = 3600.0  # config.reports_per_hour


def build_router() -> APIRouter:
    """The pages but the stamp page and its beacon (phone_routes: registry/phone_paths.py
    answers them ahead of the app's stack)."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    router.add_api_route("/check", check_serial, methods=["GET"], include_in_schema=False)
    router.add_api_route("/report", post_report, methods=["POST"], include_in_schema=False)
    router.add_api_route("/reports", reports_page, methods=["GET"], include_in_schema=False)
    router.add_api_route(
        "/reports/detections/{detection_id}/{action}",
        decide_detection,
        methods=["POST"],
        include_in_schema=False,
    )
    router.add_api_route("/static/{name}", static, methods=["GET"], include_in_schema=False)
    return router


def phone_routes(stamp_path_prefix: str) -> dict[str, phone_paths.Endpoint]:
    """The stamp page under `stamp_path_prefix` ('/S/') and under its lower case too (phones
    may lowercase a URL), and its beacon under /v/."""
    prefix = stamp_path_prefix.rstrip("/") + "/"
    return {prefix: stamp_page, prefix.lower(): stamp_page, "/v/": view_beacon}


def _lang_and_switch(request: Request) -> tuple[str, str]:
    """The visitor's language and the link to the same page in the other one."""
    lang = pages.pick_language(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    other = "en" if lang == "vi" else "vi"
    return lang, pages.switch_href(request.url.path, request.query_params.multi_items(), other)


def _html(html: str, status: int = 200, **headers: str) -> HTMLResponse:
    # Vary: the same URL answers in the Accept-Language's language.
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Cache-Control": "no-store", "Vary": "Accept-Language", **headers},
    )


def index(request: Request, config: ConfigDep) -> HTMLResponse:
    lang, switch = _lang_and_switch(request)
    return _html(pages.index_page(pages.Site.of(config), lang, switch))


def _lookup_limiter(request: Request, config) -> RequestLimit:
    state = request.app.state
    if getattr(state, "lookup_limiter", None) is None:  # one per app, made on first use
        state.lookup_limiter = request_limiter(
            state.database,
            Scope.LOOKUP,
            config.lookups_per_minute,
            lookups.WINDOW_S,
            config.rate_limit_max_clients,
        )
    return state.lookup_limiter


def check_serial(
    request: Request, config: ConfigDep, database: DatabaseDep, serial: str = ""
) -> HTMLResponse:
    """A serial typed from a damaged label (GET form): what the registry knows of it."""
    lang, switch = _lang_and_switch(request)
    if not _lookup_limiter(request, config).allow(client_address(request)):
        page = pages.serial_page(None, config, serial[:64], lang, switch, limited=True)
        return _html(page.html, page.status, **{"Retry-After": "60"})
    with database.read() as conn:
        page = pages.serial_page(conn, config, serial[:64], lang, switch)
    return _html(page.html, page.status)


async def stamp_page(code: str, request: Request) -> Response:
    """One statement per view (registry/phone_page.py); the view is queued for the batched
    log (registry/views.py), so the page counts it without writing. The campaign's hot
    path, so: async and the one statement run inline, app.state read here rather than
    through Depends (FastAPI's solver per request). Inline on PostgreSQL too, measured: one
    indexed statement's round trip (~0.2 ms on a local server) stalls the event loop less
    than the thread pool's hop and GIL hand-offs cost (bench/registry_load.py stamp-page:
    450 against 207 req/s, 2.0 against 3.8 ms CPU a view); with a distant database, run
    more workers (serve --workers)."""
    state = request.app.state
    config, database, views = state.config, state.database, state.views
    lang, switch = _lang_and_switch(request)
    today = dt.datetime.now(dt.UTC).date()
    viewed = _look(state, code, today)
    serial = _record_view(request, views, viewed)
    facts = None
    if viewed.state is not None and viewed.judged.serial is not None:
        facts = phone_page.facts(viewed.state, views.pending(viewed.judged.serial))
    tag = None  # only a page a cache may keep has a validator
    if facts is not None and viewed.cacheable:
        gzip = "gzip" in request.headers.get("accept-encoding", "")  # GZipMiddleware's test
        tag = phone_page.etag(viewed, facts, lang, switch, request.url.path, gzip * "gzip")
    headers = {**phone_page.headers(viewed, tag), "Vary": "Accept-Language"}
    if tag is not None and phone_page.matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    needs_form = viewed.judged.verdict.tone in pages.HELP_TONES or serial is None
    product = viewed.product
    page = pages.stamp_page(
        config,
        viewed.judged,
        facts,
        product.product if product else None,
        product.producer if product else None,
        product.related if product else [],
        lang,
        today,
        switch=switch,
        path=request.url.path,
        report_secret=(await run_in_threadpool(_report_secret, request, database))
        if needs_form
        else None,
    )
    return HTMLResponse(page.html, status_code=page.status, headers=headers)


def _look(state, code: str, today: dt.date) -> phone_page.Viewed:
    with state.database.snapshot(replica=True) as conn:
        return phone_page.look(conn, state.page_caches, state.config, code, today)


async def view_beacon(code: str, request: Request) -> Response:
    """GET /v/<code>: the stamp page's beacon (a 1x1 image, never cached). Counts the view
    of a page a proxy or the phone kept; the code is judged again like the page (one
    statement), so only a genuine stamp's view counts, and a repeat of the page's own view
    (same client, same hour) is the same view."""
    state = request.app.state
    viewed = _look(state, code, dt.datetime.now(dt.UTC).date())
    _record_view(request, state.views, viewed)
    return Response(
        phone_page.PIXEL_GIF, media_type="image/gif", headers={"Cache-Control": "no-store"}
    )


def _record_view(request: Request, views, viewed) -> int | None:
    """Queue the view of a verified stamp whose views count (registry/views.py); its
    serial, or None."""
    serial = viewed.judged.serial
    if serial is None or viewed.judged.verdict not in COUNTED_FOR_CLONES:
        return None
    views.add(serial, client_address(request), request.headers.get("user-agent", ""))
    return serial


def _report_secret(request: Request, database) -> bytes:
    """The report form tokens' secret (in the database, so every process agrees), read
    once per app."""
    state = request.app.state
    if getattr(state, "report_secret", None) is None:
        with database.write() as conn:
            state.report_secret = public_reports.form_secret(conn)
    return state.report_secret


def _report_limiter(request: Request, config) -> RequestLimit:
    state = request.app.state
    if getattr(state, "report_limiter", None) is None:
        state.report_limiter = request_limiter(
            state.database,
            Scope.REPORT,
            config.reports_per_hour,
            REPORT_WINDOW_S,
            config.rate_limit_max_clients,
        )
    return state.report_limiter


async def post_report(
    request: Request, config: ConfigDep, database: DatabaseDep, verifiers: VerifiersDep
) -> HTMLResponse:
    """The stamp page's report form (registry/public_reports.py): the thank-you page, or
    why nothing was stored. Limited per client before the body is even read."""
    lang, _ = _lang_and_switch(request)
    site = pages.Site.of(config)
    # In a thread: on PostgreSQL the count is a statement (shared by every worker).
    allowed = await run_in_threadpool(
        _report_limiter(request, config).allow, client_address(request)
    )
    if not allowed:
        return _report_refused(site, lang, FormProblem.LIMITED, None, Retry_After="3600")
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > public_reports.MAX_FORM_BYTES):
        return _report_refused(site, lang, FormProblem.TOO_LARGE, None)
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        return _report_refused(site, lang, FormProblem.NOT_A_FORM, None)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > public_reports.MAX_FORM_BYTES:
            return _report_refused(site, lang, FormProblem.TOO_LARGE, None)
    user_agent = request.headers.get("user-agent", "")
    return await run_in_threadpool(
        _store_report,
        request,
        config,
        database,
        verifiers,
        body,
        lang,
        site,
        public_reports.coarse_network(client_address(request)),
        public_reports.coarse_agent(user_agent),
    )


def _store_report(
    request: Request, config, database, verifiers, body: bytes, lang: str, site, network, agent
) -> HTMLResponse:
    sent = public_reports.parse_body(body)
    if isinstance(sent, FormProblem):
        return _report_refused(site, lang, sent, None)
    lang = sent.lang if sent.lang in LANGUAGES else lang
    if not sent.token:
        return _report_refused(site, lang, FormProblem.TOKEN_MISSING, sent)
    if not sent.code or len(sent.code) > public_reports.MAX_CODE_CHARS:
        return _report_refused(site, lang, FormProblem.BAD_FIELDS, sent)
    secret = _report_secret(request, database)
    today = dt.datetime.now(dt.UTC).date()
    with database.write() as conn:
        judged = pages.judge_code(config, verifiers.for_connection(conn), sent.code, today)
        nonce = public_reports.check_token(secret, judged.report_subject, sent.token)
        if isinstance(nonce, FormProblem):
            return _report_refused(site, lang, nonce, sent)
        if stamp_reports.nonce_used(conn, nonce):
            return _report_refused(site, lang, FormProblem.TOKEN_USED, sent)
        valid = public_reports.validate(sent)
        if isinstance(valid, FormProblem):
            return _report_refused(site, lang, valid, sent)
        report_id = stamp_reports.add(
            conn,
            nonce,
            serial=judged.serial,
            code=judged.payload,
            verdict=judged.verdict.value,
            problem=valid.problem.value,
            where_bought=valid.where_bought,
            phone=valid.phone,
            callback_consent=valid.callback_consent,
            lang=lang,
            client_network=network,
            client_agent=agent,
        )
    if report_id is None:  # the same token in a concurrent request won
        return _report_refused(site, lang, FormProblem.TOKEN_USED, sent)
    log.info("stamp report %s: serial %s, %s", report_id, judged.serial, valid.problem.value)
    html = pages.report_thanks_page(
        site, lang, _stamp_switch(sent.code, lang), report_id, judged.payload
    )
    return _html(html, 200)


def _stamp_switch(code: str, lang: str) -> str:
    """The other language's link on a report result: the stamp page (GET /report is none)."""
    other = "en" if lang == "vi" else "vi"
    if code and len(code) <= public_reports.MAX_CODE_CHARS:
        return f"/S/{quote(code, safe='')}?lang={other}"
    return f"/?lang={other}"


def _report_refused(
    site, lang: str, problem: FormProblem, sent: PostedForm | None, **headers: str
) -> HTMLResponse:
    switch = _stamp_switch(sent.code if sent else "", lang)
    html = pages.report_refused_page(site, lang, switch, problem, sent)
    return _html(html, problem.status, **{k.replace("_", "-"): v for k, v in headers.items()})


def _signed_in(request: Request) -> Principal | HTMLResponse:
    """The admin calling (any role: the endpoint declares its least role), or the page
    asking a browser to sign in."""
    try:
        return require_admin(request)
    except HTTPException as exc:
        if exc.status_code not in (401, 403):  # 403: a station token, or a lower role
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


def decide_detection(
    detection_id: int,
    action: str,
    request: Request,
    database: DatabaseDep,
    keyring: KeyRingDep,
) -> Response:
    """The reports page's approve / dismiss buttons (POST forms with the page's CSRF
    token: registry/csrf.py); admin role."""
    who = _signed_in(request)
    if isinstance(who, HTMLResponse):
        return who
    try:
        decision = clones.Decision(action)
    except ValueError:
        raise HTTPException(404, "not found") from None
    try:
        with database.write() as conn:
            clones.decide(conn, keyring, detection_id, decision, who.name, client_address(request))
    except clones.DecisionError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return RedirectResponse(f"/reports#detection-{detection_id}", status_code=303)


@needs_role(AdminRole.VIEWER)
def reports_page(
    request: Request, config: ConfigDep, database: DatabaseDep, days: int = Query(30, ge=1, le=366)
) -> Response:
    """Any admin role; the audit log section only for the admin role."""
    who = _signed_in(request)
    if isinstance(who, HTMLResponse):
        return who
    notices = []
    with database.read(replica=True) as conn:  # may lag the primary: docs/registry.md
        report = reports.build_report(conn, config, days=days)
        entries = audit.recent(conn, AUDIT_ON_PAGE) if who.role is AdminRole.ADMIN else None
        shoppers = stamp_reports.recent(conn, REPORTS_ON_PAGE)
        if config.admin_token_hashes and admins.count_enabled(conn):
            notices.append(
                f"The {BOOTSTRAP_NAME} admin token ($OCOP_REGISTRY_ADMIN_TOKEN / "
                "--admin-token-file) is still configured although named admins exist: "
                "remove it from the service's settings."
            )
    html = pages.reports_page(
        report, entries, notices, who.name, token_for_request(request), shoppers
    )
    return HTMLResponse(html)


STATIC = {
    "style.css": (pages.CSS, "text/css"),
    "share.js": (pages.SHARE_JS, "text/javascript"),
    "console.css": (console_routes.stylesheet(), "text/css"),
    "console-crop.js": (console_routes.static_text("console-crop.js"), "text/javascript"),
}


def static(name: str) -> Response:
    if name not in STATIC:
        raise HTTPException(404, "not found")
    content, media_type = STATIC[name]
    return Response(
        content, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
    )
