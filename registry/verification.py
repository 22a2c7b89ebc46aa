"""The registry's own stamp verdicts: the shared StampVerifier (ocop/stamps/verifier.py)
built from the registry's current trust list, wired to its catalog. Used for uploaded scans
(registry/uploads.py: the registry never takes a kiosk's word for a serial) and for the
public stamp page.

One verifier per trust list (public keys are parsed once per sequence); each caller gets a
shallow copy whose catalog lookups use the caller's connection (the copy shares the parsed
keys, so it costs nothing)."""

from __future__ import annotations

import copy
import datetime as dt
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ocop.stamps.trust import TrustList
from ocop.stamps.verifier import ProductStatus, StampVerifier
from registry import catalog, db
from registry.dal import catalog as catalog_rows
from registry.signing import KeyRing

# The registry has no per-site scan history limit of its own: clone detection is
# registry/clones.py, over all sites.
NO_SCAN_LIMIT = 2**62


def product_status(conn: Connection, product_id: int, today: dt.date) -> ProductStatus | None:
    found = catalog_rows.get_product(conn, product_id)
    if found is None:
        return None
    rating = catalog.current_rating(found["ratings"])
    return ProductStatus(product_id, catalog.rating_valid(rating, today))


def product_of_gtin(conn: Connection, gtin: str) -> int | None:
    return conn.execute(sa.select(db.products.c.id).where(db.products.c.gtin == gtin)).scalar()


class Verifiers:
    """Thread-safe cache of the verifier for the newest trust list."""

    def __init__(self, keyring: KeyRing, base_url: str):
        self.keyring = keyring
        self.base_url = base_url
        self._lock = threading.Lock()
        self._cached: tuple[TrustList, StampVerifier] | None = None

    def _base(self, trust_list: TrustList) -> StampVerifier:
        with self._lock:
            cached = self._cached
            # `is` first (the key ring hands out one object per sequence), then content:
            # a re-published sequence with other content gets a new verifier.
            if cached is None or not (cached[0] is trust_list or cached[0] == trust_list):
                cached = (
                    trust_list,
                    StampVerifier(trust_list, self.base_url, clone_scan_limit=NO_SCAN_LIMIT),
                )
                self._cached = cached
            return cached[1]

    def for_connection(self, conn: Connection) -> StampVerifier:
        """A verifier on the trust list the database holds now, looking products up on
        `conn` (memoised: an upload batch asks about the same products again and again)."""
        verifier = copy.copy(self._base(self.keyring.current_trust_list(conn)))
        products: dict[tuple[int, dt.date], ProductStatus | None] = {}
        gtins: dict[str, int | None] = {}

        def lookup(product_id: int, today: dt.date) -> ProductStatus | None:
            key = (product_id, today)
            if key not in products:
                products[key] = product_status(conn, product_id, today)
            return products[key]

        def gtin_lookup(gtin: str) -> int | None:
            if gtin not in gtins:
                gtins[gtin] = product_of_gtin(conn, gtin)
            return gtins[gtin]

        verifier.product_lookup = lookup
        verifier.gtin_lookup = gtin_lookup
        return verifier
