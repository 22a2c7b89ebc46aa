"""What the kiosk draws: every drawn instruction costs GPU time, and ~64 KB of llvmpipe
memory per frame on software GL (docs/ui.md, "Performance"). Screens are built the first time
they are shown; outlines exist only while visible; keys and the QR icon draw little."""

from __future__ import annotations

import pytest


def vertex_instructions(group) -> list:
    from kivy.graphics.instructions import InstructionGroup, VertexInstruction

    found = []
    for instruction in group.children:
        if isinstance(instruction, VertexInstruction):
            found.append(instruction)
        elif isinstance(instruction, InstructionGroup):
            found.extend(vertex_instructions(instruction))
    return found


def own_vertex_instructions(widget) -> list:
    """The widget's own instructions (canvas.before and canvas.after are inside canvas)."""
    children = {id(c.canvas) for c in widget.children}
    return [i for i in vertex_instructions(widget.canvas) if id(i) not in children]


def test_only_the_attract_screen_is_built_at_start(ui):
    assert ui.built_at_start == ["attract"]


def test_a_screen_is_built_once_on_first_use(ui):
    from kiosk.ui.screen_registry import SCREEN_NAMES

    first = {name: ui.app.screen(name) for name in SCREEN_NAMES}
    assert all(ui.app.screen(name) is first[name] for name in SCREEN_NAMES)
    assert sorted(s.name for s in ui.app.sm.screens) == sorted(SCREEN_NAMES)
    with pytest.raises(KeyError, match="no screen called 'nope'"):
        ui.app.screen("nope")


def test_a_button_outline_is_drawn_only_while_visible(ui):
    from kivy.graphics import Line

    from kiosk.ui.theme import COLOURS
    from kiosk.ui.widgets import KButton

    button = KButton(text="OK", size=(200, 56), pos=(10, 10))
    ui.app.root.add_widget(button)
    try:
        ui.pump(2)
        assert not [i for i in own_vertex_instructions(button) if isinstance(i, Line)]
        button.selected = True
        ui.pump(2)
        lines = [i for i in own_vertex_instructions(button) if isinstance(i, Line)]
        assert len(lines) == 1 and lines[0].width == pytest.approx(2.5 * ui.app.u)
        button.selected, button.line = False, COLOURS["line"]
        ui.pump(2)
        assert len([i for i in own_vertex_instructions(button) if isinstance(i, Line)]) == 1
        button.line = COLOURS["clear"]
        ui.pump(2)
        assert not [i for i in own_vertex_instructions(button) if isinstance(i, Line)]
    finally:
        ui.app.root.remove_widget(button)


def test_keyboard_keys_draw_a_background_and_a_label_only(ui):
    from kiosk.ui.widgets import DataButton

    ui.app.go("browse")
    browse = ui.screen("browse")
    browse.show_tab("search")
    ui.pump(3)
    keys = [
        w for row in browse.ids.keyboard.children for w in row.children if isinstance(w, DataButton)
    ]
    assert len(keys) >= 26 + 3
    assert {len(own_vertex_instructions(key)) for key in keys} == {2}


def test_the_qr_icon_is_one_mesh(ui):
    from kivy.graphics import Mesh

    icon = ui.screen("attract").ids.get("qr_icon") or next(
        w for w in ui.visible_widgets() if type(w).__name__ == "QrIcon"
    )
    drawn = own_vertex_instructions(icon)
    assert len(drawn) == 1 and isinstance(drawn[0], Mesh)
    assert len(drawn[0].vertices) == len(icon.squares()) * 16 > 0


@pytest.mark.parametrize("cls_name", ["OnScreenKeyboard", "LotKeypad"])
def test_keyboard_keys_are_made_when_the_keyboard_is_first_on_screen(ui, cls_name):
    import kiosk.ui.widgets as widgets

    keyboard = getattr(widgets, cls_name)(size_hint_y=None)
    ui.pump(2)
    assert keyboard.children == []  # not on screen yet: no keys
    ui.app.root.add_widget(keyboard)
    try:
        ui.pump(3)
        keys = [
            w
            for row in keyboard.children
            for w in row.children
            if isinstance(w, widgets.DataButton)
        ]
        assert len(keys) >= 26 and keyboard.height > 0
    finally:
        ui.app.root.remove_widget(keyboard)


def star_blobs(row) -> list[tuple[int, int, int]]:
    """The stars drawn in a StarRow's texture, left to right: (gold pixels, outline pixels,
    all painted pixels) per glyph, found as runs of painted columns."""
    from kiosk.ui.theme import COLOURS

    w, h = row.texture.size
    px = row.texture.pixels
    gold = [round(c * 255) for c in COLOURS["star_fill"][:3]]
    dark = [round(c * 255) for c in COLOURS["star_outline"][:3]]

    def near(p, ref):
        return all(abs(a - b) < 40 for a, b in zip(p, ref, strict=True))

    columns = []
    for x in range(w):
        counts = [0, 0, 0]
        for y in range(h):
            i = 4 * (y * w + x)
            if px[i + 3] < 128:
                continue
            rgb = list(px[i : i + 3])
            counts[0] += near(rgb, gold)
            counts[1] += near(rgb, dark)
            counts[2] += 1
        columns.append(counts)
    blobs, current = [], None
    for counts in columns:
        if counts[2]:
            current = [a + b for a, b in zip(current or [0, 0, 0], counts, strict=True)]
        elif current:
            blobs.append(tuple(current))
            current = None
    if current:
        blobs.append(tuple(current))
    return blobs


@pytest.mark.parametrize("font_px", [20, 34, 76])
@pytest.mark.parametrize("stars", [3, 4, 5])
def test_stars_are_drawn_outlined_and_counted_at_every_size(ui, stars, font_px):
    """3, 4 and 5 stars read apart: five glyphs drawn, `stars` of them gold inside, every one
    with a dark outline (>= 3:1 on the card and the page) and the hollow ones without gold."""
    from kiosk.ui.contrast import contrast_ratio
    from kiosk.ui.theme import COLOURS
    from kiosk.ui.widgets import StarRow

    row = StarRow(stars=stars, font_size=font_px)
    ui.app.root.add_widget(row)
    try:
        ui.pump(3)
        assert row.outline_width >= 1 and row.outline_color == COLOURS["star_outline"]
        blobs = star_blobs(row)
        assert len(blobs) == 5, blobs
        filled = [b for b in blobs if b[0] > 0.2 * b[2]]
        assert len(filled) == stars, blobs
        assert all(b[1] > 0 for b in blobs), blobs  # every star has its outline
        assert all(b[0] < 0.05 * b[2] for b in blobs[stars:]), blobs  # hollow: no gold
    finally:
        ui.app.root.remove_widget(row)
    for bg in ("card", "cream"):
        for colour in ("star_outline", "star_empty"):
            assert contrast_ratio(COLOURS[colour], COLOURS[bg]) >= 3.0, (colour, bg)
