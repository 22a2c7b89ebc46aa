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
from registry import db
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
            values = {f: p[f] for f in PRODUCER_FIELDS} | {"updated_at": now, "seq": first + i}
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
            row |= {"updated_at": now, "seq": first + i}
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
