"""The public stamp page's request path, built for a campaign (every phone that scans a
stamp opens it): what it reads, what it caches and for how long, and the caching headers.

Per view the database answers one SELECT (registry/dal/phone.py stamp_state): the serial's
checks, lot, block and per-station scans, and the two versions the caches below are keyed
by. Nothing else is read while the catalog and the trust list stay the same:

  catalog   a product, its ratings, producer and related products are cached per catalog
            change sequence (counters.change_seq, raised in every catalog write's
            transaction). Every view reads the sequence in its one statement, so every
            process sees a change on its next view: no TTL, no stale product.
  verdict   the verifier is rebuilt when the newest trust list (sequence, created_at)
            moves; a code's verdict is cached per (trust list, catalog, day): a revocation
            or suspect listing is a new trust list, so the next view knows it.

Views are queued for batched writes (registry/views.py ViewLog), never written on the
request path.

HTTP caching (`headers`): a page whose verdict may be shown for a minute (genuine, rating
expired) is `public, max-age=60` with a strong ETag over everything the page is made of
(a matching If-None-Match gets 304 without rendering); every other verdict is no-store and
has no ETag: a revoked, suspect, forged or unknown stamp must be re-judged on every view,
and those pages carry a one-time report form token. What a revocation means for a cached
page: a proxy or phone may show "genuine" for at most max-age after the trust list that
revokes it; the page's beacon (/v/<code>) is never cached, so every view is still counted
and judged (a revoked stamp's view is not counted) even when the page came from a cache.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from ocop import __version__
from ocop.stamps.codec import parse_stamp_payload
from ocop.stamps.errors import StampFormatError
from ocop.stamps.verdicts import Verdict
from ocop.stamps.verifier import ProductStatus, StampVerifier
from registry import catalog, pages
from registry.dal import catalog as catalog_rows
from registry.dal import phone as phone_rows
from registry.reports import SIGNED_VERDICTS
from registry.verification import NO_SCAN_LIMIT

# How long a proxy or the phone may keep a genuine stamp's page: short, because a
# revocation (or a new suspect listing) reaches a cached page only when it expires.
CACHEABLE_MAX_AGE_S = 60
CACHEABLE = frozenset({Verdict.GENUINE, Verdict.GENUINE_RATING_EXPIRED})
JUDGED_MAX = 20_000  # codes whose verdict is kept (per trust list, catalog and day)
# The page's own code is part of every ETag: a deploy that changes the page changes it.
PAGE_BUILD = hashlib.sha256(
    (__version__ + Path(pages.__file__).read_text(encoding="utf-8")).encode()
).hexdigest()[:16]


@dataclass(frozen=True)
class ProductFacts:
    """A product as the page shows it (one catalog version)."""

    product: dict
    producer: object  # the producer's row, or None
    related: list[tuple[int, str, str]]


class PageCaches:
    """Per process, thread-safe; every entry is keyed by the version it was read at."""

    def __init__(self, keyring, base_url: str):
        self.keyring = keyring
        self.base_url = base_url
        self._lock = threading.Lock()
        self._catalog_seq: int | None = None
        self._products: dict[int, ProductFacts | None] = {}
        self._trust: tuple[int, str] | None = None
        self._verifier: StampVerifier | None = None
        self._judged: OrderedDict[tuple, pages.Judged] = OrderedDict()

    def product(self, conn: Connection, catalog_seq: int, product_id: int) -> ProductFacts | None:
        with self._lock:
            if self._catalog_seq != catalog_seq:
                self._catalog_seq, self._products = catalog_seq, {}
            if product_id in self._products:
                return self._products[product_id]
        found = catalog_rows.get_product(conn, product_id)
        facts = None
        if found is not None:
            facts = ProductFacts(
                found,
                catalog_rows.get_producer(conn, found["producer"]),
                phone_rows.related_products(
                    conn, product_id, found["producer"], found["commune"], pages.RELATED_ON_PAGE
                ),
            )
        with self._lock:
            if self._catalog_seq == catalog_seq:
                self._products[product_id] = facts
        return facts

    def _verifier_for(self, conn: Connection, trust: tuple[int, str]) -> StampVerifier:
        with self._lock:
            if self._trust == trust and self._verifier is not None:
                return self._verifier
        verifier = StampVerifier(
            self.keyring.current_trust_list(conn), self.base_url, clone_scan_limit=NO_SCAN_LIMIT
        )
        with self._lock:
            self._trust, self._verifier, self._judged = trust, verifier, OrderedDict()
        return verifier

    def judge(
        self,
        conn: Connection,
        config,
        state: phone_rows.StampState,
        payload: str,
        today: dt.date,
    ) -> pages.Judged:
        """The registry's verdict of `payload` on the trust list and catalog of `state`."""
        key = (payload, state.trust_list, state.catalog_seq, today)
        with self._lock:
            found = self._judged.get(key)
            if found is not None:
                self._judged.move_to_end(key)
                return found
        base = self._verifier_for(conn, state.trust_list)
        verifier = copy.copy(base)  # shares the parsed keys; this request's lookups

        def lookup(product_id: int, today: dt.date) -> ProductStatus | None:
            facts = self.product(conn, state.catalog_seq, product_id)
            if facts is None:
                return None
            rating = catalog.current_rating(facts.product["ratings"])
            return ProductStatus(product_id, catalog.rating_valid(rating, today))

        verifier.product_lookup = lookup
        judged = pages.judge_code(config, verifier, payload, today)
        with self._lock:
            self._judged[key] = judged
            while len(self._judged) > JUDGED_MAX:
                self._judged.popitem(last=False)
        return judged


