"""The provincial OCOP office's console under /console (issue 16): sign-in, sign-out, the
language switch, the home page and the sections' pages. Jinja2 templates in
registry/templates/console (autoescaped), strings in the registry's gettext catalog
(registry/i18n, through console_text.gettext).

Access: every page but sign-in takes ConsoleDep (registry/deps.py): a live session and the
role the endpoint declares with @needs_role (admin when it declares none). Forms are POSTs
with the CSRF token of the session (or, on the sign-in page, of the sign-in cookie), which
CsrfMiddleware checks; nothing changes on a GET.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ocop.clock import vietnam_day, vietnam_time_text
from registry import audit, clones, console_text, pages, sessions, users
from registry.admins import AdminRole
from registry.audit import AuditAction
from registry.csrf import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    VERIFIED_STATE,
    cookie_credential,
    request_cookie_name,
    served_securely,
    token_for_request,
)
from registry.dal import console as console_rows
from registry.deps import (
    ConsoleCaller,
    ConsoleDep,
    DatabaseDep,
    RoleRefused,
    SignInRequired,
    client_address,
    needs_role,
    session_id_of,
)
from registry.i18n import N_

PREFIX = "/console"
SIGN_IN = f"{PREFIX}/sign-in"
LANG_COOKIE = "ocop_lang"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "console"
CSS_PATH = Path(__file__).resolve().parent.parent / "static" / "console.css"
ROLE_LABELS = {
    AdminRole.VIEWER: N_("Viewer"),
    AdminRole.EDITOR: N_("Editor"),
    AdminRole.ADMIN: N_("Administrator"),
}
ROLE_DESCRIPTIONS = {
    AdminRole.VIEWER: N_("You can view everything; you cannot change anything."),
    AdminRole.EDITOR: N_("You can view everything and change the catalog."),
    AdminRole.ADMIN: N_("You can view and change everything."),
}
MESSAGES = {
    "refused": N_(
        "Wrong user name or password, or the account is locked for a while after too "
        "many failed attempts."
    ),
    "cookies": N_("Your browser must accept cookies to sign in. Reload this page and try again."),
    "signed_out": N_("You have signed out."),
}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# {{ row.created_at | when }}: a stored UTC time as Vietnam time, "03/12/2026 17:48"
_env.filters["when"] = vietnam_time_text
_env.globals["local_time"] = vietnam_time_text  # the same, as a call: local_time(row.at)


def _day(value) -> str:
    """{{ rating.valid_until | day }}: a stored day as Vietnam writes it, "31/12/2027"."""
    try:
        return pages.date_text(value)
    except ValueError:  # not a day: shown as it is (it is escaped like any text)
        return str(value)


_env.filters["day"] = _day


class Section(enum.Enum):
    """The console's navigation: (slug, English label, least role that may open it)."""

    CATALOG = ("catalog", N_("Catalog"), AdminRole.VIEWER)
    STATIONS = ("stations", N_("Stations"), AdminRole.VIEWER)
    STAMPS = ("stamps", N_("Stamps"), AdminRole.VIEWER)
    SUSPECTS = ("suspects", N_("Suspects"), AdminRole.VIEWER)
    FLEET = ("fleet", N_("Fleet"), AdminRole.VIEWER)
    AUDIT = ("audit", N_("Audit"), AdminRole.VIEWER)  # read-only for every role (issue 16)
    REPORTS = ("reports", N_("Reports"), AdminRole.VIEWER)
    USERS = ("users", N_("Users"), AdminRole.ADMIN)

    @property
    def slug(self) -> str:
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]

    @property
    def role(self) -> AdminRole:
        return self.value[2]

    @property
    def href(self) -> str:
        return f"{PREFIX}/{self.slug}"


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    current: bool


def language(request: Request) -> str:
    chosen = request.cookies.get(request_cookie_name(request, LANG_COOKIE))
    if chosen in console_text.LANGUAGES:
        return chosen
    return pages.pick_language(None, request.headers.get("accept-language"))


def _nav(caller: ConsoleCaller | None, current: str) -> list[NavItem]:
    if caller is None:
        return []
    items = [NavItem(PREFIX, N_("Home"), current == "home")]
    items += [
        NavItem(s.href, s.label, current == s.slug)
        for s in Section
        if caller.principal.role.allows(s.role)
    ]
    return items


