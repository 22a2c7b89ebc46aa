"""Checks on registry replies, done in full BEFORE the write transaction opens: a reply with
any problem is refused whole (BadReply) and the store is not touched."""

from __future__ import annotations

import re
from typing import Any

from kiosk.sync.errors import BadReply

MAX_PRODUCT_ID = 2**24 - 1
PRODUCER_KINDS = ("company", "cooperative", "coop_group", "household", "other")
MEDIA_TYPES = ("image/png", "image/jpeg", "image/webp")
RATING_STATUSES = ("valid", "expired", "revoked")
_HASH = re.compile(r"[0-9a-f]{64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PRODUCER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_KEY = re.compile(r"[A-Za-z0-9._:-]{1,100}")
MAX_TEXT = 20_000
MAX_MEDIA_BYTES = 16 * 1024 * 1024


class _Checker:
    def __init__(self):
        self.problems: list[str] = []

    def fail(self, where: str, what: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(f"{where}: {what}")

    def obj(self, v, where: str, required: tuple[str, ...]) -> bool:
        if not isinstance(v, dict):
            self.fail(where, "expected an object")
            return False
        missing = [k for k in required if k not in v]
        if missing:
            self.fail(where, f"missing {', '.join(missing)}")
            return False
        return True

    def int_(self, v, where: str, lo: int, hi: int, none_ok: bool = False) -> None:
        if v is None and none_ok:
            return
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            self.fail(where, f"expected an integer {lo}..{hi}, got {v!r:.40}")

    def str_(self, v, where: str, *, pattern: re.Pattern | None = None,
             none_ok: bool = False, nonempty: bool = False, limit: int = MAX_TEXT) -> None:
        if v is None and none_ok:
            return
        if not isinstance(v, str):
            self.fail(where, f"expected text, got {type(v).__name__}")
        elif len(v) > limit:
            self.fail(where, f"longer than {limit}")
        elif nonempty and not v.strip():
            self.fail(where, "empty")
        elif pattern is not None and not pattern.fullmatch(v):
            self.fail(where, f"malformed {v!r:.40}")

    def bool_(self, v, where: str) -> None:
        if not isinstance(v, bool):
            self.fail(where, "expected true or false")

    def list_(self, v, where: str) -> list:
        if not isinstance(v, list):
            self.fail(where, "expected a list")
            return []
        return v

    def raise_if_any(self, what: str) -> None:
        if self.problems:
            more = "" if len(self.problems) < 20 else " (first 20)"
            raise BadReply(f"{what} refused, nothing changed{more}: "
                           + "; ".join(self.problems))


CHANGE_KEYS = ("cursor", "more", "producers", "media", "products", "tombstones",
               "registry_id", "trust_list_sequence", "trust_list")


def check_changes(reply: Any, since: int, local_producers: set[str],
                  local_media: set[str]) -> None:
    """The whole catalog reply: shape, types, ranges, references (every product's producer
    and image exist locally or in this reply)."""
    c = _Checker()
    if not c.obj(reply, "reply", CHANGE_KEYS):
        c.raise_if_any("catalog reply")
    c.int_(reply["cursor"], "cursor", since, 2**62)
    c.bool_(reply["more"], "more")
    c.str_(reply["registry_id"], "registry_id", nonempty=True, limit=100)
    c.int_(reply["trust_list_sequence"], "trust_list_sequence", 0, 2**63 - 1)
    if reply["trust_list"] is not None and not isinstance(reply["trust_list"], dict):
        c.fail("trust_list", "expected an object or null")
    producers = set(local_producers)
    for i, p in enumerate(c.list_(reply["producers"], "producers")):
        where = f"producers[{i}]"
        if not c.obj(p, where, ("id", "name", "kind")):
            continue
        c.str_(p["id"], f"{where}.id", pattern=_PRODUCER_ID)
        c.str_(p["name"], f"{where}.name", nonempty=True)
        if p["kind"] not in PRODUCER_KINDS:
            c.fail(f"{where}.kind", f"unknown kind {p['kind']!r:.40}")
        for k in ("commune", "district", "address", "phone", "updated_at"):
            c.str_(p.get(k, ""), f"{where}.{k}", none_ok=True)
        if isinstance(p["id"], str):
            producers.add(p["id"])
    media = set(local_media)
    for i, m in enumerate(c.list_(reply["media"], "media")):
        where = f"media[{i}]"
        if not c.obj(m, where, ("hash", "mime", "size_bytes")):
            continue
        c.str_(m["hash"], f"{where}.hash", pattern=_HASH)
        if m["mime"] not in MEDIA_TYPES:
            c.fail(f"{where}.mime", f"unsupported {m['mime']!r:.40}")
        c.int_(m["size_bytes"], f"{where}.size_bytes", 0, MAX_MEDIA_BYTES)
        if isinstance(m["hash"], str):
            media.add(m["hash"])
    seen = set()
    for i, p in enumerate(c.list_(reply["products"], "products")):
        where = f"products[{i}]"
        if not c.obj(p, where, ("id", "name_vi", "group", "producer", "ratings")):
            continue
        c.int_(p["id"], f"{where}.id", 1, MAX_PRODUCT_ID)
        if isinstance(p["id"], int):
            if p["id"] in seen:
                c.fail(f"{where}.id", "repeated")
            seen.add(p["id"])
        c.str_(p["name_vi"], f"{where}.name_vi", nonempty=True)
        c.int_(p["group"], f"{where}.group", 1, 6)
        gtin = p.get("gtin")
        if gtin is not None and not (isinstance(gtin, str) and gtin.isdigit()
                                     and len(gtin) in (8, 12, 13, 14)):
            c.fail(f"{where}.gtin", "expected 8, 12, 13 or 14 digits")
        for k in ("name_en", "subgroup", "description_vi", "description_en", "story_vi",
                  "story_en", "commune", "district", "updated_at"):
            c.str_(p.get(k, ""), f"{where}.{k}", none_ok=True)
        for k in ("featured", "is_demo"):
            if k in p:
                c.bool_(p[k], f"{where}.{k}")
        if not isinstance(p["producer"], str) or p["producer"] not in producers:
            c.fail(f"{where}.producer", f"unknown producer {p['producer']!r:.40}")
        image = p.get("image_hash")
        if image is not None:
            c.str_(image, f"{where}.image_hash", pattern=_HASH)
            if not isinstance(image, str) or image not in media:
                c.fail(f"{where}.image_hash", "media neither held nor in this reply")
        for j, r in enumerate(c.list_(p["ratings"], f"{where}.ratings")):
            rw = f"{where}.ratings[{j}]"
            if not c.obj(r, rw, ("stars", "recognised_on", "valid_until", "status")):
                continue
            c.int_(r["stars"], f"{rw}.stars", 1, 5, none_ok=True)
            c.str_(r["recognised_on"], f"{rw}.recognised_on", pattern=_DATE, none_ok=True)
            c.str_(r["valid_until"], f"{rw}.valid_until", pattern=_DATE, none_ok=True)
            if r["status"] not in RATING_STATUSES:
                c.fail(f"{rw}.status", f"unknown {r['status']!r:.40}")
            for k in ("level", "body", "decision_no"):
                c.str_(r.get(k, ""), f"{rw}.{k}", none_ok=True, limit=1000)
    for i, t in enumerate(c.list_(reply["tombstones"], "tombstones")):
        where = f"tombstones[{i}]"
        if not c.obj(t, where, ("kind", "id")):
            continue
        if t["kind"] == "product":
            if not (isinstance(t["id"], str) and t["id"].isdigit()
                    and 1 <= int(t["id"]) <= MAX_PRODUCT_ID):
                c.fail(f"{where}.id", "expected a product id")
        elif t["kind"] == "producer":
            c.str_(t["id"], f"{where}.id", pattern=_PRODUCER_ID)
        else:
            c.fail(f"{where}.kind", f"unknown {t['kind']!r:.40}")
    c.raise_if_any("catalog reply")


def check_upload_reply(reply: Any, sent_keys: list[str]) -> dict[str, dict]:
    """Results by idempotency key; every sent key must be answered, nothing else."""
    c = _Checker()
    if not c.obj(reply, "reply", ("results",)):
        c.raise_if_any("upload reply")
    results: dict[str, dict] = {}
    for i, r in enumerate(c.list_(reply["results"], "results")):
        if not c.obj(r, f"results[{i}]", ("idempotency_key", "status")):
            continue
        if r["status"] not in ("accepted", "duplicate", "rejected"):
            c.fail(f"results[{i}].status", f"unknown {r['status']!r:.40}")
        c.str_(r["idempotency_key"], f"results[{i}].idempotency_key", pattern=_KEY)
        if isinstance(r["idempotency_key"], str):
            results[r["idempotency_key"]] = r
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
        c.str_(s, f"stamps[{i}]", limit=200)
    c.raise_if_any("stamp block")
    return stamps
