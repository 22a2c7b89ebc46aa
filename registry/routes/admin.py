"""Routes for the provincial office, with an admin token: the catalog, media, keys,
revocations, suspects, stations, reports and the audit log.

Roles (registry/deps.py `needs_role`; undeclared = admin): viewer reads reports and the
catalog, editor also changes the catalog, admin everything else. Every state change
writes its audit row (registry/audit.py) in its own transaction."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from ocop.stamps.codec import MAX_PRODUCT_ID
from registry import (
    audit,
    catalog,
    catalog_import,
    clones,
    report_export,
    reports,
    signing,
)
from registry.admins import AdminRole, Principal
from registry.audit import AuditAction
from registry.dal import catalog as catalog_rows
from registry.dal import stamp_reports
from registry.db import Database
from registry.deps import (
    AdminDep,
    ClientDep,
    ConfigDep,
    DatabaseDep,
    KeyRingDep,
    needs_role,
    require_admin,
)
from registry.routes import API
from registry.schemas import (
    NAME_PATTERN,
    KeyRevocation,
    SerialRange,
    SuspectRequest,
)
from registry.signing import RotationRefused

router = APIRouter(prefix=f"{API}/admin", tags=["admin"], dependencies=[Depends(require_admin)])


def _write_catalog(
    database: Database, document: dict, who: Principal, client: str, action: AuditAction
) -> dict:
    """Validate a catalog document against what the registry holds and write it, with its
    audit row, in one transaction."""
    with database.write() as conn:
        summary = catalog_rows.validate_and_write(conn, document)
        target = ",".join(
            [f"producer:{p['id']}" for p in document.get("producers", [])[:20]]
            + [f"product:{p['id']}" for p in document.get("products", [])[:20]]
        )
        audit.record(conn, who.name, action, target, client, summary.audit_detail())
    return {"created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged}


@router.put("/catalog")
@needs_role(AdminRole.EDITOR)
def admin_catalog(
    document: dict[str, Any], database: DatabaseDep, who: AdminDep, client: ClientDep
) -> dict:
    """Upsert producers and products ({"producers": [...], "products": [...]})."""
    return _write_catalog(database, document, who, client, AuditAction.CATALOG_IMPORT)


@router.post("/catalog/import")
@needs_role(AdminRole.EDITOR)
def admin_catalog_import(
    file: UploadFile,
    database: DatabaseDep,
    who: AdminDep,
    client: ClientDep,
    dry_run: bool = True,
) -> JSONResponse:
    """A CSV or XLSX file (multipart field `file`): every problem by row and column in
    Vietnamese and English (422), or the summary (200); `dry_run=0` applies a file without
    problems in one transaction. Nothing is written while there is one problem."""
    content = file.file.read(catalog_import.MAX_IMPORT_BYTES + 1)  # sync: a worker thread
    name = file.filename or ""

    report = catalog_import.import_catalog(
        database,
        content,
        name,
        apply=not dry_run,
        audit=catalog_import.audit_hook(who.name, client, name),
    )
    body = {"dry_run": dry_run, **report.to_json()}
    return JSONResponse(body, status_code=422 if report.problems else 200)


@router.get("/catalog/export")
@needs_role(AdminRole.VIEWER)
def admin_catalog_export(
    database: DatabaseDep,
    format: str = Query("csv", pattern="^(csv|xlsx)$"),
    delimiter: str = Query("comma", pattern="^(comma|semicolon)$"),
    lang: str = Query("vi", pattern="^(vi|en)$"),
) -> Response:
    """The catalog in the import's columns (CSV: UTF-8 with BOM; headers in `lang`)."""
    content = catalog_import.export_catalog(
        database, format, delimiter=catalog_import.DELIMITERS[delimiter], lang=lang
    )
    return Response(
        content,
        media_type=catalog_import.EXPORT_FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="ocop-catalog.{format}"'},
    )


@router.put("/products/{product_id}")
@needs_role(AdminRole.EDITOR)
def admin_put_product(
    document: dict[str, Any],
    database: DatabaseDep,
    who: AdminDep,
    client: ClientDep,
    product_id: int = Path(ge=1, le=MAX_PRODUCT_ID),
) -> dict:
    if document.get("id", product_id) != product_id:
        raise HTTPException(422, "id in the body differs from the URL")
    return _write_catalog(
        database,
        {"products": [{**document, "id": product_id}]},
        who,
        client,
        AuditAction.CATALOG_WRITE,
    )


