"""Where DejaVu Sans is: the one font lookup of the project (labels and the kiosk's screen).

Kivy has no per-glyph fallback and Pillow none either, so one font must cover every
Vietnamese string and the star. Search order: the copy shipped next to this file (with its
licence), Debian's fonts-dejavu-core, Kivy's bundled copy (located without importing Kivy;
it has the regular face only). Stdlib only: the kiosk's UI asks here without loading Pillow.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Literal

Weight = Literal["regular", "bold"]

SHIPPED_DIR = Path(__file__).resolve().parent
SYSTEM_DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES: dict[Weight, str] = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}


def _kivy_font_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec("kivy")  # locates, does not import kivy
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "fonts"


def candidates(weight: Weight = "regular") -> list[Path]:
    """Where `weight` is looked for, first match wins."""
    name = FONT_FILES[weight]
    found = [SHIPPED_DIR / name, SYSTEM_DEJAVU_DIR / name]
    kivy_dir = _kivy_font_dir()
    if kivy_dir is not None:
        found.append(kivy_dir / name)
    return found


@functools.cache
def font_path(weight: Weight = "regular") -> Path:
    """The TTF for `weight`; bold falls back to regular (a face drawn lighter, not a box)."""
    looked = candidates(weight)
    for path in looked:
        if path.is_file():
            return path
    if weight == "bold":
        return font_path("regular")
    raise FileNotFoundError(
        "DejaVuSans.ttf not found (looked in " + ", ".join(str(c) for c in looked) + ")"
    )


__all__ = ["FONT_FILES", "SHIPPED_DIR", "SYSTEM_DEJAVU_DIR", "Weight", "candidates", "font_path"]
