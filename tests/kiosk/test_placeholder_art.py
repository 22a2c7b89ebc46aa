"""Demo placeholder pictures: one drawn icon per product sub-group (a coffee bean is coffee,
not every food), in the group's colours, with no text in the picture (the screen captions it
in its own language: tests/ui/test_kiosk_ui.py)."""

from __future__ import annotations

import io
import itertools

from PIL import Image, ImageChops

from kiosk.demo.placeholder_art import GROUP_ICONS, IconKind, icon_for, placeholder_png
from kiosk.demo.seed import load_demo_catalog
from ocop.ratings import GROUP_NAMES

EXPECTED = {  # the demo catalog's sub-groups
    "coffee": IconKind.COFFEE,
    "tea": IconKind.TEA,
    "rice": IconKind.RICE,
    "honey": IconKind.HONEY,
    "dairy": IconKind.DAIRY,
    "fresh fruit": IconKind.FRUIT,
    "fresh produce": IconKind.VEGETABLES,
    "processed fruit": IconKind.DRIED_FRUIT,
    "processed fish": IconKind.FISH,
    "processed meat": IconKind.MEAT,
    "processed": IconKind.PROCESSED,  # black garlic
    "alcoholic": IconKind.WINE,
    "herbal product": IconKind.HERBS,
    "community tourism": IconKind.TOURISM,
}


def _pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_every_demo_product_gets_its_sub_groups_icon():
    products = load_demo_catalog()["products"]
    assert {p["subgroup"] for p in products} == set(EXPECTED)
    for p in products:
        assert icon_for(p["group"], p["subgroup"]) == EXPECTED[p["subgroup"]], p["name_en"]


def test_vietnamese_sub_groups_and_the_groups_without_a_known_sub_group():
    assert icon_for(1, "Chè Shan tuyết") == IconKind.TEA
    assert icon_for(1, "cà phê") == IconKind.COFFEE
    assert icon_for(1, "mật ong") == IconKind.HONEY
    assert icon_for(2, "rượu") == IconKind.WINE
    assert icon_for(2, "nước ép") == IconKind.JUICE
    assert icon_for(4, "thổ cẩm") == IconKind.TEXTILE
    assert icon_for(4, "mây tre đan") == IconKind.CRAFT
    assert icon_for(5, "hoa lan") == IconKind.PLANT
    assert icon_for(1, "cascara") == IconKind.FOOD  # a whole word only: "ca" is not fish
    assert set(GROUP_ICONS) == set(GROUP_NAMES)  # every Decision 148 group has its icon
    assert {icon_for(g, "") for g in GROUP_NAMES} == set(GROUP_ICONS.values())


def test_different_sub_groups_draw_different_pictures():
    pictures = {
        kind: _pixels(placeholder_png(group, subgroup))
        for (group, subgroup), kind in {
            (1, "coffee"): IconKind.COFFEE,
            (1, "tea"): IconKind.TEA,
            (1, "rice"): IconKind.RICE,
            (1, "honey"): IconKind.HONEY,
            (1, "processed meat"): IconKind.MEAT,
            (1, "fresh fruit"): IconKind.FRUIT,
            (1, "fresh produce"): IconKind.VEGETABLES,
            (1, "processed"): IconKind.PROCESSED,
            (2, "alcoholic"): IconKind.WINE,
            (2, "juice"): IconKind.JUICE,
            (3, "herbal product"): IconKind.HERBS,
            (4, "weaving"): IconKind.TEXTILE,
            (4, "craft"): IconKind.CRAFT,
            (5, "orchid"): IconKind.PLANT,
            (6, "community tourism"): IconKind.TOURISM,
        }.items()
    }
    for (a, pa), (b, pb) in itertools.combinations(pictures.items(), 2):
        diff = ImageChops.difference(pa, pb).convert("L").point(lambda v: 255 if v > 40 else 0)
        changed = sum(diff.histogram()[255:])
        assert changed > 1500, (a, b, changed)  # a visibly different drawing, not noise
    # the same sub-group is the same picture: one file and its renditions for all of them
    assert placeholder_png(1, "tea") == placeholder_png(1, "Tea")


def test_the_picture_has_no_text_and_is_the_same_in_every_language():
    """The old picture wrote "Ảnh minh hoạ · Placeholder image" and the group in English
    into its pixels; now it takes no language and no title at all."""
    import inspect

    assert list(inspect.signature(placeholder_png).parameters) == ["group", "subgroup"]
    picture = _pixels(placeholder_png(1, "coffee"))
    band = picture.crop((0, 300, picture.width, picture.height))  # where the old text was
    assert len(band.getcolors() or ()) == 1  # plain background: no letters drawn


def test_the_seeded_store_holds_these_pictures(demo_store, data_dir):
    from kiosk.media import media_path

    products = {p["id"]: p for p in load_demo_catalog()["products"]}
    rows = demo_store.query("SELECT id, image_hash FROM products WHERE is_demo = 1")
    assert rows
    for product_id, image_hash in rows:
        p = products[product_id]
        path = media_path(data_dir, image_hash, "image/png")
        assert path.read_bytes() == placeholder_png(p["group"], p["subgroup"])
