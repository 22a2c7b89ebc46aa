"""Stamp label printing: 1-bit label rendering, ESC/POS raster encoding, transports, status.

Knows images and bytes, not stamps and not the kiosk.  Public API::

    render_label(LabelContent, LabelLayout) -> PIL.Image (mode '1')
    Printer(uri, width_dots=384) / open_printer(uri, ...)   .status() .check_ready()
                                                             .print_image(img) -> PrintResult
    PrinterError and subclasses (fault codes + staff messages in Vietnamese and English)
    parse_printer_uri(text) -> TcpURI | UsbURI | SerialURI | FileURI | VirtualURI
    decode_images(bytes) -> list of images (ESC/POS raster decoder)
    printer.fake_server.FakePrinterProcess: a fake network printer with fault switches

Importing this package does not import python-escpos; that happens on first use
(``printer._escpos`` sets its cache folder first).
"""

from printer.errors import (
    BadPrinterURI,
    ConnectionDropped,
    CoverOpen,
    ImageTooWide,
    JobPhase,
    PaperOut,
    PrinterError,
    PrinterFault,
    PrinterNotFound,
    PrinterOffline,
    PrinterTimeout,
    UnsupportedPrinter,
)
from printer.escpos_raster import JobOptions, encode_label_job, encode_raster
from printer.label import (
    LabelContent,
    LabelError,
    LabelLayout,
    RenderedLabel,
    missing_glyphs,
    render_label,
    render_label_info,
    save_preview,
)
from printer.raster_decode import decode_images, parse_commands
from printer.session import Printer, PrintResult, open_printer, print_label
from printer.status import PaperState, PrinterState, PrinterStatus
from printer.uri import (
    FileURI,
    PrinterURI,
    SerialURI,
    TcpURI,
    UsbURI,
    VirtualURI,
    parse_printer_uri,
)

__all__ = [
    "BadPrinterURI",
    "ConnectionDropped",
    "CoverOpen",
    "FileURI",
    "ImageTooWide",
    "JobOptions",
    "JobPhase",
    "LabelContent",
    "LabelError",
    "LabelLayout",
    "PaperOut",
    "PaperState",
    "PrintResult",
    "Printer",
    "PrinterError",
    "PrinterFault",
    "PrinterNotFound",
    "PrinterOffline",
    "PrinterState",
    "PrinterStatus",
    "PrinterTimeout",
    "PrinterURI",
    "RenderedLabel",
    "SerialURI",
    "TcpURI",
    "UnsupportedPrinter",
    "UsbURI",
    "VirtualURI",
    "decode_images",
    "encode_label_job",
    "encode_raster",
    "missing_glyphs",
    "open_printer",
    "parse_commands",
    "parse_printer_uri",
    "print_label",
    "render_label",
    "render_label_info",
    "save_preview",
]
