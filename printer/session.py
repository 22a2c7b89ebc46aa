"""A printer connection that checks status around every label and raises typed errors.

Typical use by a print worker thread::

    from printer import Printer, LabelContent, LabelLayout, render_label

    with Printer("tcp://192.168.1.50:9100", width_dots=384) as printer:
        for stamp in stamps:
            image = render_label(content_for(stamp), layout)
            try:
                result = printer.print_image(image)
            except PrinterError as err:
                if err.nothing_sent:   # status check before the job failed: retry later
                    ...
                else:                  # bytes went out: the label may be on paper
                    ...

What a successful :meth:`Printer.print_image` proves: the printer answered a status query
sent *after* the last byte of the label, so every byte reached it (in order); it does not
prove the label left the print head (a real printer answers DLE EOT as soon as it reads it).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import TypedDict, Unpack

from PIL import Image

from printer.errors import (
    ConnectionDropped,
    CoverOpen,
    JobPhase,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterTimeout,
    UnsupportedPrinter,
)
from printer.escpos_raster import JobOptions, encode_label_job
from printer.status import (
    DLE_EOT_OFFLINE_CAUSE,
    DLE_EOT_PAPER,
    DLE_EOT_PRINTER,
    PaperState,
    PrinterState,
    PrinterStatus,
    parse_status,
)
from printer.transports import Transport, make_transport
from printer.uri import PrinterURI, parse_printer_uri

log = logging.getLogger(__name__)

DEFAULT_STATUS_TIMEOUT_S = 2.0
OFFLINE_RECHECKS_AFTER_JOB = 3
OFFLINE_RECHECK_DELAY_S = 0.2


@dataclasses.dataclass(frozen=True)
class PrintResult:
    bytes_sent: int
    status_before: PrinterStatus
    status_after: PrinterStatus
    send_s: float  # time to write the bytes (not to print them)


class Printer:
    """One printer: a transport, a python-escpos profile for its paper width, and checks.

    ``require_status``: when the transport can read status but the printer gives no valid
    answer, raise :class:`PrinterTimeout` (True, the default) or print blind (False; for
    printers whose firmware ignores DLE EOT).  ``file://`` never reads status.
    """

    def __init__(
        self,
        uri: PrinterURI | str,
        *,
        width_dots: int = 384,
        profile: str | None = None,
        job_options: JobOptions = JobOptions(),
        status_timeout_s: float | None = None,
        require_status: bool = True,
    ) -> None:
        from printer._escpos import profile_for_width, profile_width_dots

        self.uri = parse_printer_uri(uri) if isinstance(uri, str) else uri
        self.width_dots = width_dots
        self.profile = profile or self.uri.profile or profile_for_width(width_dots)
        declared = profile_width_dots(self.profile)
        if declared is not None and declared < width_dots:
            raise UnsupportedPrinter(
                f"profile {self.profile} prints {declared} dots, narrower than {width_dots}"
            )
        self.job_options = job_options
        self.status_timeout_s = status_timeout_s or min(
            self.uri.timeout_s, DEFAULT_STATUS_TIMEOUT_S
        )
        self.require_status = require_status
        self.transport: Transport = make_transport(self.uri)
        self.last_status: PrinterStatus | None = None
        self._lock = threading.RLock()

    # -- connection ---------------------------------------------------------------------

    def open(self) -> Printer:
        with self._lock:
            if not self.transport.is_open:
                self.transport.open()
        return self

    def close(self) -> None:
        with self._lock:
            self.transport.close()

    def __enter__(self) -> Printer:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def state(self) -> PrinterState:
        """The last known state, for display (does not talk to the printer)."""
        if not self.transport.is_open:
            return PrinterState.NOT_CONNECTED
        if self.last_status is None:
            return PrinterState.UNKNOWN
        return self.last_status.state

    # -- status -------------------------------------------------------------------------

    def _query(self, query: bytes) -> int | None:
        self.transport.write(query)
        reply = self.transport.read(1, self.status_timeout_s)
        return reply[0] if reply else None

    def status(self) -> PrinterStatus:
        """Ask the printer now (DLE EOT 1, then 2 if offline, then 4).

        Opens the connection if needed.  Raises PrinterNotFound, PrinterTimeout (no valid
        answer, unless ``require_status`` is False) or ConnectionDropped.  A transport that
        cannot read (``file://``) returns an all-unknown status.
        """
        with self._lock:
            self.open()
            if not self.transport.can_read_status:
                self.last_status = PrinterStatus.unknown()
                return self.last_status
            try:
                self.transport.drain_input()
                s1 = self._query(DLE_EOT_PRINTER)
                if s1 is None:
                    self.last_status = PrinterStatus.unknown()
                    if self.require_status:
                        raise PrinterTimeout(
                            f"no answer to a status query within {self.status_timeout_s:g} s"
                        )
                    return self.last_status
                s2 = self._query(DLE_EOT_OFFLINE_CAUSE) if s1 & 0x08 else None
                s4 = self._query(DLE_EOT_PAPER)
            except (ConnectionDropped, PrinterTimeout):
                self.transport.close()
                raise
            status = parse_status(s1, s2, s4)
            if status.online is None and self.require_status:
                self.transport.close()
                raise PrinterTimeout(f"status reply {bytes([s1])!r} is not a valid DLE EOT answer")
            self.last_status = status
            return status

    @staticmethod
    def raise_for_status(status: PrinterStatus, phase: JobPhase, bytes_sent: int = 0) -> None:
        """Raise the typed error a status means (cover, then paper, then offline)."""
        error: type[PrinterError]
        if status.cover_open:
            error, detail = CoverOpen, "printer reports its cover open"
        elif status.paper is PaperState.OUT:
            error, detail = PaperOut, "printer reports paper out"
        elif status.online is False:
            error, detail = PrinterOffline, "printer reports offline"
        else:
            return
        raise error(detail, phase=phase, bytes_sent=bytes_sent, status=status)

    def check_ready(self) -> PrinterStatus:
        """Status, raising a typed error unless the printer can take a job."""
        try:
            status = self.status()
        except PrinterError as err:
            err.phase = JobPhase.BEFORE_SEND
            raise
        self.raise_for_status(status, JobPhase.BEFORE_SEND)
        if status.paper is PaperState.NEAR_END:
            log.info("printer paper near end")
        return status

    # -- jobs ---------------------------------------------------------------------------

    def encode(self, image: Image.Image, *, cut: bool | None = None) -> bytes:
        """The exact bytes :meth:`print_image` would send for ``image``."""
        options = self.job_options
        if cut is not None:
            options = dataclasses.replace(options, cut=cut)
        return encode_label_job(
            image, width_dots=self.width_dots, profile_name=self.profile, options=options
        )

    def print_image(self, image: Image.Image, *, cut: bool | None = None) -> PrintResult:
        """Check status, send one label, check status again.  Raises typed PrinterErrors
        whose ``phase`` says whether anything was sent (see :mod:`printer.errors`)."""
        data = self.encode(image, cut=cut)
        return self.send_job(data)

    def send_job(self, data: bytes) -> PrintResult:
        """Like :meth:`print_image` for bytes that are already encoded."""
        with self._lock:
            before = self.check_ready()
            t0 = time.perf_counter()
            try:
                self.transport.write(data)
            except PrinterError as err:
                # err.bytes_sent: what the OS accepted before the failure
                err.phase = JobPhase.SENDING
                self.transport.close()
                raise
            send_s = time.perf_counter() - t0
            self.transport.end_job()
            after = self._check_after(len(data))
            return PrintResult(len(data), before, after, send_s)

    def _check_after(self, bytes_sent: int) -> PrinterStatus:
        for attempt in range(OFFLINE_RECHECKS_AFTER_JOB + 1):
            try:
                status = self.status()
            except PrinterError as err:
                err.phase = JobPhase.AFTER_SEND
                err.bytes_sent = bytes_sent
                raise
            if status.cover_open or status.paper is PaperState.OUT:
                break
            if status.online is not False:
                return status
            # Some printers report offline for a moment while cutting or feeding.
            if attempt < OFFLINE_RECHECKS_AFTER_JOB:
                time.sleep(OFFLINE_RECHECK_DELAY_S)
        self.raise_for_status(status, JobPhase.AFTER_SEND, bytes_sent)
        return status

    def __repr__(self) -> str:
        return f"Printer({self.uri}, width_dots={self.width_dots}, profile={self.profile})"


class PrinterOptions(TypedDict, total=False):
    """The keyword arguments of :class:`Printer` besides ``width_dots``."""

    profile: str | None
    job_options: JobOptions
    status_timeout_s: float | None
    require_status: bool


def open_printer(
    uri: PrinterURI | str, *, width_dots: int = 384, **options: Unpack[PrinterOptions]
) -> Printer:
    """Parse the URI, connect now, and return the :class:`Printer` (raises PrinterError)."""
    return Printer(uri, width_dots=width_dots, **options).open()


def print_label(printer: Printer, image: Image.Image, *, cut: bool | None = None) -> PrintResult:
    """Module-level spelling of :meth:`Printer.print_image`."""
    return printer.print_image(image, cut=cut)
