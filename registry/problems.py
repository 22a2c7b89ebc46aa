"""Errors as JSON problem details (RFC 9457, application/problem+json): a 4xx status for
anything the client got wrong, 503 when signing keys are unusable, 500 only for a bug."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry import catalog
from registry.signing import SigningError

log = logging.getLogger("registry.api")

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    503: "Service unavailable",
}


def title(status: int) -> str:
    return TITLES.get(status, "Error")


def problem(
    status: int, title: str, detail: str = "", headers: dict[str, str] | None = None, **extra
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers or None)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})  # e.g. Retry-After of a 429
    if isinstance(exc.detail, dict):
        return problem(exc.status_code, headers=headers, **exc.detail)
    return problem(exc.status_code, title(exc.status_code), str(exc.detail or ""), headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()[:50]
    ]
    return problem(422, "Invalid request", f"{len(exc.errors())} problem(s)", errors=errors)


async def _catalog_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, catalog.CatalogError)
    return problem(
        422, "Invalid catalog", f"{len(exc.problems)} problem(s)", problems=exc.problems[:500]
    )


async def _signing_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("signing unavailable: %s", exc)
    return problem(503, "Signing unavailable", str(exc))


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "the registry failed; see its log")


# Each error type's answer, most specific first (error_response takes the first match).
HANDLERS = (
    (StarletteHTTPException, _http_error),
    (RequestValidationError, _validation_error),
    (catalog.CatalogError, _catalog_error),
    (SigningError, _signing_error),
    (Exception, _bug),
)


def install(app: FastAPI) -> None:
    """Answer every error of `app` as a problem document."""
    for kind, handler in HANDLERS:
        app.add_exception_handler(kind, handler)


async def error_response(request: Request, exc: Exception) -> JSONResponse:
    """The answer install()'s handlers give to `exc`, for code that runs ahead of the app's
    router (registry/phone_paths.py)."""
    for kind, handler in HANDLERS:
        if isinstance(exc, kind):
            return await handler(request, exc)
    raise exc