def render(
    request: Request,
    template: str,
    caller: ConsoleCaller | None,
    current: str = "",
    status: int = 200,
    csrf_token: str | None = None,
    cookies: list[tuple[str, str | None]] = (),  # type: ignore[assignment]
    **context,
) -> HTMLResponse:
    lang = language(request)

    def _(msgid: str, **values) -> str:
        return console_text.gettext(lang, msgid, **values)

    html = _env.get_template(template).render(
        _=_,
        lang=lang,
        other_lang="en" if lang == "vi" else "vi",
        caller=caller,
        role_label=ROLE_LABELS[caller.principal.role] if caller else "",
        nav=_nav(caller, current),
        csrf_token=token_for_request(request) if csrf_token is None else csrf_token,
        # Where the language switch returns: this page, unless it answers a POST (a
        # confirmation: the page the form was on).
        back=context.pop("back", None) or request.url.path,
        logo=pages.LOGO,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    for name, value in cookies:
        _set_cookie(request, response, name, value)
    return response


def _set_cookie(request: Request, response: Response, base: str, value: str | None) -> None:
    """Set (or with None delete) one of the console's cookies: HttpOnly, SameSite=Strict,
    Path=/, and over HTTPS Secure with the __Host- prefix (registry/csrf.py)."""
    secure = served_securely(request.url.scheme, request.app.state.config.public_base_url)
    name = request_cookie_name(request, base)
    if value is None:
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")
    else:
        response.set_cookie(name, value, path="/", secure=secure, httponly=True, samesite="strict")


# ---- sign-in and sign-out --------------------------------------------------------------


def _signed_in(request: Request, database) -> bool:
    session_id = session_id_of(request)
    if not session_id:
        return False
    with database.read() as conn:
        return sessions.look_up(conn, session_id, dt.datetime.now(dt.UTC)) is not None


def _sign_in_form(
    request: Request, message: str = "", status: int = 200, name: str = "", **extra
) -> HTMLResponse:
    """The sign-in page with a fresh sign-in cookie, its form's token bound to it; any
    session cookie is deleted (it is dead, or the browser would not be here)."""
    value = secrets.token_urlsafe(32)
    token = request.app.state.csrf.token_for(cookie_credential(SIGN_IN_COOKIE, value))
    return render(
        request,
        "sign_in.html",
        None,
        status=status,
        csrf_token=token,
        cookies=[(SESSION_COOKIE, None), (SIGN_IN_COOKIE, value)],
        message=message,
        name=name,
        **extra,
    )


def sign_in_page(request: Request, database: DatabaseDep) -> Response:
    if _signed_in(request, database):
        return RedirectResponse(PREFIX, status_code=303)
    message = MESSAGES["signed_out"] if request.query_params.get("signed_out") else ""
    return _sign_in_form(request, message, polite=True)


def sign_in(
    request: Request,
    database: DatabaseDep,
    name: str = Form("", max_length=64),
    password: str = Form("", max_length=users.MAX_PASSWORD_CHARS),
) -> Response:
    if not getattr(request.state, VERIFIED_STATE, False):
        # No sign-in cookie came back (cookies off, or a form from elsewhere).
        return _sign_in_form(request, MESSAGES["cookies"], status=400, name=name)
    client = client_address(request)
    limiter = request.app.state.sign_in_limiter
    wait_s = limiter.retry_after_s(client)
    if wait_s is not None:
        lang = language(request)
        text = console_text.gettext(
            lang,
            N_("Too many failed sign-ins from this computer. Try again in {minutes} min."),
            minutes=math.ceil(wait_s / 60),
        )
        response = _sign_in_form(request, text, status=429, name=name)
        response.headers["Retry-After"] = str(wait_s)
        return response
    now = dt.datetime.now(dt.UTC)
    name = name.strip().lower()
    refused: users.SignInRefused | None = None
    with database.write() as conn:
        try:
            who = users.sign_in(conn, name, password, now)
        except users.SignInRefused as exc:
            refused = exc
            if exc.locked_now:
                audit.record(conn, name, AuditAction.USER_LOCKED, f"user:{name}", client)
        else:
            sessions.end(conn, session_id_of(request))  # whatever came before: never reused
            sessions.purge_expired(conn, now)
            session_id = sessions.start(conn, who.user_id, client, now)
            audit.record(conn, name, AuditAction.USER_SIGN_IN, f"user:{name}", client)
    if refused is not None:
        limiter.failed(client)
        return _sign_in_form(request, MESSAGES["refused"], status=401, name=name)
    redirect = RedirectResponse(PREFIX, status_code=303)
    _set_cookie(request, redirect, SESSION_COOKIE, session_id)
    _set_cookie(request, redirect, SIGN_IN_COOKIE, None)
    return redirect


@needs_role(AdminRole.VIEWER)
def sign_out(request: Request, caller: ConsoleDep, database: DatabaseDep) -> Response:
    with database.write() as conn:
        sessions.end(conn, caller.session_id)
    response = RedirectResponse(f"{SIGN_IN}?signed_out=1", status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, None)
    return response


def choose_language(
    request: Request, lang: str = Form(""), back: str = Form(PREFIX, max_length=200)
) -> Response:
    """The vi/en switch (a form: a preference cookie, no server state)."""
    if lang not in console_text.LANGUAGES:
        raise HTTPException(422, f"language: one of {', '.join(console_text.LANGUAGES)}")
    # Only back to a console page of this host (never an open redirect).
    if not back.startswith(PREFIX) or "//" in back or "\\" in back:
        back = PREFIX
    response = RedirectResponse(back, status_code=303)
    _set_cookie(request, response, LANG_COOKIE, lang)
    return response


# ---- pages -----------------------------------------------------------------------------


@needs_role(AdminRole.VIEWER)
def home(request: Request, caller: ConsoleDep, database: DatabaseDep) -> Response:
    since = (vietnam_day(dt.datetime.now(dt.UTC)) - dt.timedelta(days=29)).isoformat()
    with database.read() as conn:
        counts = console_rows.home_counts(conn, since, clones.DetectionStatus.PENDING.value)
    return render(
        request,
        "home.html",
        caller,
        "home",
        counts=counts,
        role_description=ROLE_DESCRIPTIONS[caller.principal.role],
    )


def section_placeholder(section: Section):
    """The page of a section whose pages are not built yet."""

    @needs_role(section.role)
    def page(request: Request, caller: ConsoleDep) -> Response:
        return render(request, "section.html", caller, section.slug, section=section)

    page.__name__ = f"console_{section.slug}"
    return page


# ---- wiring ----------------------------------------------------------------------------


def _sign_in_required(request: Request, exc: Exception) -> Response:
    if request.method in ("GET", "HEAD"):
        return RedirectResponse(SIGN_IN, status_code=303)
    return _sign_in_form(request, status=401)


def _role_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RoleRefused)
    return render(
        request,
        "refused.html",
        exc.caller,
        status=403,
        needed=ROLE_LABELS[exc.needed],
    )


