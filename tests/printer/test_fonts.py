"""One font lookup for labels and the kiosk's screen (printer.fonts)."""

from __future__ import annotations

import pytest

from printer import fonts


@pytest.fixture
def fresh(monkeypatch):
    fonts.font_path.cache_clear()
    yield monkeypatch
    fonts.font_path.cache_clear()


def test_the_shipped_copy_comes_first():
    assert fonts.font_path() == fonts.SHIPPED_DIR / "DejaVuSans.ttf"
    assert fonts.font_path("bold") == fonts.SHIPPED_DIR / "DejaVuSans-Bold.ttf"
    assert (fonts.SHIPPED_DIR / "LICENSE-DejaVu.txt").is_file()


def test_without_a_shipped_copy_the_next_place_is_used(fresh, tmp_path):
    fresh.setattr(fonts, "SHIPPED_DIR", tmp_path)
    (tmp_path / "x").mkdir()
    fresh.setattr(fonts, "SYSTEM_DEJAVU_DIR", tmp_path / "x")
    regular_only = tmp_path / "kivy"
    regular_only.mkdir()
    (regular_only / "DejaVuSans.ttf").write_bytes(b"ttf")
    fresh.setattr(fonts, "_kivy_font_dir", lambda: regular_only)
    assert fonts.font_path("regular") == regular_only / "DejaVuSans.ttf"
    assert fonts.font_path("bold") == regular_only / "DejaVuSans.ttf"  # Kivy has no bold


def test_no_font_anywhere_names_every_place_looked(fresh, tmp_path):
    fresh.setattr(fonts, "SHIPPED_DIR", tmp_path)
    fresh.setattr(fonts, "SYSTEM_DEJAVU_DIR", tmp_path)
    fresh.setattr(fonts, "_kivy_font_dir", lambda: None)
    with pytest.raises(FileNotFoundError) as info:
        fonts.font_path("regular")
    assert str(tmp_path) in str(info.value)
