"""Signed catalog pages (issue 14, item 9): each GET /catalog/changes reply carries a
signature by the registry's list-signing key (the key the root delegated, named in the
trust list's delegation), so a proxy cannot turn a product into "FAKE" with 5 stars.

    signature = Ed25519(list key, CATALOG_DOMAIN + canonical_json(
        {"since": <the request's cursor>, "reply": <the reply without catalog_signature>}))

`since` is signed so a page cannot be replayed at another cursor; `registry_id`, the trust
list fields and every change are inside the reply. Format: docs/sync-protocol.md.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocop.stamps.errors import KeyFileError, TrustError
from ocop.stamps.keys import load_public_key_b64
from ocop.stamps.trust import canonical_json
from ocop.wire import CATALOG_SIGNATURE

CATALOG_DOMAIN = b"OCOP-SL-CATALOG\x00"


def catalog_signed_bytes(reply: dict[str, Any], since: int) -> bytes:
    body = {k: v for k, v in reply.items() if k != CATALOG_SIGNATURE}
    return CATALOG_DOMAIN + canonical_json({"since": since, "reply": body})


def sign_catalog_reply(reply: dict[str, Any], since: int, list_key: Ed25519PrivateKey) -> str:
    return base64.b64encode(list_key.sign(catalog_signed_bytes(reply, since))).decode("ascii")


def verify_catalog_reply(reply: dict[str, Any], since: int, list_public_key: str) -> None:
    """TrustError unless the reply carries a valid signature by `list_public_key`."""
    text = reply.get(CATALOG_SIGNATURE)
    if not isinstance(text, str):
        raise TrustError("catalog reply is not signed")
    try:
        signature = base64.b64decode(text, validate=True)
        key = load_public_key_b64(list_public_key, "list-signing key")
    except (binascii.Error, ValueError, KeyFileError):
        raise TrustError("catalog reply signature: not valid base64") from None
    try:
        signed = catalog_signed_bytes(reply, since)
    except (ValueError, TypeError, RecursionError) as exc:  # NaN, infinities: not signable
        raise TrustError(f"catalog reply has no canonical JSON form: {exc}") from None
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        raise TrustError(
            "catalog reply signature does not verify against the registry's list-signing "
            "key (altered in transit?)"
        ) from None


__all__ = ["CATALOG_DOMAIN", "sign_catalog_reply", "verify_catalog_reply"]
