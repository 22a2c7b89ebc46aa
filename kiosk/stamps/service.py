"""Glue between the pure stamp code and the kiosk's Store: verifier construction, station
issuance from pre-signed blocks, receiving blocks, and the local demo registry.

What other parts call:
    verifier = verifier_from_store(store, settings)          # scanning (rebuild after sync)
    verification = verifier.verify(text)
    stamps = take_stamps(conn, product_id, count, job_id=...) # printing, inside its transaction
    issue_stamps(store, product_id, count)                    # CLI `stamp issue`
    receive_stamp_block(store, settings, product_id, texts)   # sync: a block from the registry
    store_trust_list(store, blob, pinned_root_key(settings, store))   # sync: trust pull
Demo registry (init --demo, rotate/revoke/suspect): kiosk.stamps.demo.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.catalog import Catalog
from kiosk.stamps.trust_store import load_current_trust_list, successor_root
from kiosk.trusted_time import clock_for, trusted_now
from ocop.clock import utc_now_iso
from ocop.errors import UserError
from ocop.ratings import RatingStatus, effective_rating_status
from ocop.stamps.codec import MAX_PRODUCT_ID, MAX_SERIAL
from ocop.stamps.errors import NoTrustList, StampsExhausted
from ocop.stamps.signer import StampSigner
from ocop.stamps.trust import TrustList
from ocop.stamps.verdicts import COUNTED_FOR_CLONES, Verdict
from ocop.stamps.verifier import ProductStatus, StampVerifier

log = logging.getLogger(__name__)

META_ROOT_PUBLIC_KEY = "root_public_key"
META_DEMO_NEXT_SERIAL = "demo_next_serial"


# --- verification against the store ---------------------------------------------------------


def pinned_root_key(settings, store) -> str | None:
    """The root public key this kiosk trusts: the config's registry.root_public_key (or
    $OCOP_KIOSK_ROOT_KEY); only when that is empty, the demo root written by `init --demo`
    into meta; in either case replaced by the successor that root signed for, once a trust
    list carried that succession. None when neither exists."""
    configured = settings.registry.root_public_key.strip()
    origin = configured or store.get_meta(META_ROOT_PUBLIC_KEY)
    if not origin:
        return None
    # A successor the configured root signed for (ocop-registry root rotate) replaces it.
    return successor_root(store.conn, origin) or origin


def current_trust_list(store, settings) -> TrustList:
    root = pinned_root_key(settings, store)
    if not root:
        raise NoTrustList(
            "no root public key pinned: set registry.root_public_key in the "
            "config, or run 'ocop-kiosk init --demo'"
        )
    trust_list = load_current_trust_list(store, root)
    if trust_list is None:
        raise NoTrustList(
            "no trust list signed by the pinned root is stored yet: sync with "
            "the registry, 'ocop-kiosk stamp trust import FILE', or "
            "'ocop-kiosk init --demo'"
        )
    return trust_list


def rating_valid(row, today: dt.date) -> bool:
    """The catalog's star rule (kiosk.catalog): the newest rating is valid (status 'valid',
    stars set, valid_until not passed). Same rule as ProductView.stars."""
    if row is None:
        return False
    return (
        effective_rating_status(
            row["status"], row["stars"], row["valid_until"], today, row["recognised_on"]
        )
        is RatingStatus.VALID
    )


def product_status_lookup(store):
    def lookup(product_id: int, today: dt.date) -> ProductStatus | None:
        if store.query_one("SELECT 1 FROM products WHERE id = ?", (product_id,)) is None:
            return None
        row = store.query_one(
            "SELECT stars, status, valid_until, recognised_on FROM ratings "
            "WHERE product_id = ? ORDER BY recognised_on DESC, id DESC LIMIT 1",
            (product_id,),
        )
        return ProductStatus(product_id, rating_valid(row, today))

    return lookup


_COUNTED = tuple(v.value for v in COUNTED_FOR_CLONES)


def scan_count_lookup(store):
    sql = (
        f"SELECT count(*) FROM scans WHERE serial = ? AND verdict IN "
        f"({', '.join('?' * len(_COUNTED))})"
    )

    def count(serial: int) -> int:
        return store.query_value(sql, (serial, *_COUNTED))

    return count


def gtin_lookup(store):
    """GTIN -> product id, with the catalog's GTIN-13/14 equivalence."""
    catalog = Catalog(store)

    def lookup(gtin: str) -> int | None:
        view = catalog.by_gtin(gtin)
        return view.id if view else None

    return lookup


