"""A misbehaving HTTP server in front of the real registry: proxy, slow, 500, garbage,
truncated replies, a tampered trust list signature, a trust list from another root, a slow
catalog (uploads fast), catalog (or, with `poison_path`, lots) replies passed through a
test's `poison` function, and a registry from before the lots feed (`no_lots`: 404)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

MODES = (
    "proxy",
    "slow",
    "500",
    "garbage",
    "truncated",
    "truncated_json",
    "badsig",
    "foreign_root",
    "drop_upload_reply",
    "slow_catalog",
    "poison",
    "no_lots",
)
CHANGES_PATH = "/api/v1/catalog/changes"
LOTS_PATH = "/api/v1/lots/changes"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        declared_length: int | None = None,
    ):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header(
            "Content-Length", str(declared_length if declared_length is not None else len(body))
        )
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _handle(self, method: str):
        server: FaultServer = self.server.fault  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        server.requests.append((method, self.path))
        mode = server.mode
        if mode == "slow" or (mode == "slow_catalog" and self.path.startswith(CHANGES_PATH)):
            time.sleep(server.delay_s)
        if mode == "no_lots" and self.path.startswith(LOTS_PATH):
            return self._send(404, b'{"title": "Not Found", "status": 404}')
        if mode == "500":
            return self._send(500, b'{"title": "Internal error", "status": 500}')
        if mode == "garbage":
            return self._send(
                200, b"<html>Captive portal: please log in</html>\x00\xff", "text/html"
            )
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("host", "content-length", "connection", "accept-encoding")
        }
        upstream = requests.request(
            method, server.upstream + self.path, data=body, headers=headers, timeout=30
        )
        content = upstream.content
        ctype = upstream.headers.get("Content-Type", "application/json")
        if mode == "drop_upload_reply" and self.path.startswith("/api/v1/uploads"):
            # The registry stored the batch; the kiosk never hears back.
            self.close_connection = True
            return
        if mode == "truncated" and len(content) > 10:
            self.close_connection = True
            return self._send(
                upstream.status_code,
                content[: len(content) // 2],
                ctype,
                declared_length=len(content),
            )
        if mode == "truncated_json" and len(content) > 10:
            return self._send(upstream.status_code, content[: len(content) // 2], ctype)
        if mode in ("badsig", "foreign_root") and self.path.startswith(CHANGES_PATH):
            reply = json.loads(content)
            if reply.get("trust_list"):
                reply["trust_list"] = server.tamper(reply["trust_list"], mode)
            content = json.dumps(reply).encode()
        poisoned = mode == "poison" and self.path.startswith(server.poison_path)
        if poisoned and upstream.status_code == 200:
            reply = json.loads(content)
            server.path = self.path  # which request this reply answers
            server.poison(reply)
            server.poisoned += 1
            # ensure_ascii: a lone surrogate goes out as the escape "\ud800", as a registry
            # written in Python would send it.
            content = json.dumps(reply, ensure_ascii=True).encode()
        return self._send(upstream.status_code, content, ctype)


class FaultServer:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.mode = "proxy"
        self.delay_s = 0.0
        self.poison = lambda reply: None  # mode "poison": changes the reply in place
        self.poisoned = 0
        self.poison_path = CHANGES_PATH  # which replies `poison` changes
        self.path = ""  # mode "poison": the path of the request being answered
        self.requests: list[tuple[str, str]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fault = self
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def tamper(envelope: dict, mode: str) -> dict:
        if mode == "badsig":
            body = dict(envelope["trust_list"])
            body["suspect_serials"] = sorted(set(body["suspect_serials"]) | {12345})
            return {"trust_list": body, "signature": envelope["signature"]}
        # A list signed correctly, but by a root this kiosk does not pin.
        import datetime as dt

        from ocop.stamps.keys import generate_private_key
        from ocop.stamps.signer import make_trust_list, signing_key_entry
        from ocop.stamps.trust import sign_trust_list

        root = generate_private_key()
        tl = make_trust_list(
            root,
            sequence=envelope["trust_list"]["sequence"],
            signing_keys=[signing_key_entry(1, generate_private_key(), dt.date(2020, 1, 1))],
        )
        return json.loads(sign_trust_list(tl, root))

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
