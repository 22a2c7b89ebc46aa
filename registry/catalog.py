"""The provincial catalog: validation (every error reported), import from CSV/JSON, writes
that bump the change sequence only for rows that really changed, and deltas for kiosks.

Wire format of one product (what GET /api/v1/catalog/changes returns, and what the admin
API and JSON import accept):

    {"id": 101, "gtin": "2000000001012" | null, "name_vi": "...", "name_en": "...",
     "group": 1..6, "subgroup": "", "description_vi": "", "description_en": "",
     "story_vi": "", "story_en": "", "commune": "", "district": "",
     "producer": "htx-bich-thao", "image_hash": "<sha256 hex>" | null,
     "featured": false, "is_demo": false, "updated_at": "2025-01-01T00:00:00Z",
     "ratings": [{"stars": 5 | null, "level": "national", "body": "...", "decision_no": "",
                  "recognised_on": "2024-06-30", "valid_until": "2027-06-30",
                  "status": "valid" | "expired" | "revoked"}]}
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocop.ratings import LEVEL_BY_STARS, RatingStatus, default_valid_until, effective_rating_status
from ocop.text import nfc

MAX_PRODUCT_ID = 2**24 - 1
PRODUCER_KINDS = ("company", "cooperative", "coop_group", "household", "other")
RATING_STATUSES = ("valid", "expired", "revoked")
PRODUCER_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
HASH_RE = re.compile(r"[0-9a-f]{64}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MIME_BY_EXT = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".webp": "image/webp"}
TEXT_LIMITS = {"name_vi": 300, "name_en": 300, "subgroup": 100, "description_vi": 5000,
               "description_en": 5000, "story_vi": 10000, "story_en": 10000,
               "commune": 200, "district": 200}
PRODUCER_TEXT_LIMITS = {"name": 300, "commune": 200, "district": 200, "address": 500,
                        "phone": 32}
PRODUCT_FIELDS = ("gtin", "name_vi", "name_en", "group_code", "subgroup", "description_vi",
                  "description_en", "story_vi", "story_en", "commune", "district",
                  "producer_id", "image_hash", "featured", "is_demo")
PRODUCER_FIELDS = ("name", "kind", "commune", "district", "address", "phone")
RATING_FIELDS = ("stars", "level", "body", "decision_no", "recognised_on", "valid_until",
                 "status")


class CatalogError(ValueError):
    """A catalog with problems; `problems` lists every one of them."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s):\n"
                         + "\n".join(f"  - {p}" for p in self.problems))


@dataclass
class Media:
    hash: str
    mime: str
    content: bytes


@dataclass
class CatalogBatch:
    producers: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)


# --- validation -------------------------------------------------------------------------------


def _text(value, where: str, limit: int, problems: list[str], required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(f"{where}: expected text, got {type(value).__name__}")
        return ""
    value = nfc(value.strip())
    if required and not value:
        problems.append(f"{where}: required")
    if len(value) > limit:
        problems.append(f"{where}: longer than {limit} characters")
    return value


def _int(value, where: str, lo: int, hi: int, problems: list[str]) -> int | None:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        problems.append(f"{where}: expected an integer {lo}..{hi}, got {value!r}")
        return None
    return value


def _bool(value, where: str, problems: list[str]) -> bool:
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "0", "false",
                                                            "no"):
        return value.strip().lower() in ("1", "true", "yes")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    problems.append(f"{where}: expected true or false, got {value!r}")
    return False


def _date(value, where: str, problems: list[str], required: bool = False) -> str | None:
    if value in (None, ""):
        if required:
            problems.append(f"{where}: required")
        return None
    if not isinstance(value, str) or not DATE_RE.fullmatch(value.strip()):
        problems.append(f"{where}: expected a YYYY-MM-DD date, got {value!r}")
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        problems.append(f"{where}: {value!r} is not a calendar date")
        return None


