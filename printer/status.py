"""Printer status from ESC/POS real-time status replies (DLE EOT n).

Reply bytes per the ESC/POS spec (one byte each; bit 1 and bit 4 are always 1, bits 0 and 7
always 0, so a valid reply matches ``byte & 0x93 == 0x12``):

* ``DLE EOT 1`` printer status: bit 3 = offline.
* ``DLE EOT 2`` offline cause: bit 2 = cover open, bit 3 = paper fed by the FEED button,
  bit 5 = printing stopped by paper end, bit 6 = error.
* ``DLE EOT 4`` roll paper sensor: bits 2+3 = near end, bits 5+6 = paper out.

An empty or malformed reply is UNKNOWN, never "OK" (python-escpos reads an empty
``paper_status()`` reply as "paper adequate").
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TypeGuard

DLE_EOT_PRINTER = b"\x10\x04\x01"
DLE_EOT_OFFLINE_CAUSE = b"\x10\x04\x02"
DLE_EOT_ERROR_CAUSE = b"\x10\x04\x03"
DLE_EOT_PAPER = b"\x10\x04\x04"

FIXED_MASK = 0x93
FIXED_VALUE = 0x12

BIT_OFFLINE = 0x08
BIT_COVER_OPEN = 0x04
BIT_FEED_BUTTON = 0x08
BIT_STOPPED_PAPER_END = 0x20
BIT_ERROR = 0x40
BITS_NEAR_END = 0x0C
BITS_PAPER_OUT = 0x60


def reply_is_valid(byte: int | None) -> TypeGuard[int]:
    return byte is not None and (byte & FIXED_MASK) == FIXED_VALUE


class PaperState(enum.Enum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"


class PrinterState(enum.Enum):
    """One word for the UI. ``label_vi``/``label_en`` are display strings."""

    READY = "ready"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # the transport cannot read status (file://) or gave no valid reply
    NOT_CONNECTED = "not_connected"

    @property
    def label_vi(self) -> str:
        return _STATE_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _STATE_LABELS[self][1]

    @property
    def can_print(self) -> bool:
        return self in (PrinterState.READY, PrinterState.PAPER_NEAR_END, PrinterState.UNKNOWN)


_STATE_LABELS = {
    PrinterState.READY: ("Sẵn sàng", "Ready"),
    PrinterState.PAPER_NEAR_END: ("Sắp hết giấy", "Paper low"),
    PrinterState.PAPER_OUT: ("Hết giấy", "Out of paper"),
    PrinterState.COVER_OPEN: ("Nắp đang mở", "Cover open"),
    PrinterState.OFFLINE: ("Ngoại tuyến", "Offline"),
    PrinterState.UNKNOWN: ("Không rõ trạng thái", "Status unknown"),
    PrinterState.NOT_CONNECTED: ("Chưa kết nối", "Not connected"),
}


@dataclasses.dataclass(frozen=True)
class PrinterStatus:
    """What the printer said. ``None`` fields were not readable."""

    online: bool | None
    paper: PaperState
    cover_open: bool | None
    error: bool | None = None
    raw: bytes = b""  # the reply bytes for DLE EOT 1, 2, 4 (missing ones omitted)

    @property
    def readable(self) -> bool:
        return self.online is not None

    @property
    def state(self) -> PrinterState:
        if self.cover_open:
            return PrinterState.COVER_OPEN
        if self.paper is PaperState.OUT:
            return PrinterState.PAPER_OUT
        if self.online is False:
            return PrinterState.OFFLINE
        if self.online is None:
            return PrinterState.UNKNOWN
        if self.paper is PaperState.NEAR_END:
            return PrinterState.PAPER_NEAR_END
        return PrinterState.READY

    @classmethod
    def unknown(cls) -> PrinterStatus:
        return cls(online=None, paper=PaperState.UNKNOWN, cover_open=None)


def parse_status(
    printer: int | None, offline_cause: int | None, paper: int | None
) -> PrinterStatus:
    """Combine the three reply bytes (``None`` = no reply) into a :class:`PrinterStatus`."""
    online = None
    if reply_is_valid(printer):
        online = not (printer & BIT_OFFLINE)
    cover_open = None
    error = None
    stopped_paper_end = False
    if reply_is_valid(offline_cause):
        cover_open = bool(offline_cause & BIT_COVER_OPEN)
        error = bool(offline_cause & BIT_ERROR)
        stopped_paper_end = bool(offline_cause & BIT_STOPPED_PAPER_END)
    paper_state = PaperState.UNKNOWN
    if reply_is_valid(paper):
        if paper & BITS_PAPER_OUT:
            paper_state = PaperState.OUT
        elif paper & BITS_NEAR_END:
            paper_state = PaperState.NEAR_END
        else:
            paper_state = PaperState.OK
    if stopped_paper_end:
        paper_state = PaperState.OUT
    raw = bytes(b for b in (printer, offline_cause, paper) if b is not None)
    return PrinterStatus(
        online=online, paper=paper_state, cover_open=cover_open, error=error, raw=raw
    )


def status_bytes(
    *,
    offline: bool = False,
    paper_out: bool = False,
    paper_near_end: bool = False,
    cover_open: bool = False,
) -> dict[int, int]:
    """The reply byte a real printer sends for each DLE EOT n, given its condition.

    Used by the fake printer; kept here so both ends share one definition.
    """
    is_offline = offline or paper_out or cover_open
    s1 = FIXED_VALUE | (BIT_OFFLINE if is_offline else 0)
    s2 = FIXED_VALUE
    if cover_open:
        s2 |= BIT_COVER_OPEN
    if paper_out:
        s2 |= BIT_STOPPED_PAPER_END
    s3 = FIXED_VALUE
    s4 = FIXED_VALUE
    if paper_out:
        s4 |= BITS_PAPER_OUT | BITS_NEAR_END
    elif paper_near_end:
        s4 |= BITS_NEAR_END
    return {1: s1, 2: s2, 3: s3, 4: s4}
