"""Typed printer errors with staff-readable messages (Vietnamese + English).

Every error the printer package raises on purpose is a :class:`PrinterError` with a
:class:`PrinterFault` code.  The kiosk shows ``err.staff_message_vi`` (or ``_en``) and
decides what to do from ``err.fault`` and ``err.phase``:

* ``JobPhase.BEFORE_SEND`` - nothing of this label reached the printer: safe to retry.
* ``JobPhase.SENDING`` / ``JobPhase.AFTER_SEND`` - some or all bytes went out; the label
  may or may not be on paper.  A print queue must not reprint it without a person saying so.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from printer.status import PrinterStatus


class PrinterFault(enum.Enum):
    NOT_FOUND = "not_found"
    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    TIMEOUT = "timeout"
    CONNECTION_DROPPED = "connection_dropped"
    UNSUPPORTED = "unsupported"
    BAD_URI = "bad_uri"
    IMAGE_TOO_WIDE = "image_too_wide"


class JobPhase(enum.Enum):
    """Where in a job an error happened (tells a queue whether paper may have been used)."""

    CONNECT = "connect"  # opening the transport: nothing sent
    BEFORE_SEND = "before_send"  # status check before the job: nothing of the job sent
    SENDING = "sending"  # part of the job may have been sent
    AFTER_SEND = "after_send"  # the whole job was written; the check after it failed

    @property
    def nothing_sent(self) -> bool:
        return self in (JobPhase.CONNECT, JobPhase.BEFORE_SEND)


# (Vietnamese, English) staff messages: short, actionable, no jargon.
STAFF_MESSAGES: dict[PrinterFault, tuple[str, str]] = {
    PrinterFault.NOT_FOUND: (
        "Không tìm thấy máy in. Kiểm tra dây cáp, nguồn điện và địa chỉ máy in.",
        "Printer not found. Check the cable, the power and the printer address.",
    ),
    PrinterFault.OFFLINE: (
        "Máy in đang ngoại tuyến. Kiểm tra đèn báo lỗi rồi bật lại máy in.",
        "The printer is offline. Check its error light, then switch it back on.",
    ),
    PrinterFault.PAPER_OUT: (
        "Máy in hết giấy. Lắp cuộn giấy mới rồi đóng nắp.",
        "The printer is out of paper. Load a new roll and close the cover.",
    ),
    PrinterFault.COVER_OPEN: (
        "Nắp máy in đang mở. Hãy đóng nắp máy in.",
        "The printer cover is open. Close the cover.",
    ),
    PrinterFault.TIMEOUT: (
        "Máy in không phản hồi. Kiểm tra máy in đã bật và đã kết nối.",
        "The printer does not answer. Check that it is switched on and connected.",
    ),
    PrinterFault.CONNECTION_DROPPED: (
        "Mất kết nối với máy in khi đang in. Kiểm tra tem vừa in trước khi in lại.",
        "The connection to the printer was lost while printing. "
        "Check the last stamp before printing it again.",
    ),
    PrinterFault.UNSUPPORTED: (
        "Máy in hoặc cổng kết nối này không được hỗ trợ.",
        "This printer or connection type is not supported.",
    ),
    PrinterFault.BAD_URI: (
        "Địa chỉ máy in trong cấu hình không hợp lệ.",
        "The printer address in the configuration is not valid.",
    ),
    PrinterFault.IMAGE_TOO_WIDE: (
        "Khổ tem lớn hơn khổ giấy của máy in. Kiểm tra cấu hình khổ giấy (58/80 mm).",
        "The label is wider than the printer's paper. Check the paper width setting (58/80 mm).",
    ),
}


class PrinterError(Exception):
    """Base class. ``str(err)`` is the technical detail; staff messages are separate."""

    fault: PrinterFault = PrinterFault.UNSUPPORTED

    def __init__(
        self,
        detail: str,
        *,
        phase: JobPhase = JobPhase.CONNECT,
        bytes_sent: int = 0,
        status: PrinterStatus | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.phase = phase
        self.bytes_sent = bytes_sent
        self.status = status  # when one was read

    @property
    def code(self) -> str:
        return self.fault.value

    @property
    def staff_message_vi(self) -> str:
        return STAFF_MESSAGES[self.fault][0]

    @property
    def staff_message_en(self) -> str:
        return STAFF_MESSAGES[self.fault][1]

    @property
    def nothing_sent(self) -> bool:
        """True when no byte of the current job left this machine (safe to retry)."""
        return self.phase.nothing_sent

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.detail!r}, phase={self.phase.value}, "
            f"bytes_sent={self.bytes_sent})"
        )


class PrinterNotFound(PrinterError):
    fault = PrinterFault.NOT_FOUND


class PrinterOffline(PrinterError):
    fault = PrinterFault.OFFLINE


class PaperOut(PrinterError):
    fault = PrinterFault.PAPER_OUT


class CoverOpen(PrinterError):
    fault = PrinterFault.COVER_OPEN


class PrinterTimeout(PrinterError):
    fault = PrinterFault.TIMEOUT


class ConnectionDropped(PrinterError):
    fault = PrinterFault.CONNECTION_DROPPED


class UnsupportedPrinter(PrinterError):
    fault = PrinterFault.UNSUPPORTED


class BadPrinterURI(PrinterError, ValueError):
    fault = PrinterFault.BAD_URI


class ImageTooWide(PrinterError, ValueError):
    fault = PrinterFault.IMAGE_TOO_WIDE


ERROR_CLASSES: dict[PrinterFault, type[PrinterError]] = {
    cls.fault: cls
    for cls in (
        PrinterNotFound,
        PrinterOffline,
        PaperOut,
        CoverOpen,
        PrinterTimeout,
        ConnectionDropped,
        UnsupportedPrinter,
        BadPrinterURI,
        ImageTooWide,
    )
}


def error_for(
    fault: PrinterFault,
    detail: str,
    *,
    phase: JobPhase = JobPhase.CONNECT,
    bytes_sent: int = 0,
    status: PrinterStatus | None = None,
) -> PrinterError:
    """Build the typed error for ``fault``."""
    return ERROR_CLASSES[fault](detail, phase=phase, bytes_sent=bytes_sent, status=status)
