"""Honest placeholder pictures for demo products: a colour per product group (Decision 148)
and a simple drawn icon per sub-group (a coffee bean for coffee, a tea leaf for tea, a jar
for honey, ...). No invented photographs, and no text: the picture is the same in every
language, so one file and its renditions serve both; the screen captions it "Ảnh minh họa"
/ "Illustration" in its own language (ProductCardViewModel.image_caption)."""

from __future__ import annotations

import enum
import io
import math
import unicodedata

from PIL import Image, ImageDraw

SIZE_PX = (480, 360)
# Background, icon colour per Decision 148 group (ocop.ratings.GROUP_NAMES).
GROUP_COLOURS = {
    1: ((246, 226, 196), (150, 90, 40)),  # food: warm brown
    2: ((214, 232, 246), (40, 90, 150)),  # beverages: blue
    3: ((218, 240, 214), (50, 120, 60)),  # herbal: green
    4: ((240, 226, 214), (130, 80, 50)),  # handicrafts: clay
    5: ((246, 218, 232), (160, 50, 110)),  # ornamental: pink
    6: ((220, 236, 232), (40, 110, 100)),  # tourism: teal
}


class IconKind(enum.Enum):
    COFFEE = "coffee"  # a coffee bean
    TEA = "tea"  # a tea leaf on its stem
    RICE = "rice"  # a bowl of rice
    FRUIT = "fruit"  # a round fruit with a leaf
    DRIED_FRUIT = "dried fruit"  # fruit slices
    HONEY = "honey"  # a honey jar with a honeycomb cell
    MEAT = "meat"  # a drumstick
    FISH = "fish"
    DAIRY = "dairy"  # a milk bottle
    VEGETABLES = "vegetables"  # a carrot
    PROCESSED = "processed"  # a preserving jar (garlic, pickles, other processed food)
    FOOD = "food"  # a plate with a fork: food of no known sub-group
    WINE = "wine"  # a bottle and a glass
    JUICE = "juice"  # a glass with a straw
    HERBS = "herbs"  # three leaves
    TEXTILE = "textile"  # a woven cloth
    CRAFT = "craft"  # a basket
    PLANT = "plant"  # a flower in its pot
    TOURISM = "tourism"  # mountains and the sun


# Sub-group words (English, and Vietnamese without diacritics) -> icon, first match wins:
# "processed fruit" is dried fruit before it is fruit or processed food.
SUBGROUP_WORDS: tuple[tuple[tuple[str, ...], IconKind], ...] = (
    (("coffee", "ca phe"), IconKind.COFFEE),
    (("tea", "che", "tra"), IconKind.TEA),
    (("rice", "gao", "nep"), IconKind.RICE),
    (("processed fruit", "dried", "say", "mut"), IconKind.DRIED_FRUIT),
    (("fruit", "qua", "xoai", "man", "mo", "na", "nhan", "buoi"), IconKind.FRUIT),
    (("honey", "mat ong"), IconKind.HONEY),
    (("meat", "thit", "xuc xich", "lap"), IconKind.MEAT),
    (("fish", "ca"), IconKind.FISH),
    (("dairy", "milk", "yoghurt", "sua"), IconKind.DAIRY),
    (("vegetable", "vegetables", "fresh produce", "rau", "cu"), IconKind.VEGETABLES),
    (("wine", "alcoholic", "spirit", "ruou"), IconKind.WINE),
    (("juice", "drink", "nuoc"), IconKind.JUICE),
    (("herb", "herbs", "herbal", "medicinal", "duoc lieu", "sam", "thuoc"), IconKind.HERBS),
    (("textile", "weaving", "brocade", "fabric", "vai", "det", "tho cam"), IconKind.TEXTILE),
    (
        ("craft", "crafts", "handicraft", "basket", "bamboo", "may tre", "thu cong", "go"),
        IconKind.CRAFT,
    ),
    (("plant", "plants", "flower", "orchid", "bonsai", "hoa", "lan", "cay canh"), IconKind.PLANT),
    (("tourism", "homestay", "du lich"), IconKind.TOURISM),
    (("processed", "che bien"), IconKind.PROCESSED),
)
# A sub-group no word matches: the group's own icon.
GROUP_ICONS = {
    1: IconKind.FOOD,
    2: IconKind.JUICE,
    3: IconKind.HERBS,
    4: IconKind.CRAFT,
    5: IconKind.PLANT,
    6: IconKind.TOURISM,
}


