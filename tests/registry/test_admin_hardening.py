"""Admin hardening against a real registry process: named admins and roles, the audit
log, no state change through browser credentials without a CSRF token (plain HTTP and a
real Chromium on another origin), failed-auth lockout, security headers on every HTML
route, header and body deadlines on raw sockets, no Host echo."""

from __future__ import annotations

import base64
import functools
import http.server
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from fastapi.routing import APIRoute

from registry.api import create_app
from registry.config import RegistryConfig
from tests.registry import chromium
from tests.registry.server import Registry, start_registry


def _call(reg: Registry, token: str, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return requests.request(method, reg.url + path, headers=headers, timeout=30, **kwargs)


def _add_admin(reg: Registry, name: str, role: str, tmp: Path) -> str:
    path = tmp / f"{name}.token"
    reg.cli("admin", "add", name, "--role", role, "--token-file", str(path))
    return path.read_text().strip()


def _audit(reg: Registry) -> list[dict]:
    reply = reg.admin("GET", "/api/v1/admin/audit", params={"limit": 1000})
    assert reply.status_code == 200, reply.text
    return reply.json()["entries"]


def _current_key(reg: Registry) -> int:
    """The trust list's sequence: every key rotation (and suspect, revocation) bumps it."""
    return requests.get(reg.url + "/api/v1/health", timeout=10).json()["trust_list_sequence"]


def _a_product(reg: Registry) -> dict:
    reply = reg.admin("GET", "/api/v1/admin/products/105")
    assert reply.status_code == 200, reply.text
    return reply.json()


def _basic(token: str, user: str = "office") -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


# --- named admins and roles ----------------------------------------------------------------


def test_roles_named_admins_disable_and_rotate(fresh_registry, tmp_path):
    reg = fresh_registry
    viewer = _add_admin(reg, "lan-viewer", "viewer", tmp_path)
    editor = _add_admin(reg, "minh-editor", "editor", tmp_path)
    boss = _add_admin(reg, "hoa-admin", "admin", tmp_path)
    product = _a_product(reg)

    assert _call(reg, viewer, "GET", "/api/v1/admin/reports").status_code == 200
    assert _call(reg, viewer, "GET", "/api/v1/admin/products/105").status_code == 200
    denied = _call(reg, viewer, "PUT", "/api/v1/admin/products/105", json=product)
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")
    assert "editor role" in denied.json()["detail"]
    assert _call(reg, editor, "PUT", "/api/v1/admin/products/105", json=product).status_code == 200
    for path in ("/api/v1/admin/keys/rotate?now=true", "/api/v1/admin/suspects"):
        refused = _call(reg, editor, "POST", path, json={"serials": [1]})
        assert refused.status_code == 403 and "admin role" in refused.json()["detail"]
    assert _call(reg, editor, "GET", "/api/v1/admin/audit").status_code == 403
    assert _call(reg, boss, "POST", "/api/v1/admin/keys/rotate?now=true").status_code == 200
    # Only the audited changes: the editor's product write and the admin's rotation.
    ops = [(e["actor"], e["action"]) for e in _audit(reg) if e["actor"] != "bootstrap"]
    assert ("minh-editor", "catalog.write") in ops and ("hoa-admin", "key.rotate") in ops
    assert not any(actor == "lan-viewer" for actor, _ in ops)

    # The reports page: any role; the audit section only for the admin role.
    page = requests.get(reg.url + "/reports", auth=("x", viewer), timeout=10)
    assert page.status_code == 200 and "admin role only" in page.text
    page = requests.get(reg.url + "/reports", auth=("x", boss), timeout=10)
    assert "key.rotate" in page.text and "hoa-admin" in page.text
    # named admins exist while the bootstrap token is configured: a warning
    assert "bootstrap admin token" in page.text

    reg.cli("admin", "disable", "lan-viewer")
    assert _call(reg, viewer, "GET", "/api/v1/admin/reports").status_code == 401
    new_file = tmp_path / "rotated.token"
    reg.cli("admin", "rotate", "minh-editor", "--token-file", str(new_file))
    assert _call(reg, editor, "GET", "/api/v1/admin/reports").status_code == 401
    rotated = new_file.read_text().strip()
    assert _call(reg, rotated, "GET", "/api/v1/admin/reports").status_code == 200
    listing = reg.cli("admin", "list").stdout
    assert re.search(r"lan-viewer\tviewer\tdisabled", listing)
    assert re.search(r"hoa-admin\tadmin\tactive\tcreated \S+\tlast used 20", listing)
    bad = reg.cli("admin", "add", "hoa-admin", "--role", "admin", check=False)
    assert bad.returncode == 2 and "already exists" in bad.stderr
    assert reg.cli("admin", "add", "x", "--role", "root", check=False).returncode == 2
    actions = [e["action"] for e in _audit(reg) if e["actor"].startswith("cli:")]
    assert actions.count("admin.add") == 3 and "admin.disable" in actions
    assert "admin.rotate" in actions


def test_forty_admin_operations_leave_forty_audit_rows(fresh_registry, tmp_path):
    reg = fresh_registry
    editor = _add_admin(reg, "editor-1", "editor", tmp_path)
    boss = _add_admin(reg, "admin-1", "admin", tmp_path)
    before = len(_audit(reg))
    product = _a_product(reg)
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    expected = []
    for i in range(8):
        r = _call(reg, editor, "PUT", "/api/v1/admin/products/105", json=product)
        assert r.status_code == 200, r.text
        expected.append(("editor-1", "catalog.write", "product:105"))
        r = _call(
            reg,
            editor,
            "POST",
            "/api/v1/admin/media",
            data=png + bytes([i]),
            headers={"Content-Type": "image/png"},
        )
        assert r.status_code == 200, r.text
        expected.append(("editor-1", "media.upload", f"media:{r.json()['hash']}"))
        r = _call(
            reg,
            boss,
            "POST",
            "/api/v1/admin/revocations/serials",
            json={"first": 900 + i, "last": 900 + i, "reason": "test"},
        )
        assert r.status_code == 200, r.text
        expected.append(("admin-1", "serials.revoke", f"serials:{900 + i}-{900 + i}"))
        r = _call(reg, boss, "POST", "/api/v1/admin/suspects", json={"serials": [700 + i]})
        assert r.status_code == 200, r.text
        expected.append(("admin-1", "suspect.add", f"serials:{700 + i}"))
        r = _call(reg, boss, "POST", "/api/v1/admin/stations", json={"name": f"kiosk-{i}"})
        assert r.status_code == 200, r.text
        expected.append(("admin-1", "station.add", f"kiosk-{i}"))
    # a refused operation (bad range) leaves no row
    r = _call(reg, boss, "POST", "/api/v1/admin/revocations/serials", json={"first": 5, "last": 1})
    assert r.status_code == 422
    entries = _audit(reg)
    new = list(reversed(entries[: len(entries) - before]))
    assert len(new) == 40
    assert [(e["actor"], e["action"], e["target"]) for e in new] == expected
    assert {e["client"] for e in new} == {"127.0.0.1"}
    # the CLI equivalents name the OS user and "local"
    reg.cli("key", "rotate", "--now")
    reg.cli("revoke", "serials", "50", "60", "--reason", "lost")
    reg.cli("station", "add", "rest-stop", "--token-file", str(tmp_path / "rs.token"))
    latest = _audit(reg)[:3]
    assert [e["action"] for e in latest] == ["station.add", "serials.revoke", "key.rotate"]
    assert all(e["actor"].startswith("cli:") and e["client"] == "local" for e in latest)
    assert latest[1]["target"] == "serials:50-60" and latest[1]["detail"]["reason"] == "lost"


# --- CSRF -----------------------------------------------------------------------------------


def test_browser_credentials_cannot_change_state_without_csrf_token(fresh_registry):
    reg = fresh_registry
    key = _current_key(reg)
    basic = _basic(reg.admin_token)
    rotate = reg.url + "/api/v1/admin/keys/rotate?now=true"
    attempts = [
        {"Authorization": basic},  # what a cross-site form post carries
        {"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"},
        {"Authorization": basic, "X-CSRF-Token": "forged"},
    ]
    for headers in attempts:
        reply = requests.post(rotate, headers=headers, data="csrf_token=forged", timeout=10)
        assert reply.status_code == 403, reply.text
        assert reply.headers["content-type"].startswith("application/problem+json")
    # Even with the right token: never when the browser says cross-site, or a foreign Origin.
    page = requests.get(reg.url + "/reports", headers={"Authorization": basic}, timeout=10)
    token = re.search(r'id="csrf-token" data-token="([^"]+)"', page.text).group(1)
    for extra in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"}):
        reply = requests.post(
            rotate, headers={"Authorization": basic, "X-CSRF-Token": token, **extra}, timeout=10
        )
        assert reply.status_code == 403, reply.text
    # Basic may not read the JSON API either (pages only).
    basic_get = requests.get(
        reg.url + "/api/v1/admin/reports", headers={"Authorization": basic}, timeout=10
    )
    assert basic_get.status_code == 401
    assert _current_key(reg) == key
    assert not [e for e in _audit(reg) if e["action"] == "key.rotate"]
    # A form posted from the page with its token works; so does Bearer.
    reply = requests.post(
        rotate,
        headers={"Authorization": basic, "Origin": reg.url},
        data={"csrf_token": token},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    assert reg.admin("POST", "/api/v1/admin/keys/rotate?now=true").status_code == 200
    assert _current_key(reg) == key + 2


class _AttackerSite:
    """Another origin (localhost, another port) serving a page that auto-submits a form."""

    def __init__(self, html: str):
        page = html.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}/attack.html"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.skipif(not chromium.available(), reason="needs Debian's chromium")
def test_cross_site_form_post_from_real_chromium_changes_nothing(fresh_registry):
    reg = fresh_registry
    key = _current_key(reg)
    target = reg.url + "/api/v1/admin/keys/rotate?now=true"
    attacker = _AttackerSite(
        f'<form method="POST" action="{target}"><input name="csrf_token" value="guess">'
        f'</form><form method=POST action="{reg.url}/api/v1/admin/suspects" '
        f'enctype="text/plain"><input name=\'{{"serials":[5],"x":"\' value=\'"}}\'></form>'
        "<script>fetch('" + target + "', {method: 'POST', mode: 'no-cors', "
        "credentials: 'include'}); document.forms[0].submit();</script>"
    )
    host = reg.url.removeprefix("http://")
    try:
        with chromium.launch() as browser:
            tab = browser.new_page()
            browser.goto(tab, f"http://office:{reg.admin_token}@{host}/reports")
            assert "Reports" in browser.evaluate(tab, "document.body.innerText")
            browser.goto(tab, attacker.url, settle_s=3)
            landed = browser.evaluate(tab, "location.href + ' ' + document.body.innerText")
            assert landed.startswith(target) and "refused" in landed, landed
            assert _current_key(reg) == key
            assert not [e for e in _audit(reg) if e["action"] in ("key.rotate", "suspect.add")]
            # The same browser session posting the page's own form with its token works:
            # the credentials were attached all along, the token makes the difference.
            browser.goto(tab, f"{reg.url}/reports")
            browser.evaluate(
                tab,
                "const f = document.createElement('form'); f.method = 'POST';"
                f"f.action = '{target}'; const i = document.createElement('input');"
                "i.name = 'csrf_token';"
                "i.value = document.getElementById('csrf-token').dataset.token;"
                "f.appendChild(i); document.body.appendChild(f); f.submit(); 1",
            )
            time.sleep(2)
        assert _current_key(reg) == key + 1
        rows = [e for e in _audit(reg) if e["action"] == "key.rotate"]
        assert [e["actor"] for e in rows] == ["bootstrap"]
    finally:
        attacker.close()


# --- failed-auth rate limit -----------------------------------------------------------------


def test_failed_token_checks_lock_the_client_out(tmp_path):
    reg = start_registry(
        tmp_path / "reg", extra_args=("--auth-failures", "3", "--auth-failure-window-s", "2")
    )
    try:
        for _ in range(3):
            assert _call(reg, "guess" * 8, "GET", "/api/v1/admin/reports").status_code == 401
        started = time.monotonic()
        for path, token in (
            ("/api/v1/admin/reports", reg.admin_token),
            ("/api/v1/stations/me", reg.token),
        ):
            locked = _call(reg, token, "GET", path)
            assert locked.status_code == 429, locked.text
            assert locked.headers["content-type"].startswith("application/problem+json")
            assert 1 <= int(locked.headers["Retry-After"]) <= 2
        assert (
            requests.get(reg.url + "/reports", auth=("x", reg.admin_token), timeout=5).status_code
            == 429
        )
        time.sleep(max(0.0, 2.1 - (time.monotonic() - started)))
        assert _call(reg, reg.admin_token, "GET", "/api/v1/admin/reports").status_code == 200
    finally:
        reg.stop()


# --- headers and Host -----------------------------------------------------------------------


def _html_routes() -> list[str]:
    """Every GET route of the app that is not part of the JSON API (the HTML pages and the
    stylesheet), walking included routers."""
    app = create_app(RegistryConfig(db_url="sqlite://", data_dir=Path("/nonexistent")))
    found, stack = [], list(app.routes)
    while stack:
        route = stack.pop()
        if hasattr(route, "original_router"):
            stack.extend(route.original_router.routes)
        elif isinstance(route, APIRoute) and "GET" in route.methods:
            found += [] if route.path.startswith("/api/") else [route.path]
    return sorted(found)


SAMPLE_PARAMS = {
    "code": "NOTASTAMP",
    "name": "style.css",
    "product_id": "101",  # the console's catalog pages (a demo product and producer)
    "producer_id": "htx-bich-thao",
    "detection_id": "1",
    "action": "reset",
}


def test_security_headers_on_every_html_route_and_json(registry):
    paths = _html_routes()
    assert "/reports" in paths and "/" in paths and len(paths) >= 4
    for path in paths:
        url = registry.url + re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS[m.group(1)], path)
        for auth in (None, ("x", registry.admin_token)):
            reply = requests.get(url, auth=auth, timeout=10)
            h = reply.headers
            assert h["X-Content-Type-Options"] == "nosniff", path
            assert h["X-Frame-Options"] == "DENY" and h["Referrer-Policy"] == "same-origin"
            assert "frame-ancestors 'none'" in h["Content-Security-Policy"], path
            assert "camera=()" in h["Permissions-Policy"]
            assert "Strict-Transport-Security" not in h  # plain http, no https proxy
            if h["content-type"].startswith("text/html"):
                csp = h["Content-Security-Policy"]
                # Scripts only from this registry (the phone pages' share button), none inline
                assert "script-src 'self';" in csp and "default-src 'none'" in csp
                assert "unsafe" not in csp
                assert not re.search(r'<script(?! src="/static/share\.js")', reply.text)
            if path == "/reports":
                assert h["Cache-Control"] == "no-store"
    reply = registry.admin("GET", "/api/v1/admin/reports")
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in reply.headers["Content-Security-Policy"]


