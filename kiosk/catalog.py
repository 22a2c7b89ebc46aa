"""Product catalog queries and the product view-model the CLI, UI and stamp verdicts share.

Star rule (Decision 1162/QĐ-VPĐP-OCOP): stars may be shown only while the rating is valid:
recognised at 3-5 stars, not revoked, and `valid_until` (recognised + 36 months unless the
decision says otherwise) not passed. `ProductView.stars` is None otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import asdict, dataclass

from kiosk.store import Store
from kiosk.trusted_time import clock_for
from ocop.gtin import normalize_gtin
from ocop.ratings import GROUP_NAMES, RatingStatus, effective_rating_status
from ocop.text import fold


@dataclass(frozen=True)
class ProductView:
    id: int
    gtin: str | None
    name_vi: str
    name_en: str
    group: int
    group_vi: str
    group_en: str
    subgroup: str
    producer_id: str
    producer: str
    producer_address: str  # "" when the registry has none
    producer_phone: str
    commune: str
    district: str
    description_vi: str
    description_en: str
    story_vi: str
    story_en: str
    image_hash: str | None
    featured: bool
    is_demo: bool
    stars: int | None  # None unless the rating is valid now
    rating_stars_on_record: int | None
    rating_level: str
    rating_body: str
    rating_decision_no: str
    rating_recognised_on: str | None
    rating_valid_until: str | None
    rating_status: str  # RatingStatus value

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name_vi

    def story(self, language: str) -> str:
        return self.story_en if language == "en" and self.story_en else self.story_vi

    def group_name(self, language: str) -> str:
        return self.group_en if language == "en" else self.group_vi

    def to_json(self) -> dict:
        data = asdict(self)
        data["rating_year"] = (
            int(self.rating_recognised_on[:4]) if self.rating_recognised_on else None
        )
        return data


# The newest rating per product (by recognition date, then id).
_PRODUCT_SQL = """
SELECT p.*, pr.name AS producer_name, pr.address AS producer_address, pr.phone AS producer_phone,
       r.stars AS r_stars, r.level AS r_level, r.body AS r_body, r.decision_no AS r_decision,
       r.recognised_on AS r_recognised_on, r.valid_until AS r_valid_until, r.status AS r_status
FROM products p
JOIN producers pr ON pr.id = p.producer_id
LEFT JOIN ratings r ON r.id = (
    SELECT r2.id FROM ratings r2 WHERE r2.product_id = p.id
    ORDER BY r2.recognised_on DESC, r2.id DESC LIMIT 1)
