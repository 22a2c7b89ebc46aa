"""The sample genuine stamp the result screen shows beside a report (issue 15): drawn by the
station's own label renderer (printer.label), so it looks like what the station prints: the
QR code in the stamp's spelling, the number in groups of four, the stars, the OCOP mark.

Its QR is drawn from a well-formed stamp text (the real QR's density) and then struck
through: a thick white X with black edges across the code, through its three finder
patterns, and a boxed "MẪU" at its centre. A shopper sees a picture of a stamp, not a code
to scan: zxing-cpp and pyzbar find nothing in it (tests/ui/test_result_screen.py), while
the report QR beside it still reads. The number, the stars, the title and the domain stay
as printed. The footer says it is a sample. No Kivy here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ocop.stamps.codec import (
    SIGNATURE_BYTES,
    StampFields,
    encode_stamp_url,
    normalise_base_url,
    stamp_qr_segments,
)

if TYPE_CHECKING:
    from PIL import Image

    from printer.label import LabelContent

SAMPLE_PRODUCT_ID = 1
SAMPLE_ISSUED_ON = dt.date(2026, 1, 1)
SAMPLE_TITLE = "Sản phẩm OCOP Sơn La"  # labels are printed in Vietnamese
SAMPLE_PRODUCER = "Tên chủ thể sản xuất"
SAMPLE_DISTRICT = "Sơn La"
SAMPLE_FOOTER = "MẪU / SAMPLE"
SAMPLE_MARK = "MẪU"  # on the struck-through QR: labels are printed in Vietnamese
STRIKE_WIDTH = 0.2  # each band of the X, as a share of the QR's side (~5 modules of v6)
# In the cache file's name: a sample drawn by an older kiosk (a QR that still scanned) is
# never shown again after an update.
SAMPLE_DRAWING = 2


def stamp_domain(base_url: str) -> str:
    """'HTTPS://OCOP.SONLA.GOV.VN/S/' -> 'ocop.sonla.gov.vn': what a shopper reads in a
    phone's address bar."""
    url = normalise_base_url(base_url)
    return url.split("://", 1)[-1].split("/", 1)[0].lower()


def sample_content(base_url: str, serial: int) -> LabelContent:
    """What the sample label says, before its QR is struck through."""
    from kiosk.printing.queue import serial_text
    from printer.label import LabelContent, QrSegments

    fields = StampFields(
        key_id=1, product_id=SAMPLE_PRODUCT_ID, serial=serial, issued_on=SAMPLE_ISSUED_ON
    )
    text = encode_stamp_url(fields, bytes(SIGNATURE_BYTES), base_url)
    return LabelContent(
        qr_text=text,
        qr_segments=cast(QrSegments, stamp_qr_segments(text)),  # as the station prints it (v6-M)
        title=SAMPLE_TITLE,
        serial_text=serial_text(serial),
        producer=SAMPLE_PRODUCER,
        district=SAMPLE_DISTRICT,
        stars=5,
        footer=SAMPLE_FOOTER,
    )


def sample_png(base_url: str, serial: int, folder: Path) -> Path:
    """The sample label as a PNG in `folder` (drawn once per base URL and serial)."""
    from printer.label import render_label_info

    name = hashlib.sha256(f"{SAMPLE_DRAWING}|{base_url}|{serial}".encode()).hexdigest()[:16]
    path = Path(folder) / f"genuine-sample-{name}.png"
    if path.exists():
        return path
    rendered = render_label_info(sample_content(base_url, serial))
    image = rendered.image.convert("L")
    strike_through(image, rendered.qr_box)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    image.save(tmp, format="PNG")
    tmp.replace(path)
    return path


def strike_through(image: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Draw a thick X (white, black edges) over the QR code in `box` (x0, y0, x1, y1), and
    SAMPLE_MARK boxed at its centre. Each band runs corner to corner, so it crosses the
    finder patterns (top left, top right, bottom left) that decoders look for first."""
    from PIL import ImageDraw

    from printer.label import get_font

    x0, y0, x1, _y1 = box  # square
    side = x1 - x0
    qr = image.crop(box)
    draw = ImageDraw.Draw(qr)
    # a 45-degree band of width `side * STRIKE_WIDTH` is this wide along a row
    half_row = side * STRIKE_WIDTH / 2 * math.sqrt(2)
    edge = max(2, side // 60)
    diagonals = (((0, 0), (side, side)), ((side, 0), (0, side)))

    def band(ends, half):
        (ax, ay), (bx, by) = ends
        return [(ax - half, ay), (ax + half, ay), (bx + half, by), (bx - half, by)]

    for ends in diagonals:
        draw.polygon(band(ends, half_row), fill=255, outline=0, width=edge)
    for ends in diagonals:  # the crossing: no edge of one band across the other's white
        draw.polygon(band(ends, half_row - edge * math.sqrt(2)), fill=255)
    font = get_font("bold", max(12, side // 5))
    left, top, right, bottom = draw.textbbox((0, 0), SAMPLE_MARK, font=font)
    w, h = right - left, bottom - top
    pad = max(4, side // 24)
    cx, cy = side / 2, side / 2
    draw.rectangle(
        (cx - w / 2 - pad, cy - h / 2 - pad, cx + w / 2 + pad, cy + h / 2 + pad),
        fill=255,
        outline=0,
        width=edge,
    )
    draw.text((cx - w / 2 - left, cy - h / 2 - top), SAMPLE_MARK, font=font, fill=0)
    image.paste(qr, (x0, y0))
