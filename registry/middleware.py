"""ASGI middleware around the whole app: request body limits (before FastAPI parses
anything), the body read deadline, and security headers on every response."""

from __future__ import annotations

import asyncio
import zlib
from urllib.parse import urlsplit

from registry.problems import problem

# gzip of replies (GZipMiddleware in registry/api.py, and registry/phone_paths.py). Level 6
# by measurement (bench/gzip_levels.py, a 2,000-product catalog page of 1.52 MB of JSON):
# 7 % larger than level 9 at 30 % of its CPU time (7.7 ms, 26 ms); level 1 is 50 % larger
# (docs/registry.md, "Compression"). Smaller replies than GZIP_MIN_BYTES go as they are.
GZIP_LEVEL = 6
GZIP_MIN_BYTES = 1024


class BodyLimitMiddleware:
    """Reject oversized bodies (413) before parsing; inflate gzip request bodies with a cap
    (so a small gzip bomb cannot exhaust memory); 415 for other encodings."""

    def __init__(self, app, max_wire_bytes: int, max_body_bytes: int):
        self.app = app
        self.max_wire = max_wire_bytes
        self.max_body = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = {k.lower(): v for k, v in scope["headers"]}
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        if encoding not in (b"", b"identity", b"gzip"):
            return await problem(415, "Unsupported content encoding", "use gzip or no encoding")(
                scope, receive, send
            )
        length = headers.get(b"content-length")
        if length is not None:
            try:
                if int(length) > self.max_wire:
                    return await problem(
                        413, "Request body too large", f"at most {self.max_wire} bytes"
                    )(scope, receive, send)
            except ValueError:
                return await problem(400, "Bad Content-Length")(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_wire:
                return await problem(
                    413, "Request body too large", f"at most {self.max_wire} bytes"
                )(scope, receive, send)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if encoding == b"gzip":
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                body = inflater.decompress(body, self.max_body + 1)
            except zlib.error as exc:
                return await problem(400, "Bad gzip body", str(exc))(scope, receive, send)
            if len(body) > self.max_body or inflater.unconsumed_tail:
                return await problem(
                    413,
                    "Request body too large",
                    f"at most {self.max_body} bytes after decompression",
                )(scope, receive, send)
            if not inflater.eof:
                return await problem(400, "Bad gzip body", "truncated")(scope, receive, send)
        elif len(body) > self.max_body:
            return await problem(413, "Request body too large")(scope, receive, send)
        new_headers = [
            (k, v)
            for k, v in scope["headers"]
            if k.lower() not in (b"content-encoding", b"content-length")
        ]
        new_headers.append((b"content-length", str(len(body)).encode()))
        scope = dict(scope, headers=new_headers)
        return await self.app(scope, replaying(body, receive), send)


def replaying(body: bytes, receive):
    """An ASGI receive() that hands the app a body a middleware has already read, whole,
    then goes on with the real one (a disconnect arrives as usual)."""
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class BodyTimeoutError(Exception):
    """The request body did not arrive within HttpTimeouts.body_s."""


class BodyTimeoutMiddleware:
    """A deadline for the whole request body (uvicorn has none: a client that sends its
    headers and then trickles or stalls the body would hold a connection and a worker for
    ever). Past it: 408 problem+json and the connection is closed (the body is unread)."""

    def __init__(self, app, body_timeout_s: float):
        self.app = app
        self.timeout_s = body_timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        body_done = False
        started = False

        async def timed_receive():
            nonlocal body_done
            if body_done:  # later receive() calls wait for a disconnect: no deadline
                return await receive()
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), max(remaining, 0.001))
            except TimeoutError:
                raise BodyTimeoutError from None
            if message["type"] != "http.request" or not message.get("more_body"):
                body_done = True
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except BodyTimeoutError:
            if started:
                raise
            response = problem(
                408, "Request timeout", f"the request body took longer than {self.timeout_s:g} s"
            )
            response.headers["Connection"] = "close"
            await response(scope, receive, send)


# Content-Security-Policy of HTML pages: what registry/pages.py needs (the stylesheet, the
# product pictures, inline SVG charts, the phone pages' share script) and nothing else: no
# inline script, nothing from another host, no framing.
HTML_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
COMMON_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",  # no-referrer would make a form post send Origin: null
    b"x-frame-options": b"DENY",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    b"cross-origin-opener-policy": b"same-origin",
}
HSTS = b"max-age=31536000"
ADMIN_PATHS = ("/reports", "/console", "/api/v1/admin")  # never cached: secrets, sessions


class SecurityHeaders:
    """Security headers on every response; Cache-Control no-store on admin pages and API;
    Strict-Transport-Security when served over https or behind an https public base URL;
    and a Location header that points elsewhere than the public base URL is cut to its
    path (the Host header must never steer a redirect)."""

    def __init__(self, public_base_url: str = ""):
        self.public_base_url = public_base_url
        self.behind_https = public_base_url.startswith("https://")

    def headers(self, scope, headers) -> list[tuple[bytes, bytes]]:
        """`headers` (a response's, raw) with the security headers for `scope`'s request."""
        path = scope["path"]
        admin = any(path == p or path.startswith(p + "/") for p in ADMIN_PATHS)
        https = self.behind_https or scope.get("scheme") == "https"
        headers = [(k.lower(), v) for k, v in headers]
        names = {k for k, _ in headers}
        ctype = dict(headers).get(b"content-type", b"")
        extra = dict(COMMON_HEADERS)
        extra[b"content-security-policy"] = (
            HTML_CSP if ctype.startswith(b"text/html") else OTHER_CSP
        ).encode()
        if https:
            extra[b"strict-transport-security"] = HSTS
        if admin:
            headers = [(k, v) for k, v in headers if k != b"cache-control"]
            names.discard(b"cache-control")
            extra[b"cache-control"] = b"no-store"
        headers = [
            (k, _local_location(v, self.public_base_url) if k == b"location" else v)
            for k, v in headers
        ]
        return headers + [(k, v) for k, v in extra.items() if k not in names]


class SecurityHeadersMiddleware:
    """SecurityHeaders on every response of the app."""

    def __init__(self, app, public_base_url: str = ""):
        self.app = app
        self.policy = SecurityHeaders(public_base_url)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = self.policy.headers(scope, message.get("headers", []))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _local_location(value: bytes, public_base_url: str) -> bytes:
    text = value.decode("latin-1")
    if public_base_url and (text == public_base_url or text.startswith(public_base_url + "/")):
        return value
    parts = urlsplit(text)
    if not parts.scheme and not parts.netloc:
        return value
    local = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return local.encode("latin-1")
