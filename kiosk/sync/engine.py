"""The sync engine: pull catalog and trust changes, push the outbox, request stamp blocks.

Pull: GET catalog changes since the stored cursor. The reply is checked in full first
(shape, references, the trust list's signature against the pinned root, every new media
file fetched and its SHA-256 checked), and only then applied in ONE store transaction that
also advances the cursor. A truncated, corrupt or wrongly signed reply changes nothing.

Lots (protocol 3): GET the lots of stamps printed anywhere since the lots cursor, checked
in full and signed like the catalog, applied in one transaction with the cursor
(kiosk/lots.py). A registry without the feed (404) is skipped: lots then come only from
this kiosk's own print jobs.

Push: outbox rows without sent_at go out in batches, each item with the idempotency key
written together with the row. sent_at is set only after the registry's answer, in one
transaction per batch. If the kiosk dies between send and answer, the same keys are sent
again and the registry answers `duplicate`: each record exists exactly once there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from kiosk.catalog_write import apply_catalog_changes
from kiosk.lots import apply_lot_ranges
from kiosk.media import find_media_file, media_path, store_media
from kiosk.media_renditions import make_renditions
from kiosk.settings import transport_problems
from kiosk.stamps.service import receive_stamp_block
from kiosk.stamps.trust_store import newest_verified_row, store_trust_list, successor_root
from kiosk.sync import heartbeat, validate
from kiosk.sync import status as st
from kiosk.sync.client import RegistryClient
from kiosk.sync.errors import (
    BadReply,
    BlockRefused,
    CatalogRefused,
    InsecureRegistryUrl,
    PageNotApplied,
    ReplyRefused,
    SyncError,
    SyncNotConfigured,
    SyncRejected,
    TrustListRefused,
)
from kiosk.sync.status import SyncState, SyncStatus
from kiosk.trusted_time import trusted_now
from ocop.clock import ISO_SECONDS, utc_now_iso
from ocop.errors import UserError
from ocop.stamps.catalog_signature import CATALOG, LOTS, SignedFeed, verify_catalog_reply
from ocop.stamps.errors import TrustError
from ocop.stamps.trust import verify_signed_trust_list, verify_trust_envelope
from ocop.stations import BlockRefusal
from ocop.wire import UploadStatus

log = logging.getLogger(__name__)

PUSH_BATCH_ITEMS = 1000
PULL_PAGE_ITEMS = 2000
MAX_PAGES_PER_PULL = 10_000
# A registry that begins a new epoch (restored from a backup: registry/epoch.py) may have
# lost what kiosks delivered since that backup: outbox items sent within this window go
# out again (the registry answers `duplicate` for those it still has).
EPOCH_RESEND_WINDOW_S = 30 * 86400


@dataclass
class PullResult:
    pages: int = 0
    producers: int = 0
    products: int = 0
    media: int = 0
    tombstones: int = 0
    trust_list_sequence: int | None = None  # set when a newer trust list was stored
    cursor: int = 0
    resent: int = 0  # outbox items queued again for a new registry epoch
    lot_ranges: int = 0  # lot ranges stored from the lots feed
    lots_cursor: int = 0


@dataclass
class PushResult:
    batches: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0


@dataclass
class SyncReport:
    ok: bool
    pull: PullResult = field(default_factory=PullResult)
    push: PushResult = field(default_factory=PushResult)
    blocks: list[int] = field(default_factory=list)
    error: str = ""
    retryable: bool = True

    def summary(self) -> str:
        if not self.ok:
            return f"sync failed: {self.error}"
        p, u = self.pull, self.push
        trust = f", trust list {p.trust_list_sequence}" if p.trust_list_sequence else ""
        return (
            f"pulled {p.products} products, {p.producers} producers, {p.media} media, "
            f"{p.tombstones} deletions{trust} (cursor {p.cursor}), {p.lot_ranges} lot "
            f"ranges; pushed "
            f"{u.accepted} new, {u.duplicate} already known, {u.rejected} rejected"
        )


def check_configured(settings) -> None:
    reg = settings.registry
    missing = [
        name
        for name, value in (
            ("registry.url", reg.url),
            ("registry.token", reg.token),
            ("registry.root_public_key", reg.root_public_key),
        )
        if not value.strip()
    ]
    if missing:
        raise SyncNotConfigured(
            f"{', '.join(missing)} not set: put them in the config file or in "
            f"$OCOP_KIOSK_REGISTRY_URL / $OCOP_KIOSK_REGISTRY_TOKEN / $OCOP_KIOSK_ROOT_KEY"
        )
    # Settings from a file were checked already; this also covers settings built in code.
    insecure = transport_problems(settings)
    if insecure:
        raise InsecureRegistryUrl(insecure[0])


def requeue_recently_sent(tx, window_s: float = EPOCH_RESEND_WINDOW_S) -> int:
    """Queue again the scans and print records delivered within the window (heartbeats
    are not: only the next one matters). In the transaction that stores the new
    registry_id, so a crash re-queues them once, never zero times."""
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=window_s)).strftime(ISO_SECONDS)
    count = tx.execute(
        "UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL AND sent_at >= ? "
        "AND kind != 'heartbeat'",
        (cutoff,),
    ).rowcount
    if count:
        log.warning("registry began a new epoch: %d delivered item(s) will be sent again", count)
    return count


class SyncEngine:
    """One kiosk's sync with the registry. Not thread-safe by itself: the SyncLoop (or one
    CLI command) owns it. The store's transactions make it safe next to the scan and print
    workers."""

    #: Test hook: called with the upload reply after it arrived and before sent_at is
    #: written (the crash-between-send-and-ack window). None in production.
    after_upload_reply: Callable[[dict], None] | None = None

    def __init__(
        self,
        store,
        settings,
        data_dir: Path,
        client: RegistryClient | None = None,
        camera_state: heartbeat.DeviceGetter | None = None,
        printer_state: heartbeat.DeviceGetter | None = None,
        push_batch_items: int = PUSH_BATCH_ITEMS,
        pull_page_items: int = PULL_PAGE_ITEMS,
    ):
        """camera_state / printer_state: getters for the heartbeat (kiosk.sync.heartbeat);
        None = this process watches no device: report what the UI process recorded."""
        check_configured(settings)
        from kiosk.demo.state import refuse_demo_data

        refuse_demo_data(store)  # demo scans and stamps must never reach a registry
        self.store = store
        self.settings = settings
        self.data_dir = Path(data_dir)
        self.configured_root = settings.registry.root_public_key.strip()
        self.client = client or RegistryClient(
            settings.registry.url, settings.registry.token, settings.registry.timeout_s
        )
        recorded = heartbeat.RecordedDevices(store)
        self.camera_state = camera_state or recorded.camera
        self.printer_state = printer_state or recorded.printer
        self.push_batch_items = push_batch_items
        self.pull_page_items = pull_page_items

    # --- pull -----------------------------------------------------------------------------

    @property
    def root(self) -> str:
        """The configured root, or the successor it signed for once a list carried that
        succession (kiosk.stamps.trust_store.pin_successor_root): read each time, so a
        round after the hand-over no longer trusts the old root."""
        return successor_root(self.store.conn, self.configured_root) or self.configured_root

    def trust_sequence(self) -> int:
        found = newest_verified_row(self.store.conn, self.root)
        return found[0].sequence if found else 0

    def pull(self) -> PullResult:
        result = PullResult()
        for _ in range(MAX_PAGES_PER_PULL):
            more = self.pull_page(result)
            result.pages += 1
            if not more:
                break
        return result

    def pull_page(self, result: PullResult) -> bool:
        """One page: fetched, checked in full, applied in one transaction (or not at all).
        True when the registry has more."""
        conn = self.store.conn
        cursor = int(st.get_state(conn, st.CURSOR_KEY, "0"))
        registry_id = st.get_state(conn, st.REGISTRY_ID_KEY)
        reply = self.client.changes(cursor, self.trust_sequence(), self.pull_page_items)
        # A new registry_id: another database, or a new epoch of this one (restored from a
        # backup). Our cursor means nothing there (it may be beyond everything it has).
        new_epoch = bool(
            isinstance(reply, dict) and registry_id and reply.get("registry_id") != registry_id
        )
        if new_epoch and cursor:
            log.warning(
                "registry database changed (%s -> %s): catalog sync starts again "
                "from the beginning",
                registry_id,
                reply.get("registry_id"),
            )
            cursor = 0
            reply = self.client.changes(0, self.trust_sequence(), self.pull_page_items)
        local_producers = {r[0] for r in conn.execute("SELECT id FROM producers")}
        local_media = {r[0] for r in conn.execute("SELECT hash FROM media")}
        local_gtins = dict(
            conn.execute("SELECT gtin, id FROM products WHERE gtin IS NOT NULL").fetchall()
        )
        validate.check_changes(reply, cursor, local_producers, local_media, local_gtins)
        trust_blob = self._checked_trust_list(reply)
        self._check_catalog_signature(reply, cursor)
        try:
            fetched = self._fetch_media(reply["media"], local_media)
            with self.store.transaction() as tx:
                self._apply_page(tx, reply, fetched, trust_blob, result)
                if new_epoch:
                    result.resent = requeue_recently_sent(tx)
        except (SyncError, UserError):
            raise  # typed already (UserError: local, e.g. StoreFull)
        except Exception as exc:  # a rule the checks do not know, or a bug: page undone
            log.exception("catalog page %d..%s could not be applied", cursor, reply["cursor"])
            raise PageNotApplied(
                f"catalog page after cursor {cursor} not applied (rolled "
                f"back, nothing changed): {type(exc).__name__}: "
                f"{str(exc)[:200]}"
            ) from exc
        # After the commit: decoding photos must not hold the write lock (scans and prints
        # wait for it). A crash before this is harmless: the UI makes missing renditions.
        for m, _ in fetched:
            try:
                make_renditions(
                    self.data_dir, media_path(self.data_dir, m["hash"], m["mime"]), m["hash"]
                )
            except Exception:  # the page is applied: a picture must not fail it
                log.exception("display copies of %s not made", m["hash"][:12])
        result.producers += len(reply["producers"])
        result.products += len(reply["products"])
        result.media += len(fetched)
        result.tombstones += len(reply["tombstones"])
        result.cursor = reply["cursor"]
        return bool(reply["more"])

    def pull_lots(self, result: PullResult) -> None:
        """The lots feed (protocol 3) page by page, each checked in full (shape, dates,
        overlaps: kiosk.sync.validate.check_lots; the signature) and applied with its cursor
        in one transaction, or not at all. Skipped until a trust list is stored (the
        catalog stage fetches it): without one no reply can be checked, and the catalog
        stage already says why."""
        if newest_verified_row(self.store.conn, self.root) is None:
            log.info("lots feed skipped: no trust list yet to check it with")
            return
        for _ in range(MAX_PAGES_PER_PULL):
            conn = self.store.conn
            cursor = int(st.get_state(conn, st.LOTS_CURSOR_KEY, "0"))
            registry_id = st.get_state(conn, st.LOTS_REGISTRY_ID_KEY)
            try:
                reply = self.client.lots(cursor, self.pull_page_items)
            except SyncRejected as exc:
                if exc.status != 404:
                    raise
                log.info(
                    "the registry has no lots feed (protocol 2): lots of stamps "
                    "printed elsewhere are not shown"
                )
                return
            if isinstance(reply, dict) and registry_id and reply.get("registry_id") != registry_id:
                # another registry database or a new epoch: our cursor means nothing there
                log.warning("registry database changed: the lots feed starts again from 0")
                cursor = 0
                reply = self.client.lots(0, self.pull_page_items)
            ranges = validate.check_lots(reply, cursor)
            self._check_catalog_signature(reply, cursor, LOTS)
            with self.store.transaction() as tx:
                result.lot_ranges += apply_lot_ranges(tx, ranges)
                st.set_state(tx, st.LOTS_CURSOR_KEY, str(reply["cursor"]))
                st.set_state(tx, st.LOTS_REGISTRY_ID_KEY, reply["registry_id"])
            result.lots_cursor = reply["cursor"]
            if not reply["more"]:
                return

    def _checked_trust_list(self, reply: dict) -> str | None:
        """The reply's trust list, verified against the pinned root before anything is
        written; None when there is none or it is the one already stored."""
        if reply["trust_list"] is None:
            return None
        blob = json.dumps(
            reply["trust_list"], sort_keys=True, separators=(",", ":"), ensure_ascii=True
        )
        try:
            trust = verify_signed_trust_list(blob, self.root, now=trusted_now(self.store.conn))
        except TrustError as exc:
            raise TrustListRefused(f"trust list refused, nothing changed: {exc}") from None
        if trust.sequence != reply["trust_list_sequence"]:
            raise ReplyRefused("trust list sequence differs from trust_list_sequence")
        current = self.trust_sequence()
        if trust.sequence < current:
            raise TrustListRefused(
                f"trust list {trust.sequence} is older than the stored "
                f"{current} (rollback refused), nothing changed"
            )
        return None if trust.sequence == current else blob

    def _check_catalog_signature(self, reply: dict, since: int, feed: SignedFeed = CATALOG) -> None:
        """The page must be signed by the registry's list-signing key, taken from the
        delegation of the trust list in this reply (verified just before) or of the stored
        one. Checked before anything is fetched or applied."""
        if reply.get("trust_list") is not None:
            blob = json.dumps(
                reply["trust_list"], sort_keys=True, separators=(",", ":"), ensure_ascii=True
            )
        else:
            found = newest_verified_row(self.store.conn, self.root)
            if found is None:
                raise CatalogRefused(f"{feed.what} refused: no trust list to check it with")
            blob = found[1]
        try:
            list_key = verify_trust_envelope(blob, self.root).list_public_key
            if list_key is None:
                raise TrustError(
                    "the trust list is version 1 and names no list-signing key; the "
                    "registry must publish a version 2 list"
                )
            verify_catalog_reply(reply, since, list_key, feed)
        except TrustError as exc:
            raise CatalogRefused(f"{feed.what} refused, nothing changed: {exc}") from None

    def _fetch_media(self, announced: list[dict], local_media: set[str]) -> list:
        """Every missing picture, its bytes checked, before the transaction opens."""
        fetched = []
        for m in announced:
            if m["hash"] in local_media and find_media_file(
                self.store.conn, self.data_dir, m["hash"]
            ):
                continue
            content, _ = self.client.media(m["hash"], max_bytes=m["size_bytes"])
            digest = hashlib.sha256(content).hexdigest()
            if digest != m["hash"] or len(content) != m["size_bytes"]:
                raise BadReply(
                    f"media {m['hash'][:12]}... has the wrong content "
                    f"(sha256 {digest[:12]}..., {len(content)} bytes)"
                )
            fetched.append((m, content))
        return fetched

    def _apply_page(
        self, tx, reply: dict, fetched: list, trust_blob: str | None, result: PullResult
    ) -> None:
        """One checked page in the caller's transaction."""
        for m, content in fetched:
            store_media(
                tx, self.data_dir, content, m["mime"], origin="registry", expected_sha256=m["hash"]
            )
        apply_catalog_changes(tx, reply["producers"], reply["products"], reply["tombstones"])
        if trust_blob is not None:
            stored = store_trust_list(self.store, trust_blob, self.root, conn=tx)
            result.trust_list_sequence = stored.sequence
        st.set_state(tx, st.CURSOR_KEY, str(reply["cursor"]))
        st.set_state(tx, st.REGISTRY_ID_KEY, reply["registry_id"])
        st.set_state(tx, st.LAST_PULL_KEY, utc_now_iso())

    # --- push -----------------------------------------------------------------------------

    def queue_heartbeat(self, last_success_at: str | None = None) -> str:
        """Replace any unsent heartbeat with a fresh one (only the newest matters)."""
        key = f"hb-{uuid.uuid4().hex}"
        camera = heartbeat.read_device(self.camera_state)
        printer = heartbeat.read_device(self.printer_state)
        with self.store.transaction() as tx:
            found = newest_verified_row(tx, self.root)
            payload = heartbeat.build_payload(
                tx,
                settings=self.settings,
                data_dir=self.data_dir,
                trust_list=found[0] if found else None,
                last_sync_at=last_success_at,
                catalog_cursor=int(st.get_state(tx, st.CURSOR_KEY, "0")),
                camera=camera,
                printer=printer,
            )
            tx.execute("DELETE FROM outbox WHERE kind = 'heartbeat' AND sent_at IS NULL")
            tx.execute(
                "INSERT INTO outbox(kind, idempotency_key, payload_json, created_at) "
                "VALUES ('heartbeat', ?, ?, ?)",
                (key, json.dumps(payload, ensure_ascii=False), payload[heartbeat.Field.AT]),
            )
        return key

    def push(self) -> PushResult:
        result = PushResult()
        while True:
            rows = self.store.query(
                "SELECT id, kind, idempotency_key, payload_json FROM outbox "
                "WHERE sent_at IS NULL ORDER BY id LIMIT ?",
                (self.push_batch_items,),
            )
            if not rows:
                return result
            items = [
                {
                    "kind": r["kind"],
                    "idempotency_key": r["idempotency_key"],
                    "payload": _payload(r["payload_json"]),
                }
                for r in rows
            ]
            keys = [i["idempotency_key"] for i in items]
            with self.store.transaction() as tx:
                tx.executemany(
                    "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?",
                    [(r["id"],) for r in rows],
                )
            reply = self.client.upload(items)
            answers = validate.check_upload_reply(reply, keys)
            if self.after_upload_reply is not None:
                self.after_upload_reply(reply)
            now = utc_now_iso()
            said = [UploadStatus(a["status"]) for a in answers.values()]
            rejected = [a for a in answers.values() if a["status"] == UploadStatus.REJECTED.value]
            with self.store.transaction() as tx:
                tx.executemany(
                    "UPDATE outbox SET sent_at = ? WHERE idempotency_key = ? AND sent_at IS NULL",
                    [(now, k) for k in keys],
                )
                if rejected:
                    before = int(st.get_state(tx, st.REJECTED_KEY, "0"))
                    st.set_state(tx, st.REJECTED_KEY, str(before + len(rejected)))
            for a in rejected:
                # reason: an ocop.wire.Refusal value (not checked: a newer registry may add)
                log.warning(
                    "registry rejected outbox item %s for good (%s): %s",
                    a["idempotency_key"],
                    str(a.get("reason") or "no reason given")[:40],
                    a.get("error", ""),
                )
            result.batches += 1
            result.rejected += len(rejected)
            result.accepted += said.count(UploadStatus.ACCEPTED)
            result.duplicate += said.count(UploadStatus.DUPLICATE)
            if len(rows) < self.push_batch_items:
                return result

    # --- stamp blocks -----------------------------------------------------------------------

    def request_stamp_block(self, product_id: int, count: int) -> int:
        """Ask the registry for `count` pre-signed stamps of a product and store them as a
        block (state 'available'). Returns the local block id. The request id is saved
        first, so a retry after a crash gets the same block, never a second one."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise UserError(f"count must be a positive integer, got {count!r}")
        request_id = f"blk-{uuid.uuid4().hex}"
        with self.store.transaction() as tx:
            st.set_state(
                tx,
                st.PENDING_BLOCK_PREFIX + request_id,
                json.dumps({"product_id": product_id, "count": count}),
            )
        return self._fetch_block(request_id, product_id, count)

    def complete_pending_blocks(self) -> list[int]:
        """Blocks requested before a crash or a lost reply: ask again with the same id. A
        refused one (forgotten: never asked again) does not keep the others waiting; the
        first refusal is raised after them, so the round reports it to staff once."""
        done, refused = [], None
        for row in self.store.query(
            "SELECT key, value FROM sync_state WHERE key LIKE ?", (st.PENDING_BLOCK_PREFIX + "%",)
        ):
            request_id = row["key"][len(st.PENDING_BLOCK_PREFIX) :]
            info = json.loads(row["value"])
            try:
                done.append(self._fetch_block(request_id, info["product_id"], info["count"]))
            except BlockRefused as exc:
                log.warning("stamp block request %s given up: %s", request_id, exc)
                refused = refused or exc
        if refused is not None:
            raise refused
        return done

    def _fetch_block(self, request_id: str, product_id: int, count: int) -> int:
        try:
            reply = self.client.stamp_block(request_id, product_id, count)
        except SyncRejected as exc:
            # Will never succeed as asked (a 403 is the office's decision: asking again each
            # round would only add alerts; a 410: the registry no longer keeps a block that
            # old, its serials are never printed): forget the request.
            if exc.status in (403, 404, 409, 410, 422):
                with self.store.transaction() as tx:
                    st.delete_state(tx, st.PENDING_BLOCK_PREFIX + request_id)
            refusal = _block_refusal(exc)
            if refusal is not None:
                raise BlockRefused(f"{refusal.label_msgid}. {exc}", refusal, exc.status) from None
            raise
        stamps = validate.check_block_reply(reply, product_id, count, request_id)
        if reply.get("key_id") is not None:
            trust = newest_verified_row(self.store.conn, self.root)
            known = trust[0].signing_key(reply["key_id"]) if trust else None
            issued_on = reply.get("issued_on")
            if (
                known is None
                or not isinstance(issued_on, str)
                or issued_on < known.valid_from.isoformat()
            ):
                # A rotated key (or the pre-published one started early): fetch the list.
                self.pull()
        try:
            with self.store.transaction() as tx:
                block_id = receive_stamp_block(
                    self.store, self.settings, product_id, stamps, conn=tx
                )
                st.delete_state(tx, st.PENDING_BLOCK_PREFIX + request_id)
        except UserError as exc:
            raise BadReply(f"stamp block refused: {exc}") from None
        log.info("stored block %d: %d stamps of product %d", block_id, count, product_id)
        return block_id

    # --- one round ------------------------------------------------------------------------

    def sync_once(self, status: SyncStatus | None = None) -> tuple[SyncReport, SyncStatus]:
        """Queue a heartbeat, pull, complete pending blocks, push. Every stage runs whatever
        happened in the one before: a catalog page the kiosk refuses, or a pull that times
        out on a slow link, must not keep scans from reaching the registry. Never raises for
        a failed stage (the outcome is in the report and the persisted status), and never
        leaves the persisted state SYNCING: a round that is killed outright is recognised by
        the next reader through the round lock (kiosk.sync.status.round_running)."""
        with st.round_running(self.store.path):
            return self._round(status)

    def _round(self, status: SyncStatus | None) -> tuple[SyncReport, SyncStatus]:
        previous = status or st.read_sync_status(self.store)
        started = utc_now_iso()
        self._save_status(
            dataclasses.replace(previous, state=SyncState.SYNCING, last_attempt_at=started)
        )
        report = SyncReport(ok=True)
        failures: list[_Failure] = []

        def pull():
            report.pull = self.pull()

        def lots():
            self.pull_lots(report.pull)

        def blocks():
            report.blocks = self.complete_pending_blocks()

        def push():
            report.push = self.push()

        stages = (
            ("heartbeat", lambda: self.queue_heartbeat(previous.last_success_at)),
            ("pull", pull),
            ("lots", lots),
            ("stamp blocks", blocks),
            ("push", push),
        )
        try:
            for name, fn in stages:
                failure = _run_stage(name, fn)
                if failure is not None:
                    failures.append(failure)
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: saved, re-raised
            failures.append(
                _Failure(f"round stopped ({type(exc).__name__})", True, SyncState.INTERRUPTED)
            )
            self._save_status(_outcome(previous, started, report, failures))
            raise
        return report, self._save_status(_outcome(previous, started, report, failures))

    def _save_status(self, status: SyncStatus) -> SyncStatus:
        with self.store.transaction() as tx:
            status = dataclasses.replace(
                status,
                pending_outbox=st.pending_outbox_count(tx),
                catalog_cursor=int(st.get_state(tx, st.CURSOR_KEY, "0")),
                trust_list_sequence=self.trust_sequence(),
            )
            st.write_status(tx, status)
        return status

    def save_status(self, status: SyncStatus) -> SyncStatus:
        return self._save_status(status)


class _Failure(NamedTuple):
    message: str
    retryable: bool
    state: SyncState


def _run_stage(name: str, fn: Callable[[], object]) -> _Failure | None:
    """One stage; what went wrong, or None."""
    try:
        fn()
        return None
    except SyncError as exc:
        log.warning("sync: %s failed: %s", name, exc)
        return _Failure(f"{name}: {exc}", exc.retryable, exc.state)
    except (sqlite3.Error, UserError) as exc:
        log.exception("sync: %s failed locally", name)
        return _Failure(f"{name}: local: {exc}", True, SyncState.ERROR)
    except Exception as exc:  # a bug: logged with its traceback; the next stage still runs
        log.exception("sync: %s failed unexpectedly", name)
        return _Failure(
            f"{name}: unexpected {type(exc).__name__}: {str(exc)[:200]}", True, SyncState.ERROR
        )


def _outcome(
    previous: SyncStatus, started: str, report: SyncReport, failures: list[_Failure]
) -> SyncStatus:
    """The status a round leaves (and the report's ok/error), from its failures."""
    if not failures:
        return dataclasses.replace(
            previous,
            state=SyncState.IDLE,
            last_success_at=utc_now_iso(),
            last_attempt_at=started,
            last_error="",
            offline_since=None,
        )
    report.ok = False
    report.error = "; ".join(f.message for f in failures)
    report.retryable = all(f.retryable for f in failures)
    return dataclasses.replace(
        previous,
        state=st.worst_state(f.state for f in failures),
        last_attempt_at=started,
        last_error=report.error,
        offline_since=previous.offline_since or started,
    )


def _payload(text: str):
    try:
        value = json.loads(text)
    except ValueError:
        return {"unparseable": text}
    return value if isinstance(value, dict) else {"value": value}


def _block_refusal(exc: SyncRejected) -> BlockRefusal | None:
    """The registry's reason for a 403 (or the 410 of an old block) to a block request,
    when it is one we know."""
    if exc.status not in (403, 410):
        return None
    try:
        return BlockRefusal(exc.reason)
    except ValueError:
        return None
