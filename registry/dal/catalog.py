"""Catalog rows: producers, products with their ratings, media and tombstones; the writes
that bump the change sequence only for rows that really changed, and the deltas kiosks pull
(GET /api/v1/catalog/changes). Validation and the wire format live in registry/catalog.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ocop import wire
from ocop.problems import Problem, ProblemCode, problem
from ocop.text import fold
from registry import db
from registry.audit import Changes
from registry.catalog import (
    PRODUCER_FIELDS,
    PRODUCT_FIELDS,
    RATING_FIELDS,
    CatalogBatch,
    CatalogError,
    Media,
    checked_media,
    producer_to_wire,
    product_to_wire,
    record_to_wire,
    validate_catalog,
    written_fields,
)


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class WriteSummary:
    """Totals over producers and products (what the JSON API has always answered), and
    the counts of each kind (`producers`, `products`, `ratings`) for the import's summary."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    media: int = 0
    producers: KindCounts = field(default_factory=KindCounts)
    products: KindCounts = field(default_factory=KindCounts)
    ratings: KindCounts = field(default_factory=KindCounts)
    changes: Changes = field(default_factory=Changes)  # before/after of what changed

    def audit_detail(self) -> dict:
        """The audit row's detail: the totals and the changed records' before and after."""
        totals = {k: getattr(self, k) for k in ("created", "updated", "unchanged", "media")}
        return (
            totals
            | {
                kind: {
                    k: getattr(getattr(self, kind), k) for k in ("created", "updated", "unchanged")
                }
                for kind in ("producers", "products", "ratings")
            }
            | self.changes.to_detail()
        )

    def count(self, kind: KindCounts, outcome: str) -> None:
        setattr(kind, outcome, getattr(kind, outcome) + 1)
        setattr(self, outcome, getattr(self, outcome) + 1)

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
    by_hash = {m.hash: m for m in items}
    if not by_hash:
        return 0
    problems: list[Problem] = []
    for i, m in enumerate(by_hash.values()):
        checked_media(m, f"media[{i}]", problems)
    if problems:
        raise CatalogError(problems)
    have = set(
        conn.execute(sa.select(db.media.c.hash).where(db.media.c.hash.in_(list(by_hash)))).scalars()
    )
    new = [m for h, m in by_hash.items() if h not in have]
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
    return {f.column_name: p[f.name] for f in written_fields(wire.PRODUCT) if f.name != "id"}


def product_search_fold(p: dict) -> str:
    """What the console's search matches a product by (derived: written with every row)."""
    return fold(f"{p['name_vi']} {p['name_en']}")


