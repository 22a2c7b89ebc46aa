"""Byte transports behind one tiny interface: open, write, read, drain, end_job, close.

TCP, serial and USB are opened through python-escpos's ``Network``, ``Serial`` and ``Usb``
classes (they own the device discovery); the bytes then go through the underlying
socket / pyserial port / pyusb device directly, so every failure becomes a typed
:class:`~printer.errors.PrinterError` instead of python-escpos's silent-then-BrokenPipe
behaviour.  ``file://`` opens the device node itself with ``O_WRONLY`` and never
``O_CREAT``: python-escpos's ``File`` would silently create a regular file when the printer
is unplugged.  ``virtual:`` needs no hardware: it answers status queries like a printer and
stores every job as PNG files.

Transports raise typed errors without knowing the job phase; :mod:`printer.session` adds it.
"""

from __future__ import annotations

import abc
import array
import contextlib
import dataclasses
import errno
import logging
import os
import select
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from PIL import Image

from printer.errors import (
    BadPrinterURI,
    ConnectionDropped,
    PrinterError,
    PrinterNotFound,
    PrinterTimeout,
    UnsupportedPrinter,
)
from printer.raster_decode import StreamParser, decode_images
from printer.status import status_bytes
from printer.uri import (
    FileURI,
    PrinterURI,
    SerialURI,
    TcpURI,
    UsbURI,
    VirtualURI,
    parse_printer_uri,
)

log = logging.getLogger(__name__)

WRITE_CHUNK_BYTES = 4096


# What this module uses of the driver objects; python-escpos, pyserial and pyusb ship no
# type information, so these say what is called on them.
class _EscposConnection(Protocol):
    """python-escpos's ``Network`` / ``Serial`` / ``Usb`` once opened."""

    def close(self) -> None: ...


class _SerialPort(Protocol):
    """pyserial's ``Serial``."""

    timeout: float | None
    write_timeout: float | None
    rtscts: bool

    @property
    def in_waiting(self) -> int: ...

    def write(self, data: bytes, /) -> int | None: ...

    def read(self, size: int, /) -> bytes: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class _UsbEndpoint(Protocol):
    bmAttributes: int
    bEndpointAddress: int


class _UsbInterface(Protocol):
    def __iter__(self) -> Iterator[_UsbEndpoint]: ...


class _UsbConfiguration(Protocol):
    def __getitem__(self, interface_and_alternate: tuple[int, int], /) -> _UsbInterface: ...


class _UsbDevice(Protocol):
    """pyusb's ``usb.core.Device``."""

    def get_active_configuration(self) -> _UsbConfiguration: ...

    def __iter__(self) -> Iterator[_UsbConfiguration]: ...

    def write(self, endpoint: int, data: bytes, timeout: int, /) -> int: ...

    def read(self, endpoint: int, size: int, timeout: int, /) -> array.array[int]: ...


