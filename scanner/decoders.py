"""Barcode decoders: zxing-cpp first, pyzbar with cheap preprocessing as a time-budgeted fallback.

Knows pixels and text only. The text is handed to the stamp verification by the caller.

Measured facts behind the policy (bench/decode.py, docs/scanning.md):
- zxing-cpp restricted to QR costs ~0.5 ms per 640x480 frame; adding EAN-13/UPC-A row scans
  costs ~0.7 ms horizontally and ~1.8 ms with the 90-degree pass (`try_rotate`), so the
  rotated linear pass runs only on every `rotate_linear_every`-th live frame.
- pyzbar costs ~10 ms per full frame and each preprocessing retry as much again: it only
  runs where it is likely to pay off (around a symbol zxing-cpp found but could not read)
  and only while the per-frame budget lasts.
"""

from __future__ import annotations

import ctypes
import enum
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import zxingcpp

from scanner.frames import Pixels, as_pixels

Point = tuple[int, int]
Quad = tuple[Point, Point, Point, Point]


class CodeFormat(str, enum.Enum):
    """Symbologies the kiosk reads: stamps are QR, products carry EAN-13 / UPC-A."""

    QR = "qr"
    EAN13 = "ean13"
    UPCA = "upca"


ALL_FORMATS: tuple[CodeFormat, ...] = (CodeFormat.QR, CodeFormat.EAN13, CodeFormat.UPCA)
LINEAR_FORMATS = frozenset({CodeFormat.EAN13, CodeFormat.UPCA})


@dataclass(frozen=True)
class Decoded:
    """One code read from one frame."""

    text: str
    format: CodeFormat
    # Corners in frame pixel coordinates: top-left, top-right, bottom-right, bottom-left.
    quad: Quad
    decoder: str  # "zxing" or "pyzbar"
    step: str = "plain"  # the preprocessing step that made it readable
    raw: bytes = b""


@dataclass(frozen=True)
class Hint:
    """A QR symbol was located but could not be read (too small, blurred, glare).

    The UI may say "hold the stamp closer / steady" instead of nothing."""

    quad: Quad
    reason: str


@dataclass(frozen=True)
class DecodeResult:
    codes: tuple[Decoded, ...]
    hint: Hint | None
    decode_ms: float
    steps: tuple[str, ...]  # what ran, e.g. ("zxing:qr", "zxing:linear", "pyzbar:otsu@roi")

    @property
    def texts(self) -> list[str]:
        return [code.text for code in self.codes]


# ---------------------------------------------------------------------------- text / charset


def decode_text_bytes(raw: bytes) -> str:
    """Bytes of a QR byte segment without ECI -> text, guessing like zxing-cpp does.

    UTF-8 when valid (modern generators, our stamps are ASCII), else Shift_JIS (cp932, the
    QR standard's other common charset), else ISO-8859-1 (the QR default)."""
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def fix_zbar_text(text_from_zbar: str) -> str:
    """Repair text that zbar already transcoded with a wrong charset guess.

    zbar (in its default, non-binary mode) decodes QR bytes as Shift_JIS/Big5/UTF-8 by guessing
    and hands back UTF-8; UTF-8 content it took for Shift_JIS comes out as mojibake
    ('測試' -> '皜祈岫'). Our PyzbarDecoder avoids this by asking zbar for raw bytes; this
    helper is for text obtained from plain `pyzbar.decode`."""
    for guessed in ("cp932", "shift_jis", "big5"):
        try:
            raw = text_from_zbar.encode(guessed)
        except UnicodeEncodeError:
            continue
        return decode_text_bytes(raw)
    return text_from_zbar


def _normalise_product_code(text: str, fmt: CodeFormat) -> tuple[str, CodeFormat]:
    """An EAN-13 starting with 0 is a UPC-A: report it as the 12 digits printed under the bars,
    whichever decoder read it (zxing-cpp says EAN-13 '0036...', zbar says UPC-A '036...')."""
    if fmt is CodeFormat.EAN13 and len(text) == 13 and text.startswith("0"):
        return text[1:], CodeFormat.UPCA
    return text, fmt


# ---------------------------------------------------------------------------- zxing-cpp

_ZX_FORMAT = {
    CodeFormat.QR: zxingcpp.BarcodeFormat.QRCode,
    CodeFormat.EAN13: zxingcpp.BarcodeFormat.EAN13,
    CodeFormat.UPCA: zxingcpp.BarcodeFormat.UPCA,
}


def _zx_formats(formats: Iterable[CodeFormat]) -> zxingcpp.BarcodeFormats:
    # From a list: zxing-cpp 3 deprecates joining formats with |.
    return zxingcpp.BarcodeFormats([_ZX_FORMAT[f] for f in formats])


