"""Stamp codec: fields <-> bytes <-> the URL printed in the QR. Pure, no keys, no I/O.

Layout (format version 1), see docs/stamp-format.md:

    offset size field
    0      1    version      = 1
    1      1    key_id       1..255
    2      3    product_id   1..2**24-1, big-endian
    5      5    serial       1..2**40-1, big-endian
    10     2    issue_day    days since 2020-01-01 (0..65535, i.e. up to 2199-06-06)
    12     64   Ed25519 signature over DOMAIN + bytes[0:12]

The 76 bytes are RFC 4648 base32 (uppercase, no padding): 122 characters, the last of which
carries 2 unused bits that must be zero. The stamp text is BASE_URL + those 122 characters,
e.g. 'HTTPS://OCOP.SONLA.GOV.VN/S/' + 122 chars = 150 chars: QR version 6 at level M.

Parsing is strict: exactly one canonical spelling per byte string (uppercase alphabet only,
exact length, zero trailing bits, known version, fields in range), so no edit of a printed
stamp can decode to the same signed bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass
from typing import TypeGuard

from ocop.stamps.errors import StampConfigError, StampFormatError

FORMAT_VERSION = 1
DOMAIN = b"OCOP-SL-STAMP\x00"  # signature domain separation (see signed_message)
HEADER_BYTES = 12
SIGNATURE_BYTES = 64
PAYLOAD_BYTES = HEADER_BYTES + SIGNATURE_BYTES  # 76
PAYLOAD_CHARS = -(-PAYLOAD_BYTES * 8 // 5)  # 122 base32 characters

EPOCH = dt.date(2020, 1, 1)
MAX_KEY_ID = 255
MAX_PRODUCT_ID = 2**24 - 1
MAX_SERIAL = 2**40 - 1
MAX_ISSUE_DAY = 2**16 - 1
MAX_ISSUED_ON = EPOCH + dt.timedelta(days=MAX_ISSUE_DAY)  # 2199-06-06

# QR alphanumeric mode characters (ISO/IEC 18004): what the base URL may contain.
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_PAYLOAD_RE = re.compile(rf"[A-Z2-7]{{{PAYLOAD_CHARS}}}")
_B32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# RFC 4648 base32 -> the digits int(..., 32) reads (0-9a-v): a C-speed decoder (the stdlib
# base64.b32decode is pure Python, ~10x slower, and the verify path should cost little
# beyond the Ed25519 check itself).
_TO_INT_DIGITS = str.maketrans(_B32_ALPHABET, "0123456789abcdefghijklmnopqrstuv")
_UNUSED_BITS = PAYLOAD_CHARS * 5 - PAYLOAD_BYTES * 8  # 2
MAX_BASE_URL_CHARS = 32  # 32 + 122 = 154, the v6-M alphanumeric capacity


@dataclass(frozen=True, slots=True)
class StampFields:
    """What a stamp says. `issued_on` is the registry's issue date (UTC day)."""

    key_id: int
    product_id: int
    serial: int
    issued_on: dt.date
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        problems = check_fields(
            self.version, self.key_id, self.product_id, self.serial, self.issued_on
        )
        if problems:
            raise StampConfigError("stamp fields out of range: " + "; ".join(problems))

    def header(self) -> bytes:
        day = (self.issued_on - EPOCH).days
        return (
            bytes((self.version, self.key_id))
            + self.product_id.to_bytes(3, "big")
            + self.serial.to_bytes(5, "big")
            + day.to_bytes(2, "big")
        )

    def signed_message(self) -> bytes:
        return DOMAIN + self.header()


def check_fields(
    version: object, key_id: object, product_id: object, serial: object, issued_on: object
) -> list[str]:
    problems = []

    def is_int(v: object) -> TypeGuard[int]:
        return isinstance(v, int) and not isinstance(v, bool)

    if version != FORMAT_VERSION or not is_int(version):
        problems.append(f"version must be {FORMAT_VERSION}")
    if not is_int(key_id) or not 1 <= key_id <= MAX_KEY_ID:
        problems.append(f"key id {key_id!r} not in 1..{MAX_KEY_ID}")
    if not is_int(product_id) or not 1 <= product_id <= MAX_PRODUCT_ID:
        problems.append(f"product id {product_id!r} not in 1..{MAX_PRODUCT_ID}")
    if not is_int(serial) or not 1 <= serial <= MAX_SERIAL:
        problems.append(f"serial {serial!r} not in 1..{MAX_SERIAL}")
    if (
        not isinstance(issued_on, dt.date)
        or isinstance(issued_on, dt.datetime)
        or not EPOCH <= issued_on <= MAX_ISSUED_ON
    ):
        problems.append(f"issue date {issued_on!r} not a date in {EPOCH}..{MAX_ISSUED_ON}")
    return problems


