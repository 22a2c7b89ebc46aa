"""Product barcodes that carry a GTIN: EAN-8, UPC-A, EAN-13, GTIN-14 digits, GS1 element
strings '(01)...', and GS1 Digital Link URLs 'https://host/[prefix/]01/<gtin>[/...][?...]'.

Only recognised here; they never prove authenticity (anyone can print a barcode)."""

from __future__ import annotations

import re

from ocop.gtin import is_valid_gtin

_DIGITS_RE = re.compile(r"[0-9]{8}|[0-9]{12,14}")
_HRI_RE = re.compile(r"\(01\)([0-9]{14})(?:\(.*)?", re.DOTALL)
_DIGITAL_LINK_RE = re.compile(
    r"https?://[A-Za-z0-9.\-]+(?::[0-9]+)?(?:/[^/?#]*)*?/01/([0-9]{8}|[0-9]{12,14})"
    r"(?:[/?#].*)?",
    re.IGNORECASE | re.DOTALL,
)
MAX_BARCODE_TEXT = 2048


def gtin14(gtin: str) -> str:
    """Any GTIN padded to 14 digits: the form to compare GTINs of different lengths."""
    return gtin.zfill(14)


def extract_gtin(text: str) -> str | None:
    """The GTIN a product barcode carries (as written, 8/12/13/14 digits), or None."""
    if not isinstance(text, str) or len(text) > MAX_BARCODE_TEXT or not text.isascii():
        return None
    if _DIGITS_RE.fullmatch(text):
        candidate = text
    else:
        m = _HRI_RE.fullmatch(text) or _DIGITAL_LINK_RE.fullmatch(text)
        if not m:
            return None
        candidate = m.group(1)
    return candidate if is_valid_gtin(candidate) else None
