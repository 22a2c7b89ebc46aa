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