@dataclass(frozen=True, slots=True)
class ParsedStamp:
    fields: StampFields
    signature: bytes
    signed_message: bytes  # DOMAIN + header: exactly what the signature must cover


def normalise_base_url(base_url: str) -> str:
    """The canonical (uppercase) base URL; StampConfigError when the format can't use it.

    It must start with HTTPS://, end with '/', use only QR alphanumeric characters once
    uppercased, and be at most 32 characters so a stamp fits QR version 6 at level M.
    """
    if not isinstance(base_url, str):
        raise StampConfigError("stamp base URL must be a string")
    url = base_url.upper()
    problems = []
    if not url.startswith("HTTPS://"):
        problems.append("must start with https://")
    if not url.endswith("/"):
        problems.append("must end with '/'")
    bad = sorted(set(url) - QR_ALPHANUMERIC)
    if bad:
        problems.append(
            "characters not allowed in a QR alphanumeric URL: " + " ".join(repr(c) for c in bad)
        )
    if len(url) > MAX_BASE_URL_CHARS:
        problems.append(
            f"{len(url)} characters, at most {MAX_BASE_URL_CHARS} (QR version 6 at level M)"
        )
    if problems:
        raise StampConfigError(f"stamp base URL {base_url!r}: " + "; ".join(problems))
    return url


def encode_payload(fields: StampFields, signature: bytes) -> str:
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != SIGNATURE_BYTES:
        raise StampConfigError(f"signature must be {SIGNATURE_BYTES} bytes")
    return base64.b32encode(fields.header() + bytes(signature)).decode("ascii").rstrip("=")


def encode_stamp_url(fields: StampFields, signature: bytes, base_url: str) -> str:
    """The stamp text printed in the QR: canonical base URL + 122 base32 characters."""
    return normalise_base_url(base_url) + encode_payload(fields, signature)


def parse_stamp_payload(payload: str) -> ParsedStamp:
    """Decode the 122 characters after the base URL (the registry's public page gets only
    this path segment). Raises StampFormatError(under_prefix=True) on anything non-canonical.
    """
    if not isinstance(payload, str) or not _PAYLOAD_RE.fullmatch(payload):
        raise StampFormatError(
            f"payload is not {PAYLOAD_CHARS} base32 characters [A-Z2-7]", under_prefix=True
        )
    number = int(payload.translate(_TO_INT_DIGITS), 32)
    # Canonical only: the last character's unused low bits must be zero.
    if number & ((1 << _UNUSED_BITS) - 1):
        raise StampFormatError("non-canonical base32 (unused trailing bits set)", under_prefix=True)
    raw = (number >> _UNUSED_BITS).to_bytes(PAYLOAD_BYTES, "big")
    version = raw[0]
    if version != FORMAT_VERSION:
        raise StampFormatError(f"unknown format version {version}", under_prefix=True)
    key_id = raw[1]
    product_id = int.from_bytes(raw[2:5], "big")
    serial = int.from_bytes(raw[5:10], "big")
    day = int.from_bytes(raw[10:12], "big")
    if key_id == 0 or product_id == 0 or serial == 0:
        raise StampFormatError("zero key id, product id or serial", under_prefix=True)
    fields = StampFields(
        key_id=key_id,
        product_id=product_id,
        serial=serial,
        issued_on=EPOCH + dt.timedelta(days=day),
        version=version,
    )
    return ParsedStamp(
        fields=fields, signature=raw[HEADER_BYTES:], signed_message=DOMAIN + raw[:HEADER_BYTES]
    )


def is_under_prefix(text: str, base_url: str) -> bool:
    """Does `text` claim to be one of our stamps: starts with the base URL, ASCII case
    ignored (so a re-typed or lower-cased copy is reported as forged, not as 'not OCOP')."""
    head = text[: len(base_url)]
    return head.isascii() and head.upper() == base_url


def parse_stamp_text(text: str, base_url: str) -> ParsedStamp:
    """Parse the exact text a camera read from a stamp QR. Raises StampFormatError only.

    `base_url` must already be normalised (normalise_base_url). The prefix must match it
    exactly (the printed QR is always uppercase; any other spelling was re-encoded by
    someone and is malformed); a text that matches it only when case is ignored is
    StampFormatError(under_prefix=True), a text that doesn't start with it at all is
    StampFormatError(under_prefix=False).
    """
    if not isinstance(text, str):
        raise StampFormatError("not text", under_prefix=False)
    if not text.startswith(base_url):
        if is_under_prefix(text, base_url):
            raise StampFormatError("base URL not in canonical uppercase form", under_prefix=True)
        raise StampFormatError("not under the stamp base URL", under_prefix=False)
    return parse_stamp_payload(text[len(base_url) :])