def _from_zx_format(fmt: zxingcpp.BarcodeFormat) -> CodeFormat | None:
    for ours, theirs in _ZX_FORMAT.items():
        if fmt == theirs:
            return ours
    return None


def _zx_quad(position: zxingcpp.Position, offset: Point, scale: float) -> Quad:
    ox, oy = offset

    def corner(p: zxingcpp.Point) -> Point:
        return round(p.x / scale + ox), round(p.y / scale + oy)

    return (
        corner(position.top_left),
        corner(position.top_right),
        corner(position.bottom_right),
        corner(position.bottom_left),
    )


class ZxingDecoder:
    """zxing-cpp with the options measured to be fastest without losing codes.

    try_invert is off (dark-on-light stamps only; inversion never helped on our sets)."""

    name = "zxing"

    def __init__(self, formats: Sequence[CodeFormat] = ALL_FORMATS):
        self.formats = tuple(formats)
        qr = [f for f in self.formats if f is CodeFormat.QR]
        linear = [f for f in self.formats if f in LINEAR_FORMATS]
        self._qr = _zx_formats(qr) if qr else None
        self._linear = _zx_formats(linear) if linear else None

    def decode_qr(
        self,
        gray: Pixels,
        offset: Point = (0, 0),
        scale: float = 1.0,
    ) -> tuple[list[Decoded], list[Hint]]:
        if self._qr is None:
            return [], []
        found = zxingcpp.read_barcodes(
            gray,
            formats=self._qr,
            try_invert=False,
            text_mode=zxingcpp.TextMode.Plain,
            return_errors=True,
        )
        return self._convert(found, offset, scale)

    def decode_linear(self, gray: Pixels, try_rotate: bool) -> list[Decoded]:
        if self._linear is None:
            return []
        found = zxingcpp.read_barcodes(
            gray,
            formats=self._linear,
            try_invert=False,
            try_rotate=try_rotate,
            text_mode=zxingcpp.TextMode.Plain,
        )
        return self._convert(found, (0, 0), 1.0)[0]

    def decode(self, gray: Pixels, try_rotate_linear: bool = True) -> list[Decoded]:
        codes, _ = self.decode_qr(gray)
        return codes + self.decode_linear(gray, try_rotate_linear)

    def _convert(
        self,
        found: Iterable[zxingcpp.Barcode],
        offset: Point,
        scale: float,
    ) -> tuple[list[Decoded], list[Hint]]:
        codes: list[Decoded] = []
        hints: list[Hint] = []
        for barcode in found:
            fmt = _from_zx_format(barcode.format)
            if fmt is None:
                continue
            quad = _zx_quad(barcode.position, offset, scale)
            if barcode.valid:
                text, fmt = _normalise_product_code(barcode.text, fmt)
                codes.append(Decoded(text, fmt, quad, self.name, raw=bytes(barcode.bytes)))
            else:
                hints.append(Hint(quad, str(barcode.error).split(" @")[0]))
        return codes, hints


# ---------------------------------------------------------------------------- pyzbar


