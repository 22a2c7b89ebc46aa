"""Checks on registry replies, done in full BEFORE the write transaction opens: a reply with
any problem is refused whole (ReplyRefused, naming each field: `products[3].gtin`) and the
store is not touched.

The field rules live in `_Checker`, one method per kind of value, and every field of every
reply goes through one of them:

    line      one-line text (names, addresses, ids): no C0/C1 control characters at all
    text      multi-line text (descriptions, stories): \\n, \\r and \\t allowed, no other
              controls
              both: no lone surrogates (they cannot be written as UTF-8: SQLite refuses them)
    date      YYYY-MM-DD in ASCII digits, a real calendar date, year MIN_YEAR..MAX_YEAR
    int_      a JSON integer (not a bool, not a float) in a range
    digits    an id sent as text: ASCII digits only (str.isdigit() also says yes to '²'
              and full-width digits, which int() then refuses), in a range
    gtin      ASCII digits, 8/12/13/14 long, GS1 check digit right (ocop.gtin)
    unique    the same id / GTIN / hash at most once in a reply
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping

from kiosk.catalog_write import PRODUCER_KINDS
from ocop.gtin import GTIN_LENGTHS, is_valid_gtin, normalize_gtin
from kiosk.sync.errors import ReplyRefused

MAX_PRODUCT_ID = 2**24 - 1
MEDIA_TYPES = ("image/png", "image/jpeg", "image/webp")
RATING_STATUSES = ("valid", "expired", "revoked")
TOMBSTONE_KINDS = ("product", "producer")
_HASH = re.compile(r"[0-9a-f]{64}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]{1,20}")
_PRODUCER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_KEY = re.compile(r"[A-Za-z0-9._:-]{1,100}")
# Lone surrogates, C0 controls, DEL and C1 controls: never in one-line text.
_NOT_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Multi-line text may keep line breaks and tabs.
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
MIN_YEAR, MAX_YEAR = 1990, 2199     # OCOP began in 2018; the registry's own year range
MAX_TEXT = 20_000
MAX_LINE = 1_000
MAX_MEDIA_BYTES = 16 * 1024 * 1024
MAX_PROBLEMS = 20


class _Checker:
    def __init__(self):
        self.problems: list[str] = []
        self.count = 0

    def fail(self, where: str, what: str) -> None:
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{where}: {what}")

    def raise_if_any(self, what: str) -> None:
        if self.problems:
            more = f" (first {MAX_PROBLEMS} of {self.count})" if self.count > MAX_PROBLEMS \
                else ""
            raise ReplyRefused(f"{what} refused, nothing changed{more}: "
                               + "; ".join(self.problems))

    # --- containers -----------------------------------------------------------------------

    def obj(self, v, where: str, required: tuple[str, ...]) -> bool:
        if not isinstance(v, dict):
            self.fail(where, "expected an object")
            return False
        missing = [k for k in required if k not in v]
        if missing:
            self.fail(where, f"missing {', '.join(missing)}")
            return False
        return True

    def list_(self, v, where: str) -> list:
        if not isinstance(v, list):
            self.fail(where, "expected a list")
            return []
        return v

    # --- values ---------------------------------------------------------------------------

    def int_(self, v, where: str, lo: int, hi: int, none_ok: bool = False) -> int | None:
        if v is None and none_ok:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            self.fail(where, f"expected an integer {lo}..{hi}, got {v!r:.40}")
            return None
        return v

    def bool_(self, v, where: str) -> None:
        if not isinstance(v, bool):
            self.fail(where, "expected true or false")

    def one_of(self, v, where: str, choices: tuple[str, ...]) -> None:
        if not isinstance(v, str) or v not in choices:
            self.fail(where, f"expected one of {', '.join(choices)}, got {v!r:.40}")

    def _str(self, v, where: str, forbidden: re.Pattern, *, pattern: re.Pattern | None,
             none_ok: bool, nonempty: bool, limit: int) -> str | None:
        if v is None and none_ok:
            return None
        if not isinstance(v, str):
            self.fail(where, f"expected text, got {type(v).__name__}")
            return None
        if len(v) > limit:
            self.fail(where, f"longer than {limit} characters")
            return None
        bad = forbidden.search(v)
        if bad:
            self.fail(where, f"character U+{ord(bad.group()):04X} at {bad.start()} is not "
                             f"allowed here")
            return None
        if nonempty and not v.strip():
            self.fail(where, "empty")
            return None
        if pattern is not None and not pattern.fullmatch(v):
            self.fail(where, f"malformed {v!r:.40}")
            return None
        return v

    def line(self, v, where: str, *, pattern: re.Pattern | None = None, none_ok: bool = True,
             nonempty: bool = False, limit: int = MAX_LINE) -> str | None:
        return self._str(v, where, _NOT_IN_LINE, pattern=pattern, none_ok=none_ok,
                         nonempty=nonempty, limit=limit)

    def text(self, v, where: str, *, limit: int = MAX_TEXT) -> str | None:
        return self._str(v, where, _NOT_IN_TEXT, pattern=None, none_ok=True,
                         nonempty=False, limit=limit)

    def date(self, v, where: str) -> None:
        """None is allowed (no date); anything else must be a real day."""
        if v is None or self.line(v, where, pattern=_DATE, none_ok=False) is None:
            return
        try:
            day = dt.date.fromisoformat(v)
        except ValueError:
            self.fail(where, f"{v!r} is not a calendar date")
            return
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            self.fail(where, f"year {day.year} outside {MIN_YEAR}..{MAX_YEAR}")

    def digits(self, v, where: str, lo: int, hi: int) -> int | None:
        if self.line(v, where, pattern=_DIGITS, none_ok=False) is None:
            return None
        number = int(v)
        if not lo <= number <= hi:
            self.fail(where, f"expected {lo}..{hi}, got {number}")
            return None
        return number

    def gtin(self, v, where: str) -> str | None:
        """The normalized GTIN, or None for none ('' or null) and for a bad one."""
        if v is None or v == "":
            return None
        if self.line(v, where, pattern=_DIGITS, none_ok=False) is None:
            return None
        if len(v) not in GTIN_LENGTHS:
            self.fail(where, f"expected {', '.join(map(str, GTIN_LENGTHS))} digits, "
                             f"got {len(v)}")
            return None
        if not is_valid_gtin(v):
            self.fail(where, f"{v}: wrong check digit")
            return None
        return normalize_gtin(v)

    def unique(self, seen: dict, key, where: str) -> None:
        """The first place `key` was seen; a second place is a problem naming both."""
        if key is None:
            return
        if key in seen:
            self.fail(where, f"{key!r:.40} also at {seen[key]}")
        else:
            seen[key] = where


CHANGE_KEYS = ("cursor", "more", "producers", "media", "products", "tombstones",
               "registry_id", "trust_list_sequence", "trust_list")
PRODUCER_LINES = ("commune", "district", "address", "phone", "updated_at")
PRODUCT_LINES = ("name_en", "subgroup", "commune", "district", "updated_at")
PRODUCT_TEXTS = ("description_vi", "description_en", "story_vi", "story_en")
RATING_LINES = ("level", "body", "decision_no")


def check_changes(reply: Any, since: int, local_producers: set[str],
                  local_media: set[str], local_gtins: Mapping[str, int] | None = None) -> None:
    """The whole catalog reply: shape, types, ranges, references (every product's producer
    and image exist locally or in this reply), no id or GTIN twice. `local_gtins` maps the
    (normalized) GTINs held locally to their product ids: a GTIN in the reply held by a
    local product that this reply neither updates nor deletes is refused too."""
    c = _Checker()
    if not c.obj(reply, "reply", CHANGE_KEYS):
        c.raise_if_any("catalog reply")
    cursor = c.int_(reply["cursor"], "cursor", since, 2**62)
    c.bool_(reply["more"], "more")
    if reply["more"] is True and cursor == since:
        c.fail("cursor", "does not advance although more is true")
    c.line(reply["registry_id"], "registry_id", nonempty=True, none_ok=False, limit=100)
    c.int_(reply["trust_list_sequence"], "trust_list_sequence", 0, 2**63 - 1)
    if reply["trust_list"] is not None and not isinstance(reply["trust_list"], dict):
        c.fail("trust_list", "expected an object or null")
    deleted = _check_tombstones(c, reply["tombstones"])
    sent_producers = _check_producers(c, reply["producers"], deleted)
    media = set(local_media) | _check_media(c, reply["media"])
    _check_products(c, reply["products"], set(local_producers) | sent_producers, media,
                    deleted, local_gtins or {})
    c.raise_if_any("catalog reply")


def _check_producers(c: _Checker, items: Any, deleted: dict) -> set[str]:
    ids: dict = {}
    for i, p in enumerate(c.list_(items, "producers")):
        where = f"producers[{i}]"
        if not c.obj(p, where, ("id", "name", "kind")):
            continue
        pid = c.line(p["id"], f"{where}.id", pattern=_PRODUCER_ID, none_ok=False)
        c.unique(ids, pid, f"{where}.id")
        _not_deleted(c, deleted, ("producer", pid), f"{where}.id")
        c.line(p["name"], f"{where}.name", nonempty=True, none_ok=False)
        c.one_of(p["kind"], f"{where}.kind", PRODUCER_KINDS)
        for k in PRODUCER_LINES:
            c.line(p.get(k), f"{where}.{k}")
    return set(ids)


def _check_media(c: _Checker, items: Any) -> set[str]:
    hashes: dict = {}
    for i, m in enumerate(c.list_(items, "media")):
        where = f"media[{i}]"
        if not c.obj(m, where, ("hash", "mime", "size_bytes")):
            continue
        c.unique(hashes, c.line(m["hash"], f"{where}.hash", pattern=_HASH, none_ok=False),
                 f"{where}.hash")
        c.one_of(m["mime"], f"{where}.mime", MEDIA_TYPES)
        c.int_(m["size_bytes"], f"{where}.size_bytes", 0, MAX_MEDIA_BYTES)
    return set(hashes)


def _not_deleted(c: _Checker, deleted: dict, key: tuple, where: str) -> None:
    """The registry drops a tombstone when the row comes back: never both in one reply."""
    if key in deleted:
        c.fail(where, f"also deleted by {deleted[key]}")


def _check_tombstones(c: _Checker, items: Any) -> dict:
    """Where each (kind, id) this reply deletes is."""
    seen: dict = {}
    for i, t in enumerate(c.list_(items, "tombstones")):
        where = f"tombstones[{i}]"
        if not c.obj(t, where, ("kind", "id")):
            continue
        if t["kind"] == "product":
            key = c.digits(t["id"], f"{where}.id", 1, MAX_PRODUCT_ID)
        elif t["kind"] == "producer":
            key = c.line(t["id"], f"{where}.id", pattern=_PRODUCER_ID, none_ok=False)
        else:
            c.one_of(t["kind"], f"{where}.kind", TOMBSTONE_KINDS)
            continue
        c.unique(seen, None if key is None else (t["kind"], key), f"{where}.id")
    return seen


def _check_products(c: _Checker, items: Any, producers: set[str], media: set[str],
                    deleted: dict, local_gtins: Mapping[str, int]) -> None:
    ids: dict = {}
    gtins: dict = {}
    items = c.list_(items, "products")
    for i, p in enumerate(items):
        where = f"products[{i}]"
        if not c.obj(p, where, ("id", "name_vi", "group", "producer", "ratings")):
            continue
        pid = c.int_(p["id"], f"{where}.id", 1, MAX_PRODUCT_ID)
        c.unique(ids, pid, f"{where}.id")
        _not_deleted(c, deleted, ("product", pid), f"{where}.id")
        gtin = c.gtin(p.get("gtin"), f"{where}.gtin")
        c.unique(gtins, gtin, f"{where}.gtin")
        c.line(p["name_vi"], f"{where}.name_vi", nonempty=True, none_ok=False)
        c.int_(p["group"], f"{where}.group", 1, 6)
        for k in PRODUCT_LINES:
            c.line(p.get(k), f"{where}.{k}")
        for k in PRODUCT_TEXTS:
            c.text(p.get(k), f"{where}.{k}")
        for k in ("featured", "is_demo"):
            if k in p:
                c.bool_(p[k], f"{where}.{k}")
        if not isinstance(p["producer"], str) or p["producer"] not in producers:
            c.fail(f"{where}.producer", f"unknown producer {p['producer']!r:.40}")
        image = p.get("image_hash")
        if image is not None and c.line(image, f"{where}.image_hash", pattern=_HASH) \
                and image not in media:
            c.fail(f"{where}.image_hash", "media neither held nor in this reply")
        for j, r in enumerate(c.list_(p["ratings"], f"{where}.ratings")):
            rw = f"{where}.ratings[{j}]"
            if not c.obj(r, rw, ("stars", "recognised_on", "valid_until", "status")):
                continue
            c.int_(r["stars"], f"{rw}.stars", 1, 5, none_ok=True)
            c.date(r["recognised_on"], f"{rw}.recognised_on")
            c.date(r["valid_until"], f"{rw}.valid_until")
            c.one_of(r["status"], f"{rw}.status", RATING_STATUSES)
            for k in RATING_LINES:
                c.line(r.get(k), f"{rw}.{k}")
    # A GTIN that a local product keeps after this reply is applied (that product is
    # neither in the reply nor deleted by it) cannot go to another product.
    for gtin, where in gtins.items():
        holder = local_gtins.get(gtin)
        if holder is not None and holder not in ids and ("product", holder) not in deleted:
            c.fail(where, f"{gtin} belongs to product {holder}, which this reply does not "
                          f"change")


def check_upload_reply(reply: Any, sent_keys: list[str]) -> dict[str, dict]:
    """Results by idempotency key; every sent key must be answered, nothing else."""
    c = _Checker()
    if not c.obj(reply, "reply", ("results",)):
        c.raise_if_any("upload reply")
    results: dict[str, dict] = {}
    for i, r in enumerate(c.list_(reply["results"], "results")):
        if not c.obj(r, f"results[{i}]", ("idempotency_key", "status")):
            continue
        c.one_of(r["status"], f"results[{i}].status", ("accepted", "duplicate", "rejected"))
        key = c.line(r["idempotency_key"], f"results[{i}].idempotency_key", pattern=_KEY,
                     none_ok=False)
        if key is not None:
            results[key] = r
    if set(results) != set(sent_keys):
        c.fail("results", f"answers {len(results)} keys, {len(set(sent_keys))} were sent")
    c.raise_if_any("upload reply")
    return results


def check_block_reply(reply: Any, product_id: int, count: int, request_id: str) -> list[str]:
    c = _Checker()
    if not c.obj(reply, "reply", ("product_id", "stamps", "request_id")):
        c.raise_if_any("stamp block")
    if reply["product_id"] != product_id:
        c.fail("product_id", f"{reply['product_id']!r:.20} is not the requested {product_id}")
    if reply["request_id"] != request_id:
        c.fail("request_id", "not the one sent")
    stamps = c.list_(reply["stamps"], "stamps")
    if len(stamps) != count:
        c.fail("stamps", f"{len(stamps)} stamps, {count} requested")
    for i, s in enumerate(stamps):
        c.line(s, f"stamps[{i}]", none_ok=False, limit=200)
    c.raise_if_any("stamp block")
    return stamps
