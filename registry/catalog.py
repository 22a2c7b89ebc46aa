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

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ocop import wire
from ocop.ratings import LEVEL_BY_STARS, RatingStatus, default_valid_until, effective_rating_status
from ocop.text import nfc
from registry import db

# File extensions a catalog file's pictures may have (ocop.wire.MEDIA_TYPES).
MIME_BY_EXT = {ext: mime for mime, ext in wire.MEDIA_EXTENSIONS.items()} | {".jpeg": "image/jpeg"}


def _written(record: wire.Record) -> tuple[wire.WireField, ...]:
    """The fields of a record the office writes (the registry's clock sets updated_at)."""
    return tuple(f for f in record.stored if f is not wire.UPDATED_AT)


# Columns compared to tell a changed row from an unchanged one.
PRODUCT_FIELDS = tuple(f.column_name for f in _written(wire.PRODUCT) if f.name != "id")
PRODUCER_FIELDS = tuple(f.column_name for f in _written(wire.PRODUCER) if f.name != "id")
RATING_FIELDS = wire.RATING.names


class CatalogError(ValueError):
    """A catalog with problems; `problems` lists every one of them."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
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
    for f in _written(record):
        value = raw.get(f.name)
        if value is None and f.column:
            value = raw.get(f.column)
        out[f.name] = _office_value(f, value)
    return out


def _checked(record: wire.Record, document: dict, where: str, problems: list[str]) -> dict | None:
    """The document after the wire checks (GTINs in their one spelling), or None with every
    problem added to `problems`."""
    errors: list[wire.WireError] = []
    checked = wire.check_record(record, document, where, errors)
    problems.extend(map(str, errors))
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


def _rating_order(rating: dict, where: str, problems: list[str]) -> None:
    if (
        rating["recognised_on"]
        and rating["valid_until"]
        and rating["valid_until"] < rating["recognised_on"]
    ):
        problems.append(f"{where}: valid_until is before recognised_on")


def validate_producer(raw: Any, where: str, problems: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object")
        return None
    return _checked(wire.PRODUCER, _office_record(wire.PRODUCER, raw), where, problems)


def validate_rating(raw: Any, where: str, problems: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object")
        return None
    start = len(problems)
    rating = _checked(wire.RATING, _rating_document(raw), where, problems)
    if rating is not None:
        _rating_order(rating, where, problems)
    return rating if len(problems) == start else None


def validate_product(raw: Any, where: str, problems: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object")
        return None
    start = len(problems)
    document = _office_record(wire.PRODUCT, raw)
    ratings = raw.get("ratings", [])
    document["ratings"] = (
        [_rating_document(r) for r in ratings] if isinstance(ratings, list) else ratings
    )
    product = _checked(wire.PRODUCT, document, where, problems)
    if product is None:
        return None
    for i, rating in enumerate(product["ratings"]):
        _rating_order(rating, f"{where}.ratings[{i}]", problems)
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
) -> CatalogBatch:
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
                problems.append(
                    f"producers[{i}].id: {p['id']!r} also at producers[{seen_producers[p['id']]}]"
                )
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
            raw_producer = (
                raw.get("producer", raw.get("producer_id")) if isinstance(raw, dict) else None
            )
            if isinstance(raw_producer, str) and raw_producer not in producers_ok:
                problems.append(f"{where}.producer: unknown producer {raw_producer!r}")
            continue
        if p["id"] in seen_ids:
            problems.append(f"{where}.id: {p['id']} also at products[{seen_ids[p['id']]}]")
        seen_ids[p["id"]] = i
        if p["gtin"]:
            if p["gtin"] in seen_gtins:
                problems.append(
                    f"{where}.gtin: {p['gtin']} also at products[{seen_gtins[p['gtin']]}]"
                )
            seen_gtins[p["gtin"]] = i
        if p["producer"] not in producers_ok:
            problems.append(f"{where}.producer: unknown producer {p['producer']!r}")
        producer = producer_by_id.get(p["producer"])
        if producer is not None:  # demo format: place comes from the producer
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
        problems.append(f"{where}: {path.name}: only {', '.join(MIME_BY_EXT)} images")
        return None
    try:
        content = path.read_bytes()
    except OSError as exc:
        problems.append(f"{where}: cannot read {path}: {exc.strerror}")
        return None
    media = Media(hashlib.sha256(content).hexdigest(), mime, content)
    return media if _checked_media(media, where, problems) else None


def _checked_media(media: Media, where: str, problems: list[str]) -> bool:
    """The media row as kiosks will see it passes the wire checks, and its hash is its own."""
    start = len(problems)
    _checked(wire.MEDIA, _media_to_wire(media), where, problems)
    if media.hash != hashlib.sha256(media.content).hexdigest():
        problems.append(f"{where}.hash: not the SHA-256 of the content")
    return len(problems) == start


def _media_to_wire(media: Media) -> dict:
    return {"hash": media.hash, "mime": media.mime, "size_bytes": len(media.content)}


# --- files --------------------------------------------------------------------------------

CSV_PRODUCER_COLUMNS = {
    "producer": "id",
    "producer_name": "name",
    "producer_kind": "kind",
    "producer_commune": "commune",
    "producer_district": "district",
    "producer_address": "address",
    "producer_phone": "phone",
}
CSV_RATING_COLUMNS = {
    "stars": "stars",
    "recognised_on": "recognised_on",
    "valid_until": "valid_until",
    "rating_status": "status",
    "level": "level",
    "body": "body",
    "decision_no": "decision_no",
}
CSV_PRODUCT_COLUMNS = (
    "id",
    "gtin",
    "name_vi",
    "name_en",
    "group",
    "subgroup",
    "description_vi",
    "description_en",
    "story_vi",
    "story_en",
    "commune",
    "district",
    "featured",
    "image",
    "image_hash",
)
CSV_COLUMNS = (*CSV_PRODUCT_COLUMNS, *CSV_PRODUCER_COLUMNS, *CSV_RATING_COLUMNS)


def csv_to_document(text: str) -> dict:
    """One product per row with its producer's columns and its current rating; see
    docs/registry.md. Conflicting producer rows are reported by row number."""
    problems: list[str] = []
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        problems.append(
            f"header: unknown column(s) {', '.join(unknown)} (known: {', '.join(CSV_COLUMNS)})"
        )
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
        producer = {field_: row[col] for col, field_ in CSV_PRODUCER_COLUMNS.items() if col in row}
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
    return validate_catalog(
        document,
        known_producers=known_producers,
        known_media=known_media,
        source=str(path),
        base_dir=path.parent,
    )


# --- writes -------------------------------------------------------------------------------


@dataclass
class WriteSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    media: int = 0

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.media} new media"
        )


def known_ids(conn: Connection) -> tuple[set[str], set[str]]:
    return (
        set(conn.execute(sa.select(db.producers.c.id)).scalars()),
        set(conn.execute(sa.select(db.media.c.hash)).scalars()),
    )


def write_media(conn: Connection, items: Iterable[Media]) -> int:
    """Store new pictures; CatalogError (nothing written) for one a kiosk would refuse."""
    items = {m.hash: m for m in items}
    if not items:
        return 0
    problems: list[str] = []
    for i, m in enumerate(items.values()):
        _checked_media(m, f"media[{i}]", problems)
    if problems:
        raise CatalogError(problems)
    have = set(
        conn.execute(sa.select(db.media.c.hash).where(db.media.c.hash.in_(list(items)))).scalars()
    )
    new = [m for h, m in items.items() if h not in have]
    if new:
        first = db.reserve(conn, "change_seq", len(new))
        conn.execute(
            db.media.insert(),
            [
                {
                    "hash": m.hash,
                    "mime": m.mime,
                    "size_bytes": len(m.content),
                    "content": m.content,
                    "created_at": db.utc_now(),
                    "seq": first + i,
                }
                for i, m in enumerate(new)
            ],
        )
    return len(new)


def _product_row(p: dict) -> dict:
    return {f.column_name: p[f.name] for f in _written(wire.PRODUCT) if f.name != "id"}


def _check_gtins_free(conn: Connection, products: list[dict]) -> None:
    """A GTIN may go to a product only when no product outside the batch holds it (kiosks
    refuse a page that gives one GTIN to two products): CatalogError naming the field."""
    claimed = {p["gtin"]: i for i, p in enumerate(products) if p["gtin"]}
    in_batch = {p["id"] for p in products}
    problems = []
    for chunk in _chunks(list(claimed), 900):
        for row in conn.execute(
            sa.select(db.products.c.id, db.products.c.gtin).where(db.products.c.gtin.in_(chunk))
        ):
            if row.id not in in_batch:
                problems.append(
                    f"products[{claimed[row.gtin]}].gtin: {row.gtin} belongs to product {row.id}"
                )
    if problems:
        raise CatalogError(problems)


def write_catalog(conn: Connection, batch: CatalogBatch) -> WriteSummary:
    """Insert or update producers, media and products; only rows whose content changed get
    a new sequence number (so re-importing the same file sends kiosks nothing)."""
    _check_gtins_free(conn, batch.products)
    summary = WriteSummary(media=write_media(conn, batch.media))
    now = db.utc_now()
    # Producers first: products reference them (and kiosks apply them in seq order).
    existing_producers = {
        r.id: r
        for r in conn.execute(
            sa.select(db.producers).where(db.producers.c.id.in_([p["id"] for p in batch.producers]))
        )
    }
    changed_producers = []
    for p in batch.producers:
        old = existing_producers.get(p["id"])
        if old is not None and all(getattr(old, f) == p[f] for f in PRODUCER_FIELDS):
            summary.unchanged += 1
            continue
        changed_producers.append((p, old is None))
    if changed_producers:
        first = db.reserve(conn, "change_seq", len(changed_producers))
        for i, (p, is_new) in enumerate(changed_producers):
            values = {f: p[f] for f in PRODUCER_FIELDS} | {"updated_at": now, "seq": first + i}
            if is_new:
                conn.execute(db.producers.insert().values(id=p["id"], **values))
                summary.created += 1
            else:
                conn.execute(
                    db.producers.update().where(db.producers.c.id == p["id"]).values(**values)
                )
                summary.updated += 1
        conn.execute(
            db.tombstones.delete().where(
                db.tombstones.c.kind == wire.TombstoneKind.PRODUCER.value,
                db.tombstones.c.entity_id.in_([p["id"] for p, _ in changed_producers]),
            )
        )

    ids = [p["id"] for p in batch.products]
    existing = {}
    old_ratings: dict[int, list[dict]] = {}
    for chunk in _chunks(ids, 900):
        existing.update(
            {
                r.id: r
                for r in conn.execute(sa.select(db.products).where(db.products.c.id.in_(chunk)))
            }
        )
        for r in conn.execute(
            sa.select(db.ratings)
            .where(db.ratings.c.product_id.in_(chunk))
            .order_by(db.ratings.c.product_id, db.ratings.c.position)
        ):
            old_ratings.setdefault(r.product_id, []).append(
                {f: getattr(r, f) for f in RATING_FIELDS}
            )
    changed = []
    for p in batch.products:
        row = _product_row(p)
        old = existing.get(p["id"])
        if (
            old is not None
            and all(getattr(old, f) == row[f] for f in PRODUCT_FIELDS)
            and old_ratings.get(p["id"], []) == p["ratings"]
        ):
            summary.unchanged += 1
            continue
        changed.append((p, row, old is None))
    if changed:
        first = db.reserve(conn, "change_seq", len(changed))
        # GTINs may move between products of the batch: free them all before any is taken.
        moving = [p["id"] for p, row, is_new in changed if not is_new]
        for chunk in _chunks(moving, 900):
            conn.execute(db.products.update().where(db.products.c.id.in_(chunk)).values(gtin=None))
        inserts, rating_rows = [], []
        for i, (p, row, is_new) in enumerate(changed):
            row |= {"updated_at": now, "seq": first + i}
            if is_new:
                inserts.append({"id": p["id"], **row})
                summary.created += 1
            else:
                conn.execute(db.products.update().where(db.products.c.id == p["id"]).values(**row))
                summary.updated += 1
            rating_rows += [
                {"product_id": p["id"], "position": j, **r} for j, r in enumerate(p["ratings"])
            ]
        changed_ids = [p["id"] for p, _, _ in changed]
        for chunk in _chunks(changed_ids, 900):
            conn.execute(db.ratings.delete().where(db.ratings.c.product_id.in_(chunk)))
            conn.execute(
                db.tombstones.delete().where(
                    db.tombstones.c.kind == wire.TombstoneKind.PRODUCT.value,
                    db.tombstones.c.entity_id.in_([str(i) for i in chunk]),
                )
            )
        if inserts:
            conn.execute(db.products.insert(), inserts)
        if rating_rows:
            conn.execute(db.ratings.insert(), rating_rows)
    return summary


def delete_product(conn: Connection, product_id: int) -> bool:
    deleted = conn.execute(db.products.delete().where(db.products.c.id == product_id))
    if deleted.rowcount == 0:
        return False
    conn.execute(db.ratings.delete().where(db.ratings.c.product_id == product_id))
    _tombstone(conn, wire.TombstoneKind.PRODUCT, str(product_id))
    return True


def delete_producer(conn: Connection, producer_id: str) -> bool:
    used = conn.execute(
        sa.select(sa.func.count())
        .select_from(db.products)
        .where(db.products.c.producer_id == producer_id)
    ).scalar()
    if used:
        raise CatalogError([f"producer {producer_id!r} still has {used} product(s)"])
    deleted = conn.execute(db.producers.delete().where(db.producers.c.id == producer_id))
    if deleted.rowcount == 0:
        return False
    _tombstone(conn, wire.TombstoneKind.PRODUCER, producer_id)
    return True


def _tombstone(conn: Connection, tombstone: wire.TombstoneKind, entity_id: str) -> None:
    kind = tombstone.value
    seq = db.reserve(conn, "change_seq")
    conn.execute(
        db.tombstones.delete().where(
            db.tombstones.c.kind == kind, db.tombstones.c.entity_id == entity_id
        )
    )
    conn.execute(
        db.tombstones.insert().values(
            kind=kind, entity_id=entity_id, deleted_at=db.utc_now(), seq=seq
        )
    )


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- reads --------------------------------------------------------------------------------


def _to_wire(record: wire.Record, row) -> dict:
    """A table row as the record's wire fields (each read from its column)."""
    out = {}
    for f in record.stored:
        value = getattr(row, f.column_name)
        out[f.name] = bool(value) if f.kind is wire.Kind.BOOL else value
    return out


