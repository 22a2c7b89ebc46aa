"""Routes for stations (kiosks and stamp stations), with their station token; the catalog
feed also accepts the admin token."""

from __future__ import annotations

import gzip
import json

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy.exc import DBAPIError, IntegrityError

from ocop.stations import REFUSAL_REASON_FIELD, BlockRefusal
from ocop.wire import CATALOG_SIGNATURE, LOTS_SIGNATURE, UPLOAD_STATUSES
from registry import db, uploads
from registry import stations as station_rules
from registry.config import Limits, RegistryConfig
from registry.dal import catalog as catalog_rows
from registry.dal import lots as lot_rows
from registry.deps import (
    ConfigDep,
    DatabaseDep,
    KeyRingDep,
    ReaderDep,
    StationDep,
    VerifiersDep,
    station_on,
)
from registry.routes import API
from registry.schemas import BlockRequest, UploadBatch, UploadReply
from registry.signing import BlockConflict, BlockReplyGone

# The routes that need nothing from `limits`; build_router() mounts them under API.
router = APIRouter()


def build_router(limits: Limits) -> APIRouter:
    """The stations' routes; the catalog feed's page size bounds come from `limits` (they
    are part of its validated, documented query)."""
    outer = APIRouter(prefix=API, tags=["stations"])

    @outer.get("/catalog/changes")
    def catalog_changes(
        reader: ReaderDep,
        database: DatabaseDep,
        keyring: KeyRingDep,
        since: int = Query(0, ge=0, le=2**62),
        limit: int = Query(limits.default_page_items, ge=1, le=limits.max_page_items),
        trust_sequence: int = Query(0, ge=0, le=2**62),
    ) -> dict:
        """Catalog changes after cursor `since` (a prefix of the change log, cut at `cursor`;
        ask again at once while `more`), plus the signed trust list when it is newer than
        `trust_sequence`."""
        with database.read() as conn:
            reply = catalog_rows.changes_since(conn, since, limit)
            sequence, signed = keyring.latest_signed(conn)
            reply["registry_id"] = db.get_meta(conn, "registry_id")
            reply["trust_list_sequence"] = sequence
            reply["trust_list"] = json.loads(signed) if sequence > trust_sequence else None
            # Last: the signature covers everything above, and `since`.
            reply[CATALOG_SIGNATURE] = keyring.sign_catalog(conn, reply, since)
        return reply

    @outer.get("/lots/changes")
    def lot_changes(
        reader: ReaderDep,
        database: DatabaseDep,
        keyring: KeyRingDep,
        since: int = Query(0, ge=0, le=2**62),
        limit: int = Query(limits.default_page_items, ge=1, le=limits.max_page_items),
    ) -> dict:
        """Protocol 3: the lots of printed stamps as serial ranges, after cursor `since`
        (registry/dal/lots.py; ask again at once while `more`), signed like the catalog."""
        with database.read() as conn:
            reply = lot_rows.lot_ranges_since(conn, since, limit)
            reply["registry_id"] = db.get_meta(conn, "registry_id")
            reply[LOTS_SIGNATURE] = keyring.sign_lots(conn, reply, since)
        return reply

    outer.include_router(router)
    return outer


@router.get("/stations/me")
def station_me(station: StationDep) -> dict:
    return {"name": station.name, "district": station.district}


