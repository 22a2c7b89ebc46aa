"""What an applied catalog reply must have left in the kiosk's tables: the rows say what
the reply said (shared by the validate and fuzz tests, whose accepted cases must show it)."""

from __future__ import annotations

from ocop.gtin import normalize_gtin
from ocop.text import nfc


def assert_rows_say(query_one, reply: dict) -> None:
    """query_one(sql, params) -> a row: a Store's, or a connection's inside a transaction."""
    for p in reply["products"]:
        row = query_one("SELECT name_vi, producer_id, gtin FROM products WHERE id = ?", (p["id"],))
        assert row is not None, f"product {p['id']} not stored"
        assert tuple(row) == (
            nfc(p["name_vi"]),
            p["producer"],
            normalize_gtin(p["gtin"]) if p.get("gtin") else None,
        ), p
        ratings = query_one("SELECT count(*) FROM ratings WHERE product_id = ?", (p["id"],))
        assert ratings[0] == len(p["ratings"]), p
    for p in reply["producers"]:
        row = query_one("SELECT name FROM producers WHERE id = ?", (p["id"],))
        assert row is not None and row[0] == nfc(p["name"]), p
    for t in reply["tombstones"]:
        if t["kind"] == "product":
            assert query_one("SELECT 1 FROM products WHERE id = ?", (int(t["id"]),)) is None
