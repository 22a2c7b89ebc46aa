"""OCOP Sơn La stamps: a signed, offline-verifiable QR stamp in a small QR (version <= 6-M).

Modules (pure unless noted):
    codec     StampFields <-> stamp URL text (strict, canonical base32)
    keys      Ed25519 keys as base64 raw bytes; private key files 0600
    trust     TrustList, its signed JSON envelope, storage with rollback protection (Store)
    signer    StampSigner and make_trust_list: registry and demo side
    verdicts  Verdict enum with Vietnamese / English messages
    verifier  StampVerifier: text -> Verification (never raises)
    barcodes  GTIN barcodes and GS1 Digital Link (product_barcode verdict)
    service   Store glue: verifier_from_store, station issuance, blocks, demo registry
Format and security notes: docs/stamp-format.md.
"""

from kiosk.stamps.codec import (FORMAT_VERSION, ParsedStamp, StampFields, encode_stamp_url,
                                normalise_base_url, parse_stamp_payload, parse_stamp_text)
from kiosk.stamps.errors import (KeyFileError, NoTrustList, StampConfigError,
                                 StampFormatError, StampsExhausted, TrustError)
from kiosk.stamps.signer import StampSigner, make_trust_list, signing_key_entry
from kiosk.stamps.trust import (RevokedKey, RevokedRange, SigningKey, TrustList,
                                load_current_trust_list, sign_trust_list, store_trust_list,
                                verify_signed_trust_list)
from kiosk.stamps.verdicts import Verdict
from kiosk.stamps.verifier import ProductStatus, StampVerifier, Verification

__all__ = [
    "FORMAT_VERSION", "KeyFileError", "NoTrustList", "ParsedStamp", "ProductStatus",
    "RevokedKey", "RevokedRange", "SigningKey", "StampConfigError", "StampFields",
    "StampFormatError", "StampSigner", "StampVerifier", "StampsExhausted", "TrustError",
    "TrustList", "Verdict", "Verification", "encode_stamp_url", "load_current_trust_list",
    "make_trust_list", "normalise_base_url", "parse_stamp_payload", "parse_stamp_text",
    "sign_trust_list", "signing_key_entry", "store_trust_list", "verify_signed_trust_list",
]
