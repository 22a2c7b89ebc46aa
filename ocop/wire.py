"""The catalog sync protocol on the wire: every field of every record, defined once.

Who uses it (docs/sync-protocol.md):
    registry.catalog      checks what it accepts (office imports, admin API) with these rules,
                          so it never stores a row that a kiosk would refuse (a poison page)
    kiosk.sync.validate   checks every registry reply with the same rules
    kiosk.catalog_write   stores the same fields (`WireField.column`, `WireField.default`)

A field is a name, a `Kind` (how its value is checked), whether the key must be present
(`required`), whether null is accepted (`nullable`), and its limits: `max_chars`, `lo`..`hi`,
`choices`, `max_items`. `check_record` checks a whole record and reports each problem as a
`WireError` naming the field (`products[3].name_vi`); nothing here raises anything else.

Text rules, both sides: one-line text (names, addresses, ids) has no C0/C1 control characters;
multi-line text (descriptions, stories) may hold \\n, \\r and \\t; neither may hold a lone
surrogate (it cannot be written as UTF-8: SQLite refuses it). Lengths count characters of the
text as the registry stores it (NFC, stripped).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ocop.gtin import GTIN_LENGTHS, is_valid_gtin, normalize_gtin
from ocop.lots import LATEST_YEAR, LotDateError, check_lot_dates
from ocop.problems import Problem, ProblemCode
from ocop.ratings import GROUP_NAMES, LEVEL_BY_STARS, RatingStatus
from ocop.stamps.codec import MAX_PRODUCT_ID, MAX_SERIAL, MAX_STAMP_TEXT_CHARS

# --- enums --------------------------------------------------------------------------------


class ProducerKind(enum.Enum):
    COMPANY = "company"
    COOPERATIVE = "cooperative"
    COOP_GROUP = "coop_group"
    HOUSEHOLD = "household"
    OTHER = "other"


class TombstoneKind(enum.Enum):
    PRODUCT = "product"
    PRODUCER = "producer"


class UploadKind(enum.Enum):
    """What an outbox item (POST /uploads) carries."""

    SCAN = "scan"
    PRINT = "print"
    HEARTBEAT = "heartbeat"


class UploadStatus(enum.Enum):
    """The registry's answer per upload item; accepted and duplicate both mean delivered."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class Refusal(enum.Enum):
    """Why the registry refused an upload item (`rejected`, with this as `reason` and a
    sentence as `error`). Each refusal is counted as an anomaly of the uploading station;
    a resend of the same item gets the same answer and is not counted again."""

    SCAN_WITHOUT_TEXT = "scan_without_text"  # a scan must carry the stamp text it read
    SCAN_NOT_GENUINE = "scan_not_genuine"  # forged, edited, malformed under the base URL
    FIELDS_DISAGREE = "fields_disagree"  # serial/product/key differ from the text or block
    PRINT_NOT_OWN_SERIAL = "print_not_own_serial"  # not in one of this station's blocks
    PRINT_WITHOUT_SERIAL = "print_without_serial"
    LOT_INVALID = "lot_invalid"  # lot text or its dates (ocop/lots.py) are not usable
    PAYLOAD_TOO_LARGE = "payload_too_large"


def values(kinds: type[enum.Enum] | tuple[enum.Enum, ...]) -> tuple[str, ...]:
    return tuple(str(k.value) for k in kinds)


PRODUCER_KINDS = values(ProducerKind)
# A rating's recorded status; PENDING and NONE are effective states derived from it.
RECORDED_RATING_STATUSES = (RatingStatus.VALID, RatingStatus.EXPIRED, RatingStatus.REVOKED)
RATING_STATUSES = values(RECORDED_RATING_STATUSES)
TOMBSTONE_KINDS = values(TombstoneKind)
UPLOAD_KINDS = values(UploadKind)
UPLOAD_STATUSES = values(UploadStatus)
REFUSALS = values(Refusal)
# The pictures a product may show, and the file extension each is stored under.
MEDIA_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
MEDIA_TYPES = tuple(MEDIA_EXTENSIONS)

# --- limits -------------------------------------------------------------------------------

