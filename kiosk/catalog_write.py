"""Writing catalog rows: used by demo init, sync (registry deltas) and tests.

Callers pass an open connection inside their own transaction, so a whole delta is applied
or nothing is (see kiosk.store.Store.transaction).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any, Mapping

from ocop.clock import utc_now_iso
from kiosk.catalog import product_search_text
from ocop.ratings import LEVEL_BY_STARS, default_valid_until
from ocop.gtin import normalize_gtin
from ocop.text import nfc

PRODUCER_KINDS = ("company", "cooperative", "coop_group", "household", "other")


def upsert_producer(conn: sqlite3.Connection, producer: Mapping[str, Any]) -> None:
    conn.execute(
        "INSERT INTO producers(id, name, kind, commune, district, address, phone, updated_at) "
        "VALUES (:id, :name, :kind, :commune, :district, :address, :phone, :updated_at) "
        "ON CONFLICT(id) DO UPDATE SET name=excluded.name, kind=excluded.kind, "
        "commune=excluded.commune, district=excluded.district, address=excluded.address, "
        "phone=excluded.phone, updated_at=excluded.updated_at",
        {"id": producer["id"], "name": nfc(producer["name"]),
         "kind": producer.get("kind") or "other",
         "commune": nfc(producer.get("commune") or ""),
         "district": nfc(producer.get("district") or ""),
         "address": nfc(producer.get("address") or ""), "phone": producer.get("phone") or "",
         "updated_at": producer.get("updated_at") or utc_now_iso()})
    # Keep the search text of this producer's products in step with a renamed producer.
    for row in conn.execute("SELECT id FROM products WHERE producer_id = ?",
                            (producer["id"],)).fetchall():
        _refresh_search_text(conn, row[0])


def upsert_product(conn: sqlite3.Connection, product: Mapping[str, Any]) -> None:
    """Insert or update one product (fields as in the products table; `group` or
    `group_code`; `producer` or `producer_id`)."""
    values = {
        "id": int(product["id"]),
        "gtin": normalize_gtin(product["gtin"]) if product.get("gtin") else None,
        "name_vi": nfc(product["name_vi"]),
        "name_en": nfc(product.get("name_en") or ""),
        "group_code": int(product.get("group_code") or product.get("group")),
        "subgroup": nfc(product.get("subgroup") or ""),
        "description_vi": nfc(product.get("description_vi") or ""),
        "description_en": nfc(product.get("description_en") or ""),
        "story_vi": nfc(product.get("story_vi") or ""),
        "story_en": nfc(product.get("story_en") or ""),
        "commune": nfc(product.get("commune") or ""),
        "district": nfc(product.get("district") or ""),
        "producer_id": product.get("producer_id") or product.get("producer"),
        "image_hash": product.get("image_hash") or None,
        "featured": 1 if product.get("featured") else 0,
        "is_demo": 1 if product.get("is_demo") else 0,
        "updated_at": product.get("updated_at") or utc_now_iso(),
    }
    columns = list(values)
    updates = ", ".join(f"{c}=excluded.{c}" for c in columns if c != "id")
    conn.execute(
        f"INSERT INTO products({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT(id) DO UPDATE SET {updates}", values)
    _refresh_search_text(conn, values["id"])


def _refresh_search_text(conn: sqlite3.Connection, product_id: int) -> None:
    row = conn.execute(
        "SELECT p.name_vi, p.name_en, pr.name, p.commune, p.district, p.subgroup, p.group_code "
        "FROM products p JOIN producers pr ON pr.id = p.producer_id WHERE p.id = ?",
        (product_id,)).fetchone()
    if row is not None:
        conn.execute("UPDATE products SET search_text = ? WHERE id = ?",
                     (product_search_text(*row), product_id))


def replace_ratings(conn: sqlite3.Connection, product_id: int,
                    ratings: list[Mapping[str, Any]]) -> None:
    """Replace a product's rating history. Each rating: stars (or None), recognised_on,
    optional valid_until (default + 36 months), level, body, decision_no, status."""
    conn.execute("DELETE FROM ratings WHERE product_id = ?", (product_id,))
    for rating in ratings:
        stars = rating.get("stars")
        recognised = rating.get("recognised_on")
        valid_until = rating.get("valid_until")
        if valid_until is None and recognised:
            valid_until = default_valid_until(dt.date.fromisoformat(recognised)).isoformat()
        conn.execute(
            "INSERT INTO ratings(product_id, stars, level, body, decision_no, recognised_on, "
            "valid_until, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (product_id, stars, rating.get("level") or LEVEL_BY_STARS.get(stars, ""),
             nfc(rating.get("body") or ""), rating.get("decision_no") or "", recognised,
             valid_until, rating.get("status") or "valid"))


def delete_product(conn: sqlite3.Connection, product_id: int) -> None:
    conn.execute("DELETE FROM products WHERE id = ?", (product_id,))


def apply_catalog_changes(conn: sqlite3.Connection, producers: list[Mapping[str, Any]],
                          products: list[Mapping[str, Any]],
                          tombstones: list[Mapping[str, Any]]) -> None:
    """One checked registry delta (kiosk.sync.validate.check_changes), in the caller's
    transaction; the pictures it refers to must be stored already.

    Product deletions and the GTINs of the products in the delta go first, so a GTIN moved
    between two products (or taken over from a deleted one) never meets itself in the
    UNIQUE index, in whatever order the delta lists them. A producer is deleted last, and
    only when no product refers to it any more."""
    for t in tombstones:
        if t["kind"] == "product":
            delete_product(conn, int(t["id"]))
    conn.executemany("UPDATE products SET gtin = NULL WHERE id = ? AND gtin IS NOT NULL",
                     [(p["id"],) for p in products])
    for p in producers:
        upsert_producer(conn, p)
    for p in products:
        upsert_product(conn, p)
        replace_ratings(conn, p["id"], p["ratings"])
    for t in tombstones:
        if t["kind"] == "producer":
            conn.execute("DELETE FROM producers WHERE id = ? AND NOT EXISTS "
                         "(SELECT 1 FROM products WHERE producer_id = ?)", (t["id"], t["id"]))

