"""Checks on registry replies, done in full BEFORE the write transaction opens: a reply with
any problem is refused whole (ReplyRefused, naming each field: `products[3].gtin`) and the
store is not touched.

Every field of every reply is checked by its definition in ocop.wire (the one the registry's
writer checks what it stores with): one-line and multi-line text, dates, integers, ids as
ASCII digits, GTINs with their check digit, enums, each with its own limits. What only a
whole reply can tell is checked here:

    unique       the same id / GTIN / hash at most once in a reply
    references   every product's producer and picture is held locally or in the reply
    cursor       never below the kiosk's, and moving while `more` is true
    lots         ranges of the lots feed never share a serial (check_lots)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.sync.errors import ReplyRefused
from ocop import wire
from ocop.wire import WireError

MAX_PROBLEMS = 20


class _Checker:
    def __init__(self) -> None:
        self.problems: list[WireError] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(WireError(where, what))

    def record(self, record: wire.Record, raw: object, where: str = "") -> dict | None:
        return wire.check_record(record, raw, where, self.problems)

    def refusal(self, what: str) -> ReplyRefused:
        count = len(self.problems)
        more = f" (first {MAX_PROBLEMS} of {count})" if count > MAX_PROBLEMS else ""
        return ReplyRefused(
            f"{what} refused, nothing changed{more}: "
            + "; ".join(map(str, self.problems[:MAX_PROBLEMS]))
        )

    def raise_if_any(self, what: str) -> None:
        if self.problems:
            raise self.refusal(what)

    def unique(self, seen: dict, key, where: str) -> None:
        """The first place `key` was seen; a second place is a problem naming both."""
        if key is None:
            return
        if key in seen:
            self.fail(where, f"{key!r:.40} also at {seen[key]}")
        else:
            seen[key] = where


def _items(checked: dict, name: str) -> list[tuple[str, dict]]:
    """(path, checked item) of the items of a list field that are objects with their keys."""
    return [
        (f"{name}[{i}]", item) for i, item in enumerate(checked[name] or []) if item is not None
    ]


def _check_cursor(c: _Checker, checked: dict, since: int) -> None:
    """A paged feed's cursor never goes back, and moves while `more` is true."""
    cursor = checked["cursor"]
    if cursor is not None and cursor < since:
        c.fail("cursor", f"{cursor} is below the kiosk's cursor {since}")
    if checked["more"] is True and cursor == since:
        c.fail("cursor", "does not advance although more is true")


def check_changes(
    reply: Any,
    since: int,
    local_producers: set[str],
    local_media: set[str],
    local_gtins: Mapping[str, int] | None = None,
) -> None:
    """The whole catalog reply: shape, types, ranges, references (every product's producer
    and image exist locally or in this reply), no id or GTIN twice. `local_gtins` maps the
    (normalized) GTINs held locally to their product ids: a GTIN in the reply held by a
    local product that this reply neither updates nor deletes is refused too."""
    c = _Checker()
    checked = c.record(wire.CHANGES, reply)
    if checked is None:
        raise c.refusal("catalog reply")
    _check_cursor(c, checked, since)
    deleted = _check_tombstones(c, checked)
    producers = set(local_producers) | _unique_ids(
        c, checked, "producers", "id", deleted, wire.TombstoneKind.PRODUCER
    )
    media = set(local_media) | _unique_ids(c, checked, "media", "hash")
    _check_products(c, checked, producers, media, deleted, local_gtins or {})
    c.raise_if_any("catalog reply")


def _check_tombstones(c: _Checker, checked: dict) -> dict:
    """Where each (kind, id) this reply deletes is."""
    seen: dict = {}
    for where, t in _items(checked, "tombstones"):
        c.unique(seen, wire.tombstone_key(t, where, c.problems), f"{where}.id")
    return seen


def _unique_ids(
    c: _Checker,
    checked: dict,
    name: str,
    key: str,
    deleted: dict | None = None,
    kind: wire.TombstoneKind | None = None,
) -> set:
    """The ids of a list's items, each at most once and (when `kind` is given) not also
    deleted by the same reply: the registry drops a tombstone when the row comes back."""
    seen: dict = {}
    for where, item in _items(checked, name):
        c.unique(seen, item[key], f"{where}.{key}")
        _not_deleted(c, deleted, kind, item[key], f"{where}.{key}")
    return set(seen)


