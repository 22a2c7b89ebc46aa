"""HTTP API (FastAPI): versioned routes under /api/v1, OpenAPI at /api/v1/openapi.json,
the public stamp page at <stamp path prefix><code> and the reports page at /reports.

Errors are JSON problem details (RFC 9457, application/problem+json) with a 4xx status for
anything the client got wrong; a 500 means a bug in the registry. Bodies are limited in size
(as received and after gzip decompression) before any parsing.
"""

from __future__ import annotations

import datetime as dt
import json
import hashlib
import logging
import zlib
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from ocop.stamps.codec import MAX_PRODUCT_ID, MAX_SERIAL
from registry import __version__, catalog, db, pages, reports, uploads
from registry.auth import Station, bearer_token, is_admin_token, station_for_token, add_station
from registry.config import RegistryConfig
from registry.signing import BlockConflict, KeyRing, SigningError

log = logging.getLogger(__name__)

API = "/api/v1"
PROBLEM = "application/problem+json"
KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,100}$"


# --- problem details ----------------------------------------------------------------------


def problem(status: int, title: str, detail: str = "", **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


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
            return await problem(415, "Unsupported content encoding",
                                 "use gzip or no encoding")(scope, receive, send)
        length = headers.get(b"content-length")
        if length is not None:
            try:
                if int(length) > self.max_wire:
                    return await problem(413, "Request body too large",
                                         f"at most {self.max_wire} bytes")(scope, receive, send)
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
                return await problem(413, "Request body too large",
                                     f"at most {self.max_wire} bytes")(scope, receive, send)
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
                return await problem(413, "Request body too large",
                                     f"at most {self.max_body} bytes after decompression"
                                     )(scope, receive, send)
            if not inflater.eof:
                return await problem(400, "Bad gzip body", "truncated")(scope, receive, send)
        elif len(body) > self.max_body:
            return await problem(413, "Request body too large")(scope, receive, send)
        new_headers = [(k, v) for k, v in scope["headers"]
                       if k.lower() not in (b"content-encoding", b"content-length")]
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


# --- request models -----------------------------------------------------------------------


class UploadItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["scan", "print", "heartbeat"]
    idempotency_key: str = Field(pattern=KEY_PATTERN)
    payload: dict[str, Any]


class UploadBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station: str | None = Field(default=None, description="optional; must be the token's "
                                                          "own station")
    items: list[UploadItem]


class UploadResult(BaseModel):
    idempotency_key: str
    status: Literal["accepted", "duplicate", "rejected"]
    error: str | None = None


class UploadReply(BaseModel):
    station: str
    accepted: int
    duplicate: int
    rejected: int
    results: list[UploadResult]


class BlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(pattern=KEY_PATTERN, description="client-chosen; a retry with "
                                                             "the same id returns the same block")
    product_id: int = Field(ge=1, le=MAX_PRODUCT_ID)
    count: int = Field(ge=1)


class SerialRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first: int = Field(ge=1, le=MAX_SERIAL)
    last: int = Field(ge=1, le=MAX_SERIAL)
    reason: str = Field(default="", max_length=300)


class KeyRevocation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_id: int = Field(ge=1, le=255)
    revoked_from: dt.date
    last_good_serial: int | None = Field(default=None, ge=0, le=MAX_SERIAL)
    reason: str = Field(default="", max_length=300)


class SuspectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serials: list[int] = Field(min_length=1, max_length=10000)
    reason: str = Field(default="", max_length=300)


class StationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    district: str = Field(default="", max_length=200)


# --- the app ------------------------------------------------------------------------------


def create_app(config: RegistryConfig, database: db.Database | None = None) -> FastAPI:
    database = database or db.Database(config.db_url)
    keyring = KeyRing(config.keys_dir, config.stamp_base_url)
    limits = config.limits
    app = FastAPI(title="OCOP Sơn La registry", version=__version__,
                  openapi_url=f"{API}/openapi.json", docs_url=None, redoc_url=None,
                  description="Provincial registry: catalog deltas, signed trust list, stamp "
                              "blocks, uploads of scans, print records and heartbeats.")
    app.state.config = config
    app.state.database = database
    app.state.keyring = keyring
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(BodyLimitMiddleware, max_wire_bytes=limits.max_wire_bytes,
                       max_body_bytes=limits.max_body_bytes)

    # --- errors ---------------------------------------------------------------------------

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if isinstance(exc.detail, dict):
            return problem(exc.status_code, **exc.detail)
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail or ""))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
                   "type": str(e.get("type", ""))} for e in exc.errors()[:50]]
        return problem(422, "Invalid request", f"{len(exc.errors())} problem(s)",
                       errors=errors)

    @app.exception_handler(catalog.CatalogError)
    async def _catalog_error(request: Request, exc: catalog.CatalogError):
        return problem(422, "Invalid catalog", f"{len(exc.problems)} problem(s)",
                       problems=exc.problems[:500])

    @app.exception_handler(SigningError)
    async def _signing_error(request: Request, exc: SigningError):
        log.error("signing unavailable: %s", exc)
        return problem(503, "Signing unavailable", str(exc))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "the registry failed; see its log")

    # --- auth -----------------------------------------------------------------------------

    def _token(request: Request) -> str:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise HTTPException(401, "missing bearer token")
        return token

    def require_station(request: Request) -> Station:
        token = _token(request)
        with database.read() as conn:
            station = station_for_token(conn, token)
        if station is None:
            if is_admin_token(token, config.admin_token_hashes):
                raise HTTPException(403, "the admin token is not a station")
            raise HTTPException(401, "unknown or disabled token")
        return station

    def require_admin(request: Request) -> None:
        token = _token(request)
        if not is_admin_token(token, config.admin_token_hashes):
            with database.read() as conn:
                if station_for_token(conn, token) is not None:
                    raise HTTPException(403, "a station token cannot do this")
            raise HTTPException(401, "unknown token")

    def require_reader(request: Request) -> str:
        """A station or the admin (catalog and trust list readers)."""
        token = _token(request)
        if is_admin_token(token, config.admin_token_hashes):
            return "admin"
        with database.read() as conn:
            station = station_for_token(conn, token)
        if station is None:
            raise HTTPException(401, "unknown or disabled token")
        return station.name

    # --- public ---------------------------------------------------------------------------

    @app.get(f"{API}/health", tags=["public"])
    def health() -> dict:
        with database.read() as conn:
            sequence, _ = keyring.latest_signed(conn)
            return {"status": "ok", "version": __version__,
                    "registry_id": db.get_meta(conn, "registry_id"),
                    "trust_list_sequence": sequence,
                    "root_fingerprint": keyring.root_fingerprint(conn),
                    "stamp_base_url": config.stamp_base_url}

    @app.get(f"{API}/trust-list", tags=["public"],
             response_description="the signed trust list envelope, verbatim")
    def trust_list() -> Response:
        with database.read() as conn:
            _, signed = keyring.latest_signed(conn)
        return Response(signed, media_type="application/json",
                        headers={"Cache-Control": "no-cache"})

    @app.get(f"{API}/media/{{sha256}}", tags=["public"])
    def media(sha256: str = Path(pattern=r"^[0-9a-f]{64}$")) -> Response:
        with database.read() as conn:
            row = conn.execute(sa.select(db.media.c.mime, db.media.c.content)
                               .where(db.media.c.hash == sha256)).first()
        if row is None:
            raise HTTPException(404, f"no media {sha256}")
        return Response(bytes(row.content), media_type=row.mime,
                        headers={"Cache-Control": "public, max-age=31536000, immutable",
                                 "ETag": f'"{sha256}"'})

    # --- stations -------------------------------------------------------------------------

    @app.get(f"{API}/catalog/changes", tags=["stations"])
    def catalog_changes(since: int = Query(0, ge=0, le=2**62),
                        limit: int = Query(limits.default_page_items, ge=1,
                                           le=limits.max_page_items),
                        trust_sequence: int = Query(0, ge=0, le=2**62),
                        reader: str = Depends(require_reader)) -> dict:
        """Catalog changes after cursor `since` (a prefix of the change log, cut at `cursor`;
        ask again at once while `more`), plus the signed trust list when it is newer than
        `trust_sequence`."""
        with database.read() as conn:
            reply = catalog.changes_since(conn, since, limit)
            sequence, signed = keyring.latest_signed(conn)
            reply["registry_id"] = db.get_meta(conn, "registry_id")
        reply["trust_list_sequence"] = sequence
        reply["trust_list"] = json.loads(signed) if sequence > trust_sequence else None
        return reply

    @app.get(f"{API}/stations/me", tags=["stations"])
    def station_me(station: Station = Depends(require_station)) -> dict:
        return {"name": station.name, "district": station.district}

    @app.post(f"{API}/stamp-blocks", tags=["stations"])
    def stamp_block(body: BlockRequest, station: Station = Depends(require_station)) -> dict:
        """Allocate `count` new province-unique serials for a product, signed with the
        current key, recorded as issued to this station."""
        if body.count > limits.max_block_count:
            raise HTTPException(422, f"count is at most {limits.max_block_count}")
        for attempt in range(2):
            try:
                with database.write() as conn:
                    exists = conn.execute(sa.select(db.products.c.id).where(
                        db.products.c.id == body.product_id)).first()
                    if exists is None:
                        raise HTTPException(404, f"no product {body.product_id}")
                    block = keyring.issue_block(conn, station.id, body.request_id,
                                                body.product_id, body.count)
                return block.to_json()
            except BlockConflict as exc:
                raise HTTPException(409, str(exc)) from None
            except IntegrityError:          # the same request id raced itself: read it back
                if attempt:
                    raise
        raise AssertionError("unreachable")

    @app.post(f"{API}/uploads", tags=["stations"], response_model=UploadReply)
    def upload(body: UploadBatch, station: Station = Depends(require_station)) -> dict:
        """Scans, print records and heartbeats. Each item once per idempotency key:
        `accepted` the first time, `duplicate` after that (both mean delivered)."""
        if body.station is not None and body.station != station.name:
            raise HTTPException(403, f"this token belongs to station {station.name!r}, not "
                                     f"{body.station!r}")
        if len(body.items) > limits.max_upload_items:
            raise HTTPException(413, f"at most {limits.max_upload_items} items per batch")
        items = [item.model_dump() for item in body.items]
        for attempt in range(2):
            try:
                with database.write() as conn:
                    results = uploads.record_batch(conn, station, items,
                                                   config.stamp_base_url,
                                                   limits.max_payload_bytes)
                break
            except IntegrityError:
                if attempt:
                    raise
        counts = {s: sum(1 for r in results if r["status"] == s)
                  for s in ("accepted", "duplicate", "rejected")}
        return {"station": station.name, **counts, "results": results}

    # --- admin ----------------------------------------------------------------------------

    admin = [Depends(require_admin)]

    def _write_catalog(document: dict) -> dict:
        with database.write() as conn:
            producers, media_hashes = catalog.known_ids(conn)
            batch = catalog.validate_catalog(document, known_producers=producers,
                                             known_media=media_hashes)
            summary = catalog.write_catalog(conn, batch)
        return {"created": summary.created, "updated": summary.updated,
                "unchanged": summary.unchanged}

    @app.put(f"{API}/admin/catalog", tags=["admin"], dependencies=admin)
    def admin_catalog(document: dict[str, Any]) -> dict:
        """Upsert producers and products ({"producers": [...], "products": [...]})."""
        return _write_catalog(document)

    @app.put(f"{API}/admin/products/{{product_id}}", tags=["admin"], dependencies=admin)
    def admin_put_product(document: dict[str, Any],
                          product_id: int = Path(ge=1, le=MAX_PRODUCT_ID)) -> dict:
        if document.get("id", product_id) != product_id:
            raise HTTPException(422, "id in the body differs from the URL")
        return _write_catalog({"products": [{**document, "id": product_id}]})

    @app.get(f"{API}/admin/products/{{product_id}}", tags=["admin"], dependencies=admin)
    def admin_get_product(product_id: int = Path(ge=1, le=MAX_PRODUCT_ID)) -> dict:
        with database.read() as conn:
            found = catalog.get_product(conn, product_id)
        if found is None:
            raise HTTPException(404, f"no product {product_id}")
        return found

    @app.delete(f"{API}/admin/products/{{product_id}}", tags=["admin"], dependencies=admin)
    def admin_delete_product(product_id: int = Path(ge=1, le=MAX_PRODUCT_ID)) -> dict:
        with database.write() as conn:
            if not catalog.delete_product(conn, product_id):
                raise HTTPException(404, f"no product {product_id}")
        return {"deleted": product_id}

    @app.put(f"{API}/admin/producers/{{producer_id}}", tags=["admin"], dependencies=admin)
    def admin_put_producer(document: dict[str, Any],
                           producer_id: str = Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
                           ) -> dict:
        return _write_catalog({"producers": [{**document, "id": producer_id}]})

    @app.post(f"{API}/admin/media", tags=["admin"], dependencies=admin)
    async def admin_media(request: Request) -> dict:
        """Raw image bytes with Content-Type image/png, image/jpeg or image/webp."""
        mime = request.headers.get("content-type", "").split(";")[0].strip()
        if mime not in catalog.MIME_BY_EXT.values():
            raise HTTPException(415, "Content-Type must be image/png, image/jpeg or "
                                     "image/webp")
        content = await request.body()
        if not content or len(content) > limits.max_media_bytes:
            raise HTTPException(413, f"media must be 1..{limits.max_media_bytes} bytes")
        digest = hashlib.sha256(content).hexdigest()
        with database.write() as conn:
            catalog.write_media(conn, [catalog.Media(digest, mime, content)])
        return {"hash": digest, "mime": mime, "size_bytes": len(content)}

    @app.post(f"{API}/admin/keys/rotate", tags=["admin"], dependencies=admin)
    def admin_rotate() -> dict:
        with database.write() as conn:
            key_id = keyring.rotate(conn)
            sequence, _ = keyring.latest_signed(conn)
        return {"key_id": key_id, "trust_list_sequence": sequence}

    @app.post(f"{API}/admin/revocations/serials", tags=["admin"], dependencies=admin)
    def admin_revoke_serials(body: SerialRange) -> dict:
        if body.last < body.first:
            raise HTTPException(422, "last is below first")
        with database.write() as conn:
            sequence = keyring.revoke_serials(conn, body.first, body.last, body.reason)
        return {"trust_list_sequence": sequence}

    @app.post(f"{API}/admin/revocations/keys", tags=["admin"], dependencies=admin)
    def admin_revoke_key(body: KeyRevocation) -> dict:
        try:
            with database.write() as conn:
                sequence = keyring.revoke_key(conn, body.key_id, body.revoked_from,
                                              body.last_good_serial, body.reason)
        except ValueError as exc:
            raise HTTPException(404, str(exc)) from None
        return {"trust_list_sequence": sequence}

    @app.post(f"{API}/admin/suspects", tags=["admin"], dependencies=admin)
    def admin_suspects(body: SuspectRequest) -> dict:
        try:
            with database.write() as conn:
                sequence = keyring.mark_suspect(conn, body.serials, body.reason)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return {"trust_list_sequence": sequence}

    @app.post(f"{API}/admin/stations", tags=["admin"], dependencies=admin)
    def admin_add_station(body: StationRequest) -> dict:
        try:
            with database.write() as conn:
                station, token = add_station(conn, body.name, body.district)
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
        return {"name": station.name, "token": token}

    @app.get(f"{API}/admin/reports", tags=["admin"], dependencies=admin)
    def admin_reports(days: int = Query(30, ge=1, le=366)) -> dict:
        with database.read() as conn:
            return reports.build_report(conn, config, days=days).to_json()

    # --- pages ----------------------------------------------------------------------------

    prefix = config.stamp_path_prefix            # '/S/'

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(pages.index_page())

    @app.get(prefix.rstrip("/") + "/{code}", include_in_schema=False)
    def stamp_page_upper(code: str, request: Request) -> HTMLResponse:
        return _stamp_page(code, request)

    if prefix != prefix.lower():
        @app.get(prefix.lower().rstrip("/") + "/{code}", include_in_schema=False)
        def stamp_page_lower(code: str, request: Request) -> HTMLResponse:
            return _stamp_page(code, request)

    def _stamp_page(code: str, request: Request) -> HTMLResponse:
        lang = pages.pick_language(request.query_params.get("lang"),
                                   request.headers.get("accept-language"))
        with database.read() as conn:
            status, html = pages.stamp_page(conn, config, keyring, code, lang)
        return HTMLResponse(html, status_code=status,
                            headers={"Cache-Control": "no-store"})

    @app.get("/reports", include_in_schema=False)
    def reports_page(request: Request, days: int = Query(30, ge=1, le=366)) -> Response:
        token = bearer_token(request.headers.get("authorization"))
        if token is None or not is_admin_token(token, config.admin_token_hashes):
            return HTMLResponse(pages.message_page("Cần đăng nhập / Sign in required",
                                                   "Báo cáo chỉ dành cho văn phòng OCOP "
                                                   "tỉnh. / Reports are for the provincial "
                                                   "OCOP office."),
                                status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="ocop-reports"'})
        with database.read() as conn:
            report = reports.build_report(conn, config, days=days)
        return HTMLResponse(pages.reports_page(report))

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name != "style.css":
            raise HTTPException(404, "not found")
        return Response(pages.CSS, media_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600"})

    return app


def _title(status: int) -> str:
    return {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
            405: "Method not allowed", 409: "Conflict", 413: "Request body too large",
            415: "Unsupported media type", 422: "Invalid request",
            503: "Service unavailable"}.get(status, "Error")


__all__ = ["create_app", "problem", "API"]