def test_hsts_behind_an_https_public_base_url(tmp_path):
    reg = start_registry(tmp_path / "reg", extra_args=("--public-base-url", "https://ocop.example"))
    try:
        reply = requests.get(reg.url + "/", timeout=5)
        assert reply.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        reg.stop()


def test_host_header_is_never_echoed(registry):
    hostile = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    for path in ("/reports/", "/S/", "/api/v1/health/", "/static/", "/"):
        reply = requests.get(registry.url + path, headers=hostile, allow_redirects=False, timeout=5)
        assert "evil.example" not in reply.headers.get("Location", ""), path
        assert "evil.example" not in reply.text, path
        assert reply.status_code in (200, 401, 404), (path, reply.status_code)


# --- slow clients ---------------------------------------------------------------------------


def _closed_within(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Read until the server closes; returns what it sent and how long that took."""
    started, data = time.monotonic(), b""
    sock.settimeout(limit_s)
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        pytest.fail(f"connection still open after {limit_s} s; got {data[:200]!r}")
    return data, time.monotonic() - started


def test_slow_headers_and_stalled_bodies_are_cut_off(tmp_path):
    reg = start_registry(
        tmp_path / "reg", extra_args=("--header-timeout-s", "1", "--body-timeout-s", "1")
    )
    host, port = reg.url.removeprefix("http://").split(":")
    connect = functools.partial(socket.create_connection, (host, int(port)), timeout=5)
    try:
        with connect() as s:  # half a header line, then nothing
            s.sendall(b"GET /api/v1/health HT")
            data, took = _closed_within(s, 4)
            assert data == b"" and took < 3
        with connect() as s:  # headers trickled byte by byte, slower than the deadline
            started = time.monotonic()
            with pytest.raises(OSError):
                for byte in b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100:
                    s.sendall(bytes([byte]))
                    time.sleep(0.1)
                    if time.monotonic() - started > 4:
                        break
                s.recv(1)  # on a closed connection: b"" (not an error) → fail below
                raise AssertionError("still open")
            assert time.monotonic() - started < 3
        with connect() as s:  # a body that stalls
            s.sendall(
                b"POST /api/v1/admin/keys/rotate?now=true HTTP/1.1\r\nHost: x\r\n"
                b"Authorization: Bearer " + reg.admin_token.encode() + b"\r\n"
                b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":'
            )
            data, took = _closed_within(s, 4)
            assert data.startswith(b"HTTP/1.1 408"), data[:200]
            assert b"application/problem+json" in data and took < 3
        # a normal request still works, and keep-alive too
        session = requests.Session()
        for _ in range(3):
            assert session.get(reg.url + "/api/v1/health", timeout=5).status_code == 200
        assert reg.admin("POST", "/api/v1/admin/keys/rotate?now=true").status_code == 200
    finally:
        reg.stop()