"""


def _view(row: sqlite3.Row, today: dt.date) -> ProductView:
    status = effective_rating_status(
        row["r_status"], row["r_stars"], row["r_valid_until"], today, row["r_recognised_on"]
    )
    group_vi, group_en = GROUP_NAMES.get(row["group_code"], ("", ""))
    return ProductView(
        id=row["id"],
        gtin=row["gtin"],
        name_vi=row["name_vi"],
        name_en=row["name_en"],
        group=row["group_code"],
        group_vi=group_vi,
        group_en=group_en,
        subgroup=row["subgroup"],
        producer_id=row["producer_id"],
        producer=row["producer_name"],
        producer_address=row["producer_address"],
        producer_phone=row["producer_phone"],
        commune=row["commune"],
        district=row["district"],
        description_vi=row["description_vi"],
        description_en=row["description_en"],
        story_vi=row["story_vi"],
        story_en=row["story_en"],
        image_hash=row["image_hash"],
        featured=bool(row["featured"]),
        is_demo=bool(row["is_demo"]),
        stars=row["r_stars"] if status is RatingStatus.VALID else None,
        rating_stars_on_record=row["r_stars"],
        rating_level=row["r_level"] or "",
        rating_body=row["r_body"] or "",
        rating_decision_no=row["r_decision"] or "",
        rating_recognised_on=row["r_recognised_on"],
        rating_valid_until=row["r_valid_until"],
        rating_status=status.value,
    )


RELATED_LIMIT = 4  # related products on a card: one short row of names

_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """User text -> a safe FTS5 query: folded tokens, each a prefix match, all required."""
    tokens = _FTS_TOKEN.findall(fold(text))
    if not tokens:
        return None
    return " ".join(f'"{t}"*' for t in tokens[:12])


class Catalog:
    """Read side of the catalog. `today` (a fixed day) or `clock` (anything with .today())
    is injectable so tests and demos are reproducible; by default the store's trusted clock
    (kiosk.trusted_time: a clock reset at boot cannot make an expired rating valid again)."""

    def __init__(self, store: Store, today: dt.date | None = None, clock=None):
        self.store = store
        self._today = today
        self._clock = clock

    @property
    def today(self) -> dt.date:
        return self._today or (self._clock or clock_for(self.store)).today()

    def _many(
        self,
        where: str = "",
        params: tuple = (),
        order: str = "p.id",
        limit: int | None = None,
        order_params: tuple = (),
    ) -> list[ProductView]:
        sql = _PRODUCT_SQL + (f" WHERE {where}" if where else "") + f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        today = self.today
        return [_view(r, today) for r in self.store.query(sql, params + order_params)]

    def product(self, product_id: int) -> ProductView | None:
        found = self._many("p.id = ?", (product_id,))
        return found[0] if found else None

    def by_gtin(self, gtin: str) -> ProductView | None:
        found = self._many("p.gtin = ?", (normalize_gtin(gtin),))
        return found[0] if found else None

    def featured(self, limit: int = 24) -> list[ProductView]:
        return self._many("p.featured = 1", order="p.id", limit=limit)

    def all(self, limit: int | None = None) -> list[ProductView]:
        return self._many(limit=limit)

    def by_district(self, district: str, group: int | None = None) -> list[ProductView]:
        if group is None:
            return self._many("p.district = ?", (district,), order="p.name_vi")
        return self._many(
            "p.district = ? AND p.group_code = ?", (district, group), order="p.name_vi"
        )

    def by_group(self, group: int) -> list[ProductView]:
        return self._many("p.group_code = ?", (group,), order="p.name_vi")

    def districts(self) -> list[tuple[str, int]]:
        rows = self.store.query(
            "SELECT district, count(*) AS n FROM products "
            "WHERE district != '' GROUP BY district ORDER BY district"
        )
        return [(r["district"], r["n"]) for r in rows]

    def groups(self) -> list[tuple[int, int]]:
        rows = self.store.query(
            "SELECT group_code, count(*) AS n FROM products GROUP BY group_code ORDER BY group_code"
        )
        return [(r["group_code"], r["n"]) for r in rows]

    def search(self, text: str, limit: int = 50) -> list[ProductView]:
        """Diacritic- and case-insensitive ranked search ('moc chau' finds 'Mộc Châu')."""
        query = fts_query(text)
        if query is None:
            return []
        rows = self.store.query(
            "SELECT rowid FROM products_fts WHERE products_fts MATCH ? "
            "ORDER BY bm25(products_fts) LIMIT ?",
            (query, int(limit)),
        )
        ids = [r[0] for r in rows]
        if not ids:
            return []
        by_id = {p.id: p for p in self._many(f"p.id IN ({','.join('?' * len(ids))})", tuple(ids))}
        return [by_id[i] for i in ids if i in by_id]

    def related(self, product: ProductView, limit: int = RELATED_LIMIT) -> list[ProductView]:
        """Other products a shopper holding `product` may look for: the same producer's
        first, then the same commune's (by name); never the product itself."""
        return self._many(
            "p.id != ? AND (p.producer_id = ? OR (p.commune != '' AND p.commune = ? "
            "AND p.district = ?))",
            (product.id, product.producer_id, product.commune, product.district),
            order="(p.producer_id != ?), p.name_vi, p.id",
            limit=limit,
            order_params=(product.producer_id,),
        )

    def count(self) -> int:
        return self.store.query_value("SELECT count(*) FROM products")


def product_search_text(
    name_vi: str,
    name_en: str,
    producer: str,
    commune: str,
    district: str,
    subgroup: str,
    group_code: int,
) -> str:
    """What the search index holds for a product: folded names and places."""
    group_vi, group_en = GROUP_NAMES.get(group_code, ("", ""))
    return fold(
        " ".join([name_vi, name_en, producer, commune, district, subgroup, group_vi, group_en])
    )
