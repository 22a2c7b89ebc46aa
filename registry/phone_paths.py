"""The stamp page (what every phone that scans a stamp opens) and its view beacon, answered
ahead of the app's middleware stack and router.

Why: a campaign is thousands of these GETs a second, and the general stack (five
middlewares each wrapping send, FastAPI's route matching and dependency solving,
GZipMiddleware's responder) is a share of every view's CPU: under cProfile about a quarter
of the app's time, without it a few percent measured in-process (profiling inflates small
Python calls). These two routes need none of it: no body (BodyLimit, BodyTimeout), no state
change with browser credentials (CSRF), no session. What they do need is done here by the
same code the stack uses, so the answer is the same bytes and headers it was:
  - the endpoints are registry/routes/pages.py stamp_page and view_beacon, unchanged;
  - errors become the app's problem documents (problems.error_response);
  - gzip as GZipMiddleware does it (same level, same minimum size, Vary: Accept-Encoding);
  - the security headers are middleware.SecurityHeaders, the policy the stack applies.
HEAD is answered like GET without the body; another method gets 405 with Allow.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response

from registry import problems
from registry.middleware import GZIP_LEVEL, GZIP_MIN_BYTES, SecurityHeaders

ALLOWED = "GET, HEAD"

Endpoint = Callable[[str, Request], Awaitable[Response]]


class PhonePaths:
    """ASGI middleware: GET and HEAD of `<prefix><code>` go to their endpoint, anything
    else to the app. A code is one path segment, as the router's `{code}` would match."""

    def __init__(self, app, routes: dict[str, Endpoint], public_base_url: str = ""):
        self.app = app
        self.routes = routes  # path prefix ending in "/" -> endpoint(code, request)
        self.security = SecurityHeaders(public_base_url)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"]
            for prefix, endpoint in self.routes.items():
                if path.startswith(prefix):
                    code = path[len(prefix) :]
                    if code and "/" not in code:
                        return await self._answer(endpoint, code, scope, receive, send)
                    break
        await self.app(scope, receive, send)

    async def _answer(self, endpoint: Endpoint, code: str, scope, receive, send) -> None:
        request = Request(scope, receive)
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            response: Response = problems.problem(
                405, problems.title(405), headers={"Allow": ALLOWED}
            )
        else:
            try:
                response = await endpoint(code, request)
            except Exception as exc:  # noqa: BLE001 - answered as the app's handlers would
                response = await problems.error_response(request, exc)
        body = bytes(response.body)
        if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
            body = gzip(body)
            headers = MutableHeaders(raw=response.raw_headers)
            headers.add_vary_header("Accept-Encoding")
            headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(len(body))
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": self.security.headers(scope, response.raw_headers),
            }
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def gzip(body: bytes) -> bytes:
    """`body` as one gzip member, as GZipMiddleware writes it."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()
