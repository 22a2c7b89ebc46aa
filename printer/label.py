"""Render one stamp label as a 1-bit Pillow image.

The printer package renders what it is given: the caller passes finished strings
(:class:`LabelContent`) and geometry (:class:`LabelLayout`); nothing here knows what a stamp
is.  Everything is drawn directly in mode ``'1'`` (no anti-aliasing, no dithering, no
resampling of the QR code), so the bytes sent to the printer are exactly what was drawn.

Two arrangements:

* ``side`` (default when the text column is wide enough): QR code with its quiet zone on
  the left, the human-readable serial under it; mark + stars, title, producer, district and
  footer in a column on the right.
* ``stacked``: text lines across the full width, then the QR code centred, then the serial.

Text is NFC-normalised, wrapped at spaces (a word wider than the column is broken between
characters), shrunk down to a minimum size, and as a last resort cut at a whole character
with an ellipsis - never clipped mid-glyph.  Fonts are DejaVu Sans (full Vietnamese
coverage), shipped in ``printer/fonts``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import unicodedata
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from ocop.paper import DOTS_BY_WIDTH_MM
from printer.fonts import Weight, font_path

try:  # a project dependency; without it the QR codes come from segno alone (slower)
    import zxingcpp
except ImportError:  # pragma: no cover
    HAVE_ZXINGCPP = False
else:
    HAVE_ZXINGCPP = True

MM_PER_INCH = 25.4
DEFAULT_DPI = 203
MIN_MODULE_DOTS = 4
MIN_QUIET_MODULES = 4

Arrangement = Literal["auto", "side", "stacked"]
# An explicit QR segment: (text, mode). The caller chooses the modes (a mixed symbol can be
# a version smaller than any single mode); the printer only encodes them.
QrMode = Literal["byte", "alphanumeric", "numeric"]
QrSegments = tuple[tuple[str, QrMode], ...]

ELLIPSIS = "…"
# Characters whose ink reaches highest / lowest in Vietnamese text (stacked diacritics).
_TALL_SAMPLE = "ẤẦẨẪẬỖỮỸÁ|"
_DEEP_SAMPLE = "gjpqyỵỴẠỆ|"


class LabelError(ValueError):
    """The content cannot be laid out with this layout (e.g. the QR code does not fit)."""


class LabelTooShort(LabelError):
    """A fixed label height below what the content needs even with its text shrunk as far
    as the renderer shrinks it; ``needed_dots`` is that minimum (the renderer's own
    geometry: QR modules, quiet zone, serial, text at the smallest sizes)."""

    def __init__(self, needed_dots: int, height_dots: int, dpi: int):
        self.needed_dots = needed_dots
        self.height_dots = height_dots
        self.dpi = dpi
        super().__init__(
            f"content needs {needed_dots} dots but the label is {height_dots} dots tall "
            f"({height_dots * MM_PER_INCH / dpi:.1f} mm); at least {self.needed_mm} mm is "
            f"needed: allow a taller label or shorter text"
        )

    @property
    def needed_mm(self) -> int:
        """The shortest whole-millimetre ``height_mm`` that holds the content."""
        return whole_mm_for_dots(self.needed_dots, self.dpi)


def whole_mm_for_dots(dots: int, dpi: int = DEFAULT_DPI) -> int:
    """The smallest whole number of millimetres whose ``height_mm`` gives >= ``dots``."""
    mm = max(1, math.floor(dots * MM_PER_INCH / dpi))
    while round(mm * dpi / MM_PER_INCH) < dots:
        mm += 1
    return mm


# --------------------------------------------------------------------------------------
# Content and layout
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LabelContent:
    """Finished strings to print.  ``stars=None`` means: no valid rating, draw no stars."""

    qr_text: str
    title: str
    serial_text: str
    producer: str = ""
    district: str = ""
    stars: int | None = None
    mark_text: str = "OCOP Sơn La"
    footer: str = ""  # e.g. "Lô 2024-07 · HSD 2025-07"
    qr_segments: QrSegments = ()  # explicit segments spelling qr_text; () = one automatic

    def __post_init__(self) -> None:
        if not self.qr_text:
            raise LabelError("qr_text is empty")
        if self.qr_segments and "".join(t for t, _ in self.qr_segments) != self.qr_text:
            raise LabelError("qr_segments do not spell qr_text")
        if self.stars is not None and not (1 <= int(self.stars) <= 5):
            raise LabelError(f"stars must be 1..5 or None, got {self.stars!r}")


@dataclasses.dataclass(frozen=True)
class LabelLayout:
    """Label geometry in printer dots (203 dpi: 8 dots per mm).

    ``height_dots`` / ``height_mm``: a fixed label height; leave both ``None`` for a label
    exactly as tall as its content.  Text shrinks to fit a fixed height.
    """

    width_dots: int = 384
    height_dots: int | None = None
    height_mm: float | None = None
    dpi: int = DEFAULT_DPI
    module_dots: int | None = None  # None: 4 on 58 mm paper, 5 on 80 mm paper
    quiet_modules: int = MIN_QUIET_MODULES
    margin_dots: int = 8
    arrangement: Arrangement = "auto"
    min_text_column_dots: int = 150

    def __post_init__(self) -> None:
        if self.width_dots <= 0 or self.width_dots % 8:
            raise LabelError(f"width_dots must be a positive multiple of 8, got {self.width_dots}")
        if self.module_dots is not None and self.module_dots < MIN_MODULE_DOTS:
            raise LabelError(f"module_dots must be >= {MIN_MODULE_DOTS}, got {self.module_dots}")
        if self.quiet_modules < MIN_QUIET_MODULES:
            raise LabelError(
                f"quiet_modules must be >= {MIN_QUIET_MODULES}, got {self.quiet_modules}"
            )
        if self.height_dots is not None and self.height_mm is not None:
            raise LabelError("give height_dots or height_mm, not both")
        if self.arrangement not in ("auto", "side", "stacked"):
            raise LabelError(f"arrangement must be auto, side or stacked, got {self.arrangement!r}")
        h = self.fixed_height_dots
        if h is not None and h <= 0:
            raise LabelError("label height must be positive")

    @classmethod
    def for_paper_mm(cls, paper_mm: int, **kwargs: Any) -> LabelLayout:
        """58 mm paper -> 384 dots, 80 mm paper -> 576 dots."""
        if paper_mm not in DOTS_BY_WIDTH_MM:
            raise LabelError(f"paper width must be 58 or 80 mm, got {paper_mm}")
        return cls(width_dots=DOTS_BY_WIDTH_MM[paper_mm], **kwargs)

    @property
    def fixed_height_dots(self) -> int | None:
        if self.height_dots is not None:
            return int(self.height_dots)
        if self.height_mm is not None:
            return round(self.height_mm * self.dpi / MM_PER_INCH)
        return None

    @property
    def qr_module_dots(self) -> int:
        if self.module_dots is not None:
            return self.module_dots
        return MIN_MODULE_DOTS if self.width_dots <= 384 else 5

    @property
    def scale(self) -> float:
        """Type sizes are designed for 384 dots; wider paper gets bigger type."""
        return 1.0 if self.width_dots <= 384 else 1.25

    def dots_to_mm(self, dots: int) -> float:
        return dots * MM_PER_INCH / self.dpi


@dataclasses.dataclass(frozen=True)
class RenderedLabel:
    image: Image.Image  # mode '1', width == layout.width_dots
    qr_box: tuple[int, int, int, int]  # the QR symbol (without quiet zone): x0, y0, x1, y1
    module_dots: int
    quiet_dots: int
    qr_version: int
    arrangement: str
    text_size_factor: float  # 1.0 = design sizes; < 1 when text had to shrink


# --------------------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def get_font(weight: Weight, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(weight)), size_px)


@functools.lru_cache(maxsize=256)
def _line_extents(weight: Weight, size_px: int) -> tuple[int, int]:
    """(above, below) baseline in dots, covering Vietnamese stacked marks."""
    font = get_font(weight, size_px)
    ascent, descent = font.getmetrics()
    # Whole dots: Pillow types the box as floats only for a fractional stroke width.
    top = int(font.getbbox(_TALL_SAMPLE, anchor="ls")[1])
    bottom = int(font.getbbox(_DEEP_SAMPLE, anchor="ls")[3])
    return max(ascent, -top), max(descent, bottom)


def line_height(weight: Weight, size_px: int) -> int:
    above, below = _line_extents(weight, size_px)
    return above + below


@functools.lru_cache(maxsize=4096)
def _notdef_mask(weight: Weight, size_px: int) -> bytes:
    return bytes(get_font(weight, size_px).getmask("\U0010fffd", mode="1"))


def missing_glyphs(text: str, weight: Weight = "regular") -> set[str]:
    """Characters of ``text`` the label font cannot draw (they would print as boxes)."""
    missing = set()
    for ch in set(normalize_text(text)):
        if ch.isspace() or unicodedata.category(ch) in ("Mn", "Me"):
            continue
        if not _has_glyph(weight, ch):
            missing.add(ch)
    return missing


@functools.lru_cache(maxsize=8192)
def _has_glyph(weight: Weight, ch: str) -> bool:
    font = get_font(weight, 32)
    mask = font.getmask(ch, mode="1")
    if mask.size[0] == 0 or mask.size[1] == 0:
        return ch.isspace()
    notdef = font.getmask("\U0010fffd", mode="1")
    return not (mask.size == notdef.size and bytes(mask) == bytes(notdef))


# --------------------------------------------------------------------------------------
# Text fitting
# --------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFC, control characters removed, runs of whitespace collapsed to one space."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return _WS.sub(" ", text).strip()


def _graphemes(word: str) -> list[str]:
    """Split into base character + following combining marks (NFC leaves few of these)."""
    out: list[str] = []
    for ch in word:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _break_word(word: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for g in _graphemes(word):
        if current and font.getlength(current + g) > width:
            pieces.append(current)
            current = g
        else:
            current += g
    if current:
        pieces.append(current)
    return pieces


def wrap_text(
    text: str, font: ImageFont.FreeTypeFont, width: int, *, break_words: bool
) -> list[str] | None:
    """Greedy wrap at spaces.  ``None`` if a word is too wide and ``break_words`` is False."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if font.getlength(word) <= width:
            current = word
            continue
        if not break_words:
            return None
        pieces = _break_word(word, font, width)
        lines.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        lines.append(current)
    return lines