NAME_CHARS = 300  # product names (vi, en), producer names
PLACE_CHARS = 200  # commune, district
ADDRESS_CHARS = 500
PHONE_CHARS = 32
SUBGROUP_CHARS = 100
DESCRIPTION_CHARS = 5_000
STORY_CHARS = 10_000
LEVEL_CHARS = 16  # district | province | national
BODY_CHARS = 300  # the body that decided a rating
DECISION_NO_CHARS = 100
LOT_CHARS = 40  # a lot code as staff type it and the label prints it
TIMESTAMP_CHARS = 32  # updated_at: UTC ISO 8601 (ocop.clock)
ID_CHARS = 64  # a producer id, a tombstone's id
REGISTRY_ID_CHARS = 100
STAMP_TEXT_CHARS = MAX_STAMP_TEXT_CHARS  # one stamp's text in a stamp block reply (218)
MAX_RATINGS = 50  # a product's rating history
MAX_MEDIA_BYTES = 16 * 1024 * 1024
MAX_CURSOR = 2**62
MAX_SEQUENCE = 2**63 - 1
MIN_YEAR, MAX_YEAR = 1990, 2199  # OCOP began in 2018; the stamp codec ends in 2199
MIN_GROUP, MAX_GROUP = min(GROUP_NAMES), max(GROUP_NAMES)
MIN_STARS, MAX_STARS = 1, max(LEVEL_BY_STARS)

# --- patterns (ASCII only: str.isdigit() also says yes to '²' and full-width digits) -----