def verifier_from_store(store, settings, trust_list: TrustList | None = None) -> StampVerifier:
    """A verifier wired to this store's catalog, scan history and newest trust list.
    NoTrustList (a UserError) when nothing trusted is stored yet."""
    return StampVerifier(
        trust_list or current_trust_list(store, settings),
        base_url=settings.stamps.base_url,
        clone_scan_limit=settings.stamps.clone_scan_limit,
        product_lookup=product_status_lookup(store),
        scan_count=scan_count_lookup(store),
        gtin_lookup=gtin_lookup(store),
        today_fn=clock_for(store).today,
    )


# --- station issuance from pre-signed blocks -----------------------------------------------


@dataclass(frozen=True)
class IssuedStamp:
    text: str
    serial: int
    product_id: int
    key_id: int
    issued_on: str  # YYYY-MM-DD
    block_id: int | None = None

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "serial": self.serial,
            "product_id": self.product_id,
            "key_id": self.key_id,
            "issued_on": self.issued_on,
            "block_id": self.block_id,
        }


def _check_product_id(product_id) -> None:
    if (
        isinstance(product_id, bool)
        or not isinstance(product_id, int)
        or not 1 <= product_id <= MAX_PRODUCT_ID
    ):
        raise UserError(f"product id must be 1..{MAX_PRODUCT_ID}, got {product_id!r}")


def available_count(conn: sqlite3.Connection, product_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM stamps WHERE product_id = ? AND state = 'available'", (product_id,)
    ).fetchone()[0]


def take_stamps(
    conn: sqlite3.Connection,
    product_id: int,
    count: int,
    *,
    job_id: int | None = None,
    state: str = "reserved",
    demo_signer: StampSigner | None = None,
    today: dt.date | None = None,
) -> list[IssuedStamp]:
    """Move `count` stamps of a product from 'available' to `state`, lowest serials first.
    Call inside an open transaction (store.transaction()); raises StampsExhausted (and
    changes nothing, once the caller rolls back) when the blocks hold too few. With a demo
    signer, a shortfall is signed on the spot as a new demo block instead."""
    _check_product_id(product_id)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise UserError(f"count must be a positive integer, got {count!r}")
    have = available_count(conn, product_id)
    if have < count:
        if demo_signer is None:
            raise StampsExhausted(
                f"only {have} pre-signed stamp(s) left for product {product_id} on this "
                f"station, {count} requested; the registry must issue a new block (sync)"
            )
        add_demo_block(conn, demo_signer, product_id, count - have, today=today)
    rows = conn.execute(
        "SELECT serial, product_id, key_id, issued_on, text, block_id FROM stamps "
        "WHERE product_id = ? AND state = 'available' ORDER BY serial LIMIT ?",
        (product_id, count),
    ).fetchall()
    if len(rows) != count:  # cannot happen inside one transaction; be loud if it does
        raise StampsExhausted(f"stamps for product {product_id} changed under us")
    conn.executemany(
        "UPDATE stamps SET state = ?, job_id = ? WHERE serial = ? AND state = 'available'",
        [(state, job_id, r[0]) for r in rows],
    )
    return [
        IssuedStamp(
            text=r[4], serial=r[0], product_id=r[1], key_id=r[2], issued_on=r[3], block_id=r[5]
        )
        for r in rows
    ]