def _plain(text: str) -> str:
    """Lower case, Vietnamese diacritics and đ dropped, one space between words."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in letters).split())


def icon_for(group: int, subgroup: str) -> IconKind:
    """The icon of a product's sub-group ("coffee", "chè", "processed fruit"), else of its
    group. Words match whole ("ca" is fish, not the start of "cascara")."""
    words = f" {_plain(subgroup)} "
    for keys, kind in SUBGROUP_WORDS:
        if any(f" {key} " in words for key in keys):
            return kind
    return GROUP_ICONS.get(group, IconKind.FOOD)


# --- drawing: each icon around (cx, cy), about 2r across, in one colour ---------------------


def _coffee(d: ImageDraw.ImageDraw, cx: int, cy: int, r: int, c) -> None:
    d.ellipse((cx - r * 0.6, cy - r, cx + r * 0.6, cy + r), fill=c)
    d.arc((cx - r * 0.5, cy - r * 0.9, cx + r * 0.1, cy + r * 0.9), 290, 70, fill="white", width=9)


def _tea(d, cx, cy, r, c) -> None:
    d.chord((cx - r * 0.45, cy - r, cx + r * 1.1, cy + r * 0.7), 120, 300, fill=c)
    d.chord((cx - r * 1.1, cy - r * 0.7, cx + r * 0.45, cy + r), 300, 120, fill=c)
    d.line((cx - r * 0.8, cy + r, cx + r * 0.8, cy - r), fill="white", width=6)


def _rice(d, cx, cy, r, c) -> None:
    d.chord((cx - r, cy - r * 0.6, cx + r, cy + r * 1.2), 0, 180, fill=c)  # the bowl
    for i in range(5):
        x = cx - r * 0.7 + i * r * 0.35
        d.ellipse((x - 9, cy - r * 0.55 - (i % 2) * 14, x + 9, cy - r * 0.1), outline=c, width=5)


def _fruit(d, cx, cy, r, c) -> None:
    d.ellipse((cx - r * 0.8, cy - r * 0.6, cx + r * 0.8, cy + r), fill=c)
    d.line((cx, cy - r * 0.6, cx + r * 0.1, cy - r), fill=c, width=8)
    d.ellipse((cx + r * 0.1, cy - r * 1.05, cx + r * 0.7, cy - r * 0.7), fill=c)


def _dried_fruit(d, cx, cy, r, c) -> None:
    for dx, dy in ((-0.45, -0.3), (0.45, -0.3), (0, 0.45)):
        x, y, s = cx + dx * r, cy + dy * r, r * 0.5
        d.pieslice((x - s, y - s, x + s, y + s), 200, 340, fill=c)
        d.pieslice((x - s * 0.7, y - s * 0.7, x + s * 0.7, y + s * 0.7), 210, 330, fill="white")


def _honey(d, cx, cy, r, c) -> None:
    d.rounded_rectangle((cx - r * 0.7, cy - r * 0.55, cx + r * 0.7, cy + r), 22, fill=c)
    d.rectangle((cx - r * 0.55, cy - r * 0.85, cx + r * 0.55, cy - r * 0.6), fill=c)
    hexagon = [
        (cx + r * 0.3 * math.cos(a), cy + r * 0.25 + r * 0.3 * math.sin(a))
        for a in (k * math.pi / 3 for k in range(6))
    ]
    d.polygon(hexagon, outline="white", width=6)


def _meat(d, cx, cy, r, c) -> None:
    d.ellipse((cx - r * 0.9, cy - r * 0.9, cx + r * 0.4, cy + r * 0.4), fill=c)
    d.line((cx + r * 0.1, cy + r * 0.1, cx + r * 0.75, cy + r * 0.75), fill=c, width=16)
    d.ellipse((cx + r * 0.6, cy + r * 0.55, cx + r * 0.95, cy + r * 0.9), fill=c)


def _fish(d, cx, cy, r, c) -> None:
    d.ellipse((cx - r, cy - r * 0.5, cx + r * 0.5, cy + r * 0.5), fill=c)
    d.polygon([(cx + r * 0.35, cy), (cx + r, cy - r * 0.5), (cx + r, cy + r * 0.5)], fill=c)
    d.ellipse((cx - r * 0.7, cy - r * 0.2, cx - r * 0.5, cy), fill="white")


def _dairy(d, cx, cy, r, c) -> None:
    d.rounded_rectangle((cx - r * 0.5, cy - r * 0.3, cx + r * 0.5, cy + r), 16, fill=c)
    d.polygon(
        [
            (cx - r * 0.5, cy - r * 0.3),
            (cx - r * 0.25, cy - r * 0.75),
            (cx + r * 0.25, cy - r * 0.75),
            (cx + r * 0.5, cy - r * 0.3),
        ],
        fill=c,
    )
    d.rectangle((cx - r * 0.25, cy - r, cx + r * 0.25, cy - r * 0.75), outline=c, width=6)
    d.rectangle((cx - r * 0.5, cy + r * 0.1, cx + r * 0.5, cy + r * 0.4), fill="white")


def _vegetables(d, cx, cy, r, c) -> None:
    d.polygon([(cx - r * 0.45, cy - r * 0.4), (cx + r * 0.45, cy - r * 0.4), (cx, cy + r)], fill=c)
    for dx in (-0.3, 0, 0.3):
        d.line((cx, cy - r * 0.4, cx + dx * r, cy - r), fill=c, width=9)


def _processed(d, cx, cy, r, c) -> None:
    d.rounded_rectangle(
        (cx - r * 0.65, cy - r * 0.5, cx + r * 0.65, cy + r), 26, outline=c, width=10
    )
    d.rounded_rectangle((cx - r * 0.75, cy - r * 0.85, cx + r * 0.75, cy - r * 0.5), 8, fill=c)
    for dx in (-0.3, 0.3):
        x = cx + dx * r
        d.ellipse((x - r * 0.22, cy + r * 0.05, x + r * 0.22, cy + r * 0.6), fill=c)


def _food(d, cx, cy, r, c) -> None:
    d.ellipse((cx - r * 0.75, cy - r * 0.75, cx + r * 0.75, cy + r * 0.75), outline=c, width=10)
    d.line((cx - r, cy - r * 0.7, cx - r, cy + r), fill=c, width=8)  # a fork
    d.line((cx + r, cy - r * 0.7, cx + r, cy + r), fill=c, width=8)  # a knife


def _wine(d, cx, cy, r, c) -> None:
    d.rounded_rectangle((cx - r * 0.75, cy - r * 0.2, cx - r * 0.15, cy + r), 12, fill=c)
    d.rectangle((cx - r * 0.55, cy - r, cx - r * 0.35, cy - r * 0.2), fill=c)
    d.chord((cx + r * 0.1, cy - r * 0.6, cx + r * 0.9, cy + r * 0.2), 0, 180, fill=c)  # a glass
    d.line((cx + r * 0.5, cy - r * 0.2, cx + r * 0.5, cy + r * 0.85), fill=c, width=7)
    d.line((cx + r * 0.25, cy + r * 0.9, cx + r * 0.75, cy + r * 0.9), fill=c, width=7)


def _juice(d, cx, cy, r, c) -> None:
    d.polygon(
        [
            (cx - r * 0.6, cy - r * 0.5),
            (cx + r * 0.6, cy - r * 0.5),
            (cx + r * 0.45, cy + r),
            (cx - r * 0.45, cy + r),
        ],
        fill=c,
    )
    d.line((cx + r * 0.1, cy - r * 0.3, cx + r * 0.45, cy - r), fill=c, width=8)


def _herbs(d, cx, cy, r, c) -> None:
    for angle in (-40, 0, 40):
        a = math.radians(angle - 90)
        x, y = cx + r * 0.6 * math.cos(a), cy + r * 0.6 * math.sin(a)
        d.ellipse((x - r / 3, y - r / 2, x + r / 3, y + r / 2), outline=c, width=7)
    d.line((cx, cy, cx, cy + r), fill=c, width=7)


def _textile(d, cx, cy, r, c) -> None:
    d.rectangle((cx - r, cy - r * 0.7, cx + r, cy + r * 0.7), outline=c, width=8)
    for i in range(1, 5):  # warp and weft, and a brocade diamond
        x = cx - r + i * r * 0.4
        d.line((x, cy - r * 0.7, x, cy + r * 0.7), fill=c, width=4)
    d.polygon(
        [(cx, cy - r * 0.45), (cx + r * 0.35, cy), (cx, cy + r * 0.45), (cx - r * 0.35, cy)], fill=c
    )


def _craft(d, cx, cy, r, c) -> None:
    d.arc((cx - r, cy - r, cx + r, cy + r // 2), 180, 360, fill=c, width=8)
    d.rectangle((cx - r, cy - r // 4, cx + r, cy + r), outline=c, width=8)
    for i in range(1, 4):
        x = cx - r + i * r // 2
        d.line((x, cy - r // 4, x, cy + r), fill=c, width=5)


def _plant(d, cx, cy, r, c) -> None:
    d.polygon(
        [
            (cx - r * 0.5, cy + r * 0.3),
            (cx + r * 0.5, cy + r * 0.3),
            (cx + r * 0.35, cy + r),
            (cx - r * 0.35, cy + r),
        ],
        fill=c,
    )
    d.line((cx, cy + r * 0.3, cx, cy - r * 0.3), fill=c, width=7)
    for k in range(5):
        a = k * 2 * math.pi / 5
        x, y = cx + r * 0.3 * math.cos(a), cy - r * 0.55 + r * 0.3 * math.sin(a)
        d.ellipse((x - r / 5, y - r / 5, x + r / 5, y + r / 5), fill=c)


def _tourism(d, cx, cy, r, c) -> None:
    d.polygon(
        [
            (cx - r, cy + r),
            (cx - r // 3, cy - r),
            (cx + r // 4, cy + r // 3),
            (cx + r // 2, cy - r // 3),
            (cx + r, cy + r),
        ],
        outline=c,
        width=8,
    )
    d.ellipse((cx + r * 0.55, cy - r * 1.05, cx + r * 0.95, cy - r * 0.65), fill=c)


DRAW = {
    IconKind.COFFEE: _coffee,
    IconKind.TEA: _tea,
    IconKind.RICE: _rice,
    IconKind.FRUIT: _fruit,
    IconKind.DRIED_FRUIT: _dried_fruit,
    IconKind.HONEY: _honey,
    IconKind.MEAT: _meat,
    IconKind.FISH: _fish,
    IconKind.DAIRY: _dairy,
    IconKind.VEGETABLES: _vegetables,
    IconKind.PROCESSED: _processed,
    IconKind.FOOD: _food,
    IconKind.WINE: _wine,
    IconKind.JUICE: _juice,
    IconKind.HERBS: _herbs,
    IconKind.TEXTILE: _textile,
    IconKind.CRAFT: _craft,
    IconKind.PLANT: _plant,
    IconKind.TOURISM: _tourism,
}


def placeholder_png(group: int, subgroup: str = "") -> bytes:
    """The placeholder picture of a product of `group` (1-6) and `subgroup`: its group's
    colours, its sub-group's icon, no text."""
    background, colour = GROUP_COLOURS.get(group, GROUP_COLOURS[1])
    image = Image.new("RGB", SIZE_PX, background)
    draw = ImageDraw.Draw(image)
    # a soft disc behind the icon, the icon centred a little high: the caption sits below
    cx, cy, r = SIZE_PX[0] // 2, 160, 95
    draw.ellipse((cx - 1.3 * r, cy - 1.3 * r, cx + 1.3 * r, cy + 1.3 * r), fill=(255, 255, 255))
    DRAW[icon_for(group, subgroup)](draw, cx, cy, r, colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
