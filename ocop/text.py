"""Text helpers for Vietnamese: NFC normalisation and diacritic-free folding for search."""

from __future__ import annotations

import unicodedata

# đ/Đ is a separate letter, not d + a combining mark, so NFD does not strip it.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """'MỘC CHÂU' -> 'moc chau'; 'Đá' -> 'da'. Used for the search index and for queries."""
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