def _ellipsize(line: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    gs = _graphemes(line)
    while gs:
        candidate = "".join(gs).rstrip() + ELLIPSIS
        if font.getlength(candidate) <= width:
            return candidate
        gs.pop()
    return ELLIPSIS if font.getlength(ELLIPSIS) <= width else ""


@dataclasses.dataclass(frozen=True)
class TextSpec:
    weight: Weight
    size_px: int
    min_px: int
    max_lines: int
    overflow_lines: int = 0  # extra lines allowed at min size before cutting
    must_fit: bool = False  # never cut with an ellipsis: raise LabelError instead


@dataclasses.dataclass(frozen=True)
class FittedText:
    lines: tuple[str, ...]
    weight: Weight
    size_px: int
    truncated: bool

    @property
    def height(self) -> int:
        if not self.lines:
            return 0
        return line_height(self.weight, self.size_px) * len(self.lines)


# Shrinking by up to this fraction is preferred over using one more line.
PREFER_SHRINK_OVER_WRAP = 0.15


def _sizes(start: int, stop: int) -> range:
    return range(start, stop - 1, -1)


@functools.lru_cache(maxsize=2048)
def fit_text(text: str, width: int, spec: TextSpec) -> FittedText:
    """Wrap, then shrink (down to ``spec.min_px``), then cut with an ellipsis.

    A block that fits on fewer lines after a small shrink (<= 15 %) takes the shrink.
    """
    if not text or width <= 0:
        return FittedText((), spec.weight, spec.size_px, False)
    tried: dict[int, list[str] | None] = {}

    def wrapped(size: int) -> list[str] | None:
        if size not in tried:
            tried[size] = wrap_text(text, get_font(spec.weight, size), width, break_words=False)
        return tried[size]

    for target in range(1, spec.max_lines + 1):
        floor = spec.min_px
        if target < spec.max_lines:
            floor = max(spec.min_px, math.ceil(spec.size_px * (1 - PREFER_SHRINK_OVER_WRAP)))
        for size in _sizes(spec.size_px, floor):
            lines = wrapped(size)
            if lines is not None and len(lines) <= target:
                return FittedText(tuple(lines), spec.weight, size, False)
    size = spec.min_px
    font = get_font(spec.weight, size)
    lines = wrap_text(text, font, width, break_words=True) or [""]
    limit = spec.max_lines + spec.overflow_lines
    if len(lines) <= limit:
        return FittedText(tuple(lines), spec.weight, size, False)
    if spec.must_fit:
        raise LabelError(f"text {text!r} does not fit in {width} dots on {limit} line(s)")
    kept = lines[:limit]
    kept[-1] = _ellipsize(kept[-1], font, width)
    return FittedText(tuple(kept), spec.weight, size, True)


def _draw_lines(
    draw: ImageDraw.ImageDraw, fitted: FittedText, x: int, y: int, width: int, align: str = "left"
) -> int:
    """Draw black text; return the y below the block."""
    if not fitted.lines:
        return y
    font = get_font(fitted.weight, fitted.size_px)
    above, below = _line_extents(fitted.weight, fitted.size_px)
    for line in fitted.lines:
        lx = x
        if align == "center":
            lx = x + max(0, (width - math.ceil(font.getlength(line))) // 2)
        draw.text((lx, y + above), line, font=font, fill=0, anchor="ls")
        y += above + below
    return y


# --------------------------------------------------------------------------------------
# QR and stars
# --------------------------------------------------------------------------------------


def _zxing_matrix(qr_text: str) -> NDArray[np.bool_] | None:
    """QR modules from zxing-cpp's writer (libzint inside), or ``None`` to use segno.

    Only for ASCII text (no ECI, EC level M, never boosted).  For upper-case stamp URLs the
    data and EC codewords are segno's bit for bit (alphanumeric mode); for other ASCII text
    zxing-cpp may split the data into mode segments differently, which can give a smaller
    version, never a bigger one (tested against segno).  zxing-cpp picks the mask
    in C (~0.5 ms for a 150-character stamp) where segno needs ~6 ms in Python; its mask
    differs from segno's for about a quarter of the stamps (a different but valid ISO 18004
    penalty evaluation; camera-frame decode rates are the same, see docs/printing.md).
    Non-ASCII text keeps segno, whose charset choice (ISO-8859-1 / UTF-8 bytes without
    ECI) this package has always printed.
    """
    if not HAVE_ZXINGCPP or not qr_text.isascii():
        return None
    try:
        code = zxingcpp.create_barcode(qr_text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
        if code.ec_level != "M":
            return None
        modules = np.asarray(code.to_image(scale=1, add_quiet_zones=False))
    except Exception:  # noqa: BLE001 - too long or an older zxing-cpp: segno decides and explains
        return None
    if modules.ndim != 2 or modules.shape[0] != modules.shape[1]:
        return None
    n = modules.shape[0]
    if n < 21 or (n - 17) % 4:
        return None
    return modules < 128


def _segno_segments(segments: QrSegments) -> list[tuple[str, int]]:
    from segno import consts

    modes = {
        "byte": consts.MODE_BYTE,
        "alphanumeric": consts.MODE_ALPHANUMERIC,
        "numeric": consts.MODE_NUMERIC,
    }
    return [(text, modes[mode]) for text, mode in segments]


@functools.lru_cache(maxsize=64)
def qr_matrix(qr_text: str, segments: QrSegments = ()) -> tuple[NDArray[np.bool_], int]:
    # EC level M, never boosted, so the version only depends on the payload; upper-case
    # URLs stay in alphanumeric mode. Explicit segments go to segno exactly as given
    # (zxing-cpp's writer chooses its own).
    zxing = None if segments else _zxing_matrix(qr_text)
    if zxing is not None:
        dark, version = zxing, (zxing.shape[0] - 17) // 4
    else:
        import segno  # here, not at the top: ~3 MB of imports a kiosk that never prints skips

        content: Any = _segno_segments(segments) if segments else qr_text
        qr = segno.make(content, error="m", boost_error=False, micro=False)
        dark = np.array(qr.matrix, dtype=bool)
        version = int(qr.version)
    dark.setflags(write=False)
    return dark, version


def qr_image(qr_text: str, module_dots: int, segments: QrSegments = ()) -> tuple[Image.Image, int]:
    """The QR symbol (no quiet zone) as a mode '1' image, ``module_dots`` per module."""
    dark, version = qr_matrix(qr_text, segments)
    small = Image.fromarray(~dark)  # bool -> mode '1', True = white
    n = dark.shape[0] * module_dots
    return small.resize((n, n), Image.Resampling.NEAREST), version


def qr_modules(qr_text: str, segments: QrSegments = ()) -> int:
    return int(qr_matrix(qr_text, segments)[0].shape[0])


@functools.lru_cache(maxsize=64)
def _star_polygon(size: int) -> tuple[tuple[float, float], ...]:
    r_out = size / 2
    r_in = r_out * 0.382
    cx = cy = size / 2
    cy += r_out * 0.1  # a star's visual centre sits a little low
    pts = []
    for i in range(10):
        r = r_out if i % 2 == 0 else r_in
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return tuple(pts)


def draw_stars(draw: ImageDraw.ImageDraw, x: int, y: int, count: int, size: int, gap: int) -> int:
    """Filled five-pointed stars drawn as polygons; returns the x after the last star."""
    poly = _star_polygon(size)
    for i in range(count):
        ox = x + i * (size + gap)
        draw.polygon([(ox + px, y + py) for px, py in poly], fill=0)
    return x + count * (size + gap) - gap


# --------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Specs:
    mark: TextSpec
    title: TextSpec
    producer: TextSpec
    district: TextSpec
    footer: TextSpec
    serial: TextSpec


def _specs(layout: LabelLayout, factor: float) -> _Specs:
    s = layout.scale * factor

    def spec(
        weight: Weight,
        size: int,
        min_px: int,
        lines: int,
        *,
        overflow_lines: int = 0,
        must_fit: bool = False,
    ) -> TextSpec:
        mn = max(10, round(min_px * layout.scale))
        return TextSpec(weight, max(mn, round(size * s)), mn, lines, overflow_lines, must_fit)

    return _Specs(
        mark=spec("bold", 20, 14, 1),
        title=spec("bold", 26, 15, 3),
        producer=spec("regular", 19, 13, 2),
        district=spec("regular", 19, 13, 1),
        footer=spec("regular", 16, 12, 1),
        serial=spec("bold", 20, 12, 1, overflow_lines=1, must_fit=True),
    )


@dataclasses.dataclass(frozen=True)
class _Plan:
    arrangement: str
    height: int
    factor: float
    qr_x: int
    qr_y: int
    serial: FittedText
    serial_box: tuple[int, int, int]  # x, y, width
    text_x: int
    text_y: int
    text_w: int
    mark: FittedText
    stars: int | None
    star_size: int
    blocks: tuple[tuple[FittedText, int], ...]  # (text, gap above)
    stars_below_mark: bool = False  # narrow labels: stars get their own row under the mark


def _mark_row_height(
    mark: FittedText, stars: int | None, star_size: int, stars_below: bool = False
) -> int:
    # The mark is drawn white on a black bar with 3 dots of padding above/below.
    h = mark.height + 6 if mark.lines else 0
    if stars and stars_below:
        return h + STARS_GAP_DOTS + star_size
    if stars:
        h = max(h, star_size)
    return h


STARS_GAP_DOTS = 4


def _plan(
    content: LabelContent,
    layout: LabelLayout,
    qr_side: int,
    quiet: int,
    factor: float,
    arrangement: str,
) -> _Plan:
    m = layout.margin_dots
    W = layout.width_dots
    sp = _specs(layout, factor)
    block = qr_side + 2 * quiet
    gap = max(4, round(6 * layout.scale * factor))
    star_size = max(12, round(22 * layout.scale * factor))
    title = normalize_text(content.title)
    texts = [
        (normalize_text(content.producer), sp.producer),
        (normalize_text(content.district), sp.district),
        (normalize_text(content.footer), sp.footer),
    ]

    if arrangement == "side":
        text_x = block
        text_w = W - block - m
        qr_x, qr_y = 0, 0
        serial_w = block
        serial = fit_text(normalize_text(content.serial_text), serial_w - 4, sp.serial)
        serial_box = (0, block, serial_w)
        left_h = block + serial.height + m
        text_y = m
    else:  # stacked
        text_x = m
        text_w = W - 2 * m
        qr_x, qr_y = (W - block) // 2, 0  # qr_y filled in below
        serial = fit_text(normalize_text(content.serial_text), text_w, sp.serial)
        text_y = m

    mark_text = normalize_text(content.mark_text)
    stars = content.stars
    stars_w = (stars * (star_size + 3) - 3) if stars else 0
    mark_w = text_w - (stars_w + gap if stars else 0) - 8
    mark = fit_text(mark_text, mark_w, sp.mark)
    # The OCOP mark is never shortened: when it does not fit beside the stars, the stars
    # move to a row of their own.
    stars_below = bool(stars) and mark.truncated
    if stars_below:
        mark = fit_text(mark_text, text_w - 8, sp.mark)
    blocks: list[tuple[FittedText, int]] = [(fit_text(title, text_w, sp.title), gap)]
    for text, spec in texts:
        fitted = fit_text(text, text_w, spec)
        if fitted.lines:
            blocks.append((fitted, gap // 2))
    text_h = _mark_row_height(mark, stars, star_size, stars_below)
    for fitted, g in blocks:
        if fitted.lines:
            text_h += g + fitted.height

    if arrangement == "side":
        height = max(left_h, text_y + text_h + m)
    else:
        qr_y = text_y + text_h + gap
        serial_box = (m, qr_y + block, text_w)
        height = qr_y + block + serial.height + m
        qr_x = (W - block) // 2
    return _Plan(
        arrangement,
        height,
        factor,
        qr_x,
        qr_y,
        serial,
        serial_box,
        text_x,
        text_y,
        text_w,
        mark,
        stars,
        star_size,
        tuple(blocks),
        stars_below,
    )


# A fixed-height label shrinks its text in these steps (the QR code never shrinks); the
# first that fits is drawn. The smallest height over all of them is the label's minimum.
TEXT_SHRINK_FACTORS = tuple(round(1.0 - 0.05 * step, 2) for step in range(11))  # 1.0..0.5


def _choose_plan(content: LabelContent, layout: LabelLayout, qr_side: int, quiet: int) -> _Plan:
    block = qr_side + 2 * quiet
    if block > layout.width_dots:
        raise LabelError(
            f"the QR code needs {block} dots with its quiet zone but the label is "
            f"{layout.width_dots} dots wide; shorten qr_text or lower module_dots"
        )
    arrangement = layout.arrangement
    if arrangement == "auto":
        side_ok = layout.width_dots - block - layout.margin_dots >= layout.min_text_column_dots
        arrangement = "side" if side_ok else "stacked"
    elif arrangement == "side" and layout.width_dots - block - layout.margin_dots < 40:
        raise LabelError("no room for text beside the QR code; use arrangement='stacked'")
    fixed = layout.fixed_height_dots
    if fixed is None:  # as tall as the content at the design sizes
        return _plan(content, layout, qr_side, quiet, TEXT_SHRINK_FACTORS[0], arrangement)
    heights = []
    for factor in TEXT_SHRINK_FACTORS:
        plan = _plan(content, layout, qr_side, quiet, factor, arrangement)
        if plan.height <= fixed:
            return plan
        heights.append(plan.height)
    raise LabelTooShort(min(heights), fixed, layout.dpi)


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _static_layer(plan: _Plan, width_dots: int, height: int, scale: float) -> Image.Image:
    """Everything except the QR symbol and the serial: identical for a whole batch."""
    img = Image.new("1", (width_dots, height), 1)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"
    x, y, w = plan.text_x, plan.text_y, plan.text_w
    row_h = _mark_row_height(plan.mark, plan.stars, plan.star_size, plan.stars_below_mark)
    cursor_x = x
    if plan.mark.lines:
        font = get_font(plan.mark.weight, plan.mark.size_px)
        bar_w = math.ceil(font.getlength(plan.mark.lines[0])) + 8
        bar_h = plan.mark.height + 6
        bar_y = y if plan.stars_below_mark else y + (row_h - bar_h) // 2
        draw.rectangle((x, bar_y, x + bar_w - 1, bar_y + bar_h - 1), fill=0)
        above, _ = _line_extents(plan.mark.weight, plan.mark.size_px)
        draw.text((x + 4, bar_y + 3 + above), plan.mark.lines[0], font=font, fill=1, anchor="ls")
        cursor_x = x + bar_w + max(4, round(6 * scale))
    if plan.stars and plan.stars_below_mark:
        draw_stars(draw, x, y + row_h - plan.star_size, plan.stars, plan.star_size, 3)
    elif plan.stars:
        star_y = y + (row_h - plan.star_size) // 2
        draw_stars(draw, cursor_x, star_y, plan.stars, plan.star_size, 3)
    y += row_h
    for fitted, gap in plan.blocks:
        if fitted.lines:
            y = _draw_lines(draw, fitted, x, y + gap, w)
    return img


_NO_SERIAL = FittedText((), "bold", 0, False)


def render_label_info(content: LabelContent, layout: LabelLayout = LabelLayout()) -> RenderedLabel:
    """Render and also report where the QR code went (for tests and previews)."""
    module = layout.qr_module_dots
    qr, version = qr_image(content.qr_text, module, content.qr_segments)
    qr_side = qr.size[0]
    quiet = layout.quiet_modules * module
    plan = _choose_plan(content, layout, qr_side, quiet)
    height = layout.fixed_height_dots or plan.height
    # The static part is cached: a batch of one product only draws its QR and serial.
    static_key = dataclasses.replace(plan, serial=_NO_SERIAL, serial_box=(0, 0, 0))
    img = _static_layer(static_key, layout.width_dots, height, layout.scale).copy()
    qx, qy = plan.qr_x + quiet, plan.qr_y + quiet
    img.paste(qr, (qx, qy))
    if plan.serial.lines:
        sx, sy, sw = plan.serial_box
        draw = ImageDraw.Draw(img)
        draw.fontmode = "1"
        _draw_lines(draw, plan.serial, sx, sy, sw, align="center")
    return RenderedLabel(
        image=img,
        qr_box=(qx, qy, qx + qr_side, qy + qr_side),
        module_dots=module,
        quiet_dots=quiet,
        qr_version=version,
        arrangement=plan.arrangement,
        text_size_factor=plan.factor,
    )


def min_height_dots(content: LabelContent, layout: LabelLayout = LabelLayout()) -> int:
    """The shortest fixed height (dots) at which ``content`` renders with ``layout``'s width
    and QR module size: measured by the renderer itself, text shrunk as far as it goes.
    LabelError when no height helps (the QR code is wider than the label)."""
    probe = dataclasses.replace(layout, height_dots=1, height_mm=None)
    try:
        render_label_info(content, probe)
    except LabelTooShort as err:
        return err.needed_dots
    return 1


def render_label(content: LabelContent, layout: LabelLayout = LabelLayout()) -> Image.Image:
    """One stamp label as a mode '1' image ``layout.width_dots`` wide (0 = black ink)."""
    return render_label_info(content, layout).image


def clear_caches() -> None:
    """Forget cached layouts/QR matrices (benchmarks use this to measure cold renders)."""
    _static_layer.cache_clear()
    fit_text.cache_clear()
    qr_matrix.cache_clear()


def save_preview(content: LabelContent, layout: LabelLayout, path: str | Path) -> Path:
    """Write the label as a PNG (the ``--preview out.png`` option)."""
    path = Path(path)
    render_label(content, layout).save(path, format="PNG")
    return path
