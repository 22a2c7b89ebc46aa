"""Display renditions (kiosk.media_renditions): real files, real Pillow."""

from __future__ import annotations

import io
import logging
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from kiosk.media import media_path, store_media
from kiosk.media_renditions import (
    RenditionSize,
    ensure_rendition,
    make_renditions,
    rendition_path,
)

RED, BLUE = (220, 20, 20), (20, 20, 220)
CARD, THUMB = RenditionSize.CARD, RenditionSize.THUMB


def _stored(store, data_dir: Path, content: bytes, mime: str) -> tuple[Path, str]:
    digest = store_media(store.conn, data_dir, content, mime)
    return media_path(data_dir, digest, mime), digest


def _two_colour_jpeg(
    width: int, height: int, orientation: int | None = None, quality: int = 90
) -> bytes:
    """Left half red, right half blue; optionally an EXIF orientation tag."""
    img = Image.new("RGB", (width, height), BLUE)
    img.paste(RED, (0, 0, width // 2, height))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    img.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _close(rgb, expected, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(rgb[:3], expected, strict=True))


def test_big_phone_photo_is_shrunk_and_turned_upright(store, data_dir):
    # Orientation 6: stored sideways, shown rotated 90 degrees clockwise, so the stored
    # left (red) half ends up on top.
    source, digest = _stored(
        store, data_dir, _two_colour_jpeg(4000, 3000, orientation=6), "image/jpeg"
    )
    card = ensure_rendition(data_dir, source, digest, CARD)
    assert card == rendition_path(data_dir, digest, CARD, ".jpg")
    with Image.open(card) as img:
        assert img.format == "JPEG" and img.size == (540, 720)
        assert _close(img.getpixel((270, 100)), RED)
        assert _close(img.getpixel((270, 620)), BLUE)
    thumb = ensure_rendition(data_dir, source, digest, THUMB)
    with Image.open(thumb) as img:
        assert img.size == (144, 192)
        assert _close(img.getpixel((72, 20)), RED) and _close(img.getpixel((72, 170)), BLUE)


def test_small_picture_with_alpha(store, data_dir):
    img = Image.new("RGBA", (400, 300), (*RED, 255))
    img.paste((0, 0, 0, 0), (0, 0, 200, 300))  # left half fully transparent
    out = io.BytesIO()
    img.save(out, "PNG")
    source, digest = _stored(store, data_dir, out.getvalue(), "image/png")
    assert ensure_rendition(data_dir, source, digest, CARD) == source  # fits: no copy
    assert not rendition_path(data_dir, digest, CARD, ".png").exists()
    thumb = ensure_rendition(data_dir, source, digest, THUMB)
    assert thumb == rendition_path(data_dir, digest, THUMB, ".png")
    with Image.open(thumb) as small:
        assert small.mode == "RGBA" and small.size == (192, 144)
        assert small.getpixel((20, 72))[3] == 0 and small.getpixel((170, 72))[3] == 255


def test_sideways_small_photo_gets_a_rendition_even_though_it_fits(store, data_dir):
    source, digest = _stored(
        store, data_dir, _two_colour_jpeg(400, 300, orientation=6), "image/jpeg"
    )
    card = ensure_rendition(data_dir, source, digest, CARD)
    assert card != source
    with Image.open(card) as img:
        assert img.size == (300, 400)


def test_corrupt_bytes_give_none_and_one_warning(store, data_dir, caplog):
    source, digest = _stored(store, data_dir, b"\xff\xd8\xff not really a jpeg " * 50, "image/jpeg")
    with caplog.at_level(logging.WARNING, logger="kiosk.media_renditions"):
        assert ensure_rendition(data_dir, source, digest, CARD) is None
        assert ensure_rendition(data_dir, source, digest, THUMB) is None
        make_renditions(data_dir, source, digest)
    warnings = [r for r in caplog.records if digest in r.getMessage()]
    assert len(warnings) == 1
    assert not (data_dir / "media" / "renditions").exists()


def test_truncated_photo_gives_none(store, data_dir):
    whole = _two_colour_jpeg(2000, 1500)
    source, digest = _stored(store, data_dir, whole[: len(whole) // 2], "image/jpeg")
    assert ensure_rendition(data_dir, source, digest, CARD) is None


def test_unsupported_format_gives_none(store, data_dir):
    out = io.BytesIO()
    Image.new("RGB", (1000, 800), RED).save(out, "BMP")
    source, digest = _stored(store, data_dir, out.getvalue(), "image/png")
    assert ensure_rendition(data_dir, source, digest, THUMB) is None


@pytest.mark.parametrize(
    "width, height",
    [
        (20_000, 20_000),  # Pillow's own bomb error
        (9_500, 9_500),  # Pillow only warns
        (8_000, 7_000),
    ],
)  # over our 50 MP limit
def test_decompression_bombs_give_none(store, data_dir, width, height):
    source, digest = _stored(store, data_dir, _png_header_only(width, height), "image/png")
    assert ensure_rendition(data_dir, source, digest, CARD) is None


def test_pixel_limit_is_a_parameter(store, data_dir):
    source, digest = _stored(
        store, data_dir, _two_colour_jpeg(1000, 1000, quality=70), "image/jpeg"
    )
    assert ensure_rendition(data_dir, source, digest, CARD, max_pixels=500_000) is None


def test_existing_rendition_is_reused_without_reading_the_source(store, data_dir):
    source, digest = _stored(store, data_dir, _two_colour_jpeg(1600, 1200), "image/jpeg")
    first = ensure_rendition(data_dir, source, digest, CARD)
    mtime_ns = first.stat().st_mtime_ns
    assert ensure_rendition(data_dir, data_dir / "no-such-file", digest, CARD) == first
    assert first.stat().st_mtime_ns == mtime_ns


def test_rendition_is_written_atomically(store, data_dir, monkeypatch):
    source, digest = _stored(
        store, data_dir, _two_colour_jpeg(1600, 1200, quality=80), "image/jpeg"
    )
    folder = rendition_path(data_dir, digest, CARD).parent
    assert ensure_rendition(data_dir, source, digest, CARD) is not None
    assert not list(folder.glob("*.tmp"))

    def no_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_fsync)
    assert ensure_rendition(data_dir, source, digest, THUMB) is None  # disk full: no raise
    assert not list(folder.glob("*.tmp"))
    assert not rendition_path(data_dir, digest, THUMB).exists()
    monkeypatch.undo()
    assert ensure_rendition(data_dir, source, digest, THUMB) is not None  # tried again


def test_demo_setup_makes_renditions(demo_store, data_dir):
    hashes = {
        r[0]
        for r in demo_store.query("SELECT image_hash FROM products WHERE image_hash IS NOT NULL")
    }
    assert hashes
    for digest in hashes:
        # The 480x360 placeholders fit a card as they are; the thumbnail is made at set-up.
        thumb = rendition_path(data_dir, digest, THUMB)
        with Image.open(thumb) as img:
            assert max(img.size) == 192
        assert not rendition_path(data_dir, digest, CARD).exists()


def test_services_image_path_makes_a_missing_rendition(demo_store, data_dir):
    import shutil

    from kiosk.settings import Settings
    from kiosk.ui.services import Services

    services = Services(Settings(), demo_store, data_dir)
    try:
        digest = demo_store.query_one("SELECT image_hash FROM products WHERE id = 101")[0]
        source = media_path(data_dir, digest, "image/png")
        shutil.rmtree(data_dir / "media" / "renditions")  # data from before renditions
        assert services.image_path(digest) == source  # CARD is the default
        thumb = services.image_path(digest, THUMB)
        assert thumb == rendition_path(data_dir, digest, THUMB) and thumb.exists()
        assert services.image_path(None) is None and services.image_path("0" * 64) is None
    finally:
        services.close()
