"""`ocop-kiosk init --force`: turn a demo data folder into a real one.

Dropped: the demo catalog (products marked is_demo, the demo producers no other product
uses, the placeholder pictures and their renditions), the demo keys (<data_dir>/keys/demo-*)
with every trust list their root signed and the pinned demo root, the demo stamp blocks and
their stamps, print jobs that printed only demo stamps, scans of demo-signed stamps, the
outbox rows of all these, the demo stamp pictures of the demo camera, and the demo flag
(so the demo PIN 2468 stops working: a staff PIN must be set, `ocop-kiosk staff hash-pin`).

Kept: everything else, e.g. stamps from registry blocks and their print jobs and print
records, scans of other codes, sent outbox history. The catalog cursor is reset so the first
real sync fetches the whole registry catalog.

The store changes in ONE transaction (all or nothing); the files go after the commit (a crash
in between leaves only unreferenced files, which the next `init --force` removes).
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, fields
from pathlib import Path

from kiosk.demo.seed import load_demo_catalog
from kiosk.demo.state import is_demo_data, set_demo_flag
from kiosk.media import media_path
from kiosk.media_renditions import RenditionSize, find_rendition
from kiosk.stamps.demo import (
    DEMO_ROOT_KEY_FILE,
    KEYS_DIRNAME,
    META_DEMO_SIGNING_KEY_ID,
    _signing_key_file,
)
from kiosk.stamps.service import META_DEMO_NEXT_SERIAL, META_ROOT_PUBLIC_KEY
from kiosk.stamps.trust_store import load_current_trust_list
from kiosk.sync import status as sync_status
from ocop.stamps.errors import TrustError
from ocop.stamps.keys import load_private_key, public_key_b64
from ocop.stamps.trust import verify_signed_trust_list
from ocop.stamps.verifier import StampVerifier

log = logging.getLogger(__name__)

DEMO_MEDIA_ORIGIN = "demo_placeholder"
_PIN_META = ("staff_pin_failures", "staff_pin_locked_until")  # kiosk.staff_pin lockout


@dataclass
class Conversion:
    products: int = 0
    producers: int = 0
    pictures: int = 0
    stamps: int = 0
    print_jobs: int = 0
    scans: int = 0
    outbox: int = 0
    trust_lists: int = 0
    key_files: int = 0

    def summary(self) -> str:
        return ", ".join(
            f"{getattr(self, f.name)} {f.name.replace('_', ' ')}" for f in fields(self)
        )


def _demo_root(store, data_dir: Path) -> str | None:
    """The demo root public key (base64): from its key file, else the pinned meta root."""
    path = data_dir / KEYS_DIRNAME / DEMO_ROOT_KEY_FILE
    if path.exists():
        try:
            return public_key_b64(load_private_key(path))
        except Exception as exc:  # noqa: BLE001 - an unreadable key file: fall back to the meta root
            log.warning("demo root key %s unreadable: %s", path, exc)
    return store.get_meta(META_ROOT_PUBLIC_KEY)


def _ids(conn, sql: str, params=()) -> list:
    return [r[0] for r in conn.execute(sql, params)]


def _delete_ids(conn, table: str, column: str, ids) -> int:
    ids = list(ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        conn.execute(f"DELETE FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk)
    return len(ids)


def _demo_signed(verifier: StampVerifier | None, text: str) -> bool:
    if verifier is None or not text:
        return False
    return verifier.verify(text).verdict.signature_valid


def convert_demo_data(store, data_dir: Path, stamp_base_url: str) -> Conversion:
    """Drop the demo data of this folder (see the module docstring). The caller checks
    is_demo_data first; on a real folder this changes nothing and returns zeros."""
    data_dir = Path(data_dir)
    done = Conversion()
    if not is_demo_data(store):
        return done
    root = _demo_root(store, data_dir)
    trust = load_current_trust_list(store, root) if root else None
    verifier = (
        StampVerifier(trust, stamp_base_url, clone_scan_limit=2**62) if trust is not None else None
    )
    demo_producers = {p["id"] for p in load_demo_catalog()["producers"]}
    with store.transaction() as tx:
        serials = set(
            _ids(
                tx,
                "SELECT serial FROM stamps WHERE block_id IN "
                "(SELECT id FROM stamp_blocks WHERE source = 'demo')",
            )
        )
        products = set(_ids(tx, "SELECT id FROM products WHERE is_demo = 1"))
        jobs = set()
        for job_id, product_id in tx.execute("SELECT id, product_id FROM print_jobs"):
            held = _ids(tx, "SELECT serial FROM stamps WHERE job_id = ?", (job_id,))
            if (held and all(s in serials for s in held)) or (not held and product_id in products):
                jobs.add(job_id)

        outbox = []
        for row_id, kind, payload_json, sent_at in tx.execute(
            "SELECT id, kind, payload_json, sent_at FROM outbox"
        ):
            try:
                payload = json.loads(payload_json)
            except ValueError:
                continue
            payload = payload if isinstance(payload, dict) else {}
            if (
                (
                    kind == "print"
                    and (payload.get("serial") in serials or payload.get("job_id") in jobs)
                )
                or (kind == "scan" and _demo_signed(verifier, payload.get("text") or ""))
                or (kind == "heartbeat" and sent_at is None)
            ):
                outbox.append(row_id)
        done.outbox = _delete_ids(tx, "outbox", "id", outbox)
        done.scans = _delete_ids(
            tx,
            "scans",
            "id",
            [
                scan_id
                for scan_id, text in tx.execute("SELECT id, text FROM scans").fetchall()
                if _demo_signed(verifier, text)
            ],
        )

        done.stamps = _delete_ids(tx, "stamps", "serial", serials)
        tx.execute("DELETE FROM stamp_blocks WHERE source = 'demo'")
        done.print_jobs = _delete_ids(tx, "print_jobs", "id", jobs)
        done.products = _delete_ids(tx, "products", "id", products)  # ratings, lots cascade
        done.producers = _delete_ids(
            tx,
            "producers",
            "id",
            [
                p
                for p in _ids(
                    tx,
                    "SELECT id FROM producers WHERE id NOT IN (SELECT producer_id FROM products)",
                )
                if p in demo_producers
            ],
        )
        pictures = tx.execute(
            "SELECT hash, mime FROM media WHERE origin = ? AND hash NOT IN "
            "(SELECT image_hash FROM products WHERE image_hash IS NOT NULL)",
            (DEMO_MEDIA_ORIGIN,),
        ).fetchall()
        done.pictures = _delete_ids(tx, "media", "hash", [h for h, _ in pictures])

        if root:
            demo_lists = []
            for sequence, blob in tx.execute("SELECT sequence, signed_json FROM trust_lists"):
                try:
                    verify_signed_trust_list(blob, root)
                    demo_lists.append(sequence)
                except TrustError:
                    pass  # signed by another (the real) root: kept
            done.trust_lists = _delete_ids(tx, "trust_lists", "sequence", demo_lists)
            tx.execute("DELETE FROM meta WHERE key = ? AND value = ?", (META_ROOT_PUBLIC_KEY, root))
        _delete_ids(
            tx, "meta", "key", (META_DEMO_SIGNING_KEY_ID, META_DEMO_NEXT_SERIAL, *_PIN_META)
        )
        _delete_ids(tx, "sync_state", "key", (sync_status.CURSOR_KEY, sync_status.REGISTRY_ID_KEY))
        set_demo_flag(store, tx, False)

    done.key_files = _remove_files(data_dir, pictures)
    return done


def _remove_files(data_dir: Path, pictures) -> int:
    """After the commit: demo key files, placeholder pictures, demo stamp pictures."""
    from kiosk.demo.stamps import DEMO_DIRNAME

    keys = data_dir / KEYS_DIRNAME
    key_files = [keys / DEMO_ROOT_KEY_FILE, *keys.glob(_signing_key_file("*"))]
    removed = 0
    for path in key_files:
        if path.exists():
            path.unlink()
            removed += 1
    for digest, mime in pictures:
        media_path(data_dir, digest, mime).unlink(missing_ok=True)
        for size in RenditionSize:
            found = find_rendition(data_dir, digest, size)
            if found is not None:
                found.unlink()
    shutil.rmtree(data_dir / DEMO_DIRNAME, ignore_errors=True)
    return removed