PRODUCER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
PRODUCER_ID_HINT = "1-64 lowercase letters, digits, '.', '_', '-'"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
SHA256_HINT = "64 lowercase hex digits (SHA-256)"
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,100}")
IDEMPOTENCY_KEY_HINT = "1-100 of A-Z a-z 0-9 . _ : -"
_DIGITS = re.compile(r"[0-9]{1,20}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Lone surrogates, C0 controls, DEL and C1 controls: never in one-line text.
_NOT_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Multi-line text may keep line breaks and tabs.
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


# --- fields and records -------------------------------------------------------------------


class Kind(enum.Enum):
    LINE = "one-line text"
    TEXT = "multi-line text"
    INT = "JSON integer"
    DIGITS = "integer written as ASCII digits"
    BOOL = "true or false"
    CHOICE = "one of a list"
    DATE = "YYYY-MM-DD"
    GTIN = "GTIN-8/12/13/14"
    LIST = "list"
    OBJECT = "object"


class WireError(ValueError):
    """One problem with one field: `field` is its path (`products[3].name_vi`)."""

    def __init__(
        self,
        field: str,
        reason: str,
        code: ProblemCode = ProblemCode.OTHER,
        params: dict[str, Any] | None = None,
    ):
        self.field = field
        self.reason = reason
        self.code = code
        self.params = params if params is not None else {"reason": reason}
        super().__init__(f"{field}: {reason}")

    @classmethod
    def coded(cls, field: str, code: ProblemCode, /, **params: Any) -> WireError:
        """The error whose reason is `code`'s English message (translatable: `problem`)."""
        return cls(field, code.template.format(**params), code, params)

    @property
    def problem(self) -> Problem:
        return Problem(self.code, self.field, self.params)


@dataclass(frozen=True)
class WireField:
    name: str
    kind: Kind
    required: bool = False  # the key must be present
    nullable: bool = True  # null accepted (an optional key may also be absent)
    max_chars: int = 0  # LINE, TEXT
    nonempty: bool = False  # LINE: not blank
    pattern: re.Pattern[str] | None = None  # LINE
    hint: str = ""  # what `pattern` wants, in words
    lo: int = 0  # INT, DIGITS
    hi: int = 0
    choices: tuple[str, ...] = ()  # CHOICE
    max_items: int = 0  # LIST (0: no limit)
    items: Record | None = None  # LIST: the record each item is
    column: str = ""  # the table column when it is not `name`
    default: Any = None  # what a writer stores for an absent or null value

    @property
    def column_name(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Record:
    name: str
    fields: tuple[WireField, ...]

    def __getitem__(self, name: str) -> WireField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def stored(self) -> tuple[WireField, ...]:
        """The fields that are columns of the record's own table (not nested lists)."""
        return tuple(f for f in self.fields if f.kind is not Kind.LIST)


def _line(name: str, max_chars: int, **kw: Any) -> WireField:
    kw.setdefault("default", "")
    return WireField(name, Kind.LINE, max_chars=max_chars, **kw)


def _text(name: str, max_chars: int) -> WireField:
    return WireField(name, Kind.TEXT, max_chars=max_chars, default="")


def _producer_ref(name: str, **kw: Any) -> WireField:
    return WireField(
        name,
        Kind.LINE,
        required=True,
        nullable=False,
        max_chars=ID_CHARS,
        pattern=PRODUCER_ID,
        hint=PRODUCER_ID_HINT,
        **kw,
    )


def _hash(name: str, **kw: Any) -> WireField:
    return WireField(name, Kind.LINE, max_chars=64, pattern=SHA256_HEX, hint=SHA256_HINT, **kw)


def _one_of(name: str, choices: tuple[str, ...], default: str | None = None) -> WireField:
    return WireField(
        name, Kind.CHOICE, required=True, nullable=False, choices=choices, default=default
    )


def _key(name: str) -> WireField:
    return WireField(
        name,
        Kind.LINE,
        required=True,
        nullable=False,
        max_chars=100,
        pattern=IDEMPOTENCY_KEY,
        hint=IDEMPOTENCY_KEY_HINT,
    )


def _product_id(name: str, kind: Kind = Kind.INT) -> WireField:
    return WireField(name, kind, required=True, nullable=False, lo=1, hi=MAX_PRODUCT_ID)


def _list(name: str, items: Record, max_items: int = 0) -> WireField:
    return WireField(
        name, Kind.LIST, required=True, nullable=False, items=items, max_items=max_items
    )


UPDATED_AT = _line("updated_at", TIMESTAMP_CHARS, default=None)  # None: the writer's now

PRODUCER = Record(
    "producer",
    (
        _producer_ref("id"),
        _line("name", NAME_CHARS, required=True, nullable=False, nonempty=True),
        _one_of("kind", PRODUCER_KINDS, default=ProducerKind.OTHER.value),
        _line("commune", PLACE_CHARS),
        _line("district", PLACE_CHARS),
        _line("address", ADDRESS_CHARS),
        _line("phone", PHONE_CHARS),
        UPDATED_AT,
    ),
)

MEDIA = Record(
    "media",
    (
        _hash("hash", required=True, nullable=False),
        _one_of("mime", MEDIA_TYPES),
        WireField("size_bytes", Kind.INT, required=True, nullable=False, lo=1, hi=MAX_MEDIA_BYTES),
    ),
)

RATING = Record(
    "rating",
    (
        WireField("stars", Kind.INT, required=True, lo=MIN_STARS, hi=MAX_STARS),  # null: pending
        _line("level", LEVEL_CHARS),
        _line("body", BODY_CHARS),
        _line("decision_no", DECISION_NO_CHARS),
        WireField("recognised_on", Kind.DATE, required=True),
        WireField("valid_until", Kind.DATE, required=True),  # null: recognised + 36 months
        _one_of("status", RATING_STATUSES, default=RatingStatus.VALID.value),
    ),
)

PRODUCT = Record(
    "product",
    (
        _product_id("id"),
        WireField("gtin", Kind.GTIN),  # null or "": none
        _line("name_vi", NAME_CHARS, required=True, nullable=False, nonempty=True),
        _line("name_en", NAME_CHARS),
        WireField(
            "group",
            Kind.INT,
            required=True,
            nullable=False,
            lo=MIN_GROUP,
            hi=MAX_GROUP,
            column="group_code",
        ),
        _line("subgroup", SUBGROUP_CHARS),
        _text("description_vi", DESCRIPTION_CHARS),
        _text("description_en", DESCRIPTION_CHARS),
        _text("story_vi", STORY_CHARS),
        _text("story_en", STORY_CHARS),
        _line("commune", PLACE_CHARS),
        _line("district", PLACE_CHARS),
        _producer_ref("producer", column="producer_id"),
        _hash("image_hash"),
        WireField("featured", Kind.BOOL, nullable=False, default=False),
        WireField("is_demo", Kind.BOOL, nullable=False, default=False),
        UPDATED_AT,
        _list("ratings", RATING, MAX_RATINGS),
    ),
)

TOMBSTONE = Record(
    "tombstone",
    (
        _one_of("kind", TOMBSTONE_KINDS),
        # A product's id as digits, or a producer's id: see tombstone_key().
        WireField(
            "id", Kind.LINE, required=True, nullable=False, max_chars=ID_CHARS, column="entity_id"
        ),
    ),
)
PRODUCT_TOMBSTONE_ID = _product_id("id", Kind.DIGITS)

# GET /catalog/changes
CATALOG_SIGNATURE = "catalog_signature"
CHANGES = Record(
    "catalog reply",
    (
        WireField("cursor", Kind.INT, required=True, nullable=False, lo=0, hi=MAX_CURSOR),
        WireField("more", Kind.BOOL, required=True, nullable=False),
        _list("producers", PRODUCER),
        _list("media", MEDIA),
        _list("products", PRODUCT),
        _list("tombstones", TOMBSTONE),
        _line("registry_id", REGISTRY_ID_CHARS, required=True, nullable=False, nonempty=True),
        WireField(
            "trust_list_sequence", Kind.INT, required=True, nullable=False, lo=0, hi=MAX_SEQUENCE
        ),
        WireField("trust_list", Kind.OBJECT, required=True),  # the signed envelope, or null
        # base64 Ed25519 by the list-signing key over the reply and `since`
        # (ocop.stamps.catalog_signature); checked by the kiosk before anything is applied.
        WireField(
            CATALOG_SIGNATURE,
            Kind.LINE,
            required=True,
            nullable=False,
            max_chars=88,  # base64 of 64 bytes; decoded and checked by the engine
            nonempty=True,
        ),
    ),
)

# GET /lots/changes (protocol 3): the lots of printed stamps, as serial ranges, after a
# cursor (`lot_seq`, registry/dal/lots.py). A range is one lot of one product; a serial in
# a later page (printed again, voided) replaces what an earlier page said of it.
LOTS_SIGNATURE = "lots_signature"
MAX_LOT_RANGES = 5_000  # ranges in one reply
LOT_RANGE = Record(
    "lot range",
    (
        WireField("first_serial", Kind.INT, required=True, nullable=False, lo=1, hi=MAX_SERIAL),
        WireField("last_serial", Kind.INT, required=True, nullable=False, lo=1, hi=MAX_SERIAL),
        _product_id("product_id"),
        _line("lot", LOT_CHARS, required=True, nullable=False),  # "": printed without a lot
        WireField("produced_on", Kind.DATE, required=True),  # null: no date given
        WireField("best_before", Kind.DATE, required=True),
    ),
)
LOTS = Record(
    "lots reply",
    (
        WireField("cursor", Kind.INT, required=True, nullable=False, lo=0, hi=MAX_CURSOR),
        WireField("more", Kind.BOOL, required=True, nullable=False),
        _line("registry_id", REGISTRY_ID_CHARS, required=True, nullable=False, nonempty=True),
        _list("lots", LOT_RANGE, MAX_LOT_RANGES),
        # base64 Ed25519 by the list-signing key, as the catalog's (LOTS_DOMAIN)
        WireField(
            LOTS_SIGNATURE, Kind.LINE, required=True, nullable=False, max_chars=88, nonempty=True
        ),
    ),
)

# POST /uploads: the reply's results (the registry adds "reason", a Refusal value, and
# "error", a sentence, to a rejected one; neither is checked: a newer registry may add reasons)
UPLOAD_RESULT = Record(
    "upload result",
    (
        _key("idempotency_key"),
        _one_of("status", UPLOAD_STATUSES),
    ),
)
UPLOAD_REPLY = Record("upload reply", (_list("results", UPLOAD_RESULT),))

# POST /stamp-blocks: the reply's fields the kiosk relies on; each of `stamps` is a STAMP_TEXT
BLOCK_REPLY = Record(
    "stamp block",
    (
        _product_id("product_id"),
        _key("request_id"),
        WireField("stamps", Kind.LIST, required=True, nullable=False),
    ),
)
STAMP_TEXT = _line("stamps", STAMP_TEXT_CHARS, nullable=False)


# --- checks -------------------------------------------------------------------------------


def check_value(f: WireField, value: object, where: str) -> Any:
    """`value` as the writers keep it (a GTIN in its 13-digit form when it fits), or
    WireError naming `where`. A LIST is returned as it is: check_record checks its items."""
    if value is None or (f.kind is Kind.GTIN and value == ""):
        if f.nullable:
            return None
        if f.kind in (Kind.LINE, Kind.TEXT):
            raise WireError.coded(where, ProblemCode.REQUIRED)
    check = _CHECKS[f.kind]
    return check(f, value, where)


def _int(f: WireField, v: object, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not f.lo <= v <= f.hi:
        raise WireError.coded(where, ProblemCode.INT_RANGE, lo=f.lo, hi=f.hi, got=f"{v!r:.40}")
    return v


def _bool(f: WireField, v: object, where: str) -> bool:
    if not isinstance(v, bool):
        raise WireError.coded(where, ProblemCode.NOT_BOOL, got=f"{v!r:.40}")
    return v


def _choice(f: WireField, v: object, where: str) -> str:
    if not isinstance(v, str) or v not in f.choices:
        raise WireError.coded(
            where, ProblemCode.NOT_CHOICE, choices=", ".join(f.choices), got=f"{v!r:.40}"
        )
    return v


def _str(v: object, where: str, forbidden: re.Pattern[str], max_chars: int) -> str:
    if not isinstance(v, str):
        raise WireError.coded(where, ProblemCode.NOT_TEXT, got=type(v).__name__)
    if len(v) > max_chars:
        raise WireError.coded(where, ProblemCode.TOO_LONG, max_chars=max_chars, length=len(v))
    bad = forbidden.search(v)
    if bad:
        raise WireError.coded(
            where,
            ProblemCode.BAD_CHARACTER,
            codepoint=f"{ord(bad.group()):04X}",
            position=bad.start(),
        )
    return v


def _line_value(f: WireField, v: object, where: str) -> str:
    text = _str(v, where, _NOT_IN_LINE, f.max_chars)
    if f.nonempty and not text.strip():
        raise WireError.coded(where, ProblemCode.EMPTY)
    if f.pattern is not None and not f.pattern.fullmatch(text):
        raise WireError.coded(where, ProblemCode.PATTERN, hint=f.hint, got=f"{text!r:.40}")
    return text


def _text_value(f: WireField, v: object, where: str) -> str:
    return _str(v, where, _NOT_IN_TEXT, f.max_chars)


def _ascii_digits(v: object, where: str, what: str) -> str:
    text = _str(v, where, _NOT_IN_LINE, 20)
    if not _DIGITS.fullmatch(text):
        raise WireError.coded(where, ProblemCode.NOT_DIGITS, what=what, got=f"{text!r:.40}")
    return text


def _digits(f: WireField, v: object, where: str) -> int:
    number = int(_ascii_digits(v, where, "a number"))
    if not f.lo <= number <= f.hi:
        raise WireError.coded(where, ProblemCode.DIGITS_RANGE, lo=f.lo, hi=f.hi, got=number)
    return number


def _date(f: WireField, v: object, where: str) -> str:
    text = _str(v, where, _NOT_IN_LINE, 10)
    if not _DATE.fullmatch(text):
        raise WireError.coded(where, ProblemCode.DATE_FORMAT, got=f"{text!r:.40}")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise WireError.coded(where, ProblemCode.NOT_A_DATE, got=repr(text)) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise WireError.coded(
            where, ProblemCode.YEAR_RANGE, year=day.year, lo=MIN_YEAR, hi=MAX_YEAR
        )
    return text


def _gtin(f: WireField, v: object, where: str) -> str:
    code = _ascii_digits(v, where, "a GTIN")
    if len(code) not in GTIN_LENGTHS:
        raise WireError.coded(
            where,
            ProblemCode.GTIN_LENGTH,
            lengths=", ".join(map(str, GTIN_LENGTHS)),
            length=len(code),
        )
    if not is_valid_gtin(code):
        raise WireError.coded(where, ProblemCode.GTIN_CHECK_DIGIT, gtin=code)
    return normalize_gtin(code)


def _list_value(f: WireField, v: object, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise WireError.coded(where, ProblemCode.NOT_LIST)
    if f.max_items and len(v) > f.max_items:
        raise WireError.coded(where, ProblemCode.TOO_MANY, max_items=f.max_items, count=len(v))
    return v


def _object(f: WireField, v: object, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise WireError(where, "expected an object or null" if f.nullable else "expected an object")
    return v


_CHECKS: dict[Kind, Callable[[WireField, object, str], Any]] = {
    Kind.LINE: _line_value,
    Kind.TEXT: _text_value,
    Kind.INT: _int,
    Kind.DIGITS: _digits,
    Kind.BOOL: _bool,
    Kind.CHOICE: _choice,
    Kind.DATE: _date,
    Kind.GTIN: _gtin,
    Kind.LIST: _list_value,
    Kind.OBJECT: _object,
}


def path(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def check_record(
    record: Record, raw: object, where: str, problems: list[WireError]
) -> dict[str, Any] | None:
    """Check every field of `raw` (unknown keys are ignored), adding each problem to
    `problems`. Returns the checked values by field name (None for a field that is absent,
    null or wrong; a LIST holds its items' results), or None when `raw` is not an object
    or lacks a required key."""
    if not isinstance(raw, Mapping):
        problems.append(WireError.coded(where or "reply", ProblemCode.NOT_OBJECT))
        return None
    missing = [f.name for f in record.fields if f.required and f.name not in raw]
    if missing:
        problems.append(
            WireError.coded(where or "reply", ProblemCode.MISSING, names=", ".join(missing))
        )
        return None
    out: dict[str, Any] = {}
    for f in record.fields:
        at = path(where, f.name)
        value = None
        if f.name in raw:
            try:
                value = check_value(f, raw[f.name], at)
            except WireError as exc:
                problems.append(exc)
            if f.items is not None and value is not None:
                value = [
                    check_record(f.items, item, f"{at}[{i}]", problems)
                    for i, item in enumerate(value)
                ]
        out[f.name] = value
    return out


def tombstone_key(
    checked: Mapping[str, Any], where: str, problems: list[WireError]
) -> tuple[str, int | str] | None:
    """(kind, id) of a checked tombstone: a product's id is its number in ASCII digits, a
    producer's id is a producer id. None when either is wrong."""
    kind, raw_id = checked.get("kind"), checked.get("id")
    if kind is None or raw_id is None:
        return None
    field = PRODUCT_TOMBSTONE_ID if kind == TombstoneKind.PRODUCT.value else PRODUCER["id"]
    try:
        return kind, check_value(field, raw_id, path(where, "id"))
    except WireError as exc:
        problems.append(exc)
        return None


def lot_problem(lot: str, produced_on: str | None, best_before: str | None) -> str:
    """Why a lot with these (wire-checked) ISO dates cannot be shown, "" when it can: the
    date rules of ocop/lots.py (years, best-before not before production) and no dates
    without a lot. Production "in the future" is not judged here: the reader's clock may be
    behind the station's. The registry serves only lots that pass (registry/dal/lots.py)
    and the kiosk refuses a lots reply with one that does not (kiosk/sync/validate.py)."""
    if (produced_on or best_before) and not lot.strip():
        return "dates without a lot"
    days = [dt.date.fromisoformat(d) if d else None for d in (produced_on, best_before)]
    try:
        check_lot_dates(days[0], days[1], dt.date(LATEST_YEAR, 12, 31))
    except LotDateError as err:
        return f"{err.field}: {err.problem.value}"
    return ""
