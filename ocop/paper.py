"""Thermal paper the stamp station prints on: the two roll widths cheap ESC/POS printers take,
and the printable width of each for a 203-dpi head (8 dots per mm over 48 / 72 mm)."""

from __future__ import annotations

DOTS_BY_WIDTH_MM: dict[int, int] = {58: 384, 80: 576}
PAPER_WIDTHS_MM: tuple[int, ...] = tuple(DOTS_BY_WIDTH_MM)
NARROW_WIDTH_DOTS = DOTS_BY_WIDTH_MM[58]  # the default and the type sizes' design width
