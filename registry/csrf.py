"""No state change from a browser without a CSRF token.

A browser resends HTTP Basic credentials by itself, also on a form that another site
posts to the registry. So a state-changing request (POST, PUT, PATCH, DELETE) is accepted
only when
  * it carries `Authorization: Bearer ...` (a browser never adds that header to a
    cross-site request; scripts and kiosks use it), or
  * it carries credentials a browser sends by itself (HTTP Basic, or the console's
    session cookie, or the console's sign-in cookie: `ambient_credential`) AND a CSRF
    token bound to them: the form field `csrf_token` (application/x-www-form-urlencoded,
    or multipart/form-data: a file upload form, field before the file) or the header
    X-CSRF-Token. The token is HMAC-SHA256(process secret,
    SHA-256(credential)), compared in constant time (a synchronizer token without server
    state; a restart invalidates open forms). The console's sessions therefore get a token
    per session, and its sign-in form one per sign-in cookie (registry/routes/console.py).
and, as an extra layer, never when the browser says it is cross-site (Sec-Fetch-Site) or
its Origin is neither the request's own host nor the configured public origin.

CsrfMiddleware applies this to every route of the app, including ones added later under
/api/v1/admin and form posts on HTML pages: nothing to do per route. A page that renders a
form includes `form_field(request)`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from fastapi import Request
from starlette.requests import cookie_parser

from registry.auth import parse_authorization
from registry.middleware import replaying
from registry.problems import problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
VERIFIED_STATE = "csrf_verified"  # request.state flag: Basic credentials + a valid token
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"
# The console's cookies. Over HTTPS their names carry the __Host- prefix (the browser then
# insists on Secure, Path=/ and no Domain: no other host or plain-http page can plant or
# read them); over plain http (a developer's 127.0.0.1) the prefix is impossible and the
# bare names are used: docs/registry.md, "Console".
SESSION_COOKIE = "ocop_session"
SIGN_IN_COOKIE = "ocop_signin"  # before sign-in: what the sign-in form's token is bound to
SECURE_COOKIE_PREFIX = "__Host-"


class CsrfGuard:
    def __init__(self, secret: bytes | None = None):
        self._secret = secret or secrets.token_bytes(32)

    def token_for(self, credential: str) -> str:
        digest = hashlib.sha256(credential.encode("utf-8")).digest()
        mac = hmac.new(self._secret, b"csrf\0" + digest, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def valid(self, credential: str, presented: str) -> bool:
        return hmac.compare_digest(self.token_for(credential), presented.strip())


def served_securely(scheme: str, public_base_url: str) -> bool:
    return scheme == "https" or public_base_url.startswith("https://")


def cookie_name(base: str, secure: bool) -> str:
    return SECURE_COOKIE_PREFIX + base if secure else base


def cookie_credential(base: str, value: str) -> str:
    """What a cookie's CSRF token is bound to (its own namespace: never equal to a token)."""
    return f"cookie:{base}:{value}"


def ambient_credential(headers: dict[str, str], secure: bool) -> str | None:
    """The credential a browser would send on its own (even on another site's form post):
    Basic, else the console session cookie, else the sign-in cookie; None without any.
    A Bearer header is not ambient (None)."""
    found = parse_authorization(headers.get("authorization"))
    if found is not None:
        return found.token if found.basic else None
    cookies = cookie_parser(headers.get("cookie", ""))
    for base in (SESSION_COOKIE, SIGN_IN_COOKIE):
        value = cookies.get(cookie_name(base, secure))
        if value:
            return cookie_credential(base, value)
    return None


def _request_secure(request: Request) -> bool:
    return served_securely(request.url.scheme, request.app.state.config.public_base_url)


def request_cookie_name(request: Request, base: str) -> str:
    return cookie_name(base, _request_secure(request))


