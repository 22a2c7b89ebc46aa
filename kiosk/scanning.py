"""A decoded text becomes a verdict, a product and a recorded scan.

decoded text -> stamp verifier (offline, trust list) -> catalog look-up -> scan row + outbox row
in ONE transaction (so a scan the kiosk showed is a scan the registry will get, exactly once).
The scanner package hands us text only; this module knows stamps.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from kiosk.catalog import Catalog, ProductView
from kiosk.lots import StampLot, lot_of_serial
from kiosk.settings import Settings
from kiosk.stamps.service import current_trust_list, verifier_from_store
from kiosk.store import Store, StoreFull
from kiosk.trusted_time import TrustedClock, clock_for, parse_iso, record_signed_time
from ocop.clock import utc_now_iso
from ocop.stamps.errors import NoTrustList
from ocop.stamps.freshness import TrustFreshness
from ocop.stamps.verdicts import COUNTED_FOR_CLONES, Verdict
from ocop.stamps.verifier import StampVerifier, Verification

log = logging.getLogger(__name__)

# Arbitrary QR content may be personal (Wi-Fi passwords, phone numbers): never store or send it.
_PRIVATE_VERDICTS = frozenset({Verdict.NOT_OCOP})
_COUNTED = tuple(v.value for v in COUNTED_FOR_CLONES)


@dataclass(frozen=True)
class ScanOutcome:
    text: str
    verification: Verification | None  # None: this kiosk cannot verify yet (no trust list)
    product: ProductView | None
    scan_count: int  # scans of this serial at this kiosk, this one included
    scanned_at: str
    unavailable_reason: str = ""  # why verification is None (for staff, English)
    recorded: bool = True  # False: the disk is full, the scan was not saved
    # The trust list the verdict came from, by the trusted clock: EXPIRED adds a note
    # under the verdict (revocations may be missing).
    trust_freshness: TrustFreshness = TrustFreshness.FRESH
    # The stamp's lot and dates, as this kiosk printed it or the lots feed said (kiosk/lots.py)
    lot: StampLot | None = None
    past_best_before: bool = False  # the trusted day is after the lot's best-before date

    @property
    def verdict(self) -> Verdict | None:
        return self.verification.verdict if self.verification else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = (
            self.verification.to_json()
            if self.verification
            else {"text": self.text, "verdict": None, "product_id": None, "serial": None}
        )
        data.update(
            scan_count=self.scan_count,
            scanned_at=self.scanned_at,
            product=self.product.to_json() if self.product else None,
        )
        if self.lot is not None:
            data["lot"] = {
                "lot": self.lot.lot,
                "produced_on": _iso(self.lot.dates.produced_on),
                "best_before": _iso(self.lot.dates.best_before),
                "past_best_before": self.past_best_before,
            }
        data["trust_list_freshness"] = self.trust_freshness.value
        if self.unavailable_reason:
            data["unavailable_reason"] = self.unavailable_reason
        return data


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class ScanService:
    """Thread-safe: the UI's scan worker and the CLI call `handle_text` from any thread."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        today: dt.date | None = None,
        clock: TrustedClock | None = None,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock or clock_for(store)  # ratings: the trusted day, not the Pi's
        self.catalog = Catalog(store, today=today, clock=self.clock)
        self._today = today
        self._lock = threading.Lock()
        self._verifier: StampVerifier | None = None
        self._trust_sequence: int | None = None

    def _current_verifier(self) -> StampVerifier:
        """Rebuild the verifier when sync stored a newer trust list (cheap check per scan)."""
        row = self.store.query_one("SELECT max(sequence) FROM trust_lists")
        sequence = row[0] if row else None
        with self._lock:
            if self._verifier is None or sequence != self._trust_sequence:
                trust_list = current_trust_list(self.store, self.settings)
                self._note_signed_time(trust_list.issued_at)
                if self._verifier is None:
                    self._verifier = verifier_from_store(self.store, self.settings, trust_list)
                else:
                    self._verifier.update_trust_list(trust_list)
                self._trust_sequence = sequence
            return self._verifier

    def _note_signed_time(self, issued_at: str) -> None:
        """A list stored before the trusted clock existed still raises its signed time."""
        signed, issued = self.clock.reading().signed_time, parse_iso(issued_at)
        if issued is not None and (signed is None or signed < issued):
            try:
                with self.store.transaction() as conn:
                    record_signed_time(conn, issued_at)
            except StoreFull as exc:
                log.warning("signed time not recorded: %s", exc)

    def _today_for_ratings(self) -> dt.date:
        return self._today or self.clock.today()

    def verify(self, text: str) -> Verification | None:
        """Verdict only, nothing recorded (previews, `stamp verify`)."""
        try:
            return self._current_verifier().verify(text, self._today_for_ratings())
        except NoTrustList:
            return None

    def handle_text(self, text: str, source: str = "camera") -> ScanOutcome:
        scanned_at = utc_now_iso(micros=True)
        try:
            verifier = self._current_verifier()
            verification = verifier.verify(text, self._today_for_ratings())
        except NoTrustList as exc:
            log.warning("scan not verified: %s", exc)
            return ScanOutcome(
                text,
                None,
                None,
                0,
                scanned_at,
                unavailable_reason=str(exc),
                trust_freshness=TrustFreshness.NONE,
            )
        freshness = verifier.trust_list.freshness(self.clock.now())
        product = (
            self.catalog.product(verification.product_id)
            if verification.product_id is not None
            else None
        )
        recorded = True
        try:
            self._record(verification, source, scanned_at)
        except StoreFull as exc:
            # The shopper still gets the verdict; the scan itself cannot be kept.
            log.error("scan not recorded: %s", exc)
            recorded = False
        count = 0
        if verification.serial is not None:
            count = self.store.query_value(
                f"SELECT count(*) FROM scans WHERE serial = ? AND verdict IN "
                f"({', '.join('?' * len(_COUNTED))})",
                (verification.serial, *_COUNTED),
            )
        lot = None
        if verification.serial is not None and verification.verdict.names_a_product:
            lot = lot_of_serial(self.store.conn, verification.serial, verification.product_id)
        best_before = lot.dates.best_before if lot else None
        return ScanOutcome(
            text,
            verification,
            product,
            count,
            scanned_at,
            recorded=recorded,
            trust_freshness=freshness,
            lot=lot,
            past_best_before=best_before is not None and self._today_for_ratings() > best_before,
        )

    def _record(self, verification: Verification, source: str, scanned_at: str) -> None:
        private = verification.verdict in _PRIVATE_VERDICTS
        text = "" if private else verification.text[:512]
        site = self.settings.site
        with self.store.transaction() as conn:
            self.clock.persist(conn)  # the clock mark rides on this commit when it is due
            conn.execute(
                "INSERT INTO scans(scanned_at, text, verdict, product_id, serial, key_id, "
                "source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    scanned_at,
                    text,
                    verification.verdict.value,
                    verification.product_id,
                    verification.serial,
                    verification.key_id,
                    source,
                ),
            )
            if private:
                return
            payload = {
                "scanned_at": scanned_at,
                "text": text,
                "verdict": verification.verdict.value,
                "product_id": verification.product_id,
                "serial": verification.serial,
                "key_id": verification.key_id,
                "gtin": verification.gtin,
                "site_name": site.name,
                "district": site.district,
                "source": source,
            }
            conn.execute(
                "INSERT INTO outbox(kind, idempotency_key, payload_json, created_at) "
                "VALUES ('scan', ?, ?, ?)",
                (str(uuid.uuid4()), json.dumps(payload, ensure_ascii=False), scanned_at),
            )
