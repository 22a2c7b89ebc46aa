"""FastAPI dependencies: what a route handler gets from the app (settings, database, key
ring, all stored on `app.state` by create_app) and who is calling (token checks).

    ConfigDep    the RegistryConfig            DatabaseDep   the db.Database
    KeyRingDep   the signing.KeyRing           StationDep    the calling station (401/403)
    ReaderDep    a station's or admin's name   require_admin  a route/router dependency
    AdminDep     the calling admin (Principal: name and role, for checks and the audit log)
    ClientDep    the caller's address as the audit log records it
    ConsoleDep   the signed-in console user (session cookie; registry/sessions.py)
    VerifiersDep verification.Verifiers        ViewsDep      views.ViewLog
    PageCachesDep phone_page.PageCaches

Admin roles: every route that uses require_admin/AdminDep needs the role its endpoint
declares with `@needs_role(AdminRole.X)`, and AdminRole.ADMIN when it declares none (a
new route is admin-only until someone decides otherwise). 403 names the role needed. The
console's pages (ConsoleDep) use the same declarations and the same AdminRole.

Every token check goes through `authenticate`: failed ones count against the client's
address (registry/ratelimit.py, 429 + Retry-After), and HTTP Basic credentials are taken
only for GET/HEAD of HTML pages or a form post with its CSRF token (registry/csrf.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Connection

from registry import admins, sessions, views
from registry.admins import BOOTSTRAP_NAME, AdminRole, Principal
from registry.auth import (
    Credential,
    Station,
    is_admin_token,
    parse_authorization,
    station_for_token,
)
from registry.config import RegistryConfig
from registry.csrf import SAFE_METHODS, SESSION_COOKIE, VERIFIED_STATE, request_cookie_name
from registry.db import TIME_FORMAT, Database, utc_now
from registry.phone_page import PageCaches
from registry.routes import API
from registry.signing import KeyRing
from registry.users import SignedIn
from registry.verification import Verifiers
from registry.views import ViewLog

ROLE_ATTR = "ocop_admin_role"
F = TypeVar("F", bound=Callable[..., Any])


# The app.state getters are async: FastAPI runs a plain def dependency in the thread pool,
# one thread hop (~0.1 ms) per dependency and request for a dictionary look-up.
async def get_config(request: Request) -> RegistryConfig:
    return request.app.state.config


async def get_database(request: Request) -> Database:
    return request.app.state.database


async def get_keyring(request: Request) -> KeyRing:
    return request.app.state.keyring


async def get_verifiers(request: Request) -> Verifiers:
    return request.app.state.verifiers


async def get_views(request: Request) -> ViewLog:
    return request.app.state.views


async def get_page_caches(request: Request) -> PageCaches:
    return request.app.state.page_caches


ConfigDep = Annotated[RegistryConfig, Depends(get_config)]
DatabaseDep = Annotated[Database, Depends(get_database)]
KeyRingDep = Annotated[KeyRing, Depends(get_keyring)]
VerifiersDep = Annotated[Verifiers, Depends(get_verifiers)]
ViewsDep = Annotated[ViewLog, Depends(get_views)]
PageCachesDep = Annotated[PageCaches, Depends(get_page_caches)]


def client_address(request: Request) -> str:
    """The caller's address as the audit log, the rate limit and phone views see it: the
    TCP peer, or the X-Forwarded-For hop a configured trusted proxy names (registry/views)."""
    config: RegistryConfig = request.app.state.config
    return views.client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        config.trusted_proxies,
    )


def needs_role(role: AdminRole) -> Callable[[F], F]:
    """Declare the admin role an endpoint needs (put it under the @router.get line)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, ROLE_ATTR, role)
        return endpoint

    return mark


def _touch_if_stale(database: Database, name: str, last_used_at: str | None) -> None:
    now = dt.datetime.now(dt.UTC)
    if last_used_at:
        last = dt.datetime.strptime(last_used_at, TIME_FORMAT).replace(tzinfo=dt.UTC)
        if (now - last).total_seconds() < admins.LAST_USED_RESOLUTION_S:
            return
    with database.write() as conn:
        admins.touch(conn, name, utc_now())


