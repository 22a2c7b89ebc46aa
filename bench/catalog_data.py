"""A generated catalog of N products (real Sơn La places and product words) for benchmarks."""

from __future__ import annotations

import random

from kiosk.catalog_write import replace_ratings, upsert_producer, upsert_product
from kiosk.store import Store
from ocop.gtin import gtin_check_digit

DISTRICTS = [
    "Thành phố Sơn La",
    "Quỳnh Nhai",
    "Thuận Châu",
    "Mường La",
    "Bắc Yên",
    "Phù Yên",
    "Mộc Châu",
    "Vân Hồ",
    "Yên Châu",
    "Mai Sơn",
    "Sông Mã",
    "Sốp Cộp",
]
WORDS = [
    "Cà phê",
    "Chè",
    "Trà",
    "Mận",
    "Xoài",
    "Mật ong",
    "Gạo nếp",
    "Tỏi đen",
    "Rượu",
    "Sữa chua",
    "Chả cá",
    "Thịt trâu",
    "Măng",
    "Nấm",
    "Cam",
    "Nhãn",
    "Na",
    "Sâm",
]
ADJECTIVES = ["sấy dẻo", "hữu cơ", "rang xay", "shan tuyết", "đặc sản", "gác bếp", "nguyên chất"]


def gtin_for(index: int) -> str:
    body = f"2{index:011d}"
    return body + str(gtin_check_digit(body))


def generate_catalog(store: Store, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with store.transaction() as conn:
        for d, district in enumerate(DISTRICTS):
            upsert_producer(
                conn,
                {
                    "id": f"p{d}",
                    "name": f"HTX {district}",
                    "kind": "cooperative",
                    "district": district,
                },
            )
        for i in range(1, count + 1):
            d = rng.randrange(len(DISTRICTS))
            name = f"{rng.choice(WORDS)} {rng.choice(ADJECTIVES)} {DISTRICTS[d]} {i}"
            upsert_product(
                conn,
                {
                    "id": i,
                    "gtin": gtin_for(i),
                    "name_vi": name,
                    "name_en": f"Product {i}",
                    "group": rng.randint(1, 6),
                    "producer": f"p{d}",
                    "district": DISTRICTS[d],
                    "featured": i % 50 == 0,
                },
            )
            year = rng.randint(2020, 2025)
            replace_ratings(
                conn, i, [{"stars": rng.randint(3, 5), "recognised_on": f"{year}-06-30"}]
            )
