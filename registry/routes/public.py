"""Routes anyone may call: health, the signed trust list, catalog pictures."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response

from registry import __version__, db
from registry.dal import catalog as catalog_rows
from registry.deps import ConfigDep, DatabaseDep, KeyRingDep
from registry.routes import API

router = APIRouter(prefix=API, tags=["public"])


@router.get("/health")
def health(config: ConfigDep, database: DatabaseDep, keyring: KeyRingDep) -> dict:
    with database.read() as conn:
        sequence, _ = keyring.latest_signed(conn)
        return {
            "status": "ok",
            "version": __version__,
            "registry_id": db.get_meta(conn, "registry_id"),
            "trust_list_sequence": sequence,
            "root_fingerprint": keyring.root_fingerprint(conn),
            "stamp_base_url": config.stamp_base_url,
            # A root private key online, a delegation ending within 30 days (issue 14).
            "warnings": keyring.warnings(conn),
        }


@router.get("/trust-list", response_description="the signed trust list envelope, verbatim")
def trust_list(database: DatabaseDep, keyring: KeyRingDep) -> Response:
    with database.read() as conn:
        _, signed = keyring.latest_signed(conn)
    return Response(signed, media_type="application/json", headers={"Cache-Control": "no-cache"})


@router.get("/media/{sha256}")
def media(database: DatabaseDep, sha256: str = Path(pattern=r"^[0-9a-f]{64}$")) -> Response:
    with database.read() as conn:
        found = catalog_rows.get_media(conn, sha256)
    if found is None:
        raise HTTPException(404, f"no media {sha256}")
    mime, content = found
    return Response(
        content,
        media_type=mime,
        headers={"Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{sha256}"'},
    )