class Transport(abc.ABC):
    """A byte pipe to one printer.  Not thread-safe: one worker thread owns it."""

    can_read_status: bool = True

    def __init__(self, uri: PrinterURI) -> None:
        self.uri = uri
        self.timeout_s = uri.timeout_s
        self.is_open = False

    @abc.abstractmethod
    def open(self) -> None:
        """Connect now (never lazily).  Raises PrinterNotFound / PrinterTimeout."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None:
        """Write all of ``data`` or raise PrinterTimeout / ConnectionDropped."""

    def read(self, n: int, timeout_s: float) -> bytes | None:
        """Up to ``n`` bytes; ``None`` if nothing arrived in time.  EOF -> ConnectionDropped."""
        raise UnsupportedPrinter(f"{self.uri.scheme}:// cannot read from the printer")

    def drain_input(self) -> bytes:
        """Discard bytes that arrived unasked (late replies, automatic status)."""
        return b""

    def end_job(self) -> None:  # noqa: B027 - optional hook: only virtual: uses it
        """Called after each complete job."""

    def _stalled(self, bytes_sent: int) -> PrinterTimeout:
        return PrinterTimeout(
            f"printer stopped taking data for {self.timeout_s:g} s", bytes_sent=bytes_sent
        )

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri})"


# --------------------------------------------------------------------------------------
# TCP (raw port 9100)
# --------------------------------------------------------------------------------------


class TcpTransport(Transport):
    uri: TcpURI

    def __init__(self, uri: TcpURI) -> None:
        super().__init__(uri)
        self._escpos: _EscposConnection | None = None
        self._sock: socket.socket | None = None

    def open(self) -> None:
        from printer._escpos import DeviceNotFoundError, escpos_printer

        self.close()
        uri = self.uri
        net = escpos_printer.Network(uri.host, port=uri.port, timeout=self.timeout_s)
        try:
            net.open(raise_not_found=True)
        except DeviceNotFoundError as e:
            cause = e.__cause__ or e.__context__
            if isinstance(cause, (socket.timeout, TimeoutError)):
                raise PrinterNotFound(
                    f"no answer from {uri.host}:{uri.port} within {self.timeout_s:g} s"
                ) from e
            raise PrinterNotFound(f"cannot connect to {uri.host}:{uri.port}: {cause or e}") from e
        self._escpos = net
        sock: socket.socket = net.device
        self._sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.is_open = True

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionDropped("not connected")
        return self._sock

    def write(self, data: bytes) -> None:
        sock = self._require()
        sock.settimeout(self.timeout_s)
        view = memoryview(data)
        sent = 0
        try:
            for start in range(0, len(view), WRITE_CHUNK_BYTES):
                chunk = view[start : start + WRITE_CHUNK_BYTES]
                sock.sendall(chunk)
                sent += len(chunk)
        except TimeoutError as e:
            raise self._stalled(sent) from e
        except OSError as e:
            raise ConnectionDropped(f"connection lost while sending: {e}", bytes_sent=sent) from e

    def read(self, n: int, timeout_s: float) -> bytes | None:
        sock = self._require()
        sock.settimeout(timeout_s)
        try:
            data = sock.recv(n)
        except TimeoutError:
            return None
        except OSError as e:
            raise ConnectionDropped(f"connection lost while reading: {e}") from e
        if not data:
            raise ConnectionDropped("the printer closed the connection")
        return data

    def drain_input(self) -> bytes:
        sock = self._require()
        got = bytearray()
        sock.setblocking(False)
        try:
            while True:
                try:
                    chunk = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:
                    raise ConnectionDropped(f"connection lost: {e}") from e
                if not chunk:
                    raise ConnectionDropped("the printer closed the connection")
                got += chunk
        finally:
            sock.settimeout(self.timeout_s)
        return bytes(got)

    def close(self) -> None:
        if self._escpos is not None:
            with contextlib.suppress(OSError):
                self._escpos.close()
        self._escpos = None
        self._sock = None
        self.is_open = False


# --------------------------------------------------------------------------------------
# Serial
# --------------------------------------------------------------------------------------


class SerialTransport(Transport):
    uri: SerialURI

    def __init__(self, uri: SerialURI) -> None:
        super().__init__(uri)
        self._escpos: _EscposConnection | None = None
        self._port: _SerialPort | None = None

    def open(self) -> None:
        from printer._escpos import DeviceNotFoundError, escpos_printer

        self.close()
        uri = self.uri
        if not os.path.exists(uri.device):
            raise PrinterNotFound(f"serial device {uri.device} does not exist")
        ser = escpos_printer.Serial(
            devfile=uri.device,
            baudrate=uri.baud,
            bytesize=uri.bytesize,
            timeout=self.timeout_s,
            parity=uri.parity,
            stopbits=uri.stopbits,
            xonxoff=uri.flow == "xonxoff",
            dsrdtr=uri.flow == "dsrdtr",
        )
        try:
            ser.open(raise_not_found=True)
        except DeviceNotFoundError as e:
            raise PrinterNotFound(f"cannot open {uri.device}: {e.__context__ or e}") from e
        port: _SerialPort = ser.device
        port.rtscts = uri.flow == "rtscts"
        port.write_timeout = self.timeout_s
        self._escpos, self._port = ser, port
        self.is_open = True

    def write(self, data: bytes) -> None:
        import serial

        if self._port is None:
            raise ConnectionDropped("not connected")
        sent = 0
        try:
            for start in range(0, len(data), WRITE_CHUNK_BYTES):
                sent += self._port.write(data[start : start + WRITE_CHUNK_BYTES]) or 0
            self._port.flush()
        except serial.SerialTimeoutException as e:
            raise self._stalled(sent) from e
        except (serial.SerialException, OSError) as e:
            raise ConnectionDropped(
                f"serial port failed while sending: {e}", bytes_sent=sent
            ) from e

    def read(self, n: int, timeout_s: float) -> bytes | None:
        import serial

        if self._port is None:
            raise ConnectionDropped("not connected")
        try:
            self._port.timeout = timeout_s
            data = self._port.read(n)
        except (serial.SerialException, OSError) as e:
            raise ConnectionDropped(f"serial port failed while reading: {e}") from e
        return data or None  # a serial line has no EOF: empty = no answer

    def drain_input(self) -> bytes:
        if self._port is None:
            return b""
        try:
            waiting = self._port.in_waiting
            return self._port.read(waiting) if waiting else b""
        except OSError as e:
            raise ConnectionDropped(f"serial port failed: {e}") from e

    def close(self) -> None:
        if self._port is not None:
            with contextlib.suppress(OSError):
                self._port.close()
        self._escpos = None
        self._port = None
        self.is_open = False


# --------------------------------------------------------------------------------------
# USB (libusb via pyusb)
# --------------------------------------------------------------------------------------


# python-escpos's Usb defaults, for a printer whose descriptors cannot be read.
DEFAULT_USB_IN_EP = 0x82
DEFAULT_USB_OUT_EP = 0x01


@dataclasses.dataclass(frozen=True)
class _UsbLink:
    device: _UsbDevice
    in_ep: int
    out_ep: int


class UsbTransport(Transport):
    uri: UsbURI

    def __init__(self, uri: UsbURI) -> None:
        super().__init__(uri)
        self._escpos: _EscposConnection | None = None
        self._link: _UsbLink | None = None
        # From the URI, else found on the first open (a reopen reuses them).
        self._in_ep: int | None = uri.in_ep
        self._out_ep: int | None = uri.out_ep

    def open(self) -> None:
        from printer._escpos import DeviceNotFoundError, escpos_printer

        self.close()
        uri = self.uri
        name = f"USB {uri.vendor_id:04x}:{uri.product_id:04x}"
        try:
            import usb.core
            import usb.util
        except ImportError as e:  # pragma: no cover - the [usb] extra is installed
            raise UnsupportedPrinter("pyusb is not installed") from e
        try:
            dev = usb.core.find(idVendor=uri.vendor_id, idProduct=uri.product_id)
        except usb.core.NoBackendError as e:
            raise PrinterNotFound(f"{name}: libusb is not installed (Debian: libusb-1.0-0)") from e
        if dev is None:
            raise PrinterNotFound(f"{name} is not plugged in")
        in_ep, out_ep = self._in_ep, self._out_ep
        if in_ep is None or out_ep is None:
            in_ep, out_ep = self._detect_endpoints(dev)
            self._in_ep, self._out_ep = in_ep, out_ep
        printer = escpos_printer.Usb(
            uri.vendor_id,
            uri.product_id,
            timeout=int(self.timeout_s * 1000),
            in_ep=in_ep,
            out_ep=out_ep,
        )
        try:
            printer.open(raise_not_found=True)
        except DeviceNotFoundError as e:
            detail = str(e.__context__ or e)
            if "Access denied" in detail or "errno 13" in detail.lower():
                detail += " (permission: add a udev rule for this printer)"
            raise PrinterNotFound(f"cannot open {name}: {detail}") from e
        self._escpos, self._link = printer, _UsbLink(printer.device, in_ep, out_ep)
        self.is_open = True

    def _detect_endpoints(self, dev: _UsbDevice) -> tuple[int, int]:
        """(in, out) bulk endpoints: the URI's where given, else the first interface's."""
        import usb.util

        in_ep, out_ep = self._in_ep, self._out_ep
        try:
            intf = dev.get_active_configuration()[(0, 0)]
        except Exception:  # noqa: BLE001 - not configured yet / no permission: use defaults
            try:
                intf = next(iter(dev))[(0, 0)]
            except Exception:  # noqa: BLE001
                return in_ep or DEFAULT_USB_IN_EP, out_ep or DEFAULT_USB_OUT_EP
        for ep in intf:
            is_bulk = usb.util.endpoint_type(ep.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK
            if not is_bulk:
                continue
            if usb.util.endpoint_direction(ep.bEndpointAddress) == usb.util.ENDPOINT_IN:
                in_ep = in_ep or ep.bEndpointAddress
            else:
                out_ep = out_ep or ep.bEndpointAddress
        return in_ep or DEFAULT_USB_IN_EP, out_ep or DEFAULT_USB_OUT_EP

    def _require(self) -> _UsbLink:
        if self._link is None:
            raise ConnectionDropped("not connected")
        return self._link

    def write(self, data: bytes) -> None:
        import usb.core

        link = self._require()
        timeout_ms = int(self.timeout_s * 1000)
        sent = 0
        try:
            for start in range(0, len(data), WRITE_CHUNK_BYTES):
                chunk = data[start : start + WRITE_CHUNK_BYTES]
                sent += link.device.write(link.out_ep, chunk, timeout_ms)
        except usb.core.USBTimeoutError as e:
            raise self._stalled(sent) from e
        except usb.core.USBError as e:
            raise ConnectionDropped(f"USB write failed (unplugged?): {e}", bytes_sent=sent) from e

    def read(self, n: int, timeout_s: float) -> bytes | None:
        import usb.core

        link = self._require()
        try:
            data = link.device.read(link.in_ep, max(n, 64), int(timeout_s * 1000))
        except usb.core.USBTimeoutError:
            return None
        except usb.core.USBError as e:
            raise ConnectionDropped(f"USB read failed (unplugged?): {e}") from e
        return bytes(data[:n]) or None

    def close(self) -> None:
        if self._escpos is not None:
            with contextlib.suppress(Exception):  # releasing a vanished device may fail
                self._escpos.close()
        self._escpos = None
        self._link = None
        self.is_open = False


# --------------------------------------------------------------------------------------
# file:// (a character device such as /dev/usb/lp0)
# --------------------------------------------------------------------------------------


class FileTransport(Transport):
    can_read_status = False

    uri: FileURI

    def __init__(self, uri: FileURI) -> None:
        super().__init__(uri)
        self._fd: int | None = None

    def open(self) -> None:
        self.close()
        path = self.uri.path
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise PrinterNotFound(
                f"{path} does not exist (printer unplugged or switched off?)"
            ) from None
        except OSError as e:
            raise PrinterNotFound(f"cannot inspect {path}: {e}") from e
        if not stat.S_ISCHR(st.st_mode):
            raise BadPrinterURI(
                f"{path} is not a character device; file:// is for printer device nodes such "
                "as /dev/usb/lp0 (use virtual://DIR to store labels as images)"
            )
        try:
            # No O_CREAT: never create a regular file in place of a missing device.
            self._fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        except PermissionError as e:
            raise PrinterNotFound(
                f"no permission to write {path} (add the user to group lp)"
            ) from e
        except OSError as e:
            raise PrinterNotFound(f"cannot open {path}: {e}") from e
        self.is_open = True

    def write(self, data: bytes) -> None:
        if self._fd is None:
            raise ConnectionDropped("not open")
        view = memoryview(data)
        deadline = time.monotonic() + self.timeout_s
        while view:
            try:
                n = os.write(self._fd, view[:WRITE_CHUNK_BYTES])
                view = view[n:]
                deadline = time.monotonic() + self.timeout_s
                continue
            except BlockingIOError:
                pass
            except OSError as e:
                sent = len(data) - len(view)
                if e.errno in (errno.ENODEV, errno.EIO, errno.ENXIO, errno.EPIPE):
                    raise ConnectionDropped(
                        f"device went away while sending: {e}", bytes_sent=sent
                    ) from e
                raise ConnectionDropped(f"write failed: {e}", bytes_sent=sent) from e
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._stalled(len(data) - len(view))
            select.select([], [self._fd], [], min(remaining, 0.5))

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None
        self.is_open = False


# --------------------------------------------------------------------------------------
# virtual: no hardware
# --------------------------------------------------------------------------------------


class VirtualTransport(Transport):
    """A printer in software: answers DLE EOT like a real one and keeps each job's images.

    Jobs go to ``DIR/job-000001.png`` (``-2``, ``-3`` ... for more images in one job) when
    the URI names a folder; the last ``keep_jobs`` jobs are also kept in ``self.jobs``.
    Faults for demos: ``set_condition(paper_out=True)`` or a file ``DIR/fault`` containing
    words among ``offline paper_out paper_near_end cover_open``.
    """

    keep_jobs = 50

    uri: VirtualURI

    def __init__(self, uri: VirtualURI) -> None:
        super().__init__(uri)
        self.directory: Path | None = uri.directory
        self.jobs: list[list[Image.Image]] = []
        self.saved_paths: list[Path] = []
        self._condition: dict[str, bool] = {}
        self._job = bytearray()
        self._replies = bytearray()
        self._parser = StreamParser()
        self._lock = threading.Lock()
        self._seq = 0

    def open(self) -> None:
        if self.directory is not None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise PrinterNotFound(
                    f"cannot create virtual printer folder {self.directory}: {e}"
                ) from e
            existing = [p.name for p in self.directory.glob("job-*.png")]
            nums = [int(n[4:10]) for n in existing if n[4:10].isdigit()]
            self._seq = max(nums, default=0)
        self.is_open = True

    def set_condition(self, **flags: bool) -> None:
        """E.g. ``set_condition(paper_out=True)``; no arguments clears every fault."""
        allowed = {"offline", "paper_out", "paper_near_end", "cover_open"}
        unknown = set(flags) - allowed
        if unknown:
            raise ValueError(f"unknown condition(s): {sorted(unknown)}")
        with self._lock:
            self._condition = dict(flags) if flags else {}

    def _current_condition(self) -> dict[str, bool]:
        cond = dict(self._condition)
        if self.directory is not None:
            fault_file = self.directory / "fault"
            try:
                words = fault_file.read_text(encoding="utf-8").split()
            except OSError:
                words = []
            for w in words:
                if w in ("offline", "paper_out", "paper_near_end", "cover_open"):
                    cond[w] = True
        return cond

    def write(self, data: bytes) -> None:
        if not self.is_open:
            raise ConnectionDropped("virtual printer is closed")
        with self._lock:
            commands = self._parser.feed(data)
            queries = [c for c in commands if c.name == "status_query"]
            if queries:
                replies = status_bytes(**self._current_condition())
                for cmd in queries:
                    if cmd.status_n in replies:
                        self._replies.append(replies[cmd.status_n])
            # A write of nothing but status queries is not part of a job.
            if len(queries) != len(commands) or len(data) != 3 * len(queries):
                self._job += data

    def read(self, n: int, timeout_s: float) -> bytes | None:
        with self._lock:
            if not self._replies:
                return None
            out = bytes(self._replies[:n])
            del self._replies[:n]
            return out

    def drain_input(self) -> bytes:
        with self._lock:
            out = bytes(self._replies)
            self._replies.clear()
            return out

    def end_job(self) -> None:
        with self._lock:
            data = bytes(self._job)
            self._job.clear()
        if not data:
            return
        images = decode_images(data)
        self.jobs.append(images)
        del self.jobs[: -self.keep_jobs]
        if self.directory is None:
            return
        self._seq += 1
        for k, img in enumerate(images, start=1):
            suffix = "" if k == 1 else f"-{k}"
            path = self.directory / f"job-{self._seq:06d}{suffix}.png"
            img.save(path, format="PNG")
            self.saved_paths.append(path)
        del self.saved_paths[: -self.keep_jobs * 2]

    def close(self) -> None:
        self.is_open = False


# --------------------------------------------------------------------------------------


def make_transport(uri: PrinterURI | str) -> Transport:
    """The transport for a URI (not opened yet)."""
    if isinstance(uri, str):
        uri = parse_printer_uri(uri)
    if isinstance(uri, TcpURI):
        return TcpTransport(uri)
    if isinstance(uri, SerialURI):
        return SerialTransport(uri)
    if isinstance(uri, UsbURI):
        return UsbTransport(uri)
    if isinstance(uri, FileURI):
        return FileTransport(uri)
    if isinstance(uri, VirtualURI):
        return VirtualTransport(uri)
    raise BadPrinterURI(f"no transport for {uri!r}")


__all__ = [
    "FileTransport",
    "PrinterError",
    "SerialTransport",
    "TcpTransport",
    "Transport",
    "UsbTransport",
    "VirtualTransport",
    "make_transport",
]
