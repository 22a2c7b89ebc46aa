"""HTTP API (FastAPI): versioned routes under /api/v1, OpenAPI at /api/v1/openapi.json,
the public stamp page at <stamp path prefix><code> and the reports page at /reports.

`create_app(config)` only wires: the settings, database and key ring go on `app.state`
(handlers get them through registry/deps.py), the routers come from registry/routes/, the
error handlers from registry/problems.py (JSON problem details, RFC 9457). Middleware,
outermost first: the stamp page and its beacon, answered ahead of the rest
(registry/phone_paths.py); security headers (and no Host-derived Location), the body read deadline
(408), the body limits (as received and after gzip decompression, before any parsing), the
CSRF rule for every state-changing request (registry/csrf.py), gzip replies.
Slash redirects are off: Starlette would build them from the Host header.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from registry import __version__, clones, problems
from registry.config import RegistryConfig
from registry.csrf import CsrfGuard, CsrfMiddleware
from registry.db import Database
from registry.middleware import (
    GZIP_LEVEL,
    GZIP_MIN_BYTES,
    BodyLimitMiddleware,
    BodyTimeoutMiddleware,
    SecurityHeadersMiddleware,
)
from registry.phone_page import PageCaches
from registry.phone_paths import PhonePaths
from registry.problems import problem
from registry.ratelimit import Scope, failure_limiter
from registry.routes import API, admin, admin_stations, console, pages, public, stations
from registry.signing import KeyRing
from registry.verification import Verifiers
from registry.views import ViewLog

# Replies from GZIP_THREAD_MIN_BYTES on are compressed in a worker thread (Starlette's), so
# a catalog page never holds the event loop.
GZIP_THREAD_MIN_BYTES = 64 * 1024


def create_app(config: RegistryConfig, database: Database | None = None) -> FastAPI:
    """The registry app on `database` (default: a new Database on config.db_url; its schema
    must be migrated already: Database.migrate())."""
    app = FastAPI(
        title="OCOP Sơn La registry",
        version=__version__,
        openapi_url=f"{API}/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="Provincial registry: catalog deltas, signed trust list, stamp "
        "blocks, uploads of scans, print records and heartbeats.",
        redirect_slashes=False,
    )
    app.state.config = config
    app.state.database = database or Database(config.db_url, config.read_db_url)
    app.state.keyring = KeyRing.for_config(config)
    database, max_clients = app.state.database, config.rate_limit_max_clients
    app.state.auth_limiter = failure_limiter(database, Scope.TOKEN, config.auth_limits, max_clients)
    # Failed console sign-ins per client: same limits, own count (registry/routes/console.py).
    app.state.sign_in_limiter = failure_limiter(
        database, Scope.SIGN_IN, config.auth_limits, max_clients
    )
    app.state.csrf = CsrfGuard()
    # add_middleware: the last added is the outermost.
    app.state.verifiers = Verifiers(app.state.keyring, config.stamp_base_url)
    app.state.page_caches = PageCaches(app.state.keyring, config.stamp_base_url)
    app.state.views = view_log(app.state.database, app.state.keyring, config)
    # Written at shutdown (uvicorn runs this on SIGTERM / SIGINT, in every worker).
    app.router.on_shutdown.append(app.state.views.close)
    app.add_middleware(
        GZipMiddleware,
        minimum_size=GZIP_MIN_BYTES,
        compresslevel=GZIP_LEVEL,
        thread_minimum_size=GZIP_THREAD_MIN_BYTES,
    )
    app.add_middleware(CsrfMiddleware, guard=app.state.csrf, public_base_url=config.public_base_url)
    app.add_middleware(
        BodyLimitMiddleware,
        max_wire_bytes=config.limits.max_wire_bytes,
        max_body_bytes=config.limits.max_body_bytes,
    )
    app.add_middleware(BodyTimeoutMiddleware, body_timeout_s=config.timeouts.body_s)
    app.add_middleware(SecurityHeadersMiddleware, public_base_url=config.public_base_url)
    # Outermost: the campaign's two routes skip the stack (registry/phone_paths.py).
    app.add_middleware(
        PhonePaths,
        routes=pages.phone_routes(config.stamp_path_prefix),
        public_base_url=config.public_base_url,
    )
    problems.install(app)
    console.install(app)
    # The pages first: the stamp page is what a campaign calls, and routes are matched in
    # order (no path of theirs overlaps the API's /api/v1 or the console's /console).
    app.include_router(pages.build_router())
    app.include_router(public.router)
    app.include_router(stations.build_router(config.limits))
    app.include_router(admin.router)
    app.include_router(admin_stations.router)
    app.include_router(console.build_router())
    return app


def view_log(database: Database, keyring: KeyRing, config: RegistryConfig) -> ViewLog:
    """The stamp page's batched view writes, each batch feeding the clone rules in its own
    transaction (registry/clones.py: a phone client is a site)."""

    def check_clones(conn, serials: list[int]) -> None:
        clones.check(conn, keyring, config.clone_rules, serials)

    return ViewLog(database, check_clones, config.view_flush_s, config.view_batch)


__all__ = ["API", "create_app", "problem"]