@router.post("/stamp-blocks")
def stamp_block(
    request: Request,
    body: BlockRequest,
    station: StationDep,
    config: ConfigDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
) -> Response:
    """Allocate `count` new province-unique serials for a product, signed with the
    current key, recorded as issued to this station. A repeated request id returns the
    block already granted (whatever the quota says now), the same bytes, never signed
    again. A kiosk-role station, a product
    outside the station's bindings or a request over its quota: 403 with a `reason`
    (ocop.stations.BlockRefusal), nothing issued, an alert on the reports page."""
    if body.count > config.limits.max_block_count:
        raise HTTPException(422, f"count is at most {config.limits.max_block_count}")
    for attempt in range(2):
        try:
            with database.write() as conn:
                if not catalog_rows.product_exists(conn, body.product_id):
                    raise HTTPException(404, f"no product {body.product_id}")
                refusal = station_rules.authorize_block(
                    conn, station.id, body.request_id, body.product_id, body.count
                )
                if refusal is not None:
                    # Committed with this transaction; the 403 is raised after it.
                    station_rules.record_refusal(
                        conn, station.id, refusal, body.product_id, body.count
                    )
                else:
                    # Short: the range is reserved here, signed below outside the
                    # transaction (a 10,000-stamp block would hold the write lock ~0.5 s).
                    claim = keyring.claim_block(
                        conn, station.id, body.request_id, body.product_id, body.count
                    )
            if refusal is not None:
                raise HTTPException(
                    403,
                    {
                        "title": "Stamp block refused",
                        "detail": refusal.detail,
                        REFUSAL_REASON_FIELD: refusal.reason.value,
                    },
                )
            # Stored gzipped: sent as it is (the gzip middleware leaves an encoded body be).
            gzipped = keyring.finish_block(database, claim)
            if "gzip" in request.headers.get("accept-encoding", ""):
                return Response(
                    gzipped,
                    media_type="application/json",
                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
                )
            return Response(gzip.decompress(gzipped), media_type="application/json")
        except station_rules.StationInactive:
            raise HTTPException(401, "unknown or disabled token") from None
        except BlockConflict as exc:
            raise HTTPException(409, str(exc)) from None
        except BlockReplyGone as exc:
            raise HTTPException(410, block_gone_problem(exc.row, config)) from None
        except IntegrityError:  # the same request id raced itself: read it back
            if attempt:
                raise
    raise AssertionError("unreachable")


def block_gone_problem(row, config: RegistryConfig) -> dict:
    """The 410 to a retry of a block whose stored reply retention dropped: when it was
    issued, its serial range (staff and the office can tell which serials will never be
    printed) and the reason the kiosk stops retrying on (BlockRefusal.REPLY_GONE)."""
    days = config.block_reply_keep_days
    return {
        "title": "Stamp block reply no longer kept",
        "detail": (
            f"block {row.id} (serials {row.first_serial}-{row.last_serial}, {row.count} stamps "
            f"of product {row.product_id}) was issued on {row.issued_on}; its signed reply is "
            f"kept for {days} day{'' if days == 1 else 's'} and was dropped at "
            f"{row.reply_dropped_at}. These serials will never be signed again: request a "
            f"new block."
        ),
        REFUSAL_REASON_FIELD: BlockRefusal.REPLY_GONE.value,
        "block_id": row.id,
        "request_id": row.request_id,
        "product_id": row.product_id,
        "first_serial": row.first_serial,
        "last_serial": row.last_serial,
        "issued_on": row.issued_on,
        "reply_dropped_at": row.reply_dropped_at,
    }


@router.post("/uploads", response_model=UploadReply)
def upload(
    request: Request,
    body: UploadBatch,
    config: ConfigDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
    verifiers: VerifiersDep,
) -> dict:
    """Scans, print records and heartbeats. Each item once per idempotency key:
    `accepted` the first time, `duplicate` after that (both mean delivered), or `rejected`
    with a `reason` (ocop.wire.Refusal) and an `error`, the same on every resend."""
    limits = config.limits
    if len(body.items) > limits.max_upload_items:
        raise HTTPException(413, f"at most {limits.max_upload_items} items per batch")
    items = [item.model_dump() for item in body.items]
    ctx = uploads.UploadContext(verifiers, keyring, config.clone_rules, limits.max_payload_bytes)

    def checked(conn) -> tuple:
        station = station_on(request, conn)
        if body.station is not None and body.station != station.name:
            raise HTTPException(
                403, f"this token belongs to station {station.name!r}, not {body.station!r}"
            )
        return station, uploads.check_batch(conn, station, items, ctx)

    for attempt in range(2):
        try:
            if database.is_sqlite:
                # Its one write lock is held for the inserts only: the token check and the
                # verification of every stamp read first (a SQLite transaction is no round
                # trip; a concurrent upload of the same keys is sorted out by event_keys).
                with database.read() as conn:
                    station, batch = checked(conn)
                with database.write() as conn:
                    results = uploads.store_batch(conn, station, batch, ctx)
            else:
                # PostgreSQL: one transaction for the whole upload, the token check
                # included (reads take no lock there).
                with database.write() as conn:
                    station, batch = checked(conn)
                    results = uploads.store_batch(conn, station, batch, ctx)
            break
        except IntegrityError:  # a concurrent resend: its keys are found the second time
            if attempt:
                raise
        except DBAPIError as exc:  # a pooled connection that died: once more on a new one
            if attempt or not db.is_disconnect(exc):
                raise
    counts = {s: sum(1 for r in results if r["status"] == s) for s in UPLOAD_STATUSES}
    return {"station": station.name, **counts, "results": results}
