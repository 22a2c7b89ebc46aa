"""Writing catalog rows: used by demo init, sync (registry deltas) and tests.

Callers pass an open connection inside their own transaction, so a whole delta is applied
or nothing is (see kiosk.store.Store.transaction).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from typing import Any

from kiosk.catalog import product_search_text
from ocop import wire
from ocop.clock import utc_now_iso
from ocop.gtin import normalize_gtin
from ocop.ratings import LEVEL_BY_STARS, default_valid_until
from ocop.text import nfc


def _stored(record: wire.Record, row: Mapping[str, Any]) -> dict[str, Any]:
    """One record's table values: every wire field under its column name (the wire name or
    the column name is accepted: `group` or `group_code`), absent, null and "" values as the
    field's default, text in NFC."""
    values: dict[str, Any] = {}
    for f in record.stored:
        value = row.get(f.name)
        if value is None and f.column:
            value = row.get(f.column)
        if value is None or value == "":
            value = f.default
        if isinstance(value, str) and f.kind in (wire.Kind.LINE, wire.Kind.TEXT):
            value = nfc(value)
        elif f.kind is wire.Kind.BOOL:
            value = 1 if value else 0
        elif f.kind is wire.Kind.INT and value is not None:
            value = int(value)
        elif f.kind is wire.Kind.GTIN and value is not None:
            value = normalize_gtin(value)
        values[f.column_name] = value
    return values


def _upsert(conn: sqlite3.Connection, table: str, values: Mapping[str, Any]) -> None:
    columns = list(values)
    updates = ", ".join(f"{c}=excluded.{c}" for c in columns if c != "id")
    conn.execute(
        f"INSERT INTO {table}({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT(id) DO UPDATE SET {updates}",
        values,
    )


def upsert_producer(conn: sqlite3.Connection, producer: Mapping[str, Any]) -> None:
    values = _stored(wire.PRODUCER, producer)
    values["updated_at"] = values["updated_at"] or utc_now_iso()
    _upsert(conn, "producers", values)
    # Keep the search text of this producer's products in step with a renamed producer.
    for row in conn.execute(
        "SELECT id FROM products WHERE producer_id = ?", (values["id"],)
    ).fetchall():
        _refresh_search_text(conn, row[0])


def upsert_product(conn: sqlite3.Connection, product: Mapping[str, Any]) -> None:
    """Insert or update one product (the fields of ocop.wire.PRODUCT; `group` or
    `group_code`; `producer` or `producer_id`)."""
    values = _stored(wire.PRODUCT, product)
    values["updated_at"] = values["updated_at"] or utc_now_iso()
    _upsert(conn, "products", values)
    _refresh_search_text(conn, values["id"])


def _refresh_search_text(conn: sqlite3.Connection, product_id: int) -> None:
    row = conn.execute(
        "SELECT p.name_vi, p.name_en, pr.name, p.commune, p.district, p.subgroup, p.group_code "
        "FROM products p JOIN producers pr ON pr.id = p.producer_id WHERE p.id = ?",
        (product_id,),
    ).fetchone()
    if row is not None:
        conn.execute(
            "UPDATE products SET search_text = ? WHERE id = ?",
            (product_search_text(*row), product_id),
        )


def replace_ratings(
    conn: sqlite3.Connection, product_id: int, ratings: list[Mapping[str, Any]]
) -> None:
    """Replace a product's rating history. Each rating: stars (or None), recognised_on,
    optional valid_until (default + 36 months), level, body, decision_no, status."""
    conn.execute("DELETE FROM ratings WHERE product_id = ?", (product_id,))
    for rating in ratings:
        values = _stored(wire.RATING, rating)
        if values["valid_until"] is None and values["recognised_on"]:
            recognised = dt.date.fromisoformat(values["recognised_on"])
            values["valid_until"] = default_valid_until(recognised).isoformat()
        values["level"] = values["level"] or LEVEL_BY_STARS.get(values["stars"], "")
        conn.execute(
            f"INSERT INTO ratings(product_id, {', '.join(values)}) "
            f"VALUES (:product_id, {', '.join(':' + c for c in values)})",
            {"product_id": product_id, **values},
        )


def delete_product(conn: sqlite3.Connection, product_id: int) -> None:
    conn.execute("DELETE FROM products WHERE id = ?", (product_id,))


def apply_catalog_changes(
    conn: sqlite3.Connection,
    producers: list[Mapping[str, Any]],
    products: list[Mapping[str, Any]],
    tombstones: list[Mapping[str, Any]],
) -> None:
    """One checked registry delta (kiosk.sync.validate.check_changes), in the caller's
    transaction; the pictures it refers to must be stored already.

    Product deletions and the GTINs of the products in the delta go first, so a GTIN moved
    between two products (or taken over from a deleted one) never meets itself in the
    UNIQUE index, in whatever order the delta lists them. A producer is deleted last, and
    only when no product refers to it any more."""
    for t in tombstones:
        if t["kind"] == "product":
            delete_product(conn, int(t["id"]))
    conn.executemany(
        "UPDATE products SET gtin = NULL WHERE id = ? AND gtin IS NOT NULL",
        [(p["id"],) for p in products],
    )
    for p in producers:
        upsert_producer(conn, p)
    for p in products:
        upsert_product(conn, p)
        replace_ratings(conn, p["id"], p["ratings"])
    for t in tombstones:
        if t["kind"] == "producer":
            conn.execute(
                "DELETE FROM producers WHERE id = ? AND NOT EXISTS "
                "(SELECT 1 FROM products WHERE producer_id = ?)",
                (t["id"], t["id"]),
            )
