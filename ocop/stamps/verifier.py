"""Offline verification: scanned text -> Verification (a Verdict plus what the stamp says).

Pure logic. The trust list is given; the catalog and scan history are injected as callables,
so this runs without SQLite (tests, bench, the registry). Order of checks:

 1. product barcode (GTIN) -> product_barcode; text not under our base URL -> not_ocop
 2. malformed under our base URL (non-canonical, wrong length, bad version...) -> forged
 3. key id not in the trust list: above its highest key id -> key_not_yet_known (a key
    newer than this list), below it -> forged (withdrawn)
 4. Ed25519 signature over DOMAIN + header -> forged when it does not verify
 5. issue date outside the key's validity window -> forged, except a stamp of the list's
    newest (pre-published) key issued before its start while that start is still ahead of
    today (or the list has expired) -> key_not_yet_known (an emergency rotation may have
    started it early, after this list was signed)
 6. serial in a revoked range, or key revoked from a date <= issue date (or serial above the
    revoked key's last good serial) -> revoked
 7. serial on the suspect list -> suspect_clone
 8. earlier scans of this serial at this kiosk >= clone_scan_limit -> suspect_clone
 9. product not in the local catalog -> genuine_unknown_product
10. rating not valid today (expired, revoked, no stars) -> genuine_rating_expired
11. genuine
Never raises for any input text.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ocop.clock import system_vietnam_today
from ocop.stamps.barcodes import extract_gtin
from ocop.stamps.codec import is_under_prefix, normalise_base_url, parse_stamp_text
from ocop.stamps.errors import StampFormatError
from ocop.stamps.keys import load_public_key_b64
from ocop.stamps.trust import TrustList
from ocop.stamps.verdicts import Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProductStatus:
    """What the verifier needs from the catalog about one product."""

    product_id: int
    rating_valid: bool  # newest rating: status 'valid', stars set, valid_until >= today


class ProductLookup(Protocol):
    def __call__(self, product_id: int, today: dt.date) -> ProductStatus | None: ...


ScanCount = Callable[[int], int]  # serial -> earlier counted scans here
GtinLookup = Callable[[str], "int | None"]  # gtin -> product id


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    text: str
    product_id: int | None = None  # set when the signature verified, or via GTIN
    serial: int | None = None  # set only when the signature verified
    key_id: int | None = None
    issued_on: dt.date | None = None
    gtin: str | None = None  # product_barcode only
    detail: str = ""  # reason for logs and staff, English, not for shoppers

    @property
    def message_vi(self) -> str:
        return self.verdict.message_vi

    @property
    def message_en(self) -> str:
        return self.verdict.message_en

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "verdict": self.verdict.value,
            "product_id": self.product_id,
            "serial": self.serial,
            "key_id": self.key_id,
            "issued_on": self.issued_on.isoformat() if self.issued_on else None,
            "gtin": self.gtin,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "detail": self.detail,
        }


def _expired_by(trust_list: TrustList, today: dt.date) -> bool:
    expires = trust_list.expires()
    return expires is None or today >= expires.date()


def _no_product(product_id: int, today: dt.date) -> ProductStatus | None:
    return None


def _no_scans(serial: int) -> int:
    return 0


def _no_gtin(gtin: str) -> int | None:
    return None


class StampVerifier:
    """Build once per trust list (public keys are parsed and cached); `verify` is thread-safe
    as long as the injected lookups are."""

    def __init__(
        self,
        trust_list: TrustList,
        base_url: str,
        clone_scan_limit: int,
        product_lookup: ProductLookup = _no_product,
        scan_count: ScanCount = _no_scans,
        gtin_lookup: GtinLookup = _no_gtin,
        today_fn: Callable[[], dt.date] = system_vietnam_today,
    ):
        self.base_url = normalise_base_url(base_url)
        self.clone_scan_limit = int(clone_scan_limit)
        self.product_lookup = product_lookup
        self.scan_count = scan_count
        self.gtin_lookup = gtin_lookup
        self.today_fn = today_fn  # the day ratings are judged by when verify() gets none
        self._set_trust_list(trust_list)

    def _set_trust_list(self, trust_list: TrustList) -> None:
        keys: dict[int, Ed25519PublicKey] = {}
        for k in trust_list.signing_keys:
            keys[k.key_id] = load_public_key_b64(k.public_key, f"signing key {k.key_id}")
        # One attribute swap: a concurrent verify() sees the old or the new pair, whole.
        self._state = (trust_list, keys)

    def update_trust_list(self, trust_list: TrustList) -> None:
        """After sync stored a newer list."""
        self._set_trust_list(trust_list)

    @property
    def trust_list(self) -> TrustList:
        return self._state[0]

    def verify(self, text: object, today: dt.date | None = None) -> Verification:
        try:
            return self._verify(text, today or self.today_fn())
        except Exception:  # the contract: a verdict, never an exception
            log.exception("stamp verification failed unexpectedly")
            safe = text if isinstance(text, str) else repr(text)
            return Verification(
                Verdict.FORGED
                if isinstance(text, str) and is_under_prefix(text, self.base_url)
                else Verdict.NOT_OCOP,
                safe,
                detail="internal error during verification",
            )

    def _verify(self, text: object, today: dt.date) -> Verification:
        if isinstance(text, (bytes, bytearray)):
            raw = bytes(text)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return Verification(
                    Verdict.NOT_OCOP, raw.decode("utf-8", "replace"), detail="binary content"
                )
        if not isinstance(text, str):
            return Verification(Verdict.NOT_OCOP, repr(text), detail="not text")
        trust_list, keys = self._state
        try:
            parsed = parse_stamp_text(text, self.base_url)
        except StampFormatError as exc:
            if exc.under_prefix:
                return Verification(Verdict.FORGED, text, detail=f"malformed stamp: {exc}")
            gtin = extract_gtin(text)
            if gtin is not None:
                return Verification(
                    Verdict.PRODUCT_BARCODE,
                    text,
                    gtin=gtin,
                    product_id=self.gtin_lookup(gtin),
                    detail="product barcode (GTIN)",
                )
            return Verification(Verdict.NOT_OCOP, text, detail=str(exc))

        f = parsed.fields
        key = keys.get(f.key_id)
        if key is None:
            if f.key_id < trust_list.newest_key_id:
                # Key ids are handed out in increasing order: a lower id the list lacks
                # was withdrawn from it (or never ours).
                return Verification(
                    Verdict.FORGED, text, detail=f"key id {f.key_id} not in the trust list"
                )
            # Not forged: the registry may have started a key after this list was signed.
            return Verification(
                Verdict.KEY_NOT_YET_KNOWN,
                text,
                detail=f"key id {f.key_id} is newer than this trust list's keys",
            )
        signing_key = trust_list.signing_key(f.key_id)
        try:
            key.verify(parsed.signature, parsed.signed_message)
        except InvalidSignature:
            return Verification(Verdict.FORGED, text, detail="signature does not verify")
        # Never None once `keys` has the id (both come from the same list); checked anyway.
        if signing_key is None or not signing_key.covers(f.issued_on):
            if (
                signing_key is not None
                and f.key_id == trust_list.newest_key_id
                and f.issued_on < signing_key.valid_from
                and (signing_key.valid_from > today or _expired_by(trust_list, today))
            ):
                # The pre-published next key, used before the start this list gives it,
                # while that start is still ahead (or the list is out of date): an
                # emergency rotation may have moved the start earlier after this list was
                # signed. Once the start has passed by a fresh list, it is a back-dated stamp.
                return Verification(
                    Verdict.KEY_NOT_YET_KNOWN,
                    text,
                    detail=f"key {f.key_id} starts {signing_key.valid_from} in this list",
                )
            return Verification(
                Verdict.FORGED,
                text,
                detail=f"key {f.key_id} may not sign stamps issued on {f.issued_on}",
            )

        def result(verdict: Verdict, detail: str = "") -> Verification:
            return Verification(
                verdict,
                text,
                product_id=f.product_id,
                serial=f.serial,
                key_id=f.key_id,
                issued_on=f.issued_on,
                detail=detail,
            )

        revoked_range = trust_list.revoked_range_of(f.serial)
        if revoked_range is not None:
            return result(
                Verdict.REVOKED,
                f"serial in revoked range {revoked_range.first}-"
                f"{revoked_range.last} {revoked_range.reason}".strip(),
            )
        revoked_key = trust_list.revoked_key(f.key_id)
        if revoked_key is not None:
            if f.issued_on >= revoked_key.revoked_from:
                return result(
                    Verdict.REVOKED, f"key {f.key_id} revoked from {revoked_key.revoked_from}"
                )
            if revoked_key.last_good_serial is not None and f.serial > revoked_key.last_good_serial:
                return result(
                    Verdict.REVOKED,
                    f"key {f.key_id} revoked: serial above its "
                    f"last good serial "
                    f"{revoked_key.last_good_serial}",
                )
        if trust_list.is_suspect(f.serial):
            return result(Verdict.SUSPECT_CLONE, "serial on the suspect list")
        earlier = self.scan_count(f.serial)
        if earlier >= self.clone_scan_limit:
            return result(
                Verdict.SUSPECT_CLONE,
                f"scanned {earlier} times before at this kiosk (limit {self.clone_scan_limit})",
            )
        status = self.product_lookup(f.product_id, today)
        if status is None:
            return result(Verdict.GENUINE_UNKNOWN_PRODUCT, "product not in the local catalog")
        if not status.rating_valid:
            return result(Verdict.GENUINE_RATING_EXPIRED, "OCOP rating not valid today")
        return result(Verdict.GENUINE)
