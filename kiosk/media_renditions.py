"""Display renditions of media pictures: a producer's 4000x3000 phone photo (a 48 MB texture
on a Raspberry Pi) is shown from a 720 px card picture or a 192 px list thumbnail.

    <data_dir>/media/renditions/<hash[:2]>/<hash>.<size>.jpg   (.png when it has alpha)

Renditions are derived data: the folder may be deleted, they are made again when needed.
No Kivy here: sync and demo set-up make them after storing a picture, the UI asks for them
(and makes a missing one) through kiosk.ui.services.
"""

from __future__ import annotations

import enum
import logging
import os
import threading
import warnings
from pathlib import Path

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

# Far above any phone photo (a 200 MP sensor still saves 12-50 MP), far below a bomb.
MAX_SOURCE_PIXELS = 50_000_000
JPEG_QUALITY = 85
SOURCE_FORMATS = ("JPEG", "PNG", "WEBP")  # what kiosk.media stores; no other decoder
RENDITION_EXTS = (".jpg", ".png")
EXIF_ORIENTATION = 0x0112


class RenditionSize(enum.Enum):
    THUMB = 192  # browse list tiles: 76 * app.u px, app.u <= 2.25 -> 171 px
    CARD = 720  # attract slide, product card, result card

    @property
    def max_side_px(self) -> int:
        return self.value


def rendition_path(data_dir: Path, sha256_hex: str, size: RenditionSize, ext: str = ".jpg") -> Path:
    return (
        Path(data_dir)
        / "media"
        / "renditions"
        / sha256_hex[:2]
        / f"{sha256_hex}.{size.name.lower()}{ext}"
    )


def find_rendition(data_dir: Path, sha256_hex: str, size: RenditionSize) -> Path | None:
    for ext in RENDITION_EXTS:
        path = rendition_path(data_dir, sha256_hex, size, ext)
        if path.exists():
            return path
    return None


# Pictures whose content cannot be shown (hash -> reason): decoded once per process, not on
# every screen that asks for them. Content-addressed, so the content never changes.
_unusable: dict[str, str] = {}
_warned: set[str] = set()
_lock = threading.Lock()


def ensure_rendition(
    data_dir: Path,
    source_path: Path,
    sha256_hex: str,
    size: RenditionSize,
    max_pixels: int = MAX_SOURCE_PIXELS,
) -> Path | None:
    """The file to show at `size`: an existing rendition, the source itself when it already
    fits (and needs no EXIF rotation), or a new rendition. None when the picture cannot be
    shown (corrupt, unsupported, too many pixels, rendition not writable); never raises."""
    existing = find_rendition(data_dir, sha256_hex, size)
    if existing is not None:
        return existing
    if sha256_hex in _unusable:
        return None
    try:
        with _open_checked(Path(source_path), max_pixels) as img:
            if max(img.size) <= size.max_side_px and _orientation(img) == 1:
                return Path(source_path)
            rendered = _render(img, size.max_side_px)
    except Exception as exc:  # noqa: BLE001 - Pillow raises OSError, ValueError, SyntaxError, bomb errors...
        _give_up(sha256_hex, f"{type(exc).__name__}: {exc}", content_is_bad=True)
        return None
    ext = ".png" if rendered.mode == "RGBA" else ".jpg"
    path = rendition_path(data_dir, sha256_hex, size, ext)
    try:
        _write_atomically(rendered, path)
    except Exception as exc:  # noqa: BLE001 - disk full, permissions: try again next time
        _give_up(sha256_hex, f"rendition not written: {exc}", content_is_bad=False)
        return None
    return path


def make_renditions(data_dir: Path, source_path: Path, sha256_hex: str) -> None:
    """Every size, right after a picture is stored (sync, demo set-up: not the UI thread).
    A failure is logged; the original stays stored and the UI simply shows no picture."""
    for size in RenditionSize:
        ensure_rendition(data_dir, source_path, sha256_hex, size)


def _open_checked(path: Path, max_pixels: int) -> Image.Image:
    """Open (header only) and refuse decompression bombs before any pixel is decoded."""
    with warnings.catch_warnings():
        # Pillow only warns between 89 and 179 MP; here that is a refusal too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        img = Image.open(path, formats=SOURCE_FORMATS)
    width, height = img.size
    if width * height > max_pixels:
        img.close()
        raise ValueError(f"{width}x{height} px is over the {max_pixels} pixel limit")
    return img


def _orientation(img: Image.Image) -> int:
    return img.getexif().get(EXIF_ORIENTATION, 1)


def _render(img: Image.Image, max_side_px: int) -> Image.Image:
    width, height = img.size
    scale = max_side_px / max(width, height)
    # JPEG only: libjpeg decodes straight at 1/2, 1/4 or 1/8 scale, still >= the target,
    # so a 12 MP photo is never fully decoded. Must come before anything loads pixels.
    img.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
    out = ImageOps.exif_transpose(img)  # loads (at draft scale), rotates upright
    mode = "RGBA" if out.has_transparency_data else "RGB"
    if out.mode != mode:
        out = out.convert(mode)  # before resizing: palette images resize badly
    out.thumbnail((max_side_px, max_side_px), Image.Resampling.LANCZOS)
    return out


def _write_atomically(img: Image.Image, path: Path) -> None:
    """tmp file, fsync, rename (as kiosk.media.store_media): a crash never leaves half a
    picture under the final name. The tmp name is per thread: two writers never collide."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            if img.mode == "RGBA":
                img.save(fh, "PNG", optimize=True)
            else:
                img.save(fh, "JPEG", quality=JPEG_QUALITY, optimize=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _give_up(sha256_hex: str, reason: str, content_is_bad: bool) -> None:
    with _lock:
        first = sha256_hex not in _warned
        _warned.add(sha256_hex)
        if content_is_bad:
            _unusable[sha256_hex] = reason
    if first:
        log.warning("picture %s cannot be shown: %s", sha256_hex, reason)
