"""Signing: the registry's side (and the local demo signer). Kiosks and stations never sign.

signer = StampSigner(key_id=1, private_key=key, base_url="HTTPS://OCOP.SONLA.GOV.VN/S/")
text = signer.sign(product_id=101, serial=1, issued_on=date(2025, 6, 1))

tl = make_trust_list(root_key, sequence=2, signing_keys=[...], revoked_ranges=[...])
envelope_json = sign_trust_list(tl, root_key)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ocop.clock import ISO_SECONDS, utc_now_iso
from ocop.stamps.codec import MAX_KEY_ID, StampFields, encode_stamp_url, normalise_base_url
from ocop.stamps.errors import StampConfigError
from ocop.stamps.keys import fingerprint, public_key_b64
from ocop.stamps.trust import RevokedKey, RevokedRange, SigningKey, TrustList, sign_trust_list

DEFAULT_TRUST_VALIDITY_S = 7 * 86400.0  # a trust list's life; the registry re-signs at half

__all__ = [
    "DEFAULT_TRUST_VALIDITY_S",
    "StampSigner",
    "make_trust_list",
    "sign_trust_list",
    "signing_key_entry",
]


class StampSigner:
    def __init__(self, key_id: int, private_key: Ed25519PrivateKey, base_url: str):
        if isinstance(key_id, bool) or not isinstance(key_id, int) or not 1 <= key_id <= MAX_KEY_ID:
            raise StampConfigError(f"key id must be 1..{MAX_KEY_ID}, got {key_id!r}")
        self.key_id = key_id
        self.private_key = private_key
        self.base_url = normalise_base_url(base_url)

    @property
    def public_key_b64(self) -> str:
        return public_key_b64(self.private_key)

    def sign_fields(self, fields: StampFields) -> str:
        if fields.key_id != self.key_id:
            raise ValueError(f"fields name key {fields.key_id}, this signer is {self.key_id}")
        signature = self.private_key.sign(fields.signed_message())
        return encode_stamp_url(fields, signature, self.base_url)

    def sign(self, product_id: int, serial: int, issued_on: dt.date) -> str:
        """The stamp text for one serial. StampConfigError when a field is out of range."""
        return self.sign_fields(
            StampFields(
                key_id=self.key_id, product_id=product_id, serial=serial, issued_on=issued_on
            )
        )


def signing_key_entry(
    key_id: int,
    private_or_public_key: Ed25519PrivateKey | Ed25519PublicKey,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
) -> SigningKey:
    return SigningKey(key_id, public_key_b64(private_or_public_key), valid_from, valid_until)


def make_trust_list(
    root_key: Ed25519PrivateKey | Ed25519PublicKey,
    *,
    sequence: int,
    signing_keys: Iterable[SigningKey],
    revoked_ranges: Iterable[RevokedRange] = (),
    revoked_keys: Iterable[RevokedKey] = (),
    suspect_serials: Iterable[int] = (),
    issued_at: str | None = None,
    validity_s: float = DEFAULT_TRUST_VALIDITY_S,
) -> TrustList:
    """A trust list for `root_key` (private or public), expiring `validity_s` after
    `issued_at` (default now). Validated the same way a kiosk validates a received one, so
    the registry cannot publish a list kiosks would reject."""
    issued_at = issued_at or utc_now_iso()
    issued = dt.datetime.fromisoformat(issued_at.removesuffix("Z")).replace(tzinfo=dt.UTC)
    tl = TrustList(
        sequence=sequence,
        issued_at=issued_at,
        expires_at=(issued + dt.timedelta(seconds=validity_s)).strftime(ISO_SECONDS),
        root_fingerprint=fingerprint(root_key),
        signing_keys=tuple(signing_keys),
        revoked_ranges=tuple(revoked_ranges),
        revoked_keys=tuple(revoked_keys),
        suspect_serials=frozenset(suspect_serials),
    )
    return TrustList.from_dict(tl.to_dict())