def _not_deleted(
    c: _Checker, deleted: dict | None, kind: wire.TombstoneKind | None, key, where: str
) -> None:
    if kind is not None and deleted and (kind.value, key) in deleted:
        c.fail(where, f"also deleted by {deleted[(kind.value, key)]}")


def _check_products(
    c: _Checker,
    checked: dict,
    producers: set[str],
    media: set[str],
    deleted: dict,
    local_gtins: Mapping[str, int],
) -> None:
    ids: dict = {}
    gtins: dict = {}
    for where, p in _items(checked, "products"):
        c.unique(ids, p["id"], f"{where}.id")
        _not_deleted(c, deleted, wire.TombstoneKind.PRODUCT, p["id"], f"{where}.id")
        c.unique(gtins, p["gtin"], f"{where}.gtin")
        if p["producer"] is not None and p["producer"] not in producers:
            c.fail(f"{where}.producer", f"unknown producer {p['producer']!r:.40}")
        if p["image_hash"] is not None and p["image_hash"] not in media:
            c.fail(f"{where}.image_hash", "media neither held nor in this reply")
    # A GTIN that a local product keeps after this reply is applied (that product is
    # neither in the reply nor deleted by it) cannot go to another product.
    for gtin, where in gtins.items():
        holder = local_gtins.get(gtin)
        if holder is not None and holder not in ids and ("product", holder) not in deleted:
            c.fail(where, f"{gtin} belongs to product {holder}, which this reply does not change")


def check_upload_reply(reply: Any, sent_keys: list[str]) -> dict[str, dict]:
    """Results by idempotency key; every sent key must be answered, nothing else."""
    c = _Checker()
    checked = c.record(wire.UPLOAD_REPLY, reply)
    if checked is None:
        raise c.refusal("upload reply")
    results: dict[str, dict] = {}
    for i, r in enumerate(checked["results"] or []):
        if r is not None and r["idempotency_key"] is not None:
            results[r["idempotency_key"]] = reply["results"][i]
    if set(results) != set(sent_keys):
        c.fail("results", f"answers {len(results)} keys, {len(set(sent_keys))} were sent")
    c.raise_if_any("upload reply")
    return results


def check_block_reply(reply: Any, product_id: int, count: int, request_id: str) -> list[str]:
    c = _Checker()
    if c.record(wire.BLOCK_REPLY, reply) is None:
        raise c.refusal("stamp block")
    if reply["product_id"] != product_id:
        c.fail("product_id", f"{reply['product_id']!r:.20} is not the requested {product_id}")
    if reply["request_id"] != request_id:
        c.fail("request_id", "not the one sent")
    stamps = reply["stamps"] if isinstance(reply["stamps"], list) else []
    if len(stamps) != count:
        c.fail("stamps", f"{len(stamps)} stamps, {count} requested")
    for i, s in enumerate(stamps):
        try:
            wire.check_value(wire.STAMP_TEXT, s, f"stamps[{i}]")
        except WireError as exc:
            c.problems.append(exc)
    c.raise_if_any("stamp block")
    return stamps


def check_lots(reply: Any, since: int) -> list[dict]:
    """The lots reply (protocol 3): shape, types and limits (ocop.wire.LOTS), each range's
    dates by ocop/lots.py's rules (ocop.wire.lot_problem), first_serial <= last_serial, no
    two ranges of the reply sharing a serial, and the cursor rules of the catalog feed.
    Returns the checked ranges."""
    c = _Checker()
    checked = c.record(wire.LOTS, reply)
    if checked is None:
        raise c.refusal("lots reply")
    _check_cursor(c, checked, since)
    ranges = _items(checked, "lots")
    for where, r in ranges:
        first, last = r["first_serial"], r["last_serial"]
        if first is not None and last is not None and first > last:
            c.fail(where, f"first_serial {first} is after last_serial {last}")
        if r["lot"] is not None:
            problem = wire.lot_problem(r["lot"], r["produced_on"], r["best_before"])
            if problem:
                c.fail(where, problem)
    whole = sorted(
        (r["first_serial"], r["last_serial"], where)
        for where, r in ranges
        if r["first_serial"] is not None and r["last_serial"] is not None
    )
    reach: tuple[int, str] | None = None  # the furthest last_serial so far, and whose
    for first, last, where in whole:
        if reach is not None and first <= reach[0]:
            c.fail(where, f"serials {first}..{last} overlap {reach[1]} (up to {reach[0]})")
        if reach is None or last > reach[0]:
            reach = (last, where)
    c.raise_if_any("lots reply")
    return [r for _, r in ranges]
