"""Signed catalog pages (issue 14, item 9): each GET /catalog/changes reply carries a
signature by the registry's list-signing key (the key the root delegated, named in the
trust list's delegation), so a proxy cannot turn a product into "FAKE" with 5 stars.

    signature = Ed25519(list key, CATALOG_DOMAIN + canonical_json(
        {"since": <the request's cursor>, "reply": <the reply without catalog_signature>}))

`since` is signed so a page cannot be replayed at another cursor; `registry_id`, the trust
list fields and every change are inside the reply. Format: docs/sync-protocol.md.

The lots feed (GET /lots/changes, protocol 3) is signed the same way by the same key, under
its own domain and field (LOTS), so neither reply can pass for the other.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocop.stamps.errors import KeyFileError, TrustError
from ocop.stamps.keys import load_public_key_b64
from ocop.stamps.trust import canonical_json
from ocop.wire import CATALOG_SIGNATURE, LOTS_SIGNATURE

CATALOG_DOMAIN = b"OCOP-SL-CATALOG\x00"
LOTS_DOMAIN = b"OCOP-SL-LOTS\x00"


@dataclass(frozen=True)
class SignedFeed:
    """A signed pull reply: the domain its bytes start with, the field its signature is in."""

    what: str
    domain: bytes
    field: str


CATALOG = SignedFeed("catalog reply", CATALOG_DOMAIN, CATALOG_SIGNATURE)
LOTS = SignedFeed("lots reply", LOTS_DOMAIN, LOTS_SIGNATURE)


def catalog_signed_bytes(reply: dict[str, Any], since: int, feed: SignedFeed = CATALOG) -> bytes:
    body = {k: v for k, v in reply.items() if k != feed.field}
    return feed.domain + canonical_json({"since": since, "reply": body})


def sign_catalog_reply(
    reply: dict[str, Any], since: int, list_key: Ed25519PrivateKey, feed: SignedFeed = CATALOG
) -> str:
    return base64.b64encode(list_key.sign(catalog_signed_bytes(reply, since, feed))).decode("ascii")


def verify_catalog_reply(
    reply: dict[str, Any], since: int, list_public_key: str, feed: SignedFeed = CATALOG
) -> None:
    """TrustError unless the reply carries a valid signature by `list_public_key`."""
    what = feed.what
    text = reply.get(feed.field)
    if not isinstance(text, str):
        raise TrustError(f"{what} is not signed")
    try:
        signature = base64.b64decode(text, validate=True)
        key = load_public_key_b64(list_public_key, "list-signing key")
    except (binascii.Error, ValueError, KeyFileError):
        raise TrustError(f"{what} signature: not valid base64") from None
    try:
        signed = catalog_signed_bytes(reply, since, feed)
    except (ValueError, TypeError, RecursionError) as exc:  # NaN, infinities: not signable
        raise TrustError(f"{what} has no canonical JSON form: {exc}") from None
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        raise TrustError(
            f"{what} signature does not verify against the registry's list-signing "
            "key (altered in transit?)"
        ) from None


__all__ = [
    "CATALOG",
    "CATALOG_DOMAIN",
    "LOTS",
    "LOTS_DOMAIN",
    "SignedFeed",
    "sign_catalog_reply",
    "verify_catalog_reply",
]
