"""GTIN (EAN-8/UPC-A/EAN-13/GTIN-14) check digits."""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """Check digit for the digits before it (GS1 mod-10, weights 3,1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    return (
        code.isascii()
        and code.isdigit()
        and len(code) in GTIN_LENGTHS
        and gtin_check_digit(code[:-1]) == int(code[-1])
    )


def normalize_gtin(code: str) -> str:
    """One spelling per trade item: UPC-A (12), EAN-13 and GTIN-14 with leading zeros all
    become the 13-digit form when they fit in it (GTIN-8 stays 8 digits)."""
    code = code.strip()
    if len(code) == 8:
        return code
    padded = code.zfill(14)
    return padded[1:] if padded.startswith("0") else padded
