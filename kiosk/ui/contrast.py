"""WCAG 2.x contrast for the theme (issue 15), Kivy-free.

THEME_PAIRS is the one list of the colour pairs the screens paint: a text (or graphic) colour
on the background it sits on. tests/ui/test_contrast.py checks every pair against AA and also
walks the live screens, so a pair missing here fails there. `python -m kiosk.ui.contrast`
prints the table in docs/ui.md ("Readability and contrast")."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.ui.theme import COLOURS


class Kind(enum.Enum):
    TEXT = "text"
    LARGE_TEXT = "large text"  # >= 24 px, or bold >= 18.66 px (18 pt / 14 pt bold)
    GRAPHIC = "graphic"  # a star, an icon, an outline a person must see


MIN_RATIO = {Kind.TEXT: 4.5, Kind.LARGE_TEXT: 3.0, Kind.GRAPHIC: 3.0}  # WCAG 2.x AA
LARGE_TEXT_PX = 24.0
LARGE_BOLD_TEXT_PX = 18.66


def text_kind(font_size_px: float, bold: bool) -> Kind:
    """`font_size_px` at the 800x480 design size (the widget's font_size / app.u)."""
    large = font_size_px >= LARGE_TEXT_PX - 0.01 or (bold and font_size_px >= LARGE_BOLD_TEXT_PX)
    return Kind.LARGE_TEXT if large else Kind.TEXT


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: Sequence[float]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour with channels in 0..1."""
    r, g, b = (_linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """(L1 + 0.05) / (L2 + 0.05), lighter over darker: 1.0 to 21.0."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def over(fg: Sequence[float], bg: Sequence[float]) -> list[float]:
    """`fg` (rgba, maybe translucent) painted over the opaque `bg`: what the eye sees."""
    alpha = fg[3] if len(fg) > 3 else 1.0
    return [f * alpha + b * (1 - alpha) for f, b in zip(fg[:3], bg[:3], strict=True)] + [1.0]


@dataclass(frozen=True)
class Pair:
    fg: str  # a COLOURS name
    bg: str
    kind: Kind
    where: str

    def ratio(self) -> float:
        return contrast_ratio(COLOURS[self.fg], COLOURS[self.bg])

    def passes(self) -> bool:
        return self.ratio() >= MIN_RATIO[self.kind]


T, L, G = Kind.TEXT, Kind.LARGE_TEXT, Kind.GRAPHIC

THEME_PAIRS: tuple[Pair, ...] = (
    Pair("ink", "cream", T, "body text on the page"),
    Pair("ink", "card", T, "body text on a card, a white button's label"),
    Pair("muted", "cream", T, "captions on the page"),
    Pair("muted", "card", T, "captions on a card"),
    Pair("green_dark", "cream", T, "section titles, notes"),
    Pair("green_dark", "card", T, "a white button's label, section titles on a card"),
    Pair("green", "card", T, "the rating line"),
    Pair("blue", "card", T, "the store's address, scan hints"),
    Pair("blue", "cream", T, "scan hints"),
    Pair("red", "card", T, "the hotline, errors, an armed cancel button's label"),
    Pair("red", "cream", T, "errors on the page"),
    Pair("amber", "card", T, "a rating that is not valid today, a stopped job"),
    Pair("amber", "cream", T, "the lit district's product count on the rest-stop route strip"),
    Pair("amber", "amber_soft", T, "the trust-list note"),
    Pair("ink", "amber_soft", T, "a stopped print job's card"),
    Pair("slate", "card", T, "a demo stamp's label"),
    Pair("white", "green", T, "a green button's label, the top bar"),
    Pair("white", "green_dark", T, "the home button"),
    Pair("white", "red", T, "an armed cancel button, the forged verdict"),
    Pair("white", "amber", T, "the warning verdict"),
    Pair("white", "orange", T, "the alert verdict"),
    Pair("white", "blue", T, "the info verdict"),
    Pair("white", "slate", T, "the neutral verdict"),
    Pair("ink", "gold", T, "the chosen language, the idle countdown"),
    Pair("ink", "key", T, "a keyboard key's label"),
    Pair("green", "white", G, "the verdict icon on its white disc"),
    Pair("red", "white", G, "the verdict icon on its white disc"),
    Pair("star_outline", "card", G, "a star's outline on a card"),
    Pair("star_outline", "cream", G, "a star's outline on the page"),
    Pair("star_outline", "gold", G, "a filled star's outline against its gold fill"),
    Pair("star_empty", "card", G, "a hollow star on a card"),
    Pair("star_empty", "cream", G, "a hollow star on the page"),
)


def table_markdown(pairs: Sequence[Pair] = THEME_PAIRS) -> str:
    rows = [
        "| text / graphic | on | kind | ratio | AA needs | used for |",
        "|---|---|---|---|---|---|",
    ]
    for p in pairs:
        rows.append(
            f"| {p.fg} | {p.bg} | {p.kind.value} | {p.ratio():.2f}:1 | "
            f"{MIN_RATIO[p.kind]:g}:1 | {p.where} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(table_markdown())
