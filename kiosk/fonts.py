"""The kiosk's screen font: DejaVu Sans, found by the project's one lookup (printer.fonts)."""

from __future__ import annotations

from pathlib import Path

from printer.fonts import font_path


def dejavu_sans_path(bold: bool = False) -> Path:
    return font_path("bold" if bold else "regular")