def issue_stamps(
    store,
    product_id: int,
    count: int,
    *,
    job_id: int | None = None,
    demo_signer: StampSigner | None = None,
    today: dt.date | None = None,
) -> list[IssuedStamp]:
    """take_stamps in its own transaction: all `count` stamps or none."""
    with store.transaction() as conn:
        return take_stamps(
            conn, product_id, count, job_id=job_id, demo_signer=demo_signer, today=today
        )


def _insert_block(
    conn, product_id: int, stamps: list[tuple[int, int, str, str]], source: str
) -> int:
    """stamps: (serial, key_id, issued_on, text). Returns the block id."""
    serials = [s[0] for s in stamps]
    cur = conn.execute(
        "INSERT INTO stamp_blocks(product_id, first_serial, last_serial, "
        "received_at, source) VALUES (?, ?, ?, ?, ?)",
        (product_id, min(serials), max(serials), utc_now_iso(), source),
    )
    block_id = cur.lastrowid
    try:
        conn.executemany(
            "INSERT INTO stamps(serial, product_id, key_id, issued_on, text, "
            "block_id, state) VALUES (?, ?, ?, ?, ?, ?, 'available')",
            [(s, product_id, k, d, t, block_id) for s, k, d, t in stamps],
        )
    except sqlite3.IntegrityError as exc:
        raise UserError(
            f"block for product {product_id} repeats a serial this station already holds: {exc}"
        ) from None
    return block_id


def add_demo_block(
    conn, signer: StampSigner, product_id: int, count: int, today: dt.date | None = None
) -> int:
    """Demo only: sign `count` new serials for a product and store them as a block. The
    issue day is the trusted UTC day: a clock reset to 1970 would sign stamps dated before
    the signing key's window, which every kiosk rejects as forged."""
    today = today or trusted_now(conn).date()
    row = conn.execute("SELECT coalesce(max(serial), 0) FROM stamps").fetchone()
    meta = conn.execute("SELECT value FROM meta WHERE key = ?", (META_DEMO_NEXT_SERIAL,)).fetchone()
    first = max(row[0] + 1, int(meta[0]) if meta else 1)
    if first + count - 1 > MAX_SERIAL:
        raise UserError("demo serials exhausted")
    stamps = [
        (s, signer.key_id, today.isoformat(), signer.sign(product_id, s, today))
        for s in range(first, first + count)
    ]
    block_id = _insert_block(conn, product_id, stamps, "demo")
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
        "SET value = excluded.value",
        (META_DEMO_NEXT_SERIAL, str(first + count)),
    )
    return block_id


def receive_stamp_block(
    store, settings, product_id: int, texts: Iterable[str], conn: sqlite3.Connection | None = None
) -> int:
    """Store a block of pre-signed stamps from the registry after checking every stamp
    against the current trust list (valid signature, this product, not revoked). All or
    nothing. Returns the block id."""
    _check_product_id(product_id)
    verifier = StampVerifier(
        current_trust_list(store, settings), settings.stamps.base_url, clone_scan_limit=2**62
    )
    rows: list[tuple[int, int, str, str]] = []
    for text in texts:
        v = verifier.verify(text)
        if v.verdict is not Verdict.GENUINE_UNKNOWN_PRODUCT:
            raise UserError(
                f"block for product {product_id} holds a stamp that does not "
                f"verify ({v.verdict.value}: {v.detail}): {text[:60]}"
            )
        if v.product_id != product_id:
            raise UserError(
                f"block for product {product_id} holds a stamp of product "
                f"{v.product_id} (serial {v.serial})"
            )
        # A verified signature sets all three (Verification's field comments).
        assert v.serial is not None and v.key_id is not None and v.issued_on is not None
        rows.append((v.serial, v.key_id, v.issued_on.isoformat(), text))
    if not rows:
        raise UserError("empty stamp block")
    if len({r[0] for r in rows}) != len(rows):
        raise UserError("stamp block repeats a serial")
    if conn is not None:
        return _insert_block(conn, product_id, rows, "registry")
    with store.transaction() as tx:
        return _insert_block(tx, product_id, rows, "registry")
