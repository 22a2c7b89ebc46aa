"""What a person sees of a label in the live Kivy tree: the colour painted behind it and its
size at the 800x480 design size. Shared by test_contrast.py and test_kiosk_ui.py."""

from __future__ import annotations

from kiosk.ui.contrast import over

# Painted shapes that fill an area (a Line or a texture is not a background).
FILL_SHAPES = ("Rectangle", "RoundedRectangle", "Ellipse", "BorderImage")


class UnknownBackground(Exception):
    """The label sits on a picture (a camera frame, a product photo): no single colour."""


def _fills(widget, own: bool):
    """(rgba, window bbox, textured) of the fills `widget` paints under its children, in draw
    order: canvas.before, then (when `own`) its canvas itself. Never canvas.after: that is
    drawn over the children (outlines, progress rings)."""
    from kivy.graphics import Color, Rectangle
    from kivy.graphics.instructions import Canvas, InstructionGroup

    plain = Rectangle().texture
    default_texture_id = plain.id if plain is not None else None
    canvas = widget.canvas
    groups = [canvas.before] + ([canvas] if own else [])
    colour = [1.0, 1.0, 1.0, 1.0]
    found = []

    def walk(group):
        nonlocal colour
        for ins in group.children:
            if isinstance(ins, Canvas) or ins is canvas.after:
                continue  # canvas.before/after, or a child's canvas: not this widget's own
            if isinstance(ins, Color):
                colour = list(ins.rgba)
            elif type(ins).__name__ in FILL_SHAPES:
                x, y = ins.pos
                w, h = ins.size
                (x0, y0), (x1, y1) = widget.to_window(x, y), widget.to_window(x + w, y + h)
                # Kivy gives plain shapes its default (white) texture
                texture = ins.texture
                textured = texture is not None and texture.id != default_texture_id
                found.append((colour, (x0, y0, x1, y1), textured))
            elif isinstance(ins, InstructionGroup):
                walk(ins)

    for group in groups:
        walk(group)
    return found


def background_of(label, clear_colour) -> list[float]:
    """The colour under the middle of `label`'s text: translucent fills blended down to the
    nearest opaque one, from the label's own canvas.before up through its parents, as the
    next frame paints it. Kivy applies .kv canvas expressions (a button's `rgba: self.bg`)
    in Builder.sync(), just before each frame is drawn; read straight after a property
    change, the canvas still holds the old colour, which no frame ever shows."""
    from kivy.lang import Builder
    from kivy.uix.widget import Widget

    Builder.sync()
    x, y = label.to_window(*label.center)
    layers: list[list[float]] = []
    w, first = label, True
    while isinstance(w, Widget):  # up to the root widget; the Window paints clear_colour
        for colour, (x0, y0, x1, y1), textured in reversed(_fills(w, own=not first)):
            if not (min(x0, x1) <= x <= max(x0, x1) and min(y0, y1) <= y <= max(y0, y1)):
                continue
            if colour[3] <= 0.01:
                continue
            if textured:
                raise UnknownBackground(
                    f"{label.text[:30]!r} is drawn over a picture ({type(w).__name__})"
                )
            layers.append(colour)
            if colour[3] >= 0.99:
                return _blend(layers)
        w, first = w.parent, False
    layers.append(list(clear_colour[:3]) + [1.0])
    return _blend(layers)


def _blend(layers_top_first: list[list[float]]) -> list[float]:
    result = layers_top_first[-1]
    for layer in reversed(layers_top_first[:-1]):
        result = over(layer, result)
    return result


def design_px(font_size: float, u: float) -> float:
    """A font size at the 800x480 design size (the .kv files multiply by app.u)."""
    return font_size / u
