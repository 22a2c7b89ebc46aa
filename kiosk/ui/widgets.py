"""Reusable widgets: labels and buttons that follow the app's scale and language, stars,
the verdict banner, the camera preview, the QL6 route strip, keyboards. Styles: widgets.kv."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line, Mesh, Rectangle, RoundedRectangle, Triangle
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.theme import COLOURS, hex_of
from kiosk.ui.ticks import every
from kiosk.viewmodels import EMPTY_STAR, STAR

STAR_GAP = "\u200a"  # hair space


class KLabel(Label):
    """Interface text: translated (tests check it changes with the language)."""


class DataLabel(Label):
    """Catalog data (product names, producers, places, numbers): the same in every language."""


class KButton(ButtonBehavior, Label):
    """A rounded button. Its outline (`line`, or gold while `selected`) is drawn only when
    visible: every drawn instruction costs GPU time, and ~64 KB of llvmpipe memory per
    frame on software GL (docs/ui.md, "Performance")."""

    bg = ColorProperty(COLOURS["green"])
    fg = ColorProperty(COLOURS["white"])
    line = ColorProperty(COLOURS["clear"])
    radius = NumericProperty(10)
    selected = BooleanProperty(False)

    def __init__(self, **kwargs):
        self._outline_colour = Color()
        self._outline = Line()
        self._outline_shown = False
        super().__init__(**kwargs)
        update = Clock.create_trigger(self._update_outline, -1)
        # Not bound to app.u: a scale change resizes every button anyway, and a binding on
        # the app would outlive the many list buttons made and dropped over months.
        for name in ("pos", "size", "line", "selected", "radius"):
            self.fbind(name, update)
        update()

    def _update_outline(self, *_):
        shown = self.selected or self.line[3] > 0
        if shown != self._outline_shown:
            for instruction in (self._outline_colour, self._outline):
                (self.canvas.before.add if shown else self.canvas.before.remove)(instruction)
            self._outline_shown = shown
        if shown:
            u = getattr(App.get_running_app(), "u", 1.0)
            self._outline_colour.rgba = COLOURS["gold"] if self.selected else self.line
            self._outline.width = (2.5 if self.selected else 1.2) * u
            self._outline.rounded_rectangle = (
                self.x + 1,
                self.y + 1,
                self.width - 2,
                self.height - 2,
                self.radius * u,
            )


class LangButton(KButton):
    """A language choice: its label is the language's own name in every language."""

    code = StringProperty("vi")


class DataButton(KButton):
    """A button whose text is catalog data (district names, product names)."""


def key_button(text: str) -> DataButton:
    """A key of the on-screen keyboards and keypads: flat, tinted, no outline (two drawn
    instructions instead of three; a keyboard has up to 40 keys)."""
    return DataButton(text=text, bg=COLOURS["key"], fg=COLOURS["ink"])


class StarRow(Label):
    """Filled stars in gold, the rest of five hollow in grey (4.5:1 on white), all with a dark
    outline (widgets.kv) so 3 and 4 stars read apart; DejaVu Sans has U+2605 / U+2606."""

    stars = NumericProperty(0)
    out_of = NumericProperty(5)
    show_empty = BooleanProperty(True)

    def on_stars(self, *_):
        self._update()

    def on_out_of(self, *_):
        self._update()

    def on_kv_post(self, base_widget):
        self._update()

    def _update(self):
        n = int(self.stars)
        if n <= 0:
            self.text = ""
            return
        rest = max(0, int(self.out_of) - n) if self.show_empty else 0
        self.markup = True
        fill, empty = hex_of(COLOURS["star_fill"]), hex_of(COLOURS["star_empty"])
        # a thin space between stars: outlined glyphs touch and blur into a bar otherwise
        gap = STAR_GAP
        self.text = f"[color={fill}]{gap.join(STAR * n)}[/color]" + (
            f"{gap}[color={empty}]{gap.join(EMPTY_STAR * rest)}[/color]" if rest else ""
        )