class PyzbarDecoder:
    """zbar through pyzbar's ctypes bindings, asking zbar for the raw bytes.

    pyzbar.decode() returns text that zbar transcoded after guessing the charset, which is
    wrong for Shift_JIS codes (and UTF-8 codes it takes for Shift_JIS). zbar >= 0.23 has a
    BINARY config that returns the symbol's bytes unchanged; we decode them ourselves
    (decode_text_bytes). One scanner per decoder instance: not thread-safe, use one per thread."""

    name = "pyzbar"
    _CFG_ENABLE = 0
    _CFG_BINARY = 4  # zbar.h ZBAR_CFG_BINARY (0.23+); pyzbar 0.1.9's enum predates it

    def __init__(self, formats: Sequence[CodeFormat] = ALL_FORMATS):
        from pyzbar import pyzbar as _pyzbar  # imported here: needs libzbar0 at run time
        from pyzbar import wrapper as _wrapper

        self._w = _wrapper
        self._fourcc_gray = _pyzbar._FOURCC["L800"]
        symbol = _pyzbar.ZBarSymbol
        self._to_format = {
            symbol.QRCODE: CodeFormat.QR,
            symbol.EAN13: CodeFormat.EAN13,
            symbol.UPCA: CodeFormat.UPCA,
        }
        self.formats = tuple(formats)
        self._scanner = _wrapper.zbar_image_scanner_create()
        if not self._scanner:
            raise RuntimeError("zbar could not create an image scanner")
        set_config = _wrapper.zbar_image_scanner_set_config
        set_config(self._scanner, 0, self._CFG_ENABLE, 0)  # symbol 0 = every symbology: off
        for zbar_symbol, ours in self._to_format.items():
            if ours in self.formats:
                set_config(self._scanner, zbar_symbol, self._CFG_ENABLE, 1)
        set_config(self._scanner, symbol.QRCODE, self._CFG_BINARY, 1)
        # zbar reports EAN-13 codes starting with 0 as EAN-13 unless UPC-A is enabled; keep it.

    def __del__(self) -> None:
        scanner, self._scanner = getattr(self, "_scanner", None), None
        if scanner:
            self._w.zbar_image_scanner_destroy(scanner)

    def decode(
        self, gray: Pixels, offset: Point = (0, 0), scale: float = 1.0, step: str = "plain"
    ) -> list[Decoded]:
        w = self._w
        gray = np.ascontiguousarray(gray, dtype=np.uint8)
        height, width = gray.shape[:2]
        pixels = gray.tobytes()
        image = w.zbar_image_create()
        try:
            w.zbar_image_set_format(image, self._fourcc_gray)
            w.zbar_image_set_size(image, width, height)
            data = ctypes.cast(ctypes.c_char_p(pixels), ctypes.c_void_p)  # no copy
            w.zbar_image_set_data(image, data, len(pixels), None)
            if w.zbar_scan_image(self._scanner, image) <= 0:
                return []
            codes = []
            symbol = w.zbar_image_first_symbol(image)
            while symbol:
                codes.append(self._convert(symbol, offset, scale, step))
                symbol = w.zbar_symbol_next(symbol)
            return [c for c in codes if c is not None]
        finally:
            w.zbar_image_destroy(image)

    # symbol: pyzbar's ctypes pointer to a zbar_symbol (pyzbar ships no types).
    def _convert(self, symbol: Any, offset: Point, scale: float, step: str) -> Decoded | None:
        w = self._w
        fmt = self._to_format.get(symbol.contents.type)
        if fmt is None:
            return None
        size = w.zbar_symbol_get_data_length(symbol)
        raw = ctypes.string_at(w.zbar_symbol_get_data(symbol), size)
        points = [
            (w.zbar_symbol_get_loc_x(symbol, i), w.zbar_symbol_get_loc_y(symbol, i))
            for i in range(w.zbar_symbol_get_loc_size(symbol))
        ]
        text, fmt = _normalise_product_code(decode_text_bytes(raw), fmt)
        return Decoded(text, fmt, _bounding_quad(points, offset, scale), self.name, step, raw)


def _bounding_quad(points: Sequence[Point], offset: Point, scale: float) -> Quad:
    ox, oy = offset
    if not points:
        return (offset, offset, offset, offset)
    xs = [p[0] / scale + ox for p in points]
    ys = [p[1] / scale + oy for p in points]
    x0, x1, y0, y1 = int(min(xs)), int(max(xs)), int(min(ys)), int(max(ys))
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


# ---------------------------------------------------------------------------- preprocessing

_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))


def _half(gray: Pixels) -> Pixels:
    return as_pixels(cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))


def _adaptive(gray: Pixels) -> Pixels:
    # Block ~ a few modules of a stamp at kiosk distance; C lifts paper grain above threshold.
    return as_pixels(
        cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 7)
    )


def _otsu(gray: Pixels) -> Pixels:
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    return as_pixels(cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1])


def _clahe(gray: Pixels) -> Pixels:
    return as_pixels(_CLAHE.apply(gray))


@dataclass(frozen=True)
class Preprocess:
    name: str
    apply: Callable[[Pixels], Pixels]
    scale: float = 1.0  # output size / input size, to map positions back


PLAIN = Preprocess("plain", lambda gray: gray)
PREPROCESS_STEPS: dict[str, Preprocess] = {
    step.name: step
    for step in (
        PLAIN,
        Preprocess("half", _half, 0.5),
        Preprocess("adaptive", _adaptive),
        Preprocess("otsu", _otsu),
        Preprocess("clahe", _clahe),
    )
}
# Order from the bench: plain and half recover most of what pyzbar can; thresholds are rarer.
DEFAULT_FALLBACK_STEPS = ("plain", "half", "otsu", "adaptive", "clahe")


# ---------------------------------------------------------------------------- pipeline


class FallbackPolicy(str, enum.Enum):
    """When pyzbar runs after zxing-cpp read nothing."""

    NEVER = "never"
    HINTED = "hinted"  # only around a symbol zxing-cpp located but could not read (live)
    ALWAYS = "always"  # the hinted regions and then the whole frame (files, CLI, bench)


LIVE_BUDGET_MS = 4.0  # per 640x480 frame; keeps p95 latency under 5 ms on one core
FILE_BUDGET_MS = 400.0  # a still image may take longer: nobody is waiting at 30 fps
ROI_MARGIN = 0.35  # hint crop margin, as a share of the hint quad's size (quiet zone + error)


