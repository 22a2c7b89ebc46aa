"""Routes for the provincial office, with the admin token: the catalog, media, keys,
revocations, suspects, stations and reports."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from ocop.stamps.codec import MAX_PRODUCT_ID
from registry import catalog, reports
from registry.auth import add_station
from registry.dal import catalog as catalog_rows
from registry.db import Database
from registry.deps import ConfigDep, DatabaseDep, KeyRingDep, require_admin
from registry.routes import API
from registry.schemas import (
    NAME_PATTERN,
    KeyRevocation,
    SerialRange,
    StationRequest,
    SuspectRequest,
)
from registry.signing import RotationRefused

router = APIRouter(prefix=f"{API}/admin", tags=["admin"], dependencies=[Depends(require_admin)])


def _write_catalog(database: Database, document: dict) -> dict:
    """Validate a catalog document against what the registry holds and write it, in one
    transaction."""
    with database.write() as conn:
        producers, media_hashes = catalog_rows.known_ids(conn)
        batch = catalog.validate_catalog(
            document, known_producers=producers, known_media=media_hashes
        )
        summary = catalog_rows.write_catalog(conn, batch)
    return {"created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged}


@router.put("/catalog")
def admin_catalog(document: dict[str, Any], database: DatabaseDep) -> dict:
    """Upsert producers and products ({"producers": [...], "products": [...]})."""
    return _write_catalog(database, document)


@router.put("/products/{product_id}")
def admin_put_product(
    document: dict[str, Any], database: DatabaseDep, product_id: int = Path(ge=1, le=MAX_PRODUCT_ID)
) -> dict:
    if document.get("id", product_id) != product_id:
        raise HTTPException(422, "id in the body differs from the URL")
    return _write_catalog(database, {"products": [{**document, "id": product_id}]})


@router.get("/products/{product_id}")
def admin_get_product(
    database: DatabaseDep, product_id: int = Path(ge=1, le=MAX_PRODUCT_ID)
) -> dict:
    with database.read() as conn:
        found = catalog_rows.get_product(conn, product_id)
    if found is None:
        raise HTTPException(404, f"no product {product_id}")
    return found


@router.delete("/products/{product_id}")
def admin_delete_product(
    database: DatabaseDep, product_id: int = Path(ge=1, le=MAX_PRODUCT_ID)
) -> dict:
    with database.write() as conn:
        if not catalog_rows.delete_product(conn, product_id):
            raise HTTPException(404, f"no product {product_id}")
    return {"deleted": product_id}


@router.put("/producers/{producer_id}")
def admin_put_producer(
    document: dict[str, Any], database: DatabaseDep, producer_id: str = Path(pattern=NAME_PATTERN)
) -> dict:
    return _write_catalog(database, {"producers": [{**document, "id": producer_id}]})


@router.post("/media")
async def admin_media(request: Request, config: ConfigDep, database: DatabaseDep) -> dict:
    """Raw image bytes with Content-Type image/png, image/jpeg or image/webp."""
    max_bytes = config.limits.max_media_bytes
    mime = request.headers.get("content-type", "").split(";")[0].strip()
    if mime not in catalog.MIME_BY_EXT.values():
        raise HTTPException(415, "Content-Type must be image/png, image/jpeg or image/webp")
    content = await request.body()
    if not content or len(content) > max_bytes:
        raise HTTPException(413, f"media must be 1..{max_bytes} bytes")
    digest = hashlib.sha256(content).hexdigest()
    with database.write() as conn:
        catalog_rows.write_media(conn, [catalog.Media(digest, mime, content)])
    return {"hash": digest, "mime": mime, "size_bytes": len(content)}


@router.post("/keys/rotate")
def admin_rotate(database: DatabaseDep, keyring: KeyRingDep, now: bool = False) -> dict:
    """Switch to the pre-published next key; `now=true`: emergency, before its not-before
    date. 409 while that date is in the future."""
    try:
        with database.write() as conn:
            key_id = keyring.rotate(conn, emergency=now)
            sequence, _ = keyring.latest_signed(conn)
    except RotationRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return {"key_id": key_id, "trust_list_sequence": sequence}


@router.post("/revocations/serials")
def admin_revoke_serials(body: SerialRange, database: DatabaseDep, keyring: KeyRingDep) -> dict:
    if body.last < body.first:
        raise HTTPException(422, "last is below first")
    with database.write() as conn:
        sequence = keyring.revoke_serials(conn, body.first, body.last, body.reason)
    return {"trust_list_sequence": sequence}


@router.post("/revocations/keys")
def admin_revoke_key(body: KeyRevocation, database: DatabaseDep, keyring: KeyRingDep) -> dict:
    try:
        with database.write() as conn:
            sequence = keyring.revoke_key(
                conn, body.key_id, body.revoked_from, body.last_good_serial, body.reason
            )
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"trust_list_sequence": sequence}


@router.post("/suspects")
def admin_suspects(body: SuspectRequest, database: DatabaseDep, keyring: KeyRingDep) -> dict:
    try:
        with database.write() as conn:
            sequence = keyring.mark_suspect(conn, body.serials, body.reason)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"trust_list_sequence": sequence}


@router.post("/stations")
def admin_add_station(body: StationRequest, database: DatabaseDep) -> dict:
    try:
        with database.write() as conn:
            station, token = add_station(conn, body.name, body.district)
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"name": station.name, "token": token}


@router.get("/reports")
def admin_reports(
    config: ConfigDep, database: DatabaseDep, days: int = Query(30, ge=1, le=366)
) -> dict:
    with database.read() as conn:
        return reports.build_report(conn, config, days=days).to_json()
