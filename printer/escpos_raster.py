"""Encode 1-bit images as ESC/POS ``GS v 0`` raster bytes, and build whole label jobs.

:func:`encode_raster` produces exactly the bytes python-escpos 3.1 produces with
``printer.image(img)`` (default ``bitImageRaster`` implementation, high density, blocks of at
most 960 rows) - the tests compare them byte for byte against ``escpos.printer.Dummy`` -
but without python-escpos's RGBA -> RGB -> L -> invert -> 1 conversion chain: a mode '1'
image already holds the bits, inverted (Pillow: 1 = white; ESC/POS: 1 = ink).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from PIL import Image

from printer.errors import ImageTooWide

ESC_INIT = b"\x1b@"
GS_V0 = b"\x1dv0"
FRAGMENT_HEIGHT = 960  # python-escpos's default fragment_height
MAX_FEED_DOTS = 255

_INVERT = bytes(255 - i for i in range(256))


def _fragment_raster(bits: bytes, width_bytes: int, height: int, density: int = 0) -> bytes:
    return (
        GS_V0
        + bytes((density, width_bytes & 0xFF, width_bytes >> 8, height & 0xFF, height >> 8))
        + bits
    )


def image_bits(img: Image.Image) -> tuple[bytes, int, int]:
    """ESC/POS raster bits (1 = ink, rows padded to whole bytes with 0) of an image."""
    if img.mode != "1":
        # Same conversion python-escpos applies (alpha over white, grey, threshold/dither).
        from printer._escpos import EscposImage

        esc = EscposImage(img)
        return esc.to_raster_format(), esc.width_bytes, esc.height
    width, height = img.size
    width_bytes = (width + 7) >> 3
    bits = img.tobytes().translate(_INVERT)
    if width & 7:
        rows = np.frombuffer(bits, dtype=np.uint8).reshape(height, width_bytes).copy()
        rows[:, -1] &= (0xFF << (8 - (width & 7))) & 0xFF
        bits = rows.tobytes()
    return bits, width_bytes, height


def encode_raster(img: Image.Image, *, fragment_height: int = FRAGMENT_HEIGHT) -> bytes:
    """``GS v 0`` blocks for ``img`` (byte-identical to python-escpos ``image()``)."""
    bits, width_bytes, height = image_bits(img)
    if height <= fragment_height:
        return _fragment_raster(bits, width_bytes, height)
    out = []
    row = width_bytes
    for top in range(0, height, fragment_height):
        h = min(fragment_height, height - top)
        out.append(_fragment_raster(bits[top * row : (top + h) * row], width_bytes, h))
    return b"".join(out)


@functools.lru_cache(maxsize=16)
def cut_bytes(profile_name: str) -> bytes:
    """What python-escpos's ``cut()`` sends for this profile (feed 6 lines, then cut if any)."""
    from printer._escpos import escpos_printer

    dummy = escpos_printer.Dummy(profile=profile_name)
    dummy.cut()
    return bytes(dummy.output)


def feed_dots_bytes(dots: int) -> bytes:
    """``ESC J n`` feeds, n <= 255 dots each."""
    out = []
    while dots > 0:
        n = min(dots, MAX_FEED_DOTS)
        out.append(b"\x1bJ" + bytes((n,)))
        dots -= n
    return b"".join(out)


@dataclasses.dataclass(frozen=True)
class JobOptions:
    """What goes around the raster of one label."""

    init: bool = True  # ESC @ first: a known printer state for every label
    feed_dots: int = 0  # extra paper after the label (ESC J)
    cut: bool = False  # python-escpos cut() for the profile (feeds 6 lines first)


def encode_label_job(
    img: Image.Image,
    *,
    width_dots: int,
    profile_name: str,
    options: JobOptions = JobOptions(),
) -> bytes:
    """The complete bytes of one label job.  Refuses images wider than the paper."""
    if img.width > width_dots:
        raise ImageTooWide(f"image is {img.width} dots wide, the printer takes {width_dots}")
    parts = []
    if options.init:
        parts.append(ESC_INIT)
    parts.append(encode_raster(img))
    if options.feed_dots:
        parts.append(feed_dots_bytes(options.feed_dots))
    if options.cut:
        parts.append(cut_bytes(profile_name))
    return b"".join(parts)