def token_for_request(request: Request) -> str:
    """The CSRF token for the request's credentials ("" without any): for forms."""
    found = ambient_credential(
        {k.lower(): v for k, v in request.headers.items()}, _request_secure(request)
    )
    return request.app.state.csrf.token_for(found) if found else ""


def form_field(request: Request) -> str:
    """The hidden input every POST form of an HTML page must contain."""
    token = token_for_request(request)
    return f'<input type="hidden" name="{FORM_FIELD}" value="{token}">'


def _origin_ok(origin: str, host: str, public_base_url: str) -> bool:
    if origin == "null":
        return False
    netloc = urlsplit(origin).netloc.lower()
    allowed = {host.lower()}
    if public_base_url:
        allowed.add(urlsplit(public_base_url).netloc.lower())
    return netloc in allowed


class CsrfMiddleware:
    """See the module docstring. Runs inside BodyLimitMiddleware (the body is buffered and
    bounded already when a form field has to be read)."""

    def __init__(self, app, guard: CsrfGuard, public_base_url: str = ""):
        self.app = app
        self.guard = guard
        self.public_base_url = public_base_url

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refused = self._cross_site(headers)
        if refused:
            return await problem(403, "Cross-site request refused", refused)(scope, receive, send)
        secure = served_securely(scope.get("scheme", "http"), self.public_base_url)
        credential = ambient_credential(headers, secure)
        if credential is None:
            # Bearer (never sent by a browser on its own), or no credentials (the route
            # answers 401 if it needs them).
            return await self.app(scope, receive, send)
        presented = headers.get(HEADER, "")
        body = b""
        content_type = headers.get("content-type", "")
        if not presented and content_type.startswith(FORM_TYPE):
            body, receive = await _buffer(receive)
            values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(FORM_FIELD)
            presented = values[0] if values else ""
        elif not presented and headers.get("content-type", "").startswith(MULTIPART_TYPE):
            body, receive = await _buffer(receive)
            presented = multipart_field(headers["content-type"], body, FORM_FIELD)
        if not presented or not self.guard.valid(credential, presented):
            return await problem(
                403,
                "CSRF token required",
                "a state change with browser credentials (Basic or the console's cookies) "
                "needs the page's CSRF token; scripts use Authorization: Bearer",
            )(scope, receive, send)
        scope.setdefault("state", {})[VERIFIED_STATE] = True
        return await self.app(scope, receive, send)

    def _cross_site(self, headers: dict[str, str]) -> str:
        site = headers.get("sec-fetch-site", "")
        if site in ("cross-site", "same-site"):
            return f"the browser marked this request {site}"
        origin = headers.get("origin")
        if origin is not None and not _origin_ok(
            origin, headers.get("host", ""), self.public_base_url
        ):
            return f"Origin {origin[:100]!r} is not this registry"
        return ""


MULTIPART_FIELD_SCAN = 16  # parts looked at: the token comes before the file in the form
MAX_FIELD_BYTES = 512


def multipart_field(content_type: str, body: bytes, name: str) -> str:
    """The value of the plain (non-file) field `name` among the first parts of a
    multipart/form-data body, "" if it is not there. Enough for the CSRF token: the
    endpoint parses the body itself afterwards."""
    boundary = ""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        return ""
    delimiter = b"--" + boundary.encode("latin-1")
    wanted = f'name="{name}"'.encode()
    for part in body.split(delimiter, MULTIPART_FIELD_SCAN + 1)[1 : MULTIPART_FIELD_SCAN + 1]:
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep or b"filename=" in head:
            continue
        disposition = [
            h for h in head.split(b"\r\n") if h.lower().startswith(b"content-disposition:")
        ]
        if disposition and any(p.strip() == wanted for p in disposition[0].split(b";")[1:]):
            return data[:MAX_FIELD_BYTES].removesuffix(b"\r\n").decode("latin-1")
    return ""


async def _buffer(receive):
    """Read the whole body; return it and a receive() that replays it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    return body, replaying(body, receive)
