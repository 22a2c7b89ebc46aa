"""The console's catalog import and export (issue 16): upload a CSV or XLSX file, see the
dry run's every problem by row and column in the office's language, apply the same file;
download the catalog and the report as CSV or XLSX. The engine is registry/catalog_import.py
(shared with POST /api/v1/admin/catalog/import and `ocop-registry catalog import`).

The same file: the dry run keeps the upload in the data folder (`console-imports/`, named by
a random id, with its SHA-256, its uploader and its time) for HELD_FOR_S; the apply form
carries the id and the SHA-256 the page showed, and the apply refuses a file whose bytes no
longer have that SHA-256, one another user uploaded, or one older than HELD_FOR_S. The apply
checks the file again against the registry as it is then (another change may have come in
between) and writes it in one transaction with its audit row (before and after).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from registry import catalog_import, report_export, reports
from registry.admins import AdminRole
from registry.deps import ConfigDep, ConsoleDep, DatabaseDep, client_address, needs_role
from registry.i18n import N_
from registry.routes.console import Section, render

SECTIONS = ()  # pages under the Catalog section (console_catalog.py owns its page)
IMPORT = f"{Section.CATALOG.href}/import"
APPLY = f"{IMPORT}/apply"
EXPORT = f"{Section.CATALOG.href}/export"
HELD_DIR = "console-imports"
HELD_FOR_S = 30 * 60
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")
router = APIRouter(include_in_schema=False)

TABLE_LABELS = {
    "scans_per_day": N_("Scans per day"),
    "per_product": N_("Scans per product"),
    "per_district": N_("Scans per district"),
    "per_verdict": N_("Scans per verdict"),
}


# ---- the held uploads ------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    upload_id: str
    sha256: str
    filename: str
    owner: str
    content: bytes


def _held_dir(request: Request) -> Path:
    return Path(request.app.state.config.data_dir) / HELD_DIR


def _purge(folder: Path, now: float) -> None:
    """Uploads older than HELD_FOR_S go (a dry run never applied leaves nothing behind)."""
    for path in folder.glob("*.json"):
        try:
            if now - path.stat().st_mtime > HELD_FOR_S:
                path.with_suffix(".bin").unlink(missing_ok=True)
                path.unlink(missing_ok=True)
        except OSError:
            continue


def hold(request: Request, content: bytes, filename: str, owner: str) -> Held:
    folder = _held_dir(request)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _purge(folder, time.time())
    upload_id = secrets.token_urlsafe(24)
    sha256 = hashlib.sha256(content).hexdigest()
    (folder / f"{upload_id}.bin").write_bytes(content)
    meta = {"sha256": sha256, "filename": filename, "owner": owner, "at": time.time()}
    (folder / f"{upload_id}.json").write_text(json.dumps(meta), "utf-8")
    return Held(upload_id, sha256, filename, owner, content)


def take(request: Request, upload_id: str, sha256: str, owner: str) -> Held | None:
    """The held upload if it is still the file the dry run checked (same SHA-256 as the
    page showed and as stored, same uploader, not expired); None otherwise."""
    if not UPLOAD_ID.fullmatch(upload_id):
        return None
    folder = _held_dir(request)
    try:
        meta = json.loads((folder / f"{upload_id}.json").read_text("utf-8"))
        content = (folder / f"{upload_id}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    actual = hashlib.sha256(content).hexdigest()
    fresh = time.time() - float(meta.get("at", 0)) <= HELD_FOR_S
    if not (
        fresh
        and meta.get("owner") == owner
        and hmac.compare_digest(actual, str(meta.get("sha256", "")))
        and hmac.compare_digest(actual, sha256.strip().lower())
    ):
        return None
    return Held(upload_id, actual, str(meta.get("filename", "")), owner, content)


def release(request: Request, upload_id: str) -> None:
    folder = _held_dir(request)
    for suffix in (".bin", ".json"):
        (folder / f"{upload_id}{suffix}").unlink(missing_ok=True)


# ---- pages -----------------------------------------------------------------------------


def _max_bytes(request: Request) -> int:
    """What a browser can send: the request limit as sent (a browser does not gzip)."""
    limits = request.app.state.config.limits
    return min(catalog_import.MAX_IMPORT_BYTES, limits.max_wire_bytes)


def _import_page(request: Request, caller, status: int = 200, **context) -> Response:
    context.setdefault("max_mib", _max_bytes(request) // (1024 * 1024))
    return render(
        request,
        "import.html",
        caller,
        Section.CATALOG.slug,
        status=status,
        catalog_href=Section.CATALOG.href,
        import_href=IMPORT,
        apply_href=APPLY,
        **context,
    )


@needs_role(AdminRole.EDITOR)
def import_form(request: Request, caller: ConsoleDep) -> Response:
    return _import_page(request, caller)


@needs_role(AdminRole.EDITOR)
def import_check(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The dry run of an uploaded file (multipart; the CSRF token is its first field)."""
    if file is None or not file.filename:
        return _import_page(request, caller, 422, error=N_("Choose a file first."))
    content = file.file.read(_max_bytes(request) + 1)  # sync: a worker thread
    name = os.path.basename(file.filename.replace("\\", "/"))[:100]
    if len(content) > _max_bytes(request):
        return _import_page(request, caller, 413, error=N_("The file is larger than {mib} MiB."))
    report = catalog_import.import_catalog(database, content, name, apply=False)
    held = None if report.problems else hold(request, content, name, caller.principal.name)
    return _import_page(
        request,
        caller,
        422 if report.problems else 200,
        filename=name,
        problems=report.problems,
        summary=None if report.summary is None else catalog_import.summary_json(report.summary),
        held=held,
    )