@router.get("/products/{product_id}")
@needs_role(AdminRole.VIEWER)
def admin_get_product(
    database: DatabaseDep, product_id: int = Path(ge=1, le=MAX_PRODUCT_ID)
) -> dict:
    with database.read() as conn:
        found = catalog_rows.get_product(conn, product_id)
    if found is None:
        raise HTTPException(404, f"no product {product_id}")
    return found


@router.delete("/products/{product_id}")
@needs_role(AdminRole.EDITOR)
def admin_delete_product(
    database: DatabaseDep,
    who: AdminDep,
    client: ClientDep,
    product_id: int = Path(ge=1, le=MAX_PRODUCT_ID),
) -> dict:
    with database.write() as conn:
        if not catalog_rows.delete_product(conn, product_id):
            raise HTTPException(404, f"no product {product_id}")
        audit.record(conn, who.name, AuditAction.CATALOG_DELETE, f"product:{product_id}", client)
    return {"deleted": product_id}


@router.put("/producers/{producer_id}")
@needs_role(AdminRole.EDITOR)
def admin_put_producer(
    document: dict[str, Any],
    database: DatabaseDep,
    who: AdminDep,
    client: ClientDep,
    producer_id: str = Path(pattern=NAME_PATTERN),
) -> dict:
    return _write_catalog(
        database,
        {"producers": [{**document, "id": producer_id}]},
        who,
        client,
        AuditAction.CATALOG_WRITE,
    )


@router.post("/media")
@needs_role(AdminRole.EDITOR)
async def admin_media(
    request: Request, config: ConfigDep, database: DatabaseDep, who: AdminDep, client: ClientDep
) -> dict:
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
        audit.record(
            conn,
            who.name,
            AuditAction.MEDIA_UPLOAD,
            f"media:{digest}",
            client,
            {"mime": mime, "size_bytes": len(content)},
        )
    return {"hash": digest, "mime": mime, "size_bytes": len(content)}


@router.post("/keys/rotate")
def admin_rotate(
    database: DatabaseDep,
    keyring: KeyRingDep,
    who: AdminDep,
    client: ClientDep,
    now: bool = False,
) -> dict:
    """Switch to the pre-published next key; `now=true`: emergency, before its not-before
    date. 409 while that date is in the future."""
    try:
        with database.write() as conn:
            key_id = keyring.rotate(conn, emergency=now)
            sequence, _ = keyring.latest_signed(conn)
            signing.audit_key_rotation(conn, who.name, client, key_id, sequence, emergency=now)
    except RotationRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return {"key_id": key_id, "trust_list_sequence": sequence}


@router.post("/revocations/serials")
def admin_revoke_serials(
    body: SerialRange, database: DatabaseDep, keyring: KeyRingDep, who: AdminDep, client: ClientDep
) -> dict:
    if body.last < body.first:
        raise HTTPException(422, "last is below first")
    with database.write() as conn:
        sequence = keyring.revoke_serials(conn, body.first, body.last, body.reason)
        signing.audit_serials_revocation(
            conn, who.name, client, body.first, body.last, body.reason, sequence
        )
    return {"trust_list_sequence": sequence}


@router.post("/revocations/keys")
def admin_revoke_key(
    body: KeyRevocation,
    database: DatabaseDep,
    keyring: KeyRingDep,
    who: AdminDep,
    client: ClientDep,
) -> dict:
    try:
        with database.write() as conn:
            sequence = keyring.revoke_key(
                conn, body.key_id, body.revoked_from, body.last_good_serial, body.reason
            )
            signing.audit_key_revocation(
                conn,
                who.name,
                client,
                body.key_id,
                body.revoked_from,
                body.last_good_serial,
                body.reason,
                sequence,
            )
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"trust_list_sequence": sequence}


@router.post("/suspects/clear")
def admin_clear_suspects(
    body: SuspectRequest,
    database: DatabaseDep,
    keyring: KeyRingDep,
    who: AdminDep,
    client: ClientDep,
) -> dict:
    """Take serials off the suspect list (and dismiss their clone detections): the office
    checked the stamps and found them genuine."""
    try:
        with database.write() as conn:
            cleared, sequence = clones.clear(conn, keyring, body.serials, who.name)
            audit.record(
                conn,
                who.name,
                AuditAction.SUSPECT_CLEAR,
                _serials_target(body.serials),
                client,
                {"reason": body.reason, "cleared": cleared, "trust_list_sequence": sequence},
            )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"cleared": cleared, "trust_list_sequence": sequence}


