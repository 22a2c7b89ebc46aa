"""Honest placeholder pictures for demo products: a colour and a simple drawn symbol per
product group, labelled "Ảnh minh hoạ / Placeholder". No invented photographs."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

from ocop.ratings import GROUP_NAMES
from printer.fonts import font_path

SIZE_PX = (480, 360)
# Background, symbol colour per Decision 148 group.
GROUP_COLOURS = {
    1: ((246, 226, 196), (150, 90, 40)),  # food: warm brown
    2: ((214, 232, 246), (40, 90, 150)),  # beverages: blue
    3: ((218, 240, 214), (50, 120, 60)),  # herbal: green
    4: ((240, 226, 214), (130, 80, 50)),  # handicrafts: clay
    5: ((246, 218, 232), (160, 50, 110)),  # ornamental: pink
    6: ((220, 236, 232), (40, 110, 100)),  # tourism: teal
}


def _symbol(draw: ImageDraw.ImageDraw, group: int, cx: int, cy: int, r: int, colour) -> None:
    if group == 1:  # a rice grain / leaf
        draw.ellipse((cx - r // 2, cy - r, cx + r // 2, cy + r), outline=colour, width=8)
        draw.line((cx, cy - r, cx, cy + r), fill=colour, width=6)
    elif group == 2:  # a bottle
        draw.rounded_rectangle(
            (cx - r // 2, cy - r // 3, cx + r // 2, cy + r), 18, outline=colour, width=8
        )
        draw.rectangle((cx - r // 6, cy - r, cx + r // 6, cy - r // 3), outline=colour, width=8)
    elif group == 3:  # three leaves
        for angle in (-40, 0, 40):
            a = math.radians(angle - 90)
            x, y = cx + r * 0.6 * math.cos(a), cy + r * 0.6 * math.sin(a)
            draw.ellipse((x - r / 3, y - r / 2, x + r / 3, y + r / 2), outline=colour, width=7)
        draw.line((cx, cy, cx, cy + r), fill=colour, width=7)
    elif group == 4:  # a woven basket
        draw.arc((cx - r, cy - r, cx + r, cy + r // 2), 180, 360, fill=colour, width=8)
        draw.rectangle((cx - r, cy - r // 4, cx + r, cy + r), outline=colour, width=8)
        for i in range(1, 4):
            x = cx - r + i * r // 2
            draw.line((x, cy - r // 4, x, cy + r), fill=colour, width=5)
    elif group == 5:  # a flower
        for k in range(6):
            a = k * math.pi / 3
            x, y = cx + r * 0.55 * math.cos(a), cy + r * 0.55 * math.sin(a)
            draw.ellipse((x - r / 3, y - r / 3, x + r / 3, y + r / 3), outline=colour, width=6)
        draw.ellipse((cx - r / 5, cy - r / 5, cx + r / 5, cy + r / 5), fill=colour)
    else:  # mountains
        draw.polygon(
            [
                (cx - r, cy + r),
                (cx - r // 3, cy - r),
                (cx + r // 4, cy + r // 3),
                (cx + r // 2, cy - r // 3),
                (cx + r, cy + r),
            ],
            outline=colour,
            width=8,
        )


def placeholder_png(group: int, title: str) -> bytes:
    background, colour = GROUP_COLOURS.get(group, GROUP_COLOURS[1])
    image = Image.new("RGB", SIZE_PX, background)
    draw = ImageDraw.Draw(image)
    _symbol(draw, group, SIZE_PX[0] // 2, 140, 80, colour)
    font = ImageFont.truetype(str(font_path("bold")), 22)
    small = ImageFont.truetype(str(font_path()), 16)
    group_vi, group_en = GROUP_NAMES.get(group, ("", ""))
    label = title if draw.textlength(title, font=font) < SIZE_PX[0] - 30 else group_vi
    draw.text((SIZE_PX[0] // 2, 262), label, font=font, fill=colour, anchor="mm")
    draw.text(
        (SIZE_PX[0] // 2, 300),
        f"{group_vi} · {group_en}"[:60],
        font=small,
        fill=colour,
        anchor="mm",
    )
    draw.text(
        (SIZE_PX[0] // 2, 332),
        "Ảnh minh hoạ · Placeholder image",
        font=small,
        fill=colour,
        anchor="mm",
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
