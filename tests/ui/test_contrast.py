"""WCAG AA contrast (issue 15): the theme's declared colour pairs, computed from the theme
colours, and every label the real app shows on every screen against the colour painted
behind it, so a pair missing from kiosk.ui.contrast.THEME_PAIRS cannot slip through."""

from __future__ import annotations

import pytest

from kiosk.ui.contrast import (
    MIN_RATIO,
    THEME_PAIRS,
    Kind,
    contrast_ratio,
    over,
    text_kind,
)
from kiosk.ui.theme import COLOURS
from tests.ui.readability import UnknownBackground, background_of, design_px

pytestmark = pytest.mark.ui

# Text exempt from AA (WCAG 1.4.3 exempts logotypes): the OCOP mark in the top bar.
EXEMPT_TEXTS = {"OCOP": "logotype inside the round logo (hold to open staff)"}


def test_the_formula_matches_wcag_reference_values():
    white, black = COLOURS["white"], COLOURS["black"]
    assert contrast_ratio(white, black) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    # #767676 on white is the well-known 4.54:1; the old gold stars were 2.17:1 on white
    grey = [0x76 / 255] * 3 + [1.0]
    assert contrast_ratio(grey, white) == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio(COLOURS["gold"], COLOURS["card"]) == pytest.approx(2.17, abs=0.01)
    assert over([0, 0, 0, 0.5], white)[:3] == pytest.approx([0.5, 0.5, 0.5])


def test_large_text_is_24_px_or_bold_18_66_px():
    assert text_kind(24, bold=False) is Kind.LARGE_TEXT
    assert text_kind(23, bold=False) is Kind.TEXT
    assert text_kind(19, bold=True) is Kind.LARGE_TEXT
    assert text_kind(18, bold=True) is Kind.TEXT


@pytest.mark.parametrize("pair", THEME_PAIRS, ids=lambda p: f"{p.fg}-on-{p.bg}")
def test_every_declared_theme_pair_meets_aa(pair):
    assert pair.ratio() >= MIN_RATIO[pair.kind], (
        f"{pair.fg} on {pair.bg} ({pair.where}): {pair.ratio():.2f}:1 < {MIN_RATIO[pair.kind]}:1"
    )


def colour_name(rgba) -> str | None:
    for name, value in COLOURS.items():
        if name != "clear" and all(abs(a - b) < 1 / 512 for a, b in zip(rgba, value, strict=True)):
            return name
    return None


DECLARED = {(p.fg, p.bg): p for p in THEME_PAIRS}
# Same colour value, several names: a pair is declared under any of them.
ALIASES = {"white": ("card",), "card": ("white",), "gold": ("star_fill",)}


def is_declared(fg: str, bg: str) -> bool:
    fgs = (fg, *ALIASES.get(fg, ()))
    bgs = (bg, *ALIASES.get(bg, ()))
    return any((f, b) in DECLARED for f in fgs for b in bgs)


def contrast_problems(ui, name: str) -> list[str]:
    from kivy.core.window import Window

    from kiosk.ui.widgets import StarRow

    u = ui.app.u
    problems = []
    for label in ui.labels():
        if label.disabled or label.text in EXEMPT_TEXTS:
            continue  # WCAG exempts inactive controls and logotypes
        try:
            bg = background_of(label, Window.clearcolor)
        except UnknownBackground as e:
            problems.append(f"{name}: {e}")
            continue
        if isinstance(label, StarRow):
            # the stars' shape is their outline (the gold fill alone is 2.2:1 on white)
            fg, kind, what = label.outline_color, Kind.GRAPHIC, "star outline"
            if label.outline_width < 1:
                problems.append(f"{name}: stars drawn without an outline")
        else:
            fg = label.color
            kind = text_kind(design_px(label.font_size, u), label.bold)
            what = repr(label.text[:30])
        seen = over(fg, bg)
        ratio = contrast_ratio(seen, bg)
        if ratio < MIN_RATIO[kind] - 0.005:
            problems.append(
                f"{name}: {what} {colour_name(fg) or fg} on {colour_name(bg) or bg}: "
                f"{ratio:.2f}:1 < {MIN_RATIO[kind]}:1 ({kind.value})"
            )
        fg_name, bg_name = colour_name(fg), colour_name(bg)
        if fg_name and bg_name and not is_declared(fg_name, bg_name):
            problems.append(f"{name}: {what} {fg_name} on {bg_name} is not in THEME_PAIRS")
    return problems


# Views reached straight after a tap, with no frame drawn yet: a button's `bg` has just
# changed (the chosen staff tab after a setting is saved, the armed "tap again to cancel").
AFTER_A_TAP = ("staff-settings-saved", "staff-queue-continue")


def walk_contrast(ui, mode: str, views) -> tuple[list[str], int]:
    from tests.ui.test_kiosk_ui import visit_every_screen

    ui.app.mode = mode  # the next test's reset() restores it
    ui.settle(0.3)
    problems: list[str] = []
    checked = 0
    for name in visit_every_screen(ui):
        if views(name):
            problems += contrast_problems(ui, f"{mode} {name}")
            checked += len(ui.labels())
    return list(dict.fromkeys(problems)), checked


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["station", "reststop"])
def test_every_visible_label_meets_aa_on_every_screen(ui, mode):
    problems, checked = walk_contrast(ui, mode, lambda v: True)
    assert checked > 200  # the walk saw the screens' labels
    assert not problems, "\n".join(problems)


def painted_at(image, widget, dx: float) -> list[float]:
    """The frame's colour `dx` px inside `widget`'s left edge, halfway up (window coords)."""
    x, y = widget.to_window(widget.x + dx, widget.center_y)
    r, g, b = image.getpixel((int(x), image.height - 1 - int(y)))
    return [r / 255, g / 255, b / 255]


@pytest.mark.slow
def test_buttons_repaint_their_background_after_a_tap(ui):
    """Straight after the tap (no frame drawn yet) the walk finds each label's background as
    the next frame paints it, and the rendered frame agrees: every staff tab and the armed
    cancel button paint their current `bg` between the outline and the text."""
    from kiosk.ui.capture import grab_image
    from tests.ui.test_kiosk_ui import visit_every_screen

    ui.app.mode = "station"  # the next test's reset() restores it
    ui.settle(0.3)
    problems: list[str] = []
    painted = []
    for name in visit_every_screen(ui):
        if name not in AFTER_A_TAP:
            continue
        problems += contrast_problems(ui, f"station {name}")
        staff = ui.screen("staff")
        buttons = [staff.ids[t] for t in ("tab_print", "tab_queue", "tab_sync", "tab_settings")]
        if name == "staff-queue-continue":
            cancel = staff.queue_tab.ids.cancel_button
            assert cancel.bg == COLOURS["red"]  # armed
            buttons.append(cancel)
        image = grab_image()
        for button in buttons:
            seen = painted_at(image, button, 6 * ui.app.u)
            assert seen == pytest.approx(list(button.bg[:3]), abs=3 / 255), (
                f"{name}: {button.text!r} paints {seen}, its bg is {colour_name(button.bg)}"
            )
            painted.append(tuple(button.bg))
    assert not problems, "\n".join(problems)
    # the chosen tab, the others, the armed cancel
    assert {tuple(COLOURS[c]) for c in ("green", "white", "red")} <= set(painted)
