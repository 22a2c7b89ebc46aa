"""How a stamp's serial is written for people: exactly as the label prints it under the QR,
so the number a shopper reads on screen or phone is the one on the label in hand."""

from __future__ import annotations

GROUP_DIGITS = 4
MIN_DIGITS = 12  # serials run to 2**40 - 1: 13 digits at most


def serial_digits(serial: int) -> str:
    """At least 12 digits, in groups of four counted from the right ('0000 0012 3456';
    the largest serials have 13 digits: '1 0995 1162 7775')."""
    digits = f"{int(serial):0{MIN_DIGITS}d}"
    head = len(digits) % GROUP_DIGITS
    groups = ([digits[:head]] if head else []) + [
        digits[i : i + GROUP_DIGITS] for i in range(head, len(digits), GROUP_DIGITS)
    ]
    return " ".join(groups)


__all__ = ["serial_digits"]