@router.post("/suspects")
def admin_suspects(
    body: SuspectRequest,
    database: DatabaseDep,
    keyring: KeyRingDep,
    who: AdminDep,
    client: ClientDep,
) -> dict:
    try:
        with database.write() as conn:
            sequence = keyring.mark_suspect(conn, body.serials, body.reason)
            audit.record(
                conn,
                who.name,
                AuditAction.SUSPECT_ADD,
                _serials_target(body.serials),
                client,
                {"reason": body.reason, "trust_list_sequence": sequence},
            )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"trust_list_sequence": sequence}


@router.get("/clone-detections")
def admin_clone_detections(
    database: DatabaseDep,
    status: clones.DetectionStatus | None = None,
    limit: int = Query(200, ge=1, le=5000),
) -> dict:
    """Clone detections (registry/clones.py), pending first."""
    with database.read() as conn:
        found = reports.detections(conn, status.value if status else None, limit)
    return {"detections": [asdict(d) for d in found]}


@router.post("/clone-detections/{detection_id}/{action}")
def admin_decide_detection(
    database: DatabaseDep,
    keyring: KeyRingDep,
    who: AdminDep,
    client: ClientDep,
    action: clones.Decision,  # a path parameter: approve | dismiss, else 422
    detection_id: int = Path(ge=1),
) -> dict:
    """approve: the serial goes onto the trust list's suspect list (every kiosk's next
    sync); dismiss: this rule will not flag the serial again. 409 unless pending."""
    try:
        with database.write() as conn:
            serial = clones.decide(conn, keyring, detection_id, action, who.name, client)
            sequence, _ = keyring.latest_signed(conn)
    except clones.DecisionError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return {
        "id": detection_id,
        "serial": serial,
        "action": action.value,
        "trust_list_sequence": sequence,
    }


@router.get("/reports")
@needs_role(AdminRole.VIEWER)
def admin_reports(
    config: ConfigDep, database: DatabaseDep, days: int = Query(30, ge=1, le=366)
) -> dict:
    with database.read(replica=True) as conn:
        return reports.build_report(conn, config, days=days).to_json()


@router.get("/reports/export")
@needs_role(AdminRole.VIEWER)
def admin_reports_export(
    config: ConfigDep,
    database: DatabaseDep,
    days: int = Query(30, ge=1, le=report_export.MAX_DAYS),
    format: str = Query("xlsx", pattern=report_export.FORMAT_PATTERN),
    table: str = Query("per_product", pattern=report_export.TABLE_PATTERN),
    delimiter: str = Query("comma", pattern=report_export.DELIMITER_PATTERN),
    lang: str = Query("vi", pattern=report_export.LANG_PATTERN),
) -> Response:
    """The report's tables: XLSX one sheet each, CSV the one named by `table`."""
    with database.read(replica=True) as conn:
        report = reports.build_report(conn, config, days=days)
    return report_export.download(report, format, table, delimiter=delimiter, lang=lang)


@router.get("/stamp-reports")
@needs_role(AdminRole.VIEWER)
def admin_stamp_reports(
    database: DatabaseDep,
    limit: int = Query(100, ge=1, le=5000),
    serial: int | None = Query(None, ge=1),
) -> dict:
    """Shoppers' reports from the phone page's form (registry/public_reports.py), newest
    first; read-only. A phone number is there only with the shopper's consent to a call."""
    with database.read() as conn:
        found = stamp_reports.recent(conn, limit, serial)
    return {"reports": [asdict(report) for report in found]}


@router.get("/audit")
def admin_audit(
    database: DatabaseDep,
    limit: int = Query(100, ge=1, le=1000),
    action: str | None = Query(None, max_length=48),
) -> dict:
    """The audit log, newest first (admin role: it names every admin and address)."""
    try:
        wanted = AuditAction(action) if action else None
    except ValueError:
        raise HTTPException(422, f"unknown action {action!r}") from None
    with database.read() as conn:
        entries = audit.recent(conn, limit, wanted)
    return {"entries": [dataclasses.asdict(entry) for entry in entries]}


def _serials_target(serials: list[int]) -> str:
    shown = ",".join(str(s) for s in serials[:50])
    return f"serials:{shown}" + (f",... ({len(serials)})" if len(serials) > 50 else "")
