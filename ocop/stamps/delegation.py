"""The chain above a trust list (issue 14, item 7), like the EU DCC scheme: an offline root
delegates list signing to an online key for a period, and may hand over to a new root.

    delegation  {"delegation": {...}, "signature": b64}   root signs DELEGATION_DOMAIN + body
    succession  {"succession": {...}, "signature": b64}   old root signs SUCCESSION_DOMAIN + body

Bodies are canonical JSON (ocop.stamps.trust.canonical_json), strict like the trust list.
A kiosk pins one root; `reach_root` walks a list of successions from the pinned root to the
root that signed the delegation, each step signed by the root before it, so a new root is
accepted only when the root the kiosk pins (or one it signed for) vouches for it.
Format: docs/stamp-format.md ("Trust chain").
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ocop.stamps.errors import ForeignRootError, KeyFileError, TrustError
from ocop.stamps.keys import fingerprint, load_public_key_b64, public_key_b64

DELEGATION_FORMAT = "ocop-sl-delegation"
SUCCESSION_FORMAT = "ocop-sl-root-succession"
DELEGATION_DOMAIN = b"OCOP-SL-DELEGATION\x00"
SUCCESSION_DOMAIN = b"OCOP-SL-ROOT-SUCCESSION\x00"
CHAIN_VERSION = 1
MAX_CHAIN = 64  # root successions an envelope may carry
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_FP_RE = re.compile(r"[0-9a-f]{64}")


def utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str, where: str) -> dt.datetime:
    if not isinstance(text, str) or not _TIME_RE.fullmatch(text):
        raise TrustError(f"{where}: expected a UTC time YYYY-MM-DDTHH:MM:SSZ, got {text!r}")
    try:
        return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.UTC)
    except ValueError:
        raise TrustError(f"{where}: {text!r} is not a calendar time") from None


@dataclass(frozen=True)
class Delegation:
    """The root lets `list_public_key` sign trust lists issued within [valid_from, valid_until]."""

    root_fingerprint: str
    list_public_key: str  # base64 raw Ed25519
    valid_from: str  # UTC ...Z
    valid_until: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": DELEGATION_FORMAT,
            "version": CHAIN_VERSION,
            "root_fingerprint": self.root_fingerprint,
            "list_public_key": self.list_public_key,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }

    @classmethod
    def from_dict(cls, d: object) -> Delegation:
        d = _strict(d, "delegation", DELEGATION_FORMAT, {"root_fingerprint", "list_public_key"})
        _fp(d["root_fingerprint"], "delegation.root_fingerprint")
        _pub(d["list_public_key"], "delegation.list_public_key")
        start = parse_utc(d["valid_from"], "delegation.valid_from")
        if parse_utc(d["valid_until"], "delegation.valid_until") <= start:
            raise TrustError("delegation: valid_until is not after valid_from")
        return cls(d["root_fingerprint"], d["list_public_key"], d["valid_from"], d["valid_until"])

    @property
    def until(self) -> dt.datetime:
        return parse_utc(self.valid_until, "valid_until")

    @property
    def start(self) -> dt.datetime:
        return parse_utc(self.valid_from, "valid_from")


@dataclass(frozen=True)
class Succession:
    """The root `old_root_fingerprint` hands over to `new_root_public_key`."""

    old_root_fingerprint: str
    new_root_public_key: str
    issued_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SUCCESSION_FORMAT,
            "version": CHAIN_VERSION,
            "old_root_fingerprint": self.old_root_fingerprint,
            "new_root_public_key": self.new_root_public_key,
            "issued_at": self.issued_at,
        }

    @classmethod
    def from_dict(cls, d: object) -> Succession:
        d = _strict(
            d, "succession", SUCCESSION_FORMAT, {"old_root_fingerprint", "new_root_public_key"}
        )
        _fp(d["old_root_fingerprint"], "succession.old_root_fingerprint")
        _pub(d["new_root_public_key"], "succession.new_root_public_key")
        parse_utc(d["issued_at"], "succession.issued_at")
        return cls(d["old_root_fingerprint"], d["new_root_public_key"], d["issued_at"])


# --- signing (registry's `root` commands, demo) ------------------------------------------------


def sign_delegation(
    root: Ed25519PrivateKey, list_public_key: str, valid_from: str, valid_until: str
) -> dict[str, Any]:
    body = Delegation(fingerprint(root), list_public_key, valid_from, valid_until)
    Delegation.from_dict(body.to_dict())  # never sign what a kiosk would refuse
    return _signed("delegation", body.to_dict(), root, DELEGATION_DOMAIN)


def sign_succession(
    old_root: Ed25519PrivateKey, new_root: Ed25519PublicKey | Ed25519PrivateKey, issued_at: str
) -> dict[str, Any]:
    body = Succession(fingerprint(old_root), public_key_b64(new_root), issued_at)
    Succession.from_dict(body.to_dict())
    return _signed("succession", body.to_dict(), old_root, SUCCESSION_DOMAIN)


def _signed(
    name: str, body: dict[str, Any], key: Ed25519PrivateKey, domain: bytes
) -> dict[str, Any]:
    from ocop.stamps.trust import canonical_json

    signature = key.sign(domain + canonical_json(body))
    return {name: body, "signature": base64.b64encode(signature).decode("ascii")}


# --- verifying (kiosk) ------------------------------------------------------------------------


def reach_root(
    chain: object, pinned: Ed25519PublicKey, target_fingerprint: str
) -> Ed25519PublicKey:
    """The root with `target_fingerprint`, reached from the pinned root through signed
    successions; ForeignRootError when the chain does not lead there from the pinned root."""
    if not isinstance(chain, list):
        raise TrustError("root_chain: expected a list")
    if len(chain) > MAX_CHAIN:
        raise TrustError(f"root_chain: more than {MAX_CHAIN} successions")
    successions = []
    for i, item in enumerate(chain):
        body, signature = _envelope(item, "succession", f"root_chain[{i}]")
        successions.append((Succession.from_dict(body), body, signature))
    current = pinned
    for _ in range(len(successions) + 1):
        current_fp = fingerprint(current)
        if current_fp == target_fingerprint:
            return current
        step = next((s for s in successions if s[0].old_root_fingerprint == current_fp), None)
        if step is None:
            break
        _verify(current, step[2], SUCCESSION_DOMAIN, step[1], "root succession")
        current = load_public_key_b64(step[0].new_root_public_key)
    raise ForeignRootError(
        f"trust list is signed for another root ({target_fingerprint[:16]}...), this kiosk "
        f"pins {fingerprint(pinned)[:16]}... and no succession signed by it leads there"
    )


def verify_delegation(item: object, root: Ed25519PublicKey) -> Delegation:
    body, signature = _envelope(item, "delegation", "delegation")
    delegation = Delegation.from_dict(body)
    if delegation.root_fingerprint != fingerprint(root):
        raise TrustError("delegation names another root than the one that must sign it")
    _verify(root, signature, DELEGATION_DOMAIN, body, "delegation")
    return delegation


def _verify(
    key: Ed25519PublicKey, signature: bytes, domain: bytes, body: dict[str, Any], what: str
) -> None:
    from ocop.stamps.trust import canonical_json

    try:
        key.verify(signature, domain + canonical_json(body))
    except InvalidSignature:
        raise TrustError(f"{what} signature does not verify") from None


def _envelope(item: object, name: str, where: str) -> tuple[dict[str, Any], bytes]:
    if not isinstance(item, dict) or set(item) != {name, "signature"}:
        raise TrustError(f"{where}: expected {{{name!r}, 'signature'}}")
    if not isinstance(item[name], dict):
        raise TrustError(f"{where}.{name}: expected an object")
    try:
        signature = base64.b64decode(_str(item["signature"], f"{where}.signature"), validate=True)
    except (binascii.Error, ValueError):
        raise TrustError(f"{where}.signature: not valid base64") from None
    return item[name], signature


def _strict(d: object, where: str, fmt: str, fields: set[str]) -> dict[str, Any]:
    keys = (
        {"format", "version"}
        | fields
        | ({"valid_from", "valid_until"} if fmt == DELEGATION_FORMAT else {"issued_at"})
    )
    if not isinstance(d, dict):
        raise TrustError(f"{where}: expected an object")
    if set(d) != keys:
        raise TrustError(f"{where}: fields must be exactly {', '.join(sorted(keys))}")
    if d["format"] != fmt or type(d["version"]) is not int or d["version"] != CHAIN_VERSION:
        raise TrustError(f"{where}: not a {fmt} version {CHAIN_VERSION}")
    return d


def _str(v: object, where: str) -> str:
    if not isinstance(v, str):
        raise TrustError(f"{where}: expected a string")
    return v


def _fp(v: object, where: str) -> None:
    if not isinstance(v, str) or not _FP_RE.fullmatch(v):
        raise TrustError(f"{where}: must be 64 lowercase hex digits")


def _pub(v: object, where: str) -> None:
    try:
        load_public_key_b64(_str(v, where), where)
    except KeyFileError as exc:
        raise TrustError(str(exc)) from None


__all__ = [
    "Delegation",
    "Succession",
    "reach_root",
    "sign_delegation",
    "sign_succession",
    "verify_delegation",
]
