"""Trust list: which signing keys, serials and keys to trust, signed by the pinned root.

Envelope (what sync downloads and the table trust_lists stores verbatim):

    {"trust_list": {...}, "signature": "<base64 Ed25519 signature>"}

The signature covers TRUST_DOMAIN + canonical_json(trust_list), where canonical JSON is
json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True): sorted keys, no
whitespace, non-ASCII as \\u escapes, integers only (no floats). The verifier re-serialises the
received object that way, so the transport may pretty-print the envelope. Nothing unsigned,
signed by another root, malformed, with unknown fields, or older than the stored list is
accepted. Format details: docs/stamp-format.md.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ocop.stamps.codec import MAX_KEY_ID, MAX_SERIAL
from ocop.stamps.delegation import Delegation, reach_root, sign_delegation, verify_delegation
from ocop.stamps.errors import ForeignRootError, KeyFileError, TrustError
from ocop.stamps.freshness import TrustFreshness
from ocop.stamps.keys import fingerprint, load_public_key_b64, public_key_b64

TRUST_FORMAT = "ocop-sl-trust-list"
TRUST_VERSION = 2  # 2: expires_at (issue 14); 1 still read, as already expired
TRUST_VERSIONS = (1, 2)
TRUST_DOMAIN = b"OCOP-SL-TRUST\x00"
MAX_SIGNED_BYTES = 32 * 1024 * 1024
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


@dataclass(frozen=True)
class SigningKey:
    key_id: int
    public_key: str  # base64 of the raw 32-byte Ed25519 public key
    valid_from: dt.date  # first issue date this key may sign
    valid_until: dt.date | None  # last issue date this key may sign; None = open

    def covers(self, issued_on: dt.date) -> bool:
        return self.valid_from <= issued_on and (
            self.valid_until is None or issued_on <= self.valid_until
        )


@dataclass(frozen=True)
class RevokedRange:
    first: int  # inclusive
    last: int  # inclusive
    reason: str = ""


@dataclass(frozen=True)
class RevokedKey:
    key_id: int
    revoked_from: dt.date  # stamps this key signed with issued_on >= this: revoked
    last_good_serial: int | None = None  # stamps of this key with a higher serial: revoked
    reason: str = ""


@dataclass(frozen=True)
class TrustList:
    sequence: int
    issued_at: str  # UTC ISO 8601 with Z
    root_fingerprint: str  # sha256 hex of the root public key that signs this
    # UTC ISO 8601 with Z; after it the list is out of date (ocop.stamps.freshness). None
    # only for a version 1 list, which never had one.
    expires_at: str | None = None
    signing_keys: tuple[SigningKey, ...] = ()
    revoked_ranges: tuple[RevokedRange, ...] = ()
    revoked_keys: tuple[RevokedKey, ...] = ()
    suspect_serials: frozenset[int] = frozenset()
    # Derived lookup structures, built by __post_init__ (init=False: dataclasses.replace
    # rebuilds them; repr/compare=False: equality and hash stay those of the content).
    _keys: dict[int, SigningKey] = field(init=False, repr=False, compare=False)
    _revoked_keys: dict[int, RevokedKey] = field(init=False, repr=False, compare=False)
    _range_starts: list[int] = field(init=False, repr=False, compare=False)
    _range_ends: list[int] = field(init=False, repr=False, compare=False)
    _range_reasons: list[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "_keys", {k.key_id: k for k in self.signing_keys})
        set_(self, "_revoked_keys", {k.key_id: k for k in self.revoked_keys})
        # Disjoint sorted intervals for bisect (overlapping or adjacent ranges merged).
        starts: list[int] = []
        ends: list[int] = []
        reasons: list[str] = []
        for r in sorted(self.revoked_ranges, key=lambda r: (r.first, r.last)):
            if starts and r.first <= ends[-1] + 1:
                ends[-1] = max(ends[-1], r.last)
                if r.reason and r.reason not in reasons[-1]:
                    reasons[-1] = (reasons[-1] + "; " + r.reason).strip("; ")
            else:
                starts.append(r.first)
                ends.append(r.last)
                reasons.append(r.reason)
        set_(self, "_range_starts", starts)
        set_(self, "_range_ends", ends)
        set_(self, "_range_reasons", reasons)

    # --- lookups used by the verifier (fast) ---------------------------------------------

    @property
    def newest_key_id(self) -> int:
        """The highest key id listed (0 when none): ids above it may be keys started after
        this list was signed (Verdict.KEY_NOT_YET_KNOWN)."""
        return max(self._keys, default=0)

    def signing_key(self, key_id: int) -> SigningKey | None:
        return self._keys.get(key_id)

    def revoked_key(self, key_id: int) -> RevokedKey | None:
        return self._revoked_keys.get(key_id)

    def revoked_range_of(self, serial: int) -> RevokedRange | None:
        i = bisect.bisect_right(self._range_starts, serial) - 1
        if i >= 0 and serial <= self._range_ends[i]:
            return RevokedRange(self._range_starts[i], self._range_ends[i], self._range_reasons[i])
        return None

    def is_suspect(self, serial: int) -> bool:
        return serial in self.suspect_serials

    # --- serialisation -------------------------------------------------------------------

    def expires(self) -> dt.datetime | None:
        return None if self.expires_at is None else _parse_utc(self.expires_at)

    def freshness(self, now: dt.datetime) -> TrustFreshness:
        """FRESH before expires_at by the trusted time `now`, EXPIRED from then on."""
        return TrustFreshness.of(self.expires(), now)

    def to_dict(self) -> dict[str, Any]:
        # A version 1 list (no expiry) serialises as it was signed.
        head: dict[str, Any] = {"format": TRUST_FORMAT}
        if self.expires_at is None:
            head["version"] = 1
        else:
            head["version"] = TRUST_VERSION
            head["expires_at"] = self.expires_at
        return {
            **head,
            "sequence": self.sequence,
            "issued_at": self.issued_at,
            "root_fingerprint": self.root_fingerprint,
            "signing_keys": [
                {
                    "key_id": k.key_id,
                    "public_key": k.public_key,
                    "valid_from": k.valid_from.isoformat(),
                    "valid_until": k.valid_until.isoformat() if k.valid_until else None,
                }
                for k in sorted(self.signing_keys, key=lambda k: k.key_id)
            ],
            "revoked_ranges": [
                {"first": r.first, "last": r.last, "reason": r.reason}
                for r in sorted(self.revoked_ranges, key=lambda r: (r.first, r.last))
            ],
            "revoked_keys": [
                {
                    "key_id": k.key_id,
                    "revoked_from": k.revoked_from.isoformat(),
                    "last_good_serial": k.last_good_serial,
                    "reason": k.reason,
                }
                for k in sorted(self.revoked_keys, key=lambda k: k.key_id)
            ],
            "suspect_serials": sorted(self.suspect_serials),
        }

    @classmethod
    def from_dict(cls, d: object) -> TrustList:
        """Strict validation of untrusted JSON; TrustError naming the first problem."""
        version = d.get("version") if isinstance(d, dict) else None
        if isinstance(d, dict) and d.get("format", TRUST_FORMAT) != TRUST_FORMAT:
            raise TrustError(f"not a trust list (format {d['format']!r})")
        if isinstance(d, dict) and "version" in d and version not in TRUST_VERSIONS:
            raise TrustError(
                f"trust list version {version!r} not supported by this "
                f"program (knows {', '.join(map(str, TRUST_VERSIONS))}); update ocop-kiosk"
            )
        d = _obj(d, "trust_list", _FIELDS_V1 if version == 1 else _FIELDS_V1 | {"expires_at"})
        sequence = _int(d["sequence"], "sequence", 1, 2**63 - 1)
        issued_at = _str(d["issued_at"], "issued_at")
        if not _DATETIME_RE.fullmatch(issued_at):
            raise TrustError(f"issued_at {issued_at!r} is not a UTC ISO 8601 time with Z")
        expires_at = None
        if version != 1:
            expires_at = _str(d["expires_at"], "expires_at")
            if not _DATETIME_RE.fullmatch(expires_at):
                raise TrustError(f"expires_at {expires_at!r} is not a UTC ISO 8601 time with Z")
            if _parse_utc(expires_at) <= _parse_utc(issued_at):
                raise TrustError("expires_at is not after issued_at")
        root_fp = _str(d["root_fingerprint"], "root_fingerprint")
        if not re.fullmatch(r"[0-9a-f]{64}", root_fp):
            raise TrustError("root_fingerprint must be 64 lowercase hex digits")
        keys = []
        for i, k in enumerate(_list(d["signing_keys"], "signing_keys")):
            where = f"signing_keys[{i}]"
            k = _obj(k, where, {"key_id", "public_key", "valid_from", "valid_until"})
            key_id = _int(k["key_id"], f"{where}.key_id", 1, MAX_KEY_ID)
            pub = _str(k["public_key"], f"{where}.public_key")
            try:
                load_public_key_b64(pub, f"{where}.public_key")
            except KeyFileError as exc:
                raise TrustError(str(exc)) from None
            valid_from = _date(k["valid_from"], f"{where}.valid_from")
            valid_until = (
                None
                if k["valid_until"] is None
                else _date(k["valid_until"], f"{where}.valid_until")
            )
            if valid_until is not None and valid_until < valid_from:
                raise TrustError(f"{where}: valid_until is before valid_from")
            keys.append(SigningKey(key_id, pub, valid_from, valid_until))
        if len({k.key_id for k in keys}) != len(keys):
            raise TrustError("signing_keys: a key id appears twice")
        ranges = []
        for i, r in enumerate(_list(d["revoked_ranges"], "revoked_ranges")):
            where = f"revoked_ranges[{i}]"
            r = _obj(r, where, {"first", "last", "reason"})
            first = _int(r["first"], f"{where}.first", 1, MAX_SERIAL)
            last = _int(r["last"], f"{where}.last", 1, MAX_SERIAL)
            if last < first:
                raise TrustError(f"{where}: last is below first")
            ranges.append(RevokedRange(first, last, _str(r["reason"], f"{where}.reason")))
        revoked_keys = []
        for i, k in enumerate(_list(d["revoked_keys"], "revoked_keys")):
            where = f"revoked_keys[{i}]"
            k = _obj(k, where, {"key_id", "revoked_from", "last_good_serial", "reason"})
            lgs = k["last_good_serial"]
            revoked_keys.append(
                RevokedKey(
                    _int(k["key_id"], f"{where}.key_id", 1, MAX_KEY_ID),
                    _date(k["revoked_from"], f"{where}.revoked_from"),
                    None if lgs is None else _int(lgs, f"{where}.last_good_serial", 0, MAX_SERIAL),
                    _str(k["reason"], f"{where}.reason"),
                )
            )
        if len({k.key_id for k in revoked_keys}) != len(revoked_keys):
            raise TrustError("revoked_keys: a key id appears twice")
        suspects = frozenset(
            _int(s, "suspect_serials[]", 1, MAX_SERIAL)
            for s in _list(d["suspect_serials"], "suspect_serials")
        )
        return cls(
            sequence=sequence,
            issued_at=issued_at,
            root_fingerprint=root_fp,
            expires_at=expires_at,
            signing_keys=tuple(keys),
            revoked_ranges=tuple(ranges),
            revoked_keys=tuple(revoked_keys),
            suspect_serials=suspects,
        )


_FIELDS_V1 = frozenset(
    {
        "format",
        "version",
        "sequence",
        "issued_at",
        "root_fingerprint",
        "signing_keys",
        "revoked_ranges",
        "revoked_keys",
        "suspect_serials",
    }
)


def _parse_utc(text: str) -> dt.datetime:
    """A validated ...Z time as an aware UTC datetime."""
    try:
        return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.UTC)
    except ValueError:
        raise TrustError(f"{text!r} is not a calendar time") from None


def _obj(v: object, where: str, keys: set[str] | frozenset[str]) -> dict[str, Any]:
    """`v` itself, once it is a JSON object with exactly these keys."""
    if not isinstance(v, dict):
        raise TrustError(f"{where}: expected an object")
    missing, unknown = keys - v.keys(), v.keys() - keys
    if missing:
        raise TrustError(f"{where}: missing {', '.join(sorted(missing))}")
    if unknown:
        raise TrustError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return v


def _int(v: object, where: str, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise TrustError(f"{where}: expected an integer in {lo}..{hi}, got {v!r}")
    return v


def _str(v: object, where: str) -> str:
    if not isinstance(v, str):
        raise TrustError(f"{where}: expected a string")
    return v


def _list(v: object, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise TrustError(f"{where}: expected a list")
    return v


def _date(v: object, where: str) -> dt.date:
    if not isinstance(v, str) or not _DATE_RE.fullmatch(v):
        raise TrustError(f"{where}: expected a YYYY-MM-DD date, got {v!r}")
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise TrustError(f"{where}: {v!r} is not a calendar date") from None


# --- canonical JSON, signing, verifying -----------------------------------------------------


def canonical_json(obj: object) -> bytes:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def sign_trust_list(
    trust_list: TrustList,
    signing_key: Ed25519PrivateKey,
    delegation: dict[str, Any] | None = None,
    root_chain: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
) -> str:
    """The signed envelope (JSON text) for a trust list. Registry and demo only.

    The registry passes its list-signing key with the root's `delegation` for it (and the
    `root_chain` of successions). Without a delegation `signing_key` must be the root
    itself, which then delegates to itself for exactly the list's lifetime (demo, tests).
    A version 1 list (no expiry) gets the version 1 envelope: signed by the root, no chain."""
    body = trust_list.to_dict()
    if delegation is None:
        if trust_list.root_fingerprint != fingerprint(signing_key):
            raise TrustError("trust list names another root than the signing key")
        if trust_list.expires_at is not None:
            delegation = sign_delegation(
                signing_key,
                public_key_b64(signing_key),
                _whole_second(trust_list.issued_at),
                trust_list.expires_at,
            )
    elif public_key_b64(signing_key) != delegation["delegation"]["list_public_key"]:
        raise TrustError("the delegation is for another list-signing key")
    signature = signing_key.sign(TRUST_DOMAIN + canonical_json(body))
    envelope: dict[str, Any] = {
        "trust_list": body,
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    if delegation is not None:
        envelope["delegation"] = delegation
        envelope["root_chain"] = list(root_chain)
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _whole_second(text: str) -> str:
    return text if "." not in text else text.split(".")[0] + "Z"


@dataclass(frozen=True)
class VerifiedTrust:
    """A verified envelope: the list, the root it chains to (base64; the pinned root or a
    successor it signed for) and the list-signing key (None for a version 1 list)."""

    trust_list: TrustList
    root_public_key: str
    list_public_key: str | None
    delegation: Delegation | None


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for k, v in pairs:
        if k in d:
            raise TrustError(f"duplicate JSON key {k!r}")
        d[k] = v
    return d


def _no_float(text: str) -> NoReturn:
    raise TrustError(f"numbers must be integers, got {text}")


def verify_signed_trust_list(
    blob: str | bytes,
    pinned_root_public_key: str | Ed25519PublicKey,
    now: dt.datetime | None = None,
) -> TrustList:
    """Check the envelope against the pinned root and return the trust list; TrustError on
    anything else (not JSON, unsigned, other root, bad signature, malformed content, a
    delegation that has expired by `now` when given)."""
    return verify_trust_envelope(blob, pinned_root_public_key, now).trust_list


def verify_trust_envelope(
    blob: str | bytes,
    pinned_root_public_key: str | Ed25519PublicKey,
    now: dt.datetime | None = None,
) -> VerifiedTrust:
    """Version 2: pinned root -> (signed successions) -> root -> delegation -> list key ->
    trust list. Version 1: the pinned root signed the list itself. `now` (the kiosk's trusted
    time, when receiving a list) must be within the delegation; stored lists are re-checked
    without it (an expired delegation still verifies what it signed, shown as out of date)."""
    if isinstance(pinned_root_public_key, str):
        try:
            pinned = load_public_key_b64(pinned_root_public_key, "pinned root public key")
        except KeyFileError as exc:
            raise TrustError(str(exc)) from None
    else:
        pinned = pinned_root_public_key
    if isinstance(blob, str):
        blob = blob.encode("utf-8", "surrogatepass")
    if len(blob) > MAX_SIGNED_BYTES:
        raise TrustError(f"trust list larger than {MAX_SIGNED_BYTES} bytes")
    try:
        envelope = json.loads(
            blob,
            object_pairs_hook=_reject_duplicates,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except TrustError:
        raise
    except (ValueError, RecursionError) as exc:
        raise TrustError(f"trust list is not valid JSON: {exc}") from None
    if not isinstance(envelope, dict) or "trust_list" not in envelope:
        raise TrustError("not a signed trust list envelope")
    if "signature" not in envelope:
        raise TrustError("trust list is not signed")
    chained = "delegation" in envelope
    _obj(
        envelope,
        "envelope",
        {"trust_list", "signature", "delegation", "root_chain"}
        if chained
        else {"trust_list", "signature"},
    )
    try:
        signature = base64.b64decode(_str(envelope["signature"], "signature"), validate=True)
    except (binascii.Error, ValueError):
        raise TrustError("signature: not valid base64") from None
    body = envelope["trust_list"]
    if not isinstance(body, dict):
        raise TrustError("trust_list: expected an object")
    target = body.get("root_fingerprint")
    if not isinstance(target, str):
        raise TrustError("trust_list.root_fingerprint: expected a string")
    if not chained:
        if body.get("version") != 1:
            raise TrustError("a version 2 trust list must carry its delegation")
        if target != fingerprint(pinned):
            raise ForeignRootError(
                f"trust list is signed for another root ({target[:16]}...), this kiosk "
                f"pins {fingerprint(pinned)[:16]}..."
            )
        _check(pinned, signature, body, "the pinned root")
        return VerifiedTrust(TrustList.from_dict(body), public_key_b64(pinned), None, None)
    root = reach_root(envelope["root_chain"], pinned, target)
    delegation = verify_delegation(envelope["delegation"], root)
    list_key = load_public_key_b64(delegation.list_public_key)
    _check(list_key, signature, body, "its delegated list-signing key")
    trust_list = TrustList.from_dict(body)
    if trust_list.expires_at is None:
        raise TrustError("a delegated trust list must be version 2")
    issued = _parse_utc(_whole_second(trust_list.issued_at))
    expires = _parse_utc(trust_list.expires_at)
    if issued < delegation.start or expires > delegation.until:
        raise TrustError(
            f"trust list {trust_list.sequence} ({trust_list.issued_at} .. "
            f"{trust_list.expires_at}) is outside its delegation "
            f"({delegation.valid_from} .. {delegation.valid_until})"
        )
    if now is not None and now > delegation.until:
        raise TrustError(
            f"the list-signing key's delegation expired at {delegation.valid_until}; "
            "the registry must run 'ocop-registry root delegate'"
        )
    return VerifiedTrust(trust_list, public_key_b64(root), delegation.list_public_key, delegation)


def _check(key: Ed25519PublicKey, signature: bytes, body: dict[str, Any], whom: str) -> None:
    try:
        key.verify(signature, TRUST_DOMAIN + canonical_json(body))
    except InvalidSignature:
        raise TrustError(f"trust list signature does not verify against {whom}") from None
