"""Colours and sizes for the .kv files (Kivy-free helpers)."""

from __future__ import annotations

from kiosk.viewmodels import PALETTE


def rgba(hex_colour: str, alpha: float = 1.0) -> list[float]:
    h = hex_colour.lstrip("#")
    return [int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4)] + [alpha]


def darker(colour: list[float], factor: float = 0.82) -> list[float]:
    return [c * factor for c in colour[:3]] + [colour[3] if len(colour) > 3 else 1.0]


COLOURS = {name: rgba(value) for name, value in PALETTE.items()}
COLOURS.update(
    white=[1, 1, 1, 1],
    black=[0, 0, 0, 1],
    clear=[0, 0, 0, 0],
    green_soft=rgba("#E3F1E8"),
    gold_soft=rgba("#FFF4D6"),
    amber_soft=rgba("#FDF0E1"),
    red_soft=rgba("#FBE7E5"),
    key=rgba("#ECE5D3"),  # keyboard keys: visible on cream without an outline
)
# Stars: gold alone is 2.2:1 on white, so every star has a dark outline (>= 3:1 on any
# background it sits on) and the hollow ones are grey, not a fainter gold (issue 15).
COLOURS.update(
    star_fill=COLOURS["gold"],
    star_outline=COLOURS["ink"],
    star_empty=COLOURS["muted"],
)


def hex_of(colour: list[float]) -> str:
    """[r, g, b, a] -> 'RRGGBB' for Kivy markup ([color=RRGGBB])."""
    return "".join(f"{round(c * 255):02X}" for c in colour[:3])


# Font sizes in px at 800x480 (the .kv files multiply by app.u): readable on a 7" screen at
# arm's length (issue 15). Body text >= 20, captions/labels >= 18.
FONT_LABEL = 18  # field captions ("Nhà sản xuất"), small notes
FONT_BODY = 20  # values, messages, advice
FONT_HEADING = 24  # the hotline, a product name in a list
FONT_NAME = 28  # the product's name on its card
FONT_TITLE = 28  # the verdict's title
FONT_STARS = 34

BASE_W, BASE_H = 800, 480  # the official 7" Pi touchscreen: the design size
MIN_TOUCH_DP = 48


def scale_unit(width: float, height: float) -> float:
    """1.0 at 800x480 (either orientation), 2.25 at 1920x1080; never below 1 so touch
    targets stay >= 48 dp on small windows too."""
    long_side, short_side = max(width, height), min(width, height)
    return max(1.0, min(long_side / BASE_W, short_side / BASE_H))