def validate_producer(raw: Any, where: str, problems: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object")
        return None
    start = len(problems)
    pid = raw.get("id")
    if not isinstance(pid, str) or not PRODUCER_ID_RE.fullmatch(pid):
        problems.append(f"{where}.id: expected 1-64 lowercase letters, digits, '.', '_', '-', "
                        f"got {pid!r}")
    kind = raw.get("kind") or "other"
    if kind not in PRODUCER_KINDS:
        problems.append(f"{where}.kind: must be one of {', '.join(PRODUCER_KINDS)}, "
                        f"got {kind!r}")
    out = {"id": pid, "kind": kind}
    for name, limit in PRODUCER_TEXT_LIMITS.items():
        out[name] = _text(raw.get(name), f"{where}.{name}", limit, problems,
                          required=name == "name")
    return out if len(problems) == start else None


def validate_rating(raw: Any, where: str, problems: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object")
        return None
    start = len(problems)
    stars = raw.get("stars")
    if stars not in (None, ""):
        stars = _int(stars, f"{where}.stars", 1, 5, problems)
    else:
        stars = None
    recognised = raw.get("recognised_on")
    if recognised in (None, "") and raw.get("year") is not None:   # demo catalog format
        year = _int(raw.get("year"), f"{where}.year", 1990, 2199, problems)
        recognised = f"{year}-{raw.get('month_day', '06-30')}" if year else None
    recognised = _date(recognised, f"{where}.recognised_on", problems)
    valid_until = _date(raw.get("valid_until"), f"{where}.valid_until", problems)
    if valid_until is None and recognised is not None:
        valid_until = default_valid_until(dt.date.fromisoformat(recognised)).isoformat()
    if recognised and valid_until and valid_until < recognised:
        problems.append(f"{where}: valid_until is before recognised_on")
    status = raw.get("status") or "valid"
    if status not in RATING_STATUSES:
        problems.append(f"{where}.status: must be one of {', '.join(RATING_STATUSES)}, "
                        f"got {status!r}")
    out = {"stars": stars,
           "level": _text(raw.get("level") or LEVEL_BY_STARS.get(stars, ""),
                          f"{where}.level", 16, problems),
           "body": _text(raw.get("body"), f"{where}.body", 300, problems),
           "decision_no": _text(raw.get("decision_no"), f"{where}.decision_no", 100, problems),
           "recognised_on": recognised, "valid_until": valid_until, "status": status}
    return out if len(problems) == start else None


def validate_product(raw: Any, where: str, problems: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object")
        return None
    start = len(problems)
    pid = _int(raw.get("id"), f"{where}.id", 1, MAX_PRODUCT_ID, problems)
    gtin = raw.get("gtin")
    if gtin in ("", None):
        gtin = None
    elif not isinstance(gtin, str) or not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        problems.append(f"{where}.gtin: expected 8, 12, 13 or 14 digits, got {gtin!r}")
    group = raw.get("group", raw.get("group_code"))
    group = _int(group, f"{where}.group", 1, 6, problems)
    producer = raw.get("producer", raw.get("producer_id"))
    if not isinstance(producer, str) or not PRODUCER_ID_RE.fullmatch(producer or ""):
        problems.append(f"{where}.producer: expected a producer id, got {producer!r}")
    image_hash = raw.get("image_hash") or None
    if image_hash is not None and (not isinstance(image_hash, str)
                                   or not HASH_RE.fullmatch(image_hash)):
        problems.append(f"{where}.image_hash: expected 64 lowercase hex digits")
    out = {"id": pid, "gtin": gtin, "group": group, "producer": producer,
           "image_hash": image_hash,
           "featured": _bool(raw.get("featured"), f"{where}.featured", problems),
           "is_demo": _bool(raw.get("is_demo"), f"{where}.is_demo", problems)}
    for name, limit in TEXT_LIMITS.items():
        out[name] = _text(raw.get(name), f"{where}.{name}", limit, problems,
                          required=name == "name_vi")
    ratings_raw = raw.get("ratings", [])
    if not isinstance(ratings_raw, list):
        problems.append(f"{where}.ratings: expected a list")
        ratings_raw = []
    if len(ratings_raw) > 50:
        problems.append(f"{where}.ratings: more than 50 ratings")
    out["ratings"] = [validate_rating(r, f"{where}.ratings[{i}]", problems)
                      for i, r in enumerate(ratings_raw[:50])]
    if "image" in raw:
        out["image"] = raw["image"]
    return out if len(problems) == start else None


def validate_catalog(data: Any, *, known_producers: Iterable[str] = (),
                     known_media: Iterable[str] = (), source: str = "catalog",
                     base_dir: Path | None = None) -> CatalogBatch:
    """Check a whole catalog document; CatalogError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise CatalogError([f"{source}: expected an object with 'producers' and 'products'"])
    unknown = set(data) - {"producers", "products", "_about"}
    if unknown:
        problems.append(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    batch = CatalogBatch()
    seen_producers: dict[str, int] = {}
    for i, raw in enumerate(_as_list(data.get("producers", []), "producers", problems)):
        p = validate_producer(raw, f"producers[{i}]", problems)
        if p is not None:
            if p["id"] in seen_producers:
                problems.append(f"producers[{i}].id: {p['id']!r} also at "
                                f"producers[{seen_producers[p['id']]}]")
            seen_producers[p["id"]] = i
            batch.producers.append(p)
    producer_by_id = {p["id"]: p for p in batch.producers}
    producers_ok = set(known_producers) | set(seen_producers)
    media_ok = set(known_media)
    seen_ids: dict[int, int] = {}
    seen_gtins: dict[str, int] = {}
    for i, raw in enumerate(_as_list(data.get("products", []), "products", problems)):
        where = f"products[{i}]"
        p = validate_product(raw, where, problems)
        if p is None:
            raw_producer = raw.get("producer", raw.get("producer_id")) \
                if isinstance(raw, dict) else None
            if isinstance(raw_producer, str) and raw_producer not in producers_ok:
                problems.append(f"{where}.producer: unknown producer {raw_producer!r}")
            continue
        if p["id"] in seen_ids:
            problems.append(f"{where}.id: {p['id']} also at products[{seen_ids[p['id']]}]")
        seen_ids[p["id"]] = i
        if p["gtin"]:
            if p["gtin"] in seen_gtins:
                problems.append(f"{where}.gtin: {p['gtin']} also at "
                                f"products[{seen_gtins[p['gtin']]}]")
            seen_gtins[p["gtin"]] = i
        if p["producer"] not in producers_ok:
            problems.append(f"{where}.producer: unknown producer {p['producer']!r}")
        producer = producer_by_id.get(p["producer"])
        if producer is not None:     # demo format: place comes from the producer
            p["commune"] = p["commune"] or producer["commune"]
            p["district"] = p["district"] or producer["district"]
        image = p.pop("image", None)
        if image:
            if base_dir is None or not isinstance(image, str):
                problems.append(f"{where}.image: image files only in catalog files")
            else:
                media = _read_image(base_dir / image, f"{where}.image", problems)
                if media is not None:
                    batch.media.append(media)
                    media_ok.add(media.hash)
                    p["image_hash"] = media.hash
        if p["image_hash"] and p["image_hash"] not in media_ok:
            problems.append(f"{where}.image_hash: no media with hash {p['image_hash']}")
        batch.products.append(p)
    if problems:
        raise CatalogError(problems)
    return batch


def _as_list(value, where: str, problems: list[str]) -> list:
    if not isinstance(value, list):
        problems.append(f"{where}: expected a list")
        return []
    return value


def _read_image(path: Path, where: str, problems: list[str]) -> Media | None:
    mime = MIME_BY_EXT.get(path.suffix.lower())
    if mime is None:
        problems.append(f"{where}: {path.name}: only .png, .jpg, .webp images")
        return None
    try:
        content = path.read_bytes()
    except OSError as exc:
        problems.append(f"{where}: cannot read {path}: {exc.strerror}")
        return None
    return Media(hashlib.sha256(content).hexdigest(), mime, content)


# --- files --------------------------------------------------------------------------------

CSV_PRODUCER_COLUMNS = {"producer": "id", "producer_name": "name", "producer_kind": "kind",
                        "producer_commune": "commune", "producer_district": "district",
                        "producer_address": "address", "producer_phone": "phone"}
CSV_RATING_COLUMNS = {"stars": "stars", "recognised_on": "recognised_on",
                      "valid_until": "valid_until", "rating_status": "status",
                      "level": "level", "body": "body", "decision_no": "decision_no"}
CSV_PRODUCT_COLUMNS = ("id", "gtin", "name_vi", "name_en", "group", "subgroup",
                       "description_vi", "description_en", "story_vi", "story_en", "commune",
                       "district", "featured", "image", "image_hash")
CSV_COLUMNS = (*CSV_PRODUCT_COLUMNS, *CSV_PRODUCER_COLUMNS, *CSV_RATING_COLUMNS)


def csv_to_document(text: str) -> dict:
    """One product per row with its producer's columns and its current rating; see
    docs/registry.md. Conflicting producer rows are reported by row number."""
    problems: list[str] = []
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        problems.append(f"header: unknown column(s) {', '.join(unknown)} "
                        f"(known: {', '.join(CSV_COLUMNS)})")
    for required in ("id", "name_vi", "group", "producer"):
        if required not in header:
            problems.append(f"header: missing column {required!r}")
    if problems:
        raise CatalogError(problems)
    producers: dict[str, tuple[int, dict]] = {}
    products = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            problems.append(f"row {line}: more fields than columns")
            continue
        row = {k: (v or "").strip() for k, v in row.items()}
        producer = {field_: row[col] for col, field_ in CSV_PRODUCER_COLUMNS.items()
                    if col in row}
        producer["name"] = producer.get("name") or ""
        pid = producer["id"]
        if pid in producers:
            first_line, first = producers[pid]
            if row.get("producer_name") and first != producer:
                problems.append(f"row {line}: producer {pid!r} differs from row {first_line}")
        elif pid:
            producers[pid] = (line, producer)
        product = {c: row[c] for c in CSV_PRODUCT_COLUMNS if c in row and row[c] != ""}
        product["producer"] = pid
        rating = {f: row[c] for c, f in CSV_RATING_COLUMNS.items() if row.get(c)}
        product["ratings"] = [rating] if rating else []
        product["_row"] = line
        products.append(product)
    if problems:
        raise CatalogError(problems)
    for p in products:
        p.pop("_row")
    return {"producers": [p for _, p in producers.values()], "products": products}


def load_catalog_file(path: Path, known_producers=(), known_media=()) -> CatalogBatch:
    path = Path(path)
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise CatalogError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError([f"{path}: cannot read as UTF-8 text: {exc}"]) from None
    if path.suffix.lower() == ".csv":
        document = csv_to_document(text)
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError([f"{path}: not valid JSON: {exc}"]) from None
    return validate_catalog(document, known_producers=known_producers,
                            known_media=known_media, source=str(path), base_dir=path.parent)


# --- wire format ------------------------------------------------------------------------


def product_to_wire(row, ratings: list[dict]) -> dict:
    return {"id": row.id, "gtin": row.gtin, "name_vi": row.name_vi, "name_en": row.name_en,
            "group": row.group_code, "subgroup": row.subgroup,
            "description_vi": row.description_vi, "description_en": row.description_en,
            "story_vi": row.story_vi, "story_en": row.story_en, "commune": row.commune,
            "district": row.district, "producer": row.producer_id,
            "image_hash": row.image_hash, "featured": bool(row.featured),
            "is_demo": bool(row.is_demo), "updated_at": row.updated_at,
            "ratings": ratings}


def producer_to_wire(row) -> dict:
    return {"id": row.id, "name": row.name, "kind": row.kind, "commune": row.commune,
            "district": row.district, "address": row.address, "phone": row.phone,
            "updated_at": row.updated_at}


def current_rating(ratings: list[dict]) -> dict | None:
    """The newest rating (by recognition date, then position), like the kiosk."""
    if not ratings:
        return None
    indexed = list(enumerate(ratings))
    indexed.sort(key=lambda ir: (ir[1]["recognised_on"] or "", ir[0]))
    return indexed[-1][1]


def rating_valid(rating: dict | None, today: dt.date) -> bool:
    """The kiosk's star rule; the registry also requires a stated valid_until."""
    if rating is None or not rating["valid_until"]:
        return False
    return effective_rating_status(rating["status"], rating["stars"], rating["valid_until"],
                                   today) is RatingStatus.VALID
