"""The sample genuine stamp the result screen shows beside a report (issue 15): drawn by the
station's own label renderer (printer.label), so it looks like what the station prints: the
QR code in the stamp's spelling, the number in groups of four, the stars, the OCOP mark.

Its QR holds a well-formed stamp text with an all-zero signature: it shows the real QR's
density, but its signature is zeros, so it proves nothing if anyone scans it off the screen.
The footer says it is a sample. No Kivy here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import cast

from ocop.stamps.codec import (
    SIGNATURE_BYTES,
    StampFields,
    encode_stamp_url,
    normalise_base_url,
    stamp_qr_segments,
)

SAMPLE_PRODUCT_ID = 1
SAMPLE_ISSUED_ON = dt.date(2026, 1, 1)
SAMPLE_TITLE = "Sản phẩm OCOP Sơn La"  # labels are printed in Vietnamese
SAMPLE_PRODUCER = "Tên chủ thể sản xuất"
SAMPLE_DISTRICT = "Sơn La"
SAMPLE_FOOTER = "MẪU / SAMPLE"


def stamp_domain(base_url: str) -> str:
    """'HTTPS://OCOP.SONLA.GOV.VN/S/' -> 'ocop.sonla.gov.vn': what a shopper reads in a
    phone's address bar."""
    url = normalise_base_url(base_url)
    return url.split("://", 1)[-1].split("/", 1)[0].lower()


def sample_png(base_url: str, serial: int, folder: Path) -> Path:
    """The sample label as a PNG in `folder` (drawn once per base URL and serial)."""
    from kiosk.printing.queue import serial_text
    from printer.label import LabelContent, QrSegments, render_label

    name = hashlib.sha256(f"{base_url}|{serial}".encode()).hexdigest()[:16]
    path = Path(folder) / f"genuine-sample-{name}.png"
    if path.exists():
        return path
    fields = StampFields(
        key_id=1, product_id=SAMPLE_PRODUCT_ID, serial=serial, issued_on=SAMPLE_ISSUED_ON
    )
    text = encode_stamp_url(fields, bytes(SIGNATURE_BYTES), base_url)
    content = LabelContent(
        qr_text=text,
        qr_segments=cast(QrSegments, stamp_qr_segments(text)),  # as the station prints it (v6-M)
        title=SAMPLE_TITLE,
        serial_text=serial_text(serial),
        producer=SAMPLE_PRODUCER,
        district=SAMPLE_DISTRICT,
        stars=5,
        footer=SAMPLE_FOOTER,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    render_label(content).convert("L").save(tmp, format="PNG")
    tmp.replace(path)
    return path