class VerdictBanner(BoxLayout):
    colour = ColorProperty(COLOURS["green"])
    icon = StringProperty("")
    title = StringProperty("")
    message = StringProperty("")


class ProductImage(Image):
    """A product picture (placeholder art in the demo), letterboxed on a soft card;
    `caption` ("Ảnh minh họa") is written under a placeholder in the screen's language."""

    caption = StringProperty("")


class Card(BoxLayout):
    bg = ColorProperty(COLOURS["card"])
    radius = NumericProperty(14)


class CameraPreview(Widget):
    """Shows the newest camera frame: `get_frame()` returns a scanner Frame (or None); the
    texture is updated on the UI clock at most once per frame, only while `active`."""

    get_frame = ObjectProperty(None, allownone=True)
    active = BooleanProperty(False)
    guide_colour = ColorProperty(COLOURS["gold"])
    frames_shown = NumericProperty(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._texture = None
        self._seq = -1
        self._event = None
        with self.canvas:
            Color(0.08, 0.1, 0.09, 1)
            self._bg = Rectangle(pos=self.pos, size=self.size)
            self._img_colour = Color(1, 1, 1, 0)
            self._img = Rectangle(pos=self.pos, size=self.size)
            self._guide_colour = Color(*self.guide_colour)
            self._corners = [
                Line(points=[], width=3, cap="square", joint="miter") for _ in range(4)
            ]
        self.bind(pos=self._layout, size=self._layout)

    def on_active(self, *_):
        if self.active and self._event is None:
            self._event = every(0, lambda: self._update(0))
        elif not self.active and self._event is not None:
            self._event.cancel()
            self._event = None

    def _update(self, _dt):
        frame = self.get_frame() if self.get_frame else None
        if frame is None or frame.seq == self._seq:
            return
        self._seq = frame.seq
        image = frame.image
        h, w = image.shape[:2]
        fmt = "bgr" if image.ndim == 3 else "luminance"
        if self._texture is None or self._texture.size != (w, h):
            self._texture = Texture.create(
                size=(w, h), colorfmt="rgb" if fmt == "bgr" else "luminance"
            )
            self._texture.flip_vertical()
            self._img.texture = self._texture
            self._layout()
        self._texture.blit_buffer(image.tobytes(), colorfmt=fmt, bufferfmt="ubyte")
        self._img_colour.a = 1
        self.canvas.ask_update()
        self.frames_shown += 1

    def clear(self):
        self._img_colour.a = 0
        self._seq = -1

    def _layout(self, *_):
        self._bg.pos, self._bg.size = self.pos, self.size
        tw, th = self._texture.size if self._texture else (4, 3)
        scale = min(self.width / tw, self.height / th)
        w, h = tw * scale, th * scale
        x, y = self.x + (self.width - w) / 2, self.y + (self.height - h) / 2
        self._img.pos, self._img.size = (x, y), (w, h)
        u = App.get_running_app().u if App.get_running_app() else 1
        side = min(w, h) * 0.62
        cx, cy = x + w / 2, y + h / 2
        x0, y0, x1, y1 = cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2
        arm = side * 0.18
        pts = [
            [x0, y0 + arm, x0, y0, x0 + arm, y0],
            [x1 - arm, y0, x1, y0, x1, y0 + arm],
            [x1, y1 - arm, x1, y1, x1 - arm, y1],
            [x0 + arm, y1, x0, y1, x0, y1 - arm],
        ]
        for line, p in zip(self._corners, pts, strict=True):
            line.points = p
            line.width = 3 * u


class RouteStrip(Widget):
    """The site's national road through Sơn La as a schematic strip: one end - the districts
    in order - the other end. Each stop shows its district and its number of OCOP products;
    `highlight` marks where the product on show comes from, `here` the rest stop itself.
    Every text is at least 18 px * app.u (labels); the strip sets `content_height` to what
    its texts need at its width (names wrap), and the kv rule uses it as its height."""

    stops = ListProperty([])  # [(label, count, district)]
    ends = ListProperty(["Hà Nội", "Điện Biên"])
    highlight = StringProperty("")
    here = StringProperty("")
    here_text = StringProperty("")
    count_for = ObjectProperty(None, allownone=True)  # n -> "1 product" / "2 products"
    font_scale = NumericProperty(1.0)
    content_height = NumericProperty(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._labels: list[Label] = []
        self._trigger = Clock.create_trigger(self._redraw, 0)
        self.bind(
            pos=self._trigger,
            width=self._trigger,
            stops=self._trigger,
            highlight=self._trigger,
            here=self._trigger,
            ends=self._trigger,
            here_text=self._trigger,
            count_for=self._trigger,
            font_scale=self._trigger,
        )

    def _label(self, text, size, colour, bold=False, width=None):
        lbl = DataLabel(
            text=text,
            font_size=size,
            color=colour,
            bold=bold,
            halign="center",
            valign="middle",
            size_hint=(None, None),
        )
        lbl.font_size = size  # after the kv rule's default (17 px * app.u), not before
        lbl.text_size = (width, None) if width else (None, None)
        lbl.texture_update()
        lbl.size = lbl.texture_size
        self.add_widget(lbl)
        self._labels.append(lbl)
        return lbl

    def _count_text(self, count: int, narrow: bool) -> str:
        if narrow or self.count_for is None:
            return str(count)
        return self.count_for(count)

    def _redraw(self, *_):
        for lbl in self._labels:
            self.remove_widget(lbl)
        self._labels.clear()
        self.canvas.before.clear()
        if not self.stops or self.width < 10:
            self.content_height = 0
            return
        app = App.get_running_app()
        u = (app.u if app else 1) * self.font_scale
        n = len(self.stops)
        step = (self.width - 8 * u) / n  # each stop owns an equal slice
        x0 = self.x + 4 * u + step / 2
        text_size = 18 * u  # the labels' floor (docs/ui.md)
        names = [
            self._label(label, text_size, COLOURS["ink"], district == self.highlight, step * 0.96)
            for label, _count, district in self.stops
        ]
        # counts as "3 products" where they fit in every slice, else the bare number
        narrow = self.count_for is None or any(
            self._too_wide(self.count_for(c), text_size, step) for _l, c, _d in self.stops if c
        )
        y = self.y + max(lbl.height for lbl in names) + 15 * u  # the road; names below it
        row1 = y + 14 * u  # counts
        row2 = row1 + text_size * 1.3 + 6 * u  # road ends and the "here" tag
        with self.canvas.before:
            Color(*COLOURS["green"])
            Line(points=[self.x + 2, y, self.right - 2, y], width=4 * u)
            for tip, back in ((self.x + 2, 12 * u), (self.right - 2, -12 * u)):
                Line(points=[tip + back, y + 8 * u, tip, y, tip + back, y - 8 * u], width=3 * u)
        left = self._label("‹ " + self.ends[0], text_size, COLOURS["muted"], bold=True)
        left.x, left.y = self.x + 2, row2
        right = self._label(self.ends[1] + " ›", text_size, COLOURS["muted"], bold=True)
        right.right, right.y = self.right - 2, row2
        top = max(left.top, right.top)
        for i, (name, (_label, count, district)) in enumerate(zip(names, self.stops, strict=True)):
            cx = x0 + i * step
            lit = district == self.highlight
            r = (12 if lit else 8.5) * u
            with self.canvas.before:
                Color(*(COLOURS["gold"] if lit else COLOURS["white"]))
                Ellipse(pos=(cx - r, y - r), size=(2 * r, 2 * r))
                Color(*COLOURS["green_dark"])
                Line(circle=(cx, y, r), width=2.2 * u)
            name.center_x, name.top = cx, y - 13 * u
            if count:
                c = self._label(
                    self._count_text(count, narrow),
                    text_size,
                    COLOURS["amber"] if lit else COLOURS["green_dark"],
                    bold=True,
                )
                c.center_x, c.y = cx, row1
            if district == self.here and self.here_text:
                tag = self._label(self.here_text, text_size, COLOURS["white"], bold=True)
                tag.center_x, tag.y = cx, row2 + 2 * u
                tag.x = max(tag.x, left.right + 10 * u)
                tag.right = min(tag.right, right.x - 10 * u)
                top = max(top, tag.top + 2 * u)
                with self.canvas.before:
                    Color(*COLOURS["red"])
                    RoundedRectangle(
                        pos=(tag.x - 6 * u, tag.y - 2 * u),
                        size=(tag.width + 12 * u, tag.height + 4 * u),
                        radius=[6 * u],
                    )
        self.content_height = top - self.y + 2 * u

    @staticmethod
    def _too_wide(text: str, size: float, step: float) -> bool:
        probe = DataLabel(text=text, font_size=size, bold=True)
        probe.texture_update()
        return probe.texture_size[0] > step * 0.96


class KeysBuiltWhenShown:
    """For keyboards: the keys (each a button with its own texts, bindings and texture) are
    made the first time the keyboard is on screen, not when the screen is built: the
    browse search keyboard waits for the search tab, the staff screen's keyboards for the
    product search and the lot field. Later size or layout changes rebuild them."""

    _keys_built = False

    def build_when_shown(self):
        check = Clock.create_trigger(self._build_if_shown, -1)
        self.fbind("size", check)
        self.fbind("parent", check)
        app = App.get_running_app()
        if app is not None:  # key sizes follow the window (800x480 .. 1920x1080)
            app.fbind("u", self.rebuild)

    def _build_if_shown(self, *_):
        if not self._keys_built and self.get_root_window() is not None:
            self.rebuild()

    def rebuild(self, *_):
        if self._keys_built or self.get_root_window() is not None:
            self._keys_built = True
            self._build()


KEY_MIN_DP = 48  # the shared norm for touch targets


class OnScreenKeyboard(KeysBuiltWhenShown, GridLayout):
    """Letters only: the catalog search ignores diacritics and case, so a plain A-Z
    keyboard finds 'Mộc Châu' from 'moc chau'. QWERTY (10 keys a row) when there is room
    for 48 dp keys, else an alphabetical 7-key layout (portrait 480 px)."""

    __events__ = ("on_key",)
    QWERTY = ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM")
    ABC = ("ABCDEFG", "HIJKLMN", "OPQRSTU", "VWXYZ")
    layout = StringProperty("qwerty")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cols = 1
        self.bind(minimum_height=self.setter("height"), layout=self.rebuild)
        self.build_when_shown()

    @staticmethod
    def key_min_px(u: float) -> float:
        """The smallest a key may be, each way: 48 dp, and 48 of the app's units."""
        return max(dp(KEY_MIN_DP), KEY_MIN_DP * u)

    @classmethod
    def layout_for(cls, width: float, u: float) -> str:
        """QWERTY when ten keys of key_min_px fit the width, else the 7-key ABC layout."""
        keys = len(cls.QWERTY[0])
        return "qwerty" if width >= keys * cls.key_min_px(u) + (keys - 1) * 4 * u else "abc"

    def _build(self):
        self.clear_widgets()
        app = App.get_running_app()
        u = app.u if app else 1
        self.spacing = 4 * u
        rows = self.QWERTY if self.layout == "qwerty" else self.ABC
        width = max(len(r) for r in rows)
        key_h = max(52 * u, self.key_min_px(u))
        for row in rows:
            line = BoxLayout(spacing=4 * u, size_hint_y=None, height=key_h)
            pad = (width - len(row)) / 2.0
            if pad:
                line.add_widget(Widget(size_hint_x=pad))
            for ch in row:
                line.add_widget(self._key(ch, ch.lower()))
            if pad:
                line.add_widget(Widget(size_hint_x=pad))
            self.add_widget(line)
        last = BoxLayout(spacing=4 * u, size_hint_y=None, height=key_h)
        for label, value, weight in (("⌫", "backspace", 2), ("␣", " ", 4), ("✕", "clear", 2)):
            key = self._key(label, value)
            key.size_hint_x = weight
            last.add_widget(key)
        self.add_widget(last)

    def _key(self, label, value):
        btn = key_button(label)
        btn.bind(on_release=lambda *_: self.dispatch("on_key", value))
        return btn

    def on_key(self, value):
        pass


class LotKeypad(KeysBuiltWhenShown, GridLayout):
    """The lot (batch) text printed on labels, typed on the touchscreen: digits, A-Z, '-',
    '/', backspace and clear. Ten keys a row when 48 dp keys fit, else seven (portrait
    480 px). Emits on_key with the character, "backspace" or "clear"."""

    __events__ = ("on_key",)
    WIDE = ("1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM/")
    NARROW = ("1234567", "890-/", "ABCDEFG", "HIJKLMN", "OPQRSTU", "VWXYZ")
    KEY_H = 48
    columns = NumericProperty(10)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cols = 1
        self.bind(minimum_height=self.setter("height"), columns=self.rebuild)
        self.build_when_shown()

    @staticmethod
    def columns_for(width: float, u: float) -> int:
        return 10 if width >= 10 * 48 * u + 9 * 4 * u else 7

    def _build(self):
        self.clear_widgets()
        app = App.get_running_app()
        u = app.u if app else 1
        self.spacing = 4 * u
        rows = self.WIDE if self.columns >= 10 else self.NARROW
        width = max(len(r) for r in rows)
        for row in rows:
            line = BoxLayout(spacing=4 * u, size_hint_y=None, height=self.KEY_H * u)
            for ch in row:
                line.add_widget(self._key(ch, ch))
            if len(row) < width:
                line.add_widget(Widget(size_hint_x=width - len(row)))
            self.add_widget(line)
        last = BoxLayout(spacing=4 * u, size_hint_y=None, height=self.KEY_H * u)
        for label, value in (("⌫", "backspace"), ("✕", "clear")):
            last.add_widget(self._key(label, value))
        self.add_widget(last)

    def _key(self, label, value):
        btn = key_button(label)
        btn.key_value = value
        btn.bind(on_release=lambda *_: self.dispatch("on_key", value))
        return btn

    def key(self, value: str):
        """The button that types `value` (tests)."""
        for line in self.children:
            for btn in line.children:
                if getattr(btn, "key_value", None) == value:
                    return btn
        return None

    def on_key(self, value):
        pass


class HoldToOpen(Widget):
    """Press and hold for `hold_s` to fire on_hold (the hidden staff gesture on the top-bar
    logo). Lifting the finger or sliding off cancels. `progress` (0..1) draws a ring."""

    __events__ = ("on_hold",)
    hold_s = NumericProperty(3.0)
    progress = NumericProperty(0.0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._touch = None
        self._fire = None
        self._tick = None
        self._t0 = 0.0

    @property
    def holding(self) -> bool:
        return self._touch is not None

    def on_touch_down(self, touch):
        if self.disabled or not self.collide_point(*touch.pos) or self._touch is not None:
            return super().on_touch_down(touch)
        self._touch = touch
        touch.grab(self)
        self._t0 = Clock.get_boottime()
        self._fire = Clock.schedule_once(self._fired, self.hold_s)
        self._tick = every(1 / 30, lambda: self._update(0))
        return True

    def on_touch_move(self, touch):
        if touch is self._touch and not self.collide_point(*touch.pos):
            self._cancel()
        return super().on_touch_move(touch)

    def on_touch_up(self, touch):
        if touch.grab_current is self:
            touch.ungrab(self)
        if touch is self._touch:
            self._cancel()
            return True
        return super().on_touch_up(touch)

    def _update(self, _dt):
        held = Clock.get_boottime() - self._t0
        # nothing shows for a normal tap; the ring fills during the rest of the hold
        self.progress = 0.0 if held < 0.4 else min(1.0, held / self.hold_s)

    def _fired(self, _dt):
        self._cancel()
        self.dispatch("on_hold")

    def _cancel(self):
        for event in (self._fire, self._tick):
            if event is not None:
                event.cancel()
        self._fire = self._tick = None
        self._touch = None
        self.progress = 0.0

    def on_hold(self):
        pass


class PinPad(GridLayout):
    __events__ = ("on_key",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cols = 3
        app = App.get_running_app()
        u = app.u if app else 1
        self.spacing = 8 * u
        for key in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"):
            btn = key_button(key)
            if key == "OK":
                btn.bg, btn.fg = COLOURS["green"], COLOURS["white"]
            btn.height = 60 * u
            btn.font_size = 26 * u
            btn.bind(on_release=lambda b, k=key: self.dispatch("on_key", k))
            self.add_widget(btn)

    def on_key(self, value):
        pass


class TapCard(ButtonBehavior, Card):
    """A card that opens something when tapped."""


# An arrow's direction: where it points, unit steps in window coordinates (y grows upwards).
ARROW_STEPS = {"above": (0, 1), "below": (0, -1), "left": (-1, 0), "right": (1, 0)}


class CameraArrow(Widget):
    """A drawn arrow (head and shaft) pointing `direction`: towards the camera."""

    direction = OptionProperty("above", options=list(ARROW_STEPS))
    colour = ColorProperty(COLOURS["white"])

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, direction=self._draw, colour=self._draw)
        self._draw()

    def points(self) -> list[tuple[float, float]]:
        """The head's three corners, then the shaft's four, in window coordinates; the
        first is the tip. Drawn pointing right, then turned to `direction`."""
        dx, dy = ARROW_STEPS[self.direction]
        half = min(self.width, self.height) / 2
        cx, cy = self.to_window(*self.center)
        shape = [(1, 0), (0.1, 0.8), (0.1, -0.8), (0.15, 0.3), (0.15, -0.3), (-1, -0.3), (-1, 0.3)]
        # turn (x, y) by the direction: right (1,0) keeps it, above (0,1) is a quarter turn
        return [(cx + half * (x * dx - y * dy), cy + half * (x * dy + y * dx)) for x, y in shape]

    def _draw(self, *_):
        pts = [self.to_widget(x, y) for x, y in self.points()]
        self.canvas.clear()
        with self.canvas:
            Color(*self.colour)
            Triangle(points=[c for p in pts[:3] for c in p])
            shaft = [c for p in (pts[3], pts[4], pts[5], pts[6]) for c in p]
            Mesh(
                vertices=[v for i in range(4) for v in (*shaft[2 * i : 2 * i + 2], 0, 0)],
                indices=[0, 1, 2, 0, 2, 3],
                mode="triangles",
            )


class QrIcon(Widget):
    """A drawn QR-code symbol for the call to scan (no image file needed): one Mesh of
    squares, so the attract screen draws it in one instruction instead of sixteen."""

    colour = ColorProperty(COLOURS["white"])
    FINDERS = ((0, 4), (4, 4), (0, 0))
    DOTS = (
        (4.3, 0.3),
        (5.6, 1.2),
        (4.6, 2.0),
        (6.0, 0.2),
        (5.2, 2.6),
        (3.3, 5.6),
        (3.3, 3.3),
        (0.4, 3.3),
        (2.0, 3.4),
        (6.0, 3.3),
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, colour=self._draw)

    def squares(self) -> list[tuple[float, float, float, float]]:
        """(x, y, w, h) of every filled rectangle, in window coordinates."""
        s = min(self.width, self.height)
        x0, y0 = self.center_x - s / 2, self.center_y - s / 2
        m = s / 7.0
        t = max(1.5, m * 0.28)  # the finder patterns' ring thickness
        out = []
        for fx, fy in self.FINDERS:
            x, y, side = x0 + fx * m + m * 0.25 - t / 2, y0 + fy * m + m * 0.25 - t / 2, m * 2.5 + t
            out += [
                (x, y, side, t),
                (x, y + side - t, side, t),  # bottom, top
                (x, y + t, t, side - 2 * t),
                (x + side - t, y + t, t, side - 2 * t),
            ]
            out.append((x0 + fx * m + m * 0.95, y0 + fy * m + m * 0.95, m * 1.1, m * 1.1))
        out += [(x0 + cx * m, y0 + cy * m, m * 0.8, m * 0.8) for cx, cy in self.DOTS]
        return out

    def _draw(self, *_):
        vertices, indices = [], []
        for i, (x, y, w, h) in enumerate(self.squares()):
            vertices += [x, y, 0, 0, x + w, y, 0, 0, x + w, y + h, 0, 0, x, y + h, 0, 0]
            k = 4 * i
            indices += [k, k + 1, k + 2, k + 2, k + 3, k]
        self.canvas.clear()
        with self.canvas:
            Color(*self.colour)
            Mesh(vertices=vertices, indices=indices, mode="triangles")


class ProductDetail(BoxLayout):
    """The product card in full: picture, name, stars with level, year and valid-until (or
    why there are none), producer, origin, group, an extra line, the story."""

    card = ObjectProperty(None, allownone=True)  # ProductCardViewModel
    image = StringProperty("")
    extra = StringProperty("")
    # the scanned stamp's lot, right under the rating (a passed best-before date is what a
    # shopper must see without scrolling): Kivy markup (ResultViewModel.lot_text)
    lot = StringProperty("")
    show_image = BooleanProperty(True)  # False beside a report: the facts get the width
    big = NumericProperty(1.0)  # type scale: app.big (rest stop), 1 on the result screen

    def scroll_to_top(self) -> None:
        """Every card opens at its top: the last shopper's scroll position says nothing."""
        scroll = self.ids.get("detail_scroll")
        if scroll is not None:
            scroll.scroll_y = 1


class Pane(BoxLayout):
    """A part of a screen that is shown or not (tabs, optional panels). A hidden pane takes
    its children out of the widget tree: collapsed-but-present widgets would still catch
    touches meant for what is drawn over them."""

    shown = BooleanProperty(True)

    def __init__(self, **kwargs):
        self._hidden: list = []
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget):
        self._apply()

    def on_shown(self, *_):
        self._apply()

    def _apply(self):
        if self.shown and self._hidden:
            for child in self._hidden:
                self.add_widget(child)
            self._hidden = []
        elif not self.shown and self.children:
            self._hidden = self.children[::-1]
            self.clear_widgets()
        self._collapse()

    def on_size_hint_x(self, *_):
        self._collapse()

    def on_size_hint_y(self, *_):
        self._collapse()

    def _collapse(self):
        """A hidden pane without a size hint takes no room: a size left over from when it
        was shown would squeeze the pane shown in its place."""
        if not self.shown:
            if self.size_hint_x is None:
                self.width = 0
            if self.size_hint_y is None:
                self.height = 0


class FieldButton(ButtonBehavior, Label):
    """Looks like a text field, opens an on-screen keyboard when tapped (no Kivy text input: it
    needs a physical keyboard and a clipboard provider). Shows what was typed (data) or a
    placeholder (`empty`)."""

    empty = BooleanProperty(True)
    active = BooleanProperty(False)


class ListButton(DataButton):
    """A row in a list of catalog items (district, product): left-aligned, smaller type."""


class ListKButton(KButton):
    """A row in a list whose text is translated (product groups, demo stamps)."""
