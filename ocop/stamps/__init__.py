"""OCOP Sơn La stamps: a signed, offline-verifiable QR stamp in a small QR (version <= 6-M).

Pure (no I/O): the kiosk and the registry both use these modules.
    codec     StampFields <-> stamp URL text (strict, canonical base32)
    keys      Ed25519 keys as base64 raw bytes
    trust     TrustList and its signed JSON envelope (storage: kiosk.stamps.trust_store)
    signer    StampSigner and make_trust_list: registry and demo side
    verdicts  Verdict: what a scan means, with its labels, colour role and sets
    verifier  StampVerifier: text -> Verification (never raises)
    barcodes  GTIN barcodes and GS1 Digital Link (product_barcode verdict)
Format and security notes: docs/stamp-format.md.
"""
