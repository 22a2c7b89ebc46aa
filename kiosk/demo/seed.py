"""Load the demo catalog (real Sơn La OCOP products, see catalog.json) into a store."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from kiosk.catalog_write import replace_ratings, upsert_producer, upsert_product
from kiosk.demo.placeholder_art import placeholder_png
from kiosk.demo.state import set_demo_flag
from kiosk.media import media_path, store_media
from kiosk.media_renditions import make_renditions
from kiosk.store import Store

PLACEHOLDER_DATE = "06-30"  # only the year of recognition is reported
BODY_BY_STARS = {
    3: "UBND huyện",
    4: "UBND tỉnh Sơn La",
    5: "Bộ Nông nghiệp và Phát triển nông thôn",
}


def load_demo_catalog() -> dict:
    text = resources.files("kiosk.demo").joinpath("catalog.json").read_text(encoding="utf-8")
    return json.loads(text)


def seed_demo_catalog(store: Store, data_dir: Path) -> int:
    """Insert or refresh the demo catalog in one transaction; returns the product count."""
    catalog = load_demo_catalog()
    producers = {p["id"]: p for p in catalog["producers"]}
    image_hashes = []
    with store.transaction() as conn:
        for producer in catalog["producers"]:
            upsert_producer(conn, producer)
        for product in catalog["products"]:
            producer = producers[product["producer"]]
            image_hash = store_media(
                conn,
                data_dir,
                placeholder_png(product["group"], product["subgroup"]),
                "image/png",
                origin="demo_placeholder",
            )
            image_hashes.append(image_hash)
            upsert_product(
                conn,
                {
                    **product,
                    "commune": producer.get("commune", ""),
                    "district": producer["district"],
                    "is_demo": True,
                    "image_hash": image_hash,
                },
            )
            replace_ratings(
                conn,
                product["id"],
                [demo_rating(r, producer["district"]) for r in product["ratings"]],
            )
        set_demo_flag(store, conn, True)
    for image_hash in dict.fromkeys(
        image_hashes
    ):  # after the commit: not while holding the write lock
        make_renditions(data_dir, media_path(data_dir, image_hash, "image/png"), image_hash)
    return len(catalog["products"])


def demo_rating(rating: dict, district: str) -> dict:
    """A catalog.json rating as a store/wire rating: the body that decides each level, the
    demo decision number (invented, see catalog.json's _about), the placeholder date.
    Shared with `ocop-registry serve --demo`."""
    stars = rating["stars"]
    body = BODY_BY_STARS.get(stars, "")
    if stars == 3:
        body = (
            f"UBND huyện {district}" if district != "Thành phố Sơn La" else "UBND thành phố Sơn La"
        )
    return {
        "stars": stars,
        "body": body,
        "decision_no": rating.get("decision_no", ""),
        "recognised_on": f"{rating['year']}-{rating.get('month_day', PLACEHOLDER_DATE)}",
    }