def to_gray(image: Pixels) -> Pixels:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return as_pixels(cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY))
    return as_pixels(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))


@dataclass
class _StepCost:
    """Running estimate of a step's cost per megapixel, to skip steps that would overrun."""

    ms_per_mpx: float
    alpha: float = 0.2

    def update(self, elapsed_ms: float, mpx: float) -> None:
        if mpx > 0:
            self.ms_per_mpx += self.alpha * (elapsed_ms / mpx - self.ms_per_mpx)


@dataclass
class DecodePipeline:
    """zxing-cpp on every frame, pyzbar with preprocessing within the remaining time budget.

    Stateful (frame counter, cost estimates, pyzbar scanner): one pipeline per thread."""

    formats: Sequence[CodeFormat] = ALL_FORMATS
    budget_ms: float = LIVE_BUDGET_MS
    fallback: FallbackPolicy = FallbackPolicy.HINTED
    fallback_steps: Sequence[str] = DEFAULT_FALLBACK_STEPS
    rotate_linear_every: int = 3  # live frames; 1 = every frame (files)
    _frame_count: int = field(default=0, init=False)
    _costs: dict[str, _StepCost] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._zxing = ZxingDecoder(self.formats)
        self._pyzbar: PyzbarDecoder | None = None
        if self.fallback is not FallbackPolicy.NEVER:
            self._pyzbar = PyzbarDecoder(self.formats)
        # Seeds measured on x86_64 (ms per megapixel); they adapt to the real machine.
        for name in self.fallback_steps:
            self._costs[name] = _StepCost(40.0 if name != "half" else 15.0)

    @classmethod
    def for_files(cls, formats: Sequence[CodeFormat] = ALL_FORMATS) -> DecodePipeline:
        return cls(formats, FILE_BUDGET_MS, FallbackPolicy.ALWAYS, rotate_linear_every=1)

    def decode(self, image: Pixels) -> DecodeResult:
        started = time.perf_counter()
        deadline = started + self.budget_ms / 1000.0
        gray = to_gray(image)
        steps = ["zxing:qr"]
        codes, hints = self._zxing.decode_qr(gray)
        if self._zxing._linear is not None:
            rotate = self._frame_count % max(1, self.rotate_linear_every) == 0
            steps.append("zxing:linear+rot" if rotate else "zxing:linear")
            codes += self._zxing.decode_linear(gray, rotate)
        self._frame_count += 1
        if not codes and self._pyzbar is not None:
            codes = self._fallback(self._pyzbar, gray, hints, deadline, steps)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        hint = hints[0] if hints and not codes else None
        return DecodeResult(tuple(_unique(codes)), hint, elapsed_ms, tuple(steps))

    def _fallback(
        self,
        pyzbar: PyzbarDecoder,
        gray: Pixels,
        hints: list[Hint],
        deadline: float,
        steps: list[str],
    ) -> list[Decoded]:
        regions: list[tuple[Pixels, Point, str]] = []
        for hint in hints[:2]:
            crop, offset = _crop_around(gray, hint.quad, ROI_MARGIN)
            if crop.size:
                regions.append((crop, offset, "roi"))
        if self.fallback is FallbackPolicy.ALWAYS:
            regions.append((gray, (0, 0), "frame"))
        for region, offset, where in regions:
            mpx = region.shape[0] * region.shape[1] / 1e6
            for name in self.fallback_steps:
                cost = self._costs[name]
                if time.perf_counter() + cost.ms_per_mpx * mpx / 1000.0 > deadline:
                    continue  # would overrun the frame budget; a cheaper step may still fit
                step = PREPROCESS_STEPS[name]
                t0 = time.perf_counter()
                prepared = step.apply(region)
                found = pyzbar.decode(prepared, offset, step.scale, f"{name}@{where}")
                cost.update((time.perf_counter() - t0) * 1000.0, mpx)
                steps.append(f"pyzbar:{name}@{where}")
                if found:
                    return found
        return []


def _crop_around(gray: Pixels, quad: Quad, margin: float) -> tuple[Pixels, Point]:
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    size = max(max(xs) - min(xs), max(ys) - min(ys), 16)
    pad = int(size * margin) + 4
    x0, y0 = max(0, min(xs) - pad), max(0, min(ys) - pad)
    x1, y1 = min(gray.shape[1], max(xs) + pad), min(gray.shape[0], max(ys) + pad)
    return gray[y0:y1, x0:x1], (x0, y0)


def _unique(codes: Iterable[Decoded]) -> list[Decoded]:
    seen: set[tuple[str, CodeFormat]] = set()
    out = []
    for code in codes:
        key = (code.text, code.format)
        if key not in seen:
            seen.add(key)
            out.append(code)
    return out
