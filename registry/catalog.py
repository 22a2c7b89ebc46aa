"""The provincial catalog: validation (every error reported), import from CSV/JSON, writes
that bump the change sequence only for rows that really changed, and deltas for kiosks.

Wire format of one product (what GET /api/v1/catalog/changes returns, and what the admin
API and JSON import accept); every field, its type and its limits are defined once in
ocop.wire, which the kiosks check every reply with:

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

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocop import wire
from ocop.problems import Problem, ProblemCode, problem
from ocop.ratings import (
    LEVEL_BY_STARS,
    MIN_OCOP_STARS,
    RATING_VALIDITY_MONTHS,
    RatingStatus,
    default_valid_until,
    effective_rating_status,
)
from ocop.text import nfc
from registry import geo

SPREADSHEET_SUFFIXES = (".csv", ".xlsx")
# File extensions a catalog file's pictures may have (ocop.wire.MEDIA_TYPES).
MIME_BY_EXT = {ext: mime for mime, ext in wire.MEDIA_EXTENSIONS.items()} | {".jpeg": "image/jpeg"}


def written_fields(record: wire.Record) -> tuple[wire.WireField, ...]:
    """The fields of a record the office writes (the registry's clock sets updated_at)."""
    return tuple(f for f in record.stored if f is not wire.UPDATED_AT)


# Columns compared to tell a changed row from an unchanged one.
PRODUCT_FIELDS = tuple(f.column_name for f in written_fields(wire.PRODUCT) if f.name != "id")
PRODUCER_FIELDS = tuple(f.column_name for f in written_fields(wire.PRODUCER) if f.name != "id")
RATING_FIELDS = wire.RATING.names


class CatalogError(ValueError):
    """A catalog with problems: `details` lists every one of them (structured, either
    language), `problems` the same as text in the path form (`products[0].gtin: ...`)."""

    def __init__(self, problems: Iterable[Problem | str]):
        self.details = [p if isinstance(p, Problem) else _other(p) for p in problems]
        self.problems = [str(p) for p in self.details]
        super().__init__(
            f"{len(self.problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in self.problems)
        )


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


def _other(text: str) -> Problem:
    return problem(ProblemCode.OTHER, reason=text)


Problems = list[Problem]

# --- validation -------------------------------------------------------------------------------
#
# What an office sends is first read leniently (CSV cells are text: "5" is a number, "yes" is
# true; text is stripped and NFC; an empty cell is the field's default), then checked with the
# wire rules the kiosks check every reply with (ocop.wire), so the registry never stores a row
# that would make a kiosk refuse a page.


def _office_int(value: Any) -> Any:
    digits = value.removeprefix("-") if isinstance(value, str) else ""
    if digits.isascii() and digits.isdigit():
        return int(value)
    return value


_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")


def _office_bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value


def _office_value(f: wire.WireField, value: Any) -> Any:
    """One value as an office may write it -> the wire form, when there is one."""
    if isinstance(value, str):
        value = value.strip()
        if f.kind in (wire.Kind.LINE, wire.Kind.TEXT):
            value = nfc(value)
        if f.kind is wire.Kind.TEXT:  # one spelling of a line break (XLSX keeps no CR)
            value = value.replace("\r\n", "\n")
    if value is None or value == "":
        return f.default
    if f.kind is wire.Kind.INT:
        return _office_int(value)
    if f.kind is wire.Kind.BOOL:
        return _office_bool(value)
    return value


def _office_record(record: wire.Record, raw: dict) -> dict:
    """Each field the office writes, by its wire name or its column name (`group_code`)."""
    out = {}
    for f in written_fields(record):
        value = raw.get(f.name)
        if value is None and f.column:
            value = raw.get(f.column)
        out[f.name] = _office_value(f, value)
    return out


def _checked(record: wire.Record, document: dict, where: str, problems: Problems) -> dict | None:
    """The document after the wire checks (GTINs in their one spelling), or None with every
    problem added to `problems`."""
    errors: list[wire.WireError] = []
    checked = wire.check_record(record, document, where, errors)
    problems.extend(e.problem for e in errors)
    if errors or checked is None:
        return None
    checked.pop(wire.UPDATED_AT.name, None)
    return checked


def _rating_document(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    doc = _office_record(wire.RATING, raw)
    if doc["recognised_on"] is None and raw.get("year") is not None:  # demo catalog format
        doc["recognised_on"] = f"{raw['year']}-{raw.get('month_day', '06-30')}"
    if doc["valid_until"] is None and doc["recognised_on"] is not None:
        try:
            day = wire.check_value(wire.RATING["recognised_on"], doc["recognised_on"], "")
        except wire.WireError:
            pass  # reported by the check
        else:
            doc["valid_until"] = default_valid_until(dt.date.fromisoformat(day)).isoformat()
    stars = doc["stars"]
    if not doc["level"] and isinstance(stars, int):
        doc["level"] = LEVEL_BY_STARS.get(stars, "")
    return doc


def _rating_rules(rating: dict, where: str, problems: Problems) -> None:
    """The OCOP rules beyond the wire's: 3-5 stars; valid until at most 36 months after
    recognition (Decision 148/QĐ-TTg), which an office may shorten by hand, never lengthen."""
    stars = rating["stars"]
    if stars is not None and stars < MIN_OCOP_STARS:
        problems.append(problem(ProblemCode.STARS, wire.path(where, "stars"), stars=stars))
    recognised_on, valid_until = rating["recognised_on"], rating["valid_until"]
    if not (recognised_on and valid_until):
        return
    if valid_until < recognised_on:
        problems.append(problem(ProblemCode.VALID_UNTIL_BEFORE, where))
        return
    recognised = dt.date.fromisoformat(recognised_on)
    latest = default_valid_until(recognised)
    if valid_until > latest.isoformat():
        problems.append(
            problem(  # days as dt.date: the message writes them dd/mm/yyyy (Problem._shown)
                ProblemCode.VALID_UNTIL_TOO_LATE,
                wire.path(where, "valid_until"),
                valid_until=dt.date.fromisoformat(valid_until),
                months=RATING_VALIDITY_MONTHS,
                recognised_on=recognised,
                latest=latest,
            )
        )


def _stars_first(document: dict, where: str, problems: Problems) -> None:
    """Stars above the wire's limit are an OCOP-rule problem (3-5), said once as such."""
    stars = document.get("stars")
    if isinstance(stars, int) and not isinstance(stars, bool) and stars > wire.MAX_STARS:
        problems.append(problem(ProblemCode.STARS, wire.path(where, "stars"), stars=stars))
        document["stars"] = None


def _district_rule(record: dict, where: str, problems: Problems) -> None:
    district = record.get("district")
    if district and geo.place_of(district) is None:
        problems.append(
            problem(
                ProblemCode.UNKNOWN_DISTRICT,
                wire.path(where, "district"),
                district=district,
                known=", ".join(geo.CENTROIDS),
            )
        )


def _not_object(where: str, problems: Problems) -> None:
    problems.append(problem(ProblemCode.NOT_OBJECT, where))


def validate_producer(raw: Any, where: str, problems: Problems) -> dict | None:
    if not isinstance(raw, dict):
        _not_object(where, problems)
        return None
    start = len(problems)
    producer = _checked(wire.PRODUCER, _office_record(wire.PRODUCER, raw), where, problems)
    if producer is not None:
        _district_rule(producer, where, problems)
    return producer if len(problems) == start else None


def validate_rating(raw: Any, where: str, problems: Problems) -> dict | None:
    if not isinstance(raw, dict):
        _not_object(where, problems)
        return None
    start = len(problems)
    document = _rating_document(raw)
    _stars_first(document, where, problems)
    rating = _checked(wire.RATING, document, where, problems)
    if rating is not None:
        _rating_rules(rating, where, problems)
    return rating if len(problems) == start else None


def validate_product(raw: Any, where: str, problems: Problems) -> dict | None:
    if not isinstance(raw, dict):
        _not_object(where, problems)
        return None
    start = len(problems)
    document = _office_record(wire.PRODUCT, raw)
    ratings = raw.get("ratings", [])
    document["ratings"] = (
        [_rating_document(r) for r in ratings] if isinstance(ratings, list) else ratings
    )
    if isinstance(document["ratings"], list):
        for i, rating in enumerate(document["ratings"]):
            if isinstance(rating, dict):
                _stars_first(rating, f"{where}.ratings[{i}]", problems)
    product = _checked(wire.PRODUCT, document, where, problems)
    if product is None:
        return None
    _district_rule(product, where, problems)
    for i, rating in enumerate(product["ratings"]):
        if rating is not None:
            _rating_rules(rating, f"{where}.ratings[{i}]", problems)
    if "image" in raw:
        product["image"] = raw["image"]
    return product if len(problems) == start else None


def validate_catalog(
    data: Any,
    *,
    known_producers: Iterable[str] = (),
    known_media: Iterable[str] = (),
    source: str = "catalog",
    base_dir: Path | None = None,
    place_from_producer: bool = True,
) -> CatalogBatch:
    """Check a whole catalog document; CatalogError listing every problem.
    `place_from_producer`: a product without commune/district takes its producer's (the
    demo catalog's format); a spreadsheet has the product's own columns and says no."""
    problems: Problems = []
    if not isinstance(data, dict):
        raise CatalogError([f"{source}: expected an object with 'producers' and 'products'"])
    unknown = set(data) - {"producers", "products", "_about"}
    if unknown:
        problems.append(_other(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}"))
    batch = CatalogBatch()
    seen_producers: dict[str, int] = {}
    for i, raw in enumerate(_as_list(data.get("producers", []), "producers", problems)):
        p = validate_producer(raw, f"producers[{i}]", problems)
        if p is not None:
            if p["id"] in seen_producers:
                problems.append(
                    _duplicate(
                        f"producers[{i}].id", repr(p["id"]), "producers", seen_producers[p["id"]]
                    )
                )
            seen_producers[p["id"]] = i
            batch.producers.append(p)
    producer_by_id = {p["id"]: p for p in batch.producers}
    # A producer of this document with problems of its own is not also "unknown" to each
    # of its products: one problem, said once.
    named = {
        r["id"]
        for r in data.get("producers") or []
        if isinstance(r, dict) and isinstance(r.get("id"), str)
    }
    producers_ok = set(known_producers) | set(seen_producers) | named
    media_ok = set(known_media)
    seen_ids: dict[int, int] = {}
    seen_gtins: dict[str, int] = {}
    for i, raw in enumerate(_as_list(data.get("products", []), "products", problems)):
        where = f"products[{i}]"
        p = validate_product(raw, where, problems)
        if p is None:
            raw_producer = (
                raw.get("producer", raw.get("producer_id")) if isinstance(raw, dict) else None
            )
            if isinstance(raw_producer, str) and raw_producer not in producers_ok:
                problems.append(_unknown_producer(where, raw_producer))
            continue
        if p["id"] in seen_ids:
            problems.append(_duplicate(f"{where}.id", p["id"], "products", seen_ids[p["id"]]))
        seen_ids[p["id"]] = i
        if p["gtin"]:
            if p["gtin"] in seen_gtins:
                problems.append(
                    _duplicate(f"{where}.gtin", p["gtin"], "products", seen_gtins[p["gtin"]])
                )
            seen_gtins[p["gtin"]] = i
        if p["producer"] not in producers_ok:
            problems.append(_unknown_producer(where, p["producer"]))
        producer = producer_by_id.get(p["producer"])
        if producer is not None and place_from_producer:
            p["commune"] = p["commune"] or producer["commune"]
            p["district"] = p["district"] or producer["district"]
        image = p.pop("image", None)
        if image:
            if base_dir is None or not isinstance(image, str):
                problems.append(_other(f"{where}.image: image files only in catalog files"))
            else:
                media = _read_image(base_dir / image, f"{where}.image", problems)
                if media is not None:
                    batch.media.append(media)
                    media_ok.add(media.hash)
                    p["image_hash"] = media.hash
        if p["image_hash"] and p["image_hash"] not in media_ok:
            problems.append(
                problem(ProblemCode.NO_MEDIA, f"{where}.image_hash", hash=p["image_hash"])
            )
        batch.products.append(p)
    if problems:
        raise CatalogError(problems)
    return batch


def _duplicate(where: str, value: Any, items: str, other: int) -> Problem:
    """`value` at `where` is also the one of items[other] (the import says which row)."""
    return problem(
        ProblemCode.DUPLICATE, where, value=value, other=f"{items}[{other}]", index=other
    )


def _unknown_producer(where: str, producer: str) -> Problem:
    return problem(ProblemCode.UNKNOWN_PRODUCER, f"{where}.producer", producer=producer)


def _as_list(value, where: str, problems: Problems) -> list:
    if not isinstance(value, list):
        problems.append(problem(ProblemCode.NOT_LIST, where))
        return []
    return value


def _read_image(path: Path, where: str, problems: Problems) -> Media | None:
    mime = MIME_BY_EXT.get(path.suffix.lower())
    if mime is None:
        problems.append(_other(f"{where}: {path.name}: only {', '.join(MIME_BY_EXT)} images"))
        return None
    try:
        content = path.read_bytes()
    except OSError as exc:
        problems.append(_other(f"{where}: cannot read {path}: {exc.strerror}"))
        return None
    media = Media(hashlib.sha256(content).hexdigest(), mime, content)
    return media if checked_media(media, where, problems) else None


def checked_media(media: Media, where: str, problems: Problems) -> bool:
    """The media row as kiosks will see it passes the wire checks, and its hash is its own."""
    start = len(problems)
    _checked(wire.MEDIA, _media_to_wire(media), where, problems)
    if media.hash != hashlib.sha256(media.content).hexdigest():
        problems.append(_other(f"{where}.hash: not the SHA-256 of the content"))
    return len(problems) == start


def _media_to_wire(media: Media) -> dict:
    return {"hash": media.hash, "mime": media.mime, "size_bytes": len(media.content)}


# --- files --------------------------------------------------------------------------------
# CSV and XLSX files: registry/catalog_import.py (their columns, rows and problems by row).


def load_catalog_file(path: Path, known_producers=(), known_media=()) -> CatalogBatch:
    path = Path(path)
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        from registry import catalog_import  # it builds on this module

        return catalog_import.load_spreadsheet_file(path, known_producers, known_media)
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise CatalogError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError([f"{path}: cannot read as UTF-8 text: {exc}"]) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError([f"{path}: not valid JSON: {exc}"]) from None
    return validate_catalog(
        document,
        known_producers=known_producers,
        known_media=known_media,
        source=str(path),
        base_dir=path.parent,
    )


# --- wire format ------------------------------------------------------------------------


def record_to_wire(record: wire.Record, row) -> dict:
    """A table row as the record's wire fields (each read from its column)."""
    out = {}
    for f in record.stored:
        value = getattr(row, f.column_name)
        out[f.name] = bool(value) if f.kind is wire.Kind.BOOL else value
    return out


def product_to_wire(row, ratings: list[dict]) -> dict:
    return record_to_wire(wire.PRODUCT, row) | {"ratings": ratings}


def producer_to_wire(row) -> dict:
    return record_to_wire(wire.PRODUCER, row)


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
    return (
        effective_rating_status(
            rating["status"], rating["stars"], rating["valid_until"], today, rating["recognised_on"]
        )
        is RatingStatus.VALID
    )
