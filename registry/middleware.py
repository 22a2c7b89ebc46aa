"""Request body limits, applied before FastAPI parses anything."""

from __future__ import annotations

import zlib

from registry.problems import problem


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
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)