def install(app: FastAPI) -> None:
    users.warm_up()  # the dummy hash: the first unknown name is not slower than the rest
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(RoleRefused, _role_refused)


def build_router() -> APIRouter:
    # Each section's pages live in their own module (registry/routes/console_<slug>.py),
    # imported here, after this module, because they build on render() and Section.
    from registry.routes import (
        console_audit,
        console_catalog,
        console_fleet,
        console_stations,
        console_suspects,
        console_transfer,
        console_users,
    )

    router = APIRouter(include_in_schema=False)
    router.add_api_route(PREFIX, home, methods=["GET"])
    router.add_api_route(SIGN_IN, sign_in_page, methods=["GET"])
    router.add_api_route(SIGN_IN, sign_in, methods=["POST"])
    router.add_api_route(f"{PREFIX}/sign-out", sign_out, methods=["POST"])
    router.add_api_route(f"{PREFIX}/language", choose_language, methods=["POST"])
    built: set[Section] = set()
    for module in (
        console_catalog,
        console_stations,
        console_suspects,
        console_fleet,
        console_audit,
        console_users,
        console_transfer,
    ):
        router.include_router(module.router)
        built |= set(module.SECTIONS)
    for section in Section:
        if section not in built:
            router.add_api_route(section.href, section_placeholder(section), methods=["GET"])
    return router


def stylesheet() -> str:
    return CSS_PATH.read_text("utf-8")


def static_text(name: str) -> str:
    """A file of registry/static the console's pages load (its own scripts)."""
    return (CSS_PATH.parent / name).read_text("utf-8")
