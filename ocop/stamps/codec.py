"""Stamp codec: fields <-> bytes <-> the URL printed in the QR. Pure, no keys, no I/O.

Layout (format version 1), see docs/stamp-format.md:

    offset size field
    0      1    version      = 1
    1      1    key_id       1..255
    2      3    product_id   1..2**24-1, big-endian
    5      5    serial       1..2**40-1, big-endian
    10     2    issue_day    days since 2020-01-01 (0..65535, i.e. up to 2199-06-06)
    12     64   Ed25519 signature over DOMAIN + bytes[0:12]

Two spellings, both canonical (docs/stamp-format.md "Text form"):

* current (issued since issue 15): 'https://' + the rest of the base URL in upper case + the
  76 bytes as one big-endian number in exactly 184 decimal digits (zero-padded, < 2**608),
  e.g. 'https://OCOP.SONLA.GOV.VN/S/' + 184 digits. Lower-case scheme so every phone links
  it; printed as a mixed QR (byte / alphanumeric / numeric segments): version 6 at level M.
* legacy (stamps printed before): the whole base URL upper case + RFC 4648 base32 (upper
  case, no padding, 122 characters whose 2 unused trailing bits are zero).

Parsing is strict: exactly one spelling per byte string and form (exact alphabet and length,
zero trailing bits, number in range, known version, fields in range; a current prefix with a
legacy payload or the reverse is refused), so no edit of a printed stamp decodes to the same
signed bytes.
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
# Current spelling: the payload as a decimal number. 76 bytes < 2**608 < 10**184.
PAYLOAD_LIMIT = 1 << (PAYLOAD_BYTES * 8)
PAYLOAD_DIGITS = len(str(PAYLOAD_LIMIT - 1))  # 184
_DIGITS_RE = re.compile(rf"[0-9]{{{PAYLOAD_DIGITS}}}")
SCHEME = "https://"  # lower case: Android matches schemes case-sensitively, scanner apps too
_UPPER_SCHEME = SCHEME.upper()

# QR bit costs at versions 1..9 (ISO/IEC 18004 table 3: 4-bit mode + character count).
QR_VERSION_MAX = 6
QR_V6_M_DATA_BITS = 864  # 108 data codewords


def qr_segment_bits(mode: str, chars: int) -> int:
    """Bits of one QR segment of `chars` characters, header included (versions 1..9)."""
    if mode == "numeric":
        return 4 + 10 + 10 * (chars // 3) + (0, 4, 7)[chars % 3]
    if mode == "alphanumeric":
        return 4 + 9 + 11 * (chars // 2) + 6 * (chars % 2)
    if mode == "byte":
        return 4 + 8 + 8 * chars
    raise ValueError(f"unknown QR mode {mode!r}")


def _max_base_url_chars() -> int:
    """Longest base URL whose current-spelling stamp ('https://' byte + rest alphanumeric +
    184 digits numeric) still fits version 6 at level M."""
    fixed = qr_segment_bits("byte", len(SCHEME)) + qr_segment_bits("numeric", PAYLOAD_DIGITS)
    rest = 0
    while fixed + qr_segment_bits("alphanumeric", rest + 1) <= QR_V6_M_DATA_BITS:
        rest += 1
    return len(SCHEME) + rest


MAX_BASE_URL_CHARS = _max_base_url_chars()  # 34: 8 + 26, see docs/stamp-format.md
MAX_STAMP_TEXT_CHARS = MAX_BASE_URL_CHARS + PAYLOAD_DIGITS  # 218, the longest stamp text


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
    uppercased, and be at most MAX_BASE_URL_CHARS (34) characters so a stamp fits QR
    version 6 at level M.
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


def stamp_prefix(base_url: str) -> str:
    """The prefix of the current spelling: 'https://' + the rest of the normalised base URL."""
    url = normalise_base_url(base_url)
    return SCHEME + url[len(_UPPER_SCHEME) :]


def _payload_bytes(fields: StampFields, signature: bytes) -> bytes:
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != SIGNATURE_BYTES:
        raise StampConfigError(f"signature must be {SIGNATURE_BYTES} bytes")
    return fields.header() + bytes(signature)


def encode_payload(fields: StampFields, signature: bytes) -> str:
    """The current payload: 184 decimal digits."""
    number = int.from_bytes(_payload_bytes(fields, signature), "big")
    return str(number).zfill(PAYLOAD_DIGITS)


def encode_legacy_payload(fields: StampFields, signature: bytes) -> str:
    """The legacy payload (stamps printed before issue 15): 122 base32 characters. Never
    issued any more; kept for tests and tools that reproduce old stamps."""
    raw = _payload_bytes(fields, signature)
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def encode_stamp_url(fields: StampFields, signature: bytes, base_url: str) -> str:
    """The stamp text printed in the QR: 'https://' + upper-case host/path + 184 digits."""
    return stamp_prefix(base_url) + encode_payload(fields, signature)


def encode_legacy_stamp_url(fields: StampFields, signature: bytes, base_url: str) -> str:
    """The legacy text: upper-case base URL + 122 base32 characters."""
    return normalise_base_url(base_url) + encode_legacy_payload(fields, signature)


def stamp_qr_segments(text: str) -> tuple[tuple[str, str], ...]:
    """The QR segments (text, mode) a current-spelling stamp is printed with: 'https://' in
    byte mode, host and path alphanumeric, the 184 digits numeric (docs/stamp-format.md).
    StampFormatError for any other text."""
    if not isinstance(text, str) or not text.startswith(SCHEME):
        raise StampFormatError("not a current-spelling stamp", under_prefix=False)
    digits = text[-PAYLOAD_DIGITS:]
    rest = text[len(SCHEME) : -PAYLOAD_DIGITS]
    if not _DIGITS_RE.fullmatch(digits) or not rest or set(rest) - QR_ALPHANUMERIC:
        raise StampFormatError("not a current-spelling stamp", under_prefix=False)
    return ((SCHEME, "byte"), (rest, "alphanumeric"), (digits, "numeric"))


def stamp_text_for_payload(payload: str, base_url: str) -> str:
    """The canonical full text for a payload alone (the registry's page gets only the path
    segment): the current prefix for 184 digits, the legacy one otherwise."""
    if isinstance(payload, str) and _DIGITS_RE.fullmatch(payload):
        return stamp_prefix(base_url) + payload
    return normalise_base_url(base_url) + payload


def _parse_digits(payload: str) -> bytes:
    if not _DIGITS_RE.fullmatch(payload):
        raise StampFormatError(
            f"payload is not exactly {PAYLOAD_DIGITS} decimal digits [0-9]", under_prefix=True
        )
    number = int(payload)
    if number >= PAYLOAD_LIMIT:  # 10**184 > 2**608: a bigger number is no 76-byte string
        raise StampFormatError("decimal payload not below 2**608", under_prefix=True)
    return number.to_bytes(PAYLOAD_BYTES, "big")


def _parse_base32(payload: str) -> bytes:
    if not _PAYLOAD_RE.fullmatch(payload):
        raise StampFormatError(
            f"payload is not {PAYLOAD_CHARS} base32 characters [A-Z2-7]", under_prefix=True
        )
    number = int(payload.translate(_TO_INT_DIGITS), 32)
    # Canonical only: the last character's unused low bits must be zero.
    if number & ((1 << _UNUSED_BITS) - 1):
        raise StampFormatError("non-canonical base32 (unused trailing bits set)", under_prefix=True)
    return (number >> _UNUSED_BITS).to_bytes(PAYLOAD_BYTES, "big")


def parse_stamp_payload(payload: str) -> ParsedStamp:
    """Decode the payload after the base URL: 184 digits (current) or 122 base32 characters
    (legacy); the registry's public page gets only this path segment. Raises
    StampFormatError(under_prefix=True) on anything non-canonical.
    """
    if not isinstance(payload, str):
        raise StampFormatError("payload is not text", under_prefix=True)
    if payload[:1].isdigit() and payload.isascii():
        # base32 never starts with a digit: its first character is the version byte's top bits
        raw = _parse_digits(payload)
    else:
        raw = _parse_base32(payload)
    return _parse_raw(raw)


def _parse_raw(raw: bytes) -> ParsedStamp:
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

    `base_url` must already be normalised (normalise_base_url). Exactly two spellings are
    accepted: 'https://' + the upper-case rest + 184 digits (current) and the upper-case base
    URL + 122 base32 characters (legacy). Any other casing of the prefix, or a prefix of one
    spelling with the payload of the other, was re-encoded by someone: StampFormatError
    (under_prefix=True). A text that doesn't start with the base URL even when case is
    ignored is StampFormatError(under_prefix=False).
    """
    if not isinstance(text, str):
        raise StampFormatError("not text", under_prefix=False)
    current = SCHEME + base_url[len(_UPPER_SCHEME) :]
    if text.startswith(current):
        payload = text[len(current) :]
        if _PAYLOAD_RE.fullmatch(payload):
            raise StampFormatError(
                "mixed spelling: lower-case https:// with a base32 payload", under_prefix=True
            )
        return _parse_raw(_parse_digits(payload))
    if text.startswith(base_url):
        payload = text[len(base_url) :]
        if payload[:1].isdigit():
            raise StampFormatError(
                "mixed spelling: upper-case HTTPS:// with a decimal payload", under_prefix=True
            )
        return _parse_raw(_parse_base32(payload))
    if is_under_prefix(text, base_url):
        raise StampFormatError("base URL not in a canonical spelling", under_prefix=True)
    raise StampFormatError("not under the stamp base URL", under_prefix=False)