@needs_role(AdminRole.EDITOR)
def import_apply(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    upload_id: str = Form("", max_length=64),
    sha256: str = Form("", max_length=64),
) -> Response:
    held = take(request, upload_id, sha256, caller.principal.name)
    if held is None:
        return _import_page(request, caller, 409, stale=True)
    report = catalog_import.import_catalog(
        database,
        held.content,
        held.filename,
        apply=True,
        audit=catalog_import.audit_hook(
            caller.principal.name, client_address(request), held.filename, held.sha256
        ),
    )
    if report.problems:  # the registry changed since the dry run: shown as a dry run is
        release(request, held.upload_id)
        return _import_page(request, caller, 422, filename=held.filename, problems=report.problems)
    release(request, held.upload_id)
    return _import_page(
        request,
        caller,
        filename=held.filename,
        applied=True,
        summary=None if report.summary is None else catalog_import.summary_json(report.summary),
    )


@needs_role(AdminRole.VIEWER)
def export_page(request: Request, caller: ConsoleDep) -> Response:
    return render(
        request,
        "export.html",
        caller,
        Section.CATALOG.slug,
        catalog_href=Section.CATALOG.href,
        export_href=EXPORT,
        tables=TABLE_LABELS,
    )


def _download(content: bytes, fmt: str, name: str) -> Response:
    return Response(
        content,
        media_type=catalog_import.EXPORT_FORMATS[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@needs_role(AdminRole.VIEWER)
def export_catalog(
    caller: ConsoleDep,
    database: DatabaseDep,
    format: str = Query("csv", pattern="^(csv|xlsx)$"),
    delimiter: str = Query("comma", pattern="^(comma|semicolon)$"),
    lang: str = Query("vi", pattern="^(vi|en)$"),
) -> Response:
    content = catalog_import.export_catalog(
        database, format, delimiter=catalog_import.DELIMITERS[delimiter], lang=lang
    )
    return _download(content, format, "ocop-catalog")


@needs_role(AdminRole.VIEWER)
def export_report(
    caller: ConsoleDep,
    config: ConfigDep,
    database: DatabaseDep,
    days: int = Query(30, ge=1, le=366),
    format: str = Query("xlsx", pattern="^(csv|xlsx)$"),
    table: str = Query("per_product", pattern="^(" + "|".join(report_export.TABLES) + ")$"),
    delimiter: str = Query("comma", pattern="^(comma|semicolon)$"),
    lang: str = Query("vi", pattern="^(vi|en)$"),
) -> Response:
    with database.read(replica=True) as conn:
        report = reports.build_report(conn, config, days=days)
    content = report_export.report_file(
        report, format, table, delimiter=catalog_import.DELIMITERS[delimiter], lang=lang
    )
    name = f"ocop-report-{report.last_day}" + (f"-{table}" if format == "csv" else "")
    return _download(content, format, name)


router.add_api_route(IMPORT, import_form, methods=["GET"])
router.add_api_route(IMPORT, import_check, methods=["POST"])
router.add_api_route(APPLY, import_apply, methods=["POST"])
router.add_api_route(EXPORT, export_page, methods=["GET"])
router.add_api_route(f"{EXPORT}/catalog", export_catalog, methods=["GET"])
router.add_api_route(f"{EXPORT}/report", export_report, methods=["GET"])
