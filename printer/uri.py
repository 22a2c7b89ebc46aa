"""Printer URIs -> typed dataclasses.

Accepted forms (query parameters are optional; unknown ones are an error, to catch typos):

* ``tcp://HOST[:PORT]``                 port defaults to 9100
* ``usb://VID:PID``                     hex ids, e.g. ``usb://0416:5011`` or ``usb://0x0416:0x5011``;
  ``?in_ep=0x81&out_ep=0x03``
* ``serial:///dev/ttyUSB0?baud=115200``
  ``&bytesize=8&parity=N&stopbits=1&flow=none|rtscts|dsrdtr|xonxoff``
* ``file:///dev/usb/lp0``               must be a character device when opened
* ``virtual://DIR`` / ``virtual:``      no hardware: each job is stored as PNG files in DIR
  (``virtual:`` keeps jobs in memory only)

Every kind also takes ``timeout=SECONDS`` and ``profile=NAME`` (a python-escpos profile).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypedDict
from urllib.parse import parse_qsl, urlsplit

from printer.errors import BadPrinterURI

DEFAULT_TCP_PORT = 9100
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_BAUD = 9600
DEFAULT_BYTESIZE = 8
DEFAULT_PARITY = "N"
DEFAULT_STOPBITS: float = 1
DEFAULT_FLOW = "none"
_BAUDS = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}
_FLOWS = ("none", "rtscts", "dsrdtr", "xonxoff")
_PARITIES = ("N", "E", "O", "M", "S")


@dataclasses.dataclass(frozen=True)
class PrinterURI:
    timeout_s: float = DEFAULT_TIMEOUT_S
    profile: str | None = None

    @property
    def scheme(self) -> str:
        raise NotImplementedError

    def _query(self, extra: Mapping[str, object] | None = None) -> str:
        parts: dict[str, object] = dict(extra or {})
        if self.timeout_s != DEFAULT_TIMEOUT_S:
            parts["timeout"] = f"{self.timeout_s:g}"
        if self.profile:
            parts["profile"] = self.profile
        return ("?" + "&".join(f"{k}={v}" for k, v in parts.items())) if parts else ""


@dataclasses.dataclass(frozen=True)
class TcpURI(PrinterURI):
    host: str = ""
    port: int = DEFAULT_TCP_PORT

    @property
    def scheme(self) -> str:
        return "tcp"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}{self._query()}"


@dataclasses.dataclass(frozen=True)
class UsbURI(PrinterURI):
    vendor_id: int = 0
    product_id: int = 0
    in_ep: int | None = None
    out_ep: int | None = None

    @property
    def scheme(self) -> str:
        return "usb"

    def __str__(self) -> str:
        extra: dict[str, str] = {}
        if self.in_ep is not None:
            extra["in_ep"] = f"0x{self.in_ep:02x}"
        if self.out_ep is not None:
            extra["out_ep"] = f"0x{self.out_ep:02x}"
        return f"usb://{self.vendor_id:04x}:{self.product_id:04x}{self._query(extra)}"


@dataclasses.dataclass(frozen=True)
class SerialURI(PrinterURI):
    device: str = ""
    baud: int = DEFAULT_BAUD
    bytesize: int = DEFAULT_BYTESIZE
    parity: str = DEFAULT_PARITY
    stopbits: float = DEFAULT_STOPBITS
    flow: str = DEFAULT_FLOW

    @property
    def scheme(self) -> str:
        return "serial"

    def __str__(self) -> str:
        extra: dict[str, object] = {"baud": self.baud}
        if self.bytesize != DEFAULT_BYTESIZE:
            extra["bytesize"] = self.bytesize
        if self.parity != DEFAULT_PARITY:
            extra["parity"] = self.parity
        if self.stopbits != DEFAULT_STOPBITS:
            extra["stopbits"] = f"{self.stopbits:g}"
        if self.flow != DEFAULT_FLOW:
            extra["flow"] = self.flow
        return f"serial://{self.device}{self._query(extra)}"


@dataclasses.dataclass(frozen=True)
class FileURI(PrinterURI):
    path: str = ""

    @property
    def scheme(self) -> str:
        return "file"

    def __str__(self) -> str:
        return f"file://{self.path}{self._query()}"


@dataclasses.dataclass(frozen=True)
class VirtualURI(PrinterURI):
    directory: Path | None = None  # None: keep jobs in memory only

    @property
    def scheme(self) -> str:
        return "virtual"

    def __str__(self) -> str:
        where = f"virtual://{self.directory}" if self.directory else "virtual:"
        return where + self._query()


class _Common(TypedDict, total=False):
    """Parameters every kind takes; absent ones keep the dataclass defaults."""

    timeout_s: float
    profile: str


class _UsbEndpoints(TypedDict, total=False):
    in_ep: int
    out_ep: int


class _SerialLine(TypedDict, total=False):
    baud: int
    bytesize: int
    parity: str
    stopbits: float
    flow: str


_USB_ENDPOINT_KEYS: tuple[Literal["in_ep"], Literal["out_ep"]] = ("in_ep", "out_ep")


def _bad(text: str, why: str) -> BadPrinterURI:
    return BadPrinterURI(f"bad printer URI {text!r}: {why}")


def _int(text: str, name: str, value: str, *, base: int = 10) -> int:
    try:
        return int(value, base)
    except ValueError:
        raise _bad(text, f"{name} must be an integer, got {value!r}") from None


def _hex_id(text: str, name: str, value: str) -> int:
    v = value.lower()
    v = v[2:] if v.startswith("0x") else v
    if not v or len(v) > 4:
        raise _bad(text, f"{name} must be a 16-bit hex number like 0416, got {value!r}")
    n = _int(text, name, v, base=16)
    return n


def parse_printer_uri(text: str) -> PrinterURI:
    """Parse a printer URI; raise :class:`BadPrinterURI` with a one-line reason."""
    if not isinstance(text, str) or not text.strip():
        raise _bad(str(text), "empty")
    text = text.strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep:
        raise _bad(text, "expected scheme://..., one of tcp, usb, serial, file, virtual")
    parts = urlsplit(text)
    if parts.fragment:
        raise _bad(text, "a '#' fragment is not allowed")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        query = dict(pairs)
    except ValueError:
        raise _bad(text, f"cannot read query {parts.query!r}") from None

    common: _Common = {}
    if "timeout" in query:
        raw = query.pop("timeout")
        try:
            timeout = float(raw)
        except ValueError:
            raise _bad(text, f"timeout must be seconds, got {raw!r}") from None
        if not (math.isfinite(timeout) and 0 < timeout <= 600):
            raise _bad(text, f"timeout must be between 0 and 600 seconds, got {raw!r}")
        common["timeout_s"] = timeout
    if "profile" in query:
        profile = query.pop("profile")
        if not profile:
            raise _bad(text, "profile is empty")
        common["profile"] = profile

    def no_more_params() -> None:
        if query:
            raise _bad(text, f"unknown parameter(s): {', '.join(sorted(query))}")

    if scheme == "tcp":
        try:
            host = parts.hostname
            port = parts.port
        except ValueError as e:
            raise _bad(text, f"bad port ({e})") from None
        if not host:
            raise _bad(text, "missing host, e.g. tcp://192.168.1.50:9100")
        if parts.path not in ("", "/"):
            raise _bad(text, f"unexpected path {parts.path!r}")
        no_more_params()
        if port == 0:
            raise _bad(text, "port 0 is not valid")
        return TcpURI(host=host, port=port or DEFAULT_TCP_PORT, **common)

    if scheme == "usb":
        ids = parts.netloc
        vid, colon, pid = ids.partition(":")
        if not colon or not vid or not pid or parts.path not in ("", "/"):
            raise _bad(text, "expected usb://VID:PID with hex ids, e.g. usb://0416:5011")
        endpoints: _UsbEndpoints = {}
        for key in _USB_ENDPOINT_KEYS:
            if key in query:
                raw = query.pop(key)
                v = _int(text, key, raw[2:] if raw.lower().startswith("0x") else raw, base=16)
                if not 0 <= v <= 0xFF:
                    raise _bad(text, f"{key} must be 0x00..0xff")
                endpoints[key] = v
        no_more_params()
        return UsbURI(
            vendor_id=_hex_id(text, "vendor id", vid),
            product_id=_hex_id(text, "product id", pid),
            **endpoints,
            **common,
        )

    if scheme == "serial":
        device = parts.path if not parts.netloc else None
        if not device or not device.startswith("/"):
            raise _bad(text, "expected serial:///dev/ttyUSB0?baud=115200 (absolute device path)")
        line: _SerialLine = {}
        if "baud" in query:
            baud = _int(text, "baud", query.pop("baud"))
            if baud not in _BAUDS:
                raise _bad(text, f"baud must be one of {sorted(_BAUDS)}, got {baud}")
            line["baud"] = baud
        if "bytesize" in query:
            bytesize = _int(text, "bytesize", query.pop("bytesize"))
            if bytesize not in (5, 6, 7, 8):
                raise _bad(text, "bytesize must be 5, 6, 7 or 8")
            line["bytesize"] = bytesize
        if "parity" in query:
            parity = query.pop("parity").upper()[:1]
            if parity not in _PARITIES:
                raise _bad(text, f"parity must be one of {', '.join(_PARITIES)}")
            line["parity"] = parity
        if "stopbits" in query:
            raw = query.pop("stopbits")
            if raw not in ("1", "1.5", "2"):
                raise _bad(text, "stopbits must be 1, 1.5 or 2")
            line["stopbits"] = float(raw) if raw == "1.5" else int(raw)
        if "flow" in query:
            flow = query.pop("flow").lower()
            if flow not in _FLOWS:
                raise _bad(text, f"flow must be one of {', '.join(_FLOWS)}")
            line["flow"] = flow
        no_more_params()
        return SerialURI(device=device, **line, **common)

    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise _bad(text, "expected file:///dev/usb/lp0 (three slashes, absolute path)")
        if not parts.path.startswith("/") or parts.path == "/":
            raise _bad(text, "expected an absolute device path, e.g. file:///dev/usb/lp0")
        no_more_params()
        return FileURI(path=parts.path, **common)

    if scheme == "virtual":
        no_more_params()
        body = rest.split("?", 1)[0]
        if body.startswith("//"):
            body = body[2:]
        return VirtualURI(directory=Path(body) if body else None, **common)

    raise _bad(text, f"unknown scheme {scheme!r}; use tcp, usb, serial, file or virtual")
