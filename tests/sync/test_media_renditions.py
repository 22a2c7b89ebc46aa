"""Sync makes display renditions of the pictures it stores (kiosk.media_renditions)."""

from __future__ import annotations

import io
import uuid

from PIL import Image

from kiosk.catalog import Catalog
from kiosk.media_renditions import RenditionSize, rendition_path

API = "/api/v1"


def test_sync_makes_renditions_of_a_producer_photo(registry, make_kiosk):
    photo = io.BytesIO()
    Image.new("RGB", (4000, 3000), (30, 120, 40)).save(photo, "JPEG", quality=85)
    reply = registry.admin(
        "POST", f"{API}/admin/media", data=photo.getvalue(), headers={"Content-Type": "image/jpeg"}
    )
    assert reply.ok, reply.text
    digest = reply.json()["hash"]
    product_id = 700_000 + uuid.uuid4().int % 100_000
    assert registry.admin(
        "PUT",
        f"{API}/admin/products/{product_id}",
        json={
            "name_vi": "Ảnh thật",
            "group": 1,
            "producer": "htx-bich-thao",
            "image_hash": digest,
            "ratings": [{"stars": 3, "recognised_on": "2025-01-10"}],
        },
    ).ok

    kiosk = make_kiosk(registry)
    report, _ = kiosk.engine.sync_once()
    assert report.ok, report.error
    assert Catalog(kiosk.store).product(product_id).image_hash == digest
    for size in RenditionSize:
        with Image.open(rendition_path(kiosk.data_dir, digest, size)) as img:
            assert img.size == (size.max_side_px, size.max_side_px * 3 // 4)
    # The registry's demo placeholders (480x360) get a thumbnail; they fit a card as they are.
    demo_hash = Catalog(kiosk.store).product(101).image_hash
    assert rendition_path(kiosk.data_dir, demo_hash, RenditionSize.THUMB).exists()