def _check_gtins_free(conn: Connection, products: list[dict]) -> None:
    """A GTIN may go to a product only when no product outside the batch holds it (kiosks
    refuse a page that gives one GTIN to two products): CatalogError naming the field."""
    claimed = {p["gtin"]: i for i, p in enumerate(products) if p["gtin"]}
    in_batch = {p["id"] for p in products}
    problems: list[Problem] = []
    for chunk in _chunks(list(claimed), 900):
        for row in conn.execute(
            sa.select(db.products.c.id, db.products.c.gtin).where(db.products.c.gtin.in_(chunk))
        ):
            if row.id not in in_batch:
                problems.append(
                    problem(
                        ProblemCode.GTIN_TAKEN,
                        f"products[{claimed[row.gtin]}].gtin",
                        gtin=row.gtin,
                        other_id=row.id,
                    )
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
            summary.count(summary.producers, "unchanged")
            continue
        changed_producers.append((p, old is None))
    if changed_producers:
        first = db.reserve(conn, "change_seq", len(changed_producers))
        for i, (p, is_new) in enumerate(changed_producers):
            values = {f: p[f] for f in PRODUCER_FIELDS} | {
                "updated_at": now,
                "seq": first + i,
                "search_fold": fold(p["name"]),
            }
            before = existing_producers.get(p["id"])
            summary.changes.add(
                f"producer:{p['id']}",
                None if before is None else {f: getattr(before, f) for f in PRODUCER_FIELDS},
                {f: p[f] for f in PRODUCER_FIELDS},
            )
            if is_new:
                conn.execute(db.producers.insert().values(id=p["id"], **values))
                summary.count(summary.producers, "created")
            else:
                conn.execute(
                    db.producers.update().where(db.producers.c.id == p["id"]).values(**values)
                )
                summary.count(summary.producers, "updated")
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
        _count_ratings(summary.ratings, old_ratings.get(p["id"], []), p["ratings"])
        if (
            old is not None
            and all(getattr(old, f) == row[f] for f in PRODUCT_FIELDS)
            and old_ratings.get(p["id"], []) == p["ratings"]
        ):
            summary.count(summary.products, "unchanged")
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
            old = existing.get(p["id"])
            summary.changes.add(
                f"product:{p['id']}",
                None
                if old is None
                else {f: getattr(old, f) for f in PRODUCT_FIELDS}
                | {"ratings": old_ratings.get(p["id"], [])},
                {f: row[f] for f in PRODUCT_FIELDS} | {"ratings": p["ratings"]},
            )
            row |= {"updated_at": now, "seq": first + i, "search_fold": product_search_fold(p)}
            if is_new:
                inserts.append({"id": p["id"], **row})
                summary.count(summary.products, "created")
            else:
                conn.execute(db.products.update().where(db.products.c.id == p["id"]).values(**row))
                summary.count(summary.products, "updated")
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


def validate_and_write(conn: Connection, document: dict) -> WriteSummary:
    """Validate a catalog document ({"producers": [...], "products": [...]}) against what
    the registry holds and write it: the one write path of the JSON admin API and the
    console (CatalogError, nothing written, listing every problem)."""
    producers, media_hashes = known_ids(conn)
    batch = validate_catalog(document, known_producers=producers, known_media=media_hashes)
    return write_catalog(conn, batch)


def _count_ratings(counts: KindCounts, old: list[dict], new: list[dict]) -> None:
    """A product's ratings by position: new past the old list's end, else changed or not."""
    for j, rating in enumerate(new):
        if j >= len(old):
            counts.created += 1
        elif old[j] == rating:
            counts.unchanged += 1
        else:
            counts.updated += 1


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


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- reads --------------------------------------------------------------------------------


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


def products_by_id(conn: Connection, product_ids: Iterable[int]) -> dict[int, dict]:
    """The stored products among `product_ids`, in their wire form."""
    ids = sorted(set(product_ids))
    rows = []
    for chunk in _chunks(ids, 900):
        rows += list(conn.execute(sa.select(db.products).where(db.products.c.id.in_(chunk))))
    ratings = ratings_for(conn, [r.id for r in rows])
    return {r.id: product_to_wire(r, ratings.get(r.id, [])) for r in rows}


def producers_by_id(conn: Connection, producer_ids: Iterable[str]) -> dict[str, dict]:
    ids = sorted(set(producer_ids))
    out = {}
    for chunk in _chunks(ids, 900):
        for r in conn.execute(sa.select(db.producers).where(db.producers.c.id.in_(chunk))):
            out[r.id] = producer_to_wire(r)
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
        # One row beyond the page says whether there is more: a kind with exactly `limit`
        # rows left is not cut (no empty last page when the catalog is a multiple of it).
        found = conn.execute(
            sa.select(*columns).where(table.c.seq > since).order_by(table.c.seq).limit(limit + 1)
        ).all()
        rows[name] = list(found[:limit])
        if len(found) > limit:
            cutoffs.append(found[limit - 1].seq)
    cursor = min(cutoffs) if cutoffs else max(head, since)
    for name in rows:
        rows[name] = [r for r in rows[name] if r.seq <= cursor]
    product_ids = [r.id for r in rows["products"]]
    ratings = ratings_for(conn, product_ids)
    return {
        "cursor": cursor,
        "more": bool(cutoffs),
        "producers": [producer_to_wire(r) for r in rows["producers"]],
        "media": [record_to_wire(wire.MEDIA, r) for r in rows["media"]],
        "products": [product_to_wire(r, ratings.get(r.id, [])) for r in rows["products"]],
        "tombstones": [record_to_wire(wire.TOMBSTONE, r) for r in rows["tombstones"]],
    }


def product_exists(conn: Connection, product_id: int) -> bool:
    return (
        conn.execute(sa.select(db.products.c.id).where(db.products.c.id == product_id)).first()
        is not None
    )


def count_products(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(db.products)).scalar_one()


def get_producer(conn: Connection, producer_id: str) -> Row | None:
    return conn.execute(sa.select(db.producers).where(db.producers.c.id == producer_id)).first()


def get_media(conn: Connection, media_hash: str) -> tuple[str, bytes] | None:
    """(mime, content) of one stored picture, or None."""
    row = conn.execute(
        sa.select(db.media.c.mime, db.media.c.content).where(db.media.c.hash == media_hash)
    ).first()
    return None if row is None else (row.mime, bytes(row.content))


# --- the console's reads (registry/routes/console_catalog.py) ------------------------------


@dataclass(frozen=True)
class ProductListRow:
    id: int
    name_vi: str
    name_en: str
    producer_id: str
    producer_name: str
    district: str
    gtin: str | None
    ratings: list[dict]


def _like_folded(text: str) -> str:
    """A LIKE pattern finding the folded `text` anywhere (its own % and _ taken literally)."""
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def current_stars_column():
    """The stars of each product's current rating (newest recognition, then last position:
    registry.catalog.current_rating), as a correlated subquery."""
    r = db.ratings.alias("current_rating")
    return (
        sa.select(r.c.stars)
        .where(r.c.product_id == db.products.c.id)
        .order_by(sa.func.coalesce(r.c.recognised_on, "").desc(), r.c.position.desc())
        .limit(1)
        .scalar_subquery()
    )


def list_products(
    conn: Connection,
    *,
    query: str = "",
    district: str = "",
    stars: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[ProductListRow], int]:
    """One page of products (by folded name, then id) and how many match in all. `query`
    matches the product's names or its producer's name ignoring case and diacritics
    (ocop.text.fold), or, in digits, its id or GTIN."""
    p, pr = db.products, db.producers
    conditions: list[sa.ColumnElement[bool]] = []
    if query.strip():
        pattern = _like_folded(query)
        # The producers are few: their matches first, then one pass over the products.
        by_producer = list(
            conn.execute(
                sa.select(pr.c.id).where(pr.c.search_fold.like(pattern, escape="\\"))
            ).scalars()
        )
        matches: list[sa.ColumnElement[bool]] = [p.c.search_fold.like(pattern, escape="\\")]
        for chunk in _chunks(by_producer, 900):
            matches.append(p.c.producer_id.in_(chunk))
        digits = query.strip()
        if digits.isascii() and digits.isdigit():
            matches.append(p.c.gtin == digits)
            if len(digits) <= 9:
                matches.append(p.c.id == int(digits))
        conditions.append(sa.or_(*matches))
    if district:
        conditions.append(p.c.district == district)
    if stars is not None:
        conditions.append(current_stars_column() == stars)
    joined = p.join(pr, pr.c.id == p.c.producer_id)
    # Every product has its producer (a foreign key): the count needs no join.
    total = conn.execute(sa.select(sa.func.count()).select_from(p).where(*conditions)).scalar_one()
    rows = conn.execute(
        sa.select(
            p.c.id,
            p.c.name_vi,
            p.c.name_en,
            p.c.producer_id,
            pr.c.name.label("producer_name"),
            p.c.district,
            p.c.gtin,
        )
        .select_from(joined)
        .where(*conditions)
        .order_by(p.c.search_fold, p.c.id)
        .offset(offset)
        .limit(limit)
    ).all()
    ratings = ratings_for(conn, [r.id for r in rows])
    return [ProductListRow(**r._asdict(), ratings=ratings.get(r.id, [])) for r in rows], total


@dataclass(frozen=True)
class ProducerListRow:
    id: str
    name: str
    kind: str
    commune: str
    district: str
    phone: str
    contact_person: str
    products: int


def list_producers(
    conn: Connection, *, query: str = "", offset: int = 0, limit: int = 50
) -> tuple[list[ProducerListRow], int]:
    pr, p = db.producers, db.products
    conditions: list[sa.ColumnElement[bool]] = []
    if query.strip():
        conditions.append(pr.c.search_fold.like(_like_folded(query), escape="\\"))
    total = conn.execute(sa.select(sa.func.count()).select_from(pr).where(*conditions)).scalar_one()
    count = (
        sa.select(sa.func.count())
        .select_from(p)
        .where(p.c.producer_id == pr.c.id)
        .scalar_subquery()
    )
    rows = conn.execute(
        sa.select(
            pr.c.id,
            pr.c.name,
            pr.c.kind,
            pr.c.commune,
            pr.c.district,
            pr.c.phone,
            pr.c.contact_person,
            count.label("products"),
        )
        .where(*conditions)
        .order_by(pr.c.search_fold, pr.c.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [ProducerListRow(**r._asdict()) for r in rows], total


def producer_choices(conn: Connection) -> list[tuple[str, str]]:
    """(id, name) of every producer, for a product's producer menu."""
    pr = db.producers
    return [
        (r.id, r.name)
        for r in conn.execute(sa.select(pr.c.id, pr.c.name).order_by(pr.c.search_fold, pr.c.id))
    ]


def contact_person(conn: Connection, producer_id: str) -> str:
    found = conn.execute(
        sa.select(db.producers.c.contact_person).where(db.producers.c.id == producer_id)
    ).scalar()
    return found or ""


def set_contact_person(conn: Connection, producer_id: str, name: str) -> bool:
    """The office's contact at a producer (office-only: not in the wire, no change seq)."""
    changed = conn.execute(
        db.producers.update()
        .where(db.producers.c.id == producer_id, db.producers.c.contact_person != name)
        .values(contact_person=name)
    )
    return changed.rowcount > 0


def subgroups_in_use(conn: Connection) -> list[str]:
    p = db.products
    return list(
        conn.execute(
            sa.select(p.c.subgroup).where(p.c.subgroup != "").distinct().order_by(p.c.subgroup)
        ).scalars()
    )


def next_product_id(conn: Connection) -> int:
    """A product id never used before: past every product, deleted product (tombstone) and
    stamp block (a stamp names its product id for good)."""
    t = db.tombstones
    highest = [
        conn.execute(sa.select(sa.func.max(db.products.c.id))).scalar(),
        conn.execute(sa.select(sa.func.max(db.stamp_blocks.c.product_id))).scalar(),
        conn.execute(
            sa.select(sa.func.max(sa.cast(t.c.entity_id, sa.Integer))).where(
                t.c.kind == wire.TombstoneKind.PRODUCT.value
            )
        ).scalar(),
    ]
    return max([h for h in highest if h is not None], default=100) + 1


@dataclass(frozen=True)
class IssuedBlock:
    first_serial: int
    last_serial: int
    count: int


def issued_blocks(conn: Connection, product_id: int) -> list[IssuedBlock]:
    """The stamp blocks signed for a product (what its stamps' serials are)."""
    b = db.stamp_blocks
    return [
        IssuedBlock(r.first_serial, r.last_serial, r[2])
        for r in conn.execute(
            sa.select(b.c.first_serial, b.c.last_serial, b.c.count)
            .where(b.c.product_id == product_id)
            .order_by(b.c.first_serial)
        )
    ]