def product_to_wire(row, ratings: list[dict]) -> dict:
    return _to_wire(wire.PRODUCT, row) | {"ratings": ratings}


def producer_to_wire(row) -> dict:
    return _to_wire(wire.PRODUCER, row)


def ratings_for(conn: Connection, product_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for chunk in _chunks(product_ids, 900):
        for r in conn.execute(
            sa.select(db.ratings)
            .where(db.ratings.c.product_id.in_(chunk))
            .order_by(db.ratings.c.product_id, db.ratings.c.position)
        ):
            out.setdefault(r.product_id, []).append({f: getattr(r, f) for f in RATING_FIELDS})
    return out


def get_product(conn: Connection, product_id: int) -> dict | None:
    row = conn.execute(sa.select(db.products).where(db.products.c.id == product_id)).first()
    if row is None:
        return None
    return product_to_wire(row, ratings_for(conn, [product_id]).get(product_id, []))


def changes_since(conn: Connection, since: int, limit: int) -> dict:
    """Everything with seq > since, at most `limit` rows of each kind, cut at a sequence
    number so that the reply is a prefix of the change log: `cursor` is the highest seq
    included, `more` says whether to ask again at once."""
    head = db.counter_value(conn, "change_seq")
    tables = {
        "producers": db.producers,
        "media": db.media,
        "products": db.products,
        "tombstones": db.tombstones,
    }
    rows: dict[str, list] = {}
    cutoffs = []
    for name, table in tables.items():
        columns = [c for c in table.c if c.name != "content"] if name == "media" else list(table.c)
        found = conn.execute(
            sa.select(*columns).where(table.c.seq > since).order_by(table.c.seq).limit(limit)
        ).all()
        rows[name] = found
        if len(found) == limit:
            cutoffs.append(found[-1].seq)
    cursor = min(cutoffs) if cutoffs else max(head, since)
    for name in rows:
        rows[name] = [r for r in rows[name] if r.seq <= cursor]
    product_ids = [r.id for r in rows["products"]]
    ratings = ratings_for(conn, product_ids)
    return {
        "cursor": cursor,
        "more": bool(cutoffs),
        "producers": [producer_to_wire(r) for r in rows["producers"]],
        "media": [_to_wire(wire.MEDIA, r) for r in rows["media"]],
        "products": [product_to_wire(r, ratings.get(r.id, [])) for r in rows["products"]],
        "tombstones": [_to_wire(wire.TOMBSTONE, r) for r in rows["tombstones"]],
    }


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
        effective_rating_status(rating["status"], rating["stars"], rating["valid_until"], today)
        is RatingStatus.VALID
    )