def _credential(request: Request, conn: Connection) -> Credential:
    """The request's credential, after the lockout (429) and Basic-use (401) checks. The
    lockout is read on the caller's connection (PostgreSQL: one statement more in the
    transaction the request has anyway, no round trip of its own)."""
    client = client_address(request)
    limiter = request.app.state.auth_limiter
    wait_s = limiter.retry_after_s(client, conn)
    if wait_s is not None:
        raise HTTPException(
            429,
            f"too many failed token checks from {client}; try again in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )
    credential = parse_authorization(request.headers.get("authorization"))
    if credential is None:
        raise HTTPException(401, "missing bearer token")
    if credential.basic:
        page_view = request.method in SAFE_METHODS and not request.url.path.startswith(API)
        if not (page_view or getattr(request.state, VERIFIED_STATE, False)):
            raise HTTPException(
                401, "HTTP Basic is only for viewing pages in a browser; use a Bearer token"
            )
    return credential


def authenticate(request: Request) -> Principal | Station:
    """Who holds the request's token: an admin or a station. 429 while the client is
    locked out, 401 for a missing, unknown or disabled token (counted as a failure) or for
    Basic credentials where they are not accepted."""
    config: RegistryConfig = request.app.state.config
    database: Database = request.app.state.database
    with database.read() as conn:
        token = _credential(request, conn).token
        if is_admin_token(token, config.admin_token_hashes):
            return Principal(BOOTSTRAP_NAME, AdminRole.ADMIN)
        found = admins.by_token(conn, token)
        station = None if found else station_for_token(conn, token)
    if found is not None:
        principal, last_used_at = found
        _touch_if_stale(database, principal.name, last_used_at)
        return principal
    if station is not None:
        return station
    request.app.state.auth_limiter.failed(client_address(request))
    raise HTTPException(401, "unknown or disabled token")


def station_on(request: Request, conn) -> Station:
    """require_station on the caller's connection (an upload authenticates inside its one
    write transaction: no second transaction per request). Same answers: 403 for an
    admin's token, 401 (counted) for an unknown or disabled one."""
    token = _credential(request, conn).token
    station = station_for_token(conn, token)
    if station is not None:
        return station
    config: RegistryConfig = request.app.state.config
    if is_admin_token(token, config.admin_token_hashes) or admins.by_token(conn, token):
        raise HTTPException(403, "an admin token is not a station")
    request.app.state.auth_limiter.failed(client_address(request))
    raise HTTPException(401, "unknown or disabled token")


def require_station(request: Request) -> Station:
    caller = authenticate(request)
    if isinstance(caller, Principal):
        raise HTTPException(403, "an admin token is not a station")
    return caller


def needed_role(request: Request) -> AdminRole:
    """The role the request's endpoint declares (@needs_role), AdminRole.ADMIN if none."""
    return getattr(request.scope.get("endpoint"), ROLE_ATTR, AdminRole.ADMIN)


def require_admin(request: Request) -> Principal:
    """The calling admin, with at least the role the endpoint declares (default admin)."""
    caller = authenticate(request)
    if not isinstance(caller, Principal):
        raise HTTPException(403, "a station token cannot do this")
    needed = needed_role(request)
    if not caller.role.allows(needed):
        raise HTTPException(
            403,
            f"this needs the {needed.value} role; {caller.name!r} is {caller.role.value}",
        )
    return caller


class SignInRequired(Exception):
    """No live console session: a page sends the browser to the sign-in page."""


@dataclass(frozen=True)
class ConsoleCaller:
    """The signed-in console user and their session id (what their forms' CSRF token is
    bound to, and what sign-out ends)."""

    user: SignedIn
    session_id: str

    @property
    def principal(self) -> Principal:
        return self.user.principal


class RoleRefused(Exception):
    """A signed-in console user below the endpoint's role (a 403 page)."""

    def __init__(self, caller: ConsoleCaller, needed: AdminRole):
        who = caller.principal
        super().__init__(f"this needs the {needed.value} role; {who.name!r} is {who.role.value}")
        self.caller, self.needed = caller, needed


def session_id_of(request: Request) -> str:
    return request.cookies.get(request_cookie_name(request, SESSION_COOKIE), "")


def require_console_user(request: Request) -> ConsoleCaller:
    """The console's one access check: a live session (its cookie), at least the role the
    endpoint declares (viewer: read only; editor: + catalog; admin: everything; default
    admin), and for a state change the session's CSRF token (checked by CsrfMiddleware:
    here only that it did, so a cookie that came with a Bearer header is not enough)."""
    session_id = session_id_of(request)
    database: Database = request.app.state.database
    now = dt.datetime.now(dt.UTC)
    with database.read() as conn:
        found = sessions.look_up(conn, session_id, now) if session_id else None
        stale = found is not None and sessions.needs_touch(conn, session_id, now)
    if found is None:
        raise SignInRequired
    if request.method not in SAFE_METHODS and not getattr(request.state, VERIFIED_STATE, False):
        raise HTTPException(403, "CSRF token required")
    needed = needed_role(request)
    if not found.principal.role.allows(needed):
        raise RoleRefused(ConsoleCaller(found, session_id), needed)
    if stale:
        with database.write() as conn:
            sessions.touch(conn, session_id, now)
    return ConsoleCaller(found, session_id)


def require_reader(request: Request) -> str:
    """A station or any admin (catalog and trust list readers): the caller's name."""
    caller = authenticate(request)
    return caller.name


StationDep = Annotated[Station, Depends(require_station)]
ConsoleDep = Annotated[ConsoleCaller, Depends(require_console_user)]
ReaderDep = Annotated[str, Depends(require_reader)]
AdminDep = Annotated[Principal, Depends(require_admin)]
ClientDep = Annotated[str, Depends(client_address)]

__all__ = [
    "AdminDep",
    "AdminRole",
    "ClientDep",
    "ConfigDep",
    "ConsoleCaller",
    "ConsoleDep",
    "DatabaseDep",
    "KeyRingDep",
    "Principal",
    "ReaderDep",
    "RoleRefused",
    "SignInRequired",
    "StationDep",
    "authenticate",
    "needed_role",
    "needs_role",
    "require_admin",
    "require_console_user",
    "require_reader",
    "require_station",
]
