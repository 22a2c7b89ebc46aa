"""Locate a TrueType font with every Vietnamese glyph and the star (DejaVu Sans).

Kivy has no per-glyph fallback, and Pillow none either, so one font must cover every string.
Search order: the copy shipped in printer/fonts, Kivy's bundled copy (found without importing
Kivy), Debian's fonts-dejavu-core.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

SYSTEM_DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=None)
def dejavu_sans_path(bold: bool = False) -> Path:
    filename = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    candidates = []
    printer_dir = _package_dir("printer")
    if printer_dir:
        candidates.append(printer_dir / "fonts" / filename)
    kivy_dir = _package_dir("kivy")
    if kivy_dir:
        candidates.append(kivy_dir / "data" / "fonts" / filename)
    candidates.append(SYSTEM_DEJAVU_DIR / filename)
    for path in candidates:
        if path.is_file():
            return path
    if bold:
        return dejavu_sans_path(False)
    raise FileNotFoundError("DejaVu Sans not found (looked in: "
                            + ", ".join(str(c) for c in candidates) + ")")