@dataclass(frozen=True)
class Viewed:
    """What one request for a stamp page found, before rendering."""

    judged: pages.Judged
    state: phone_rows.StampState | None  # None for a malformed code
    product: ProductFacts | None
    today: dt.date

    @property
    def cacheable(self) -> bool:
        return self.judged.verdict in CACHEABLE


def look(conn: Connection, caches: PageCaches, config, code: str, today: dt.date) -> Viewed:
    """The stamp page's reads: one statement per view while the caches hold."""
    payload = code.upper() if code.isascii() else code  # phones may lowercase the URL
    try:
        serial = parse_stamp_payload(payload).fields.serial
    except StampFormatError:
        return Viewed(pages.judge_code(config, None, payload, today), None, None, today)
    state = phone_rows.stamp_state(conn, serial, SIGNED_VERDICTS)
    judged = caches.judge(conn, config, state, payload, today)
    product = None
    if judged.result is not None and judged.result.product_id and judged.verdict.names_a_product:
        product = caches.product(conn, state.catalog_seq, judged.result.product_id)
    return Viewed(judged, state, product, today)


def etag(
    viewed: Viewed, facts: pages.StampFacts, lang: str, switch: str, path: str, encoding: str
) -> str:
    """A strong validator over everything the page's bytes depend on (the code, the
    catalog version, the trust list, the serial's rows, language, links and day) and the
    content coding the app's GZip middleware will apply (`encoding`: a strong ETag names
    one byte sequence, so the gzipped page has its own)."""
    state = viewed.state
    parts = (
        PAGE_BUILD,
        viewed.judged.payload,
        viewed.judged.verdict.value,
        state.catalog_seq if state else "",
        repr(state.trust_list) if state else "",
        repr(facts),
        lang,
        switch,
        path,
        viewed.today.isoformat(),
        encoding,
    )
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return f'"{digest[:32]}"'


def headers(viewed: Viewed, tag: str | None) -> dict[str, str]:
    """The caching headers of a stamp page (see the module doc)."""
    if viewed.cacheable and tag is not None:
        return {"Cache-Control": f"public, max-age={CACHEABLE_MAX_AGE_S}", "ETag": tag}
    return {"Cache-Control": "no-store"}


def matches(if_none_match: str | None, tag: str) -> bool:
    """If-None-Match names this ETag (a list, or *)."""
    if not if_none_match:
        return False
    wanted = [t.strip() for t in if_none_match.split(",")]
    return "*" in wanted or tag in wanted


def facts(state: phone_rows.StampState, pending: tuple[int, str | None]) -> pages.StampFacts:
    """The page's facts from the statement's row plus this process's views not yet written
    (`pending`: count and first time; the view being answered is one of them)."""
    queued, first_queued = pending
    firsts = [t for t in (state.first_scan_at, state.first_view_at, first_queued) if t]
    return pages.StampFacts(
        checks=state.scans + state.views + queued,
        first_at=min(firsts) if firsts else None,
        lot=pages.lot_of_payload(state.print_payload),
        printed_by=state.printed_by,
        by_station=state.by_station,
    )


# The beacon's answer: a transparent 1x1 GIF (43 bytes).
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
