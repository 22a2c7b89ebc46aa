"""Parse an ESC/POS byte stream back into commands and images.

Used by the tests (print -> bytes -> images -> QR), by the fake printer (to answer
``DLE EOT`` status queries without mistaking raster data for commands) and by the virtual
printer (to store each job as PNG files).

Understood: ``ESC @``, ``GS v 0`` raster blocks, ``GS ( L`` / ``GS ( k`` (skipped by
length), ``ESC d``/``ESC J`` feeds, ``GS V`` cuts, ``DLE EOT n`` status queries,
``DLE DC4`` real-time requests, the usual one-parameter ESC/GS/FS settings, ``GS k``
barcodes, LF/CR/HT and printable text.  Anything else is reported as ``unknown`` one byte at
a time, so a parse never fails.
"""

from __future__ import annotations

import dataclasses

from PIL import Image

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
_INVERT = bytes(255 - i for i in range(256))

# Commands "PREFIX letter n" with a fixed number of parameter bytes.
_ESC_PARAMS = {
    ord("@"): 0,
    ord("2"): 0,
    ord("<"): 0,
    ord("d"): 1,
    ord("J"): 1,
    ord("a"): 1,
    ord("3"): 1,
    ord("E"): 1,
    ord("-"): 1,
    ord("!"): 1,
    ord("t"): 1,
    ord("M"): 1,
    ord("G"): 1,
    ord("V"): 1,
    ord("{"): 1,
    ord("R"): 1,
    ord("r"): 1,
    ord("c"): 2,
    ord("p"): 3,
    ord(" "): 1,
    ord("e"): 1,
    ord("K"): 1,
    ord("U"): 1,
    ord("i"): 0,
    ord("m"): 0,
    ord("="): 1,
    ord("S"): 0,
    ord("L"): 0,
    ord("T"): 1,
    ord("$"): 2,
    ord("\\"): 2,
    ord("W"): 8,
}
_GS_PARAMS = {
    ord("!"): 1,
    ord("B"): 1,
    ord("H"): 1,
    ord("h"): 1,
    ord("w"): 1,
    ord("f"): 1,
    ord("L"): 2,
    ord("W"): 2,
    ord("b"): 1,
    ord("a"): 1,
    ord("r"): 1,
    ord("I"): 1,
    ord("P"): 2,
    ord("$"): 2,
    ord("\\"): 2,
    ord("^"): 3,
    ord(":"): 0,
    ord("T"): 1,
}
_FS_PARAMS = {
    ord("&"): 0,
    ord("."): 0,
    ord("!"): 1,
    ord("-"): 1,
    ord("C"): 1,
    ord("S"): 2,
    ord("W"): 1,
}

_NAMES = {
    (ESC, ord("@")): "init",
    (ESC, ord("d")): "feed_lines",
    (ESC, ord("J")): "feed_dots",
    (ESC, ord("a")): "align",
    (ESC, ord("2")): "line_spacing_default",
    (ESC, ord("3")): "line_spacing",
    (ESC, ord("p")): "drawer_kick",
    (ESC, ord("i")): "cut",
    (ESC, ord("m")): "cut",
}


@dataclasses.dataclass(frozen=True)
class Command:
    name: str  # "init", "raster", "feed_lines", "feed_dots", "cut", "status_query", ...
    params: bytes = b""
    data: bytes = b""  # raster bits, text, ...
    offset: int = 0  # position of the command's first byte in the stream

    @property
    def raster_size(self) -> tuple[int, int]:
        """(width_dots, height_dots) of a raster block, before density scaling."""
        return self.params[1] * 8 + self.params[2] * 2048, self.params[3] + self.params[4] * 256

    @property
    def status_n(self) -> int:
        return self.params[0]


class _NeedMore(Exception):
    pass


def _parse_one(buf: bytes | bytearray, i: int) -> tuple[Command, int]:
    """Parse one command at ``buf[i]``; raise _NeedMore if it is incomplete."""
    n = len(buf)

    def need(k: int) -> None:
        if i + k > n:
            raise _NeedMore

    b = buf[i]
    if b == ESC:
        need(2)
        c = buf[i + 1]
        if c == ord("*"):  # ESC * m nL nH d1...dk (column bit image)
            need(5)
            m, nl, nh = buf[i + 2], buf[i + 3], buf[i + 4]
            k = (nl + nh * 256) * (3 if m in (32, 33) else 1)
            need(5 + k)
            params, data = bytes(buf[i + 2 : i + 5]), bytes(buf[i + 5 : i + 5 + k])
            return Command("bit_image_column", params, data, i), i + 5 + k
        if c in _ESC_PARAMS:
            k = _ESC_PARAMS[c]
            need(2 + k)
            name = _NAMES.get((ESC, c), f"esc_{chr(c)}")
            return Command(name, bytes(buf[i + 2 : i + 2 + k]), b"", i), i + 2 + k
        return Command("unknown", bytes(buf[i : i + 2]), b"", i), i + 2
    if b == GS:
        need(2)
        c = buf[i + 1]
        if c == ord("v"):  # GS v 0 m xL xH yL yH d...
            need(8)
            if buf[i + 2] not in (0x30, 0x00):
                return Command("unknown", bytes(buf[i : i + 3]), b"", i), i + 3
            params = bytes(buf[i + 3 : i + 8])
            width_bytes = params[1] + params[2] * 256
            height = params[3] + params[4] * 256
            k = width_bytes * height
            need(8 + k)
            return Command("raster", params, bytes(buf[i + 8 : i + 8 + k]), i), i + 8 + k
        if c == ord("V"):  # GS V m  |  GS V m n  (m = 65, 66, 97, 98, 103, 104)
            need(3)
            m = buf[i + 2]
            if m in (0, 1, 48, 49):
                return Command("cut", bytes((m,)), b"", i), i + 3
            need(4)
            return Command("cut", bytes(buf[i + 2 : i + 4]), b"", i), i + 4
        if c in (ord("("), ord("8")):  # GS ( fn pL pH ...  /  GS 8 L p1..p4 ...
            if c == ord("("):
                need(5)
                fn = buf[i + 2]
                k = buf[i + 3] + buf[i + 4] * 256
                need(5 + k)
                name = {ord("L"): "graphics", ord("k"): "symbol"}.get(fn, f"gs_({chr(fn)}")
                params, data = bytes(buf[i + 2 : i + 5]), bytes(buf[i + 5 : i + 5 + k])
                return Command(name, params, data, i), i + 5 + k
            need(7)
            k = int.from_bytes(buf[i + 3 : i + 7], "little")
            need(7 + k)
            params, data = bytes(buf[i + 2 : i + 7]), bytes(buf[i + 7 : i + 7 + k])
            return Command("graphics", params, data, i), i + 7 + k
        if c == ord("k"):  # barcode
            need(3)
            m = buf[i + 2]
            if m <= 6:
                end = buf.find(b"\x00", i + 3) if isinstance(buf, (bytes, bytearray)) else -1
                if end < 0:
                    raise _NeedMore
                return Command("barcode", bytes((m,)), bytes(buf[i + 3 : end]), i), end + 1
            need(4)
            k = buf[i + 3]
            need(4 + k)
            return Command("barcode", bytes((m,)), bytes(buf[i + 4 : i + 4 + k]), i), i + 4 + k
        if c in _GS_PARAMS:
            k = _GS_PARAMS[c]
            need(2 + k)
            return Command(f"gs_{chr(c)}", bytes(buf[i + 2 : i + 2 + k]), b"", i), i + 2 + k
        return Command("unknown", bytes(buf[i : i + 2]), b"", i), i + 2
    if b == DLE:
        need(2)
        c = buf[i + 1]
        if c == 0x04:  # DLE EOT n
            need(3)
            return Command("status_query", bytes((buf[i + 2],)), b"", i), i + 3
        if c == 0x05:  # DLE ENQ n
            need(3)
            return Command("realtime_request", bytes((buf[i + 2],)), b"", i), i + 3
        if c == 0x14:  # DLE DC4 fn ...
            need(3)
            fn = buf[i + 2]
            k = {1: 2, 2: 2, 7: 1, 8: 7}.get(fn, 0)
            need(3 + k)
            return Command("realtime_dc4", bytes(buf[i + 2 : i + 3 + k]), b"", i), i + 3 + k
        return Command("unknown", bytes((b,)), b"", i), i + 1
    if b == FS:
        need(2)
        c = buf[i + 1]
        if c == ord("p"):
            need(4)
            return Command("fs_p", bytes(buf[i + 2 : i + 4]), b"", i), i + 4
        if c in _FS_PARAMS:
            k = _FS_PARAMS[c]
            need(2 + k)
            return Command(f"fs_{chr(c)}", bytes(buf[i + 2 : i + 2 + k]), b"", i), i + 2 + k
        return Command("unknown", bytes(buf[i : i + 2]), b"", i), i + 2
    if b == 0x0A:
        return Command("lf", b"", b"", i), i + 1
    if b in (0x0D, 0x09, 0x0C):
        return Command({0x0D: "cr", 0x09: "ht", 0x0C: "ff"}[b], b"", b"", i), i + 1
    if b >= 0x20:
        j = i
        while j < n and buf[j] >= 0x20:
            j += 1
        return Command("text", b"", bytes(buf[i:j]), i), j
    return Command("unknown", bytes((b,)), b"", i), i + 1


class StreamParser:
    """Incremental parser: feed it chunks as they arrive; get whole commands back."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0  # parse position in _buf
        self._base = 0  # stream offset of _buf[0]

    def feed(self, data: bytes) -> list[Command]:
        self._buf += data
        out: list[Command] = []
        buf, i = self._buf, self._pos
        while i < len(buf):
            # Text runs are only complete when a non-text byte follows; wait for it.
            try:
                cmd, j = _parse_one(buf, i)
            except _NeedMore:
                break
            if cmd.name == "text" and j == len(buf):
                break
            out.append(dataclasses.replace(cmd, offset=cmd.offset + self._base))
            i = j
        if i > 65536:
            del buf[:i]
            self._base += i
            i = 0
        self._pos = i
        return out

    def flush(self) -> list[Command]:
        """End of stream: return what is left (a trailing text run, or a truncated command)."""
        out: list[Command] = []
        rest = bytes(self._buf[self._pos :])
        if rest:
            try:
                cmd, _ = _parse_one(rest, 0)
                out.append(dataclasses.replace(cmd, offset=self._base + self._pos))
            except _NeedMore:
                out.append(Command("truncated", b"", rest, self._base + self._pos))
        self._buf.clear()
        self._pos = 0
        return out

    @property
    def pending(self) -> int:
        return len(self._buf) - self._pos


def parse_commands(data: bytes) -> list[Command]:
    parser = StreamParser()
    return parser.feed(data) + parser.flush()


def raster_to_image(cmd: Command) -> Image.Image:
    """One ``GS v 0`` block as a mode '1' image (density modes are scaled back up)."""
    width, height = cmd.raster_size
    img = Image.frombytes("1", (width, height), cmd.data.translate(_INVERT))
    m = cmd.params[0] & 0x03
    if m:
        size = (width * (2 if m & 1 else 1), height * (2 if m & 2 else 1))
        img = img.resize(size, Image.Resampling.NEAREST)
    return img


def decode_images(data: bytes | list[Command]) -> list[Image.Image]:
    """Every image in the stream; raster blocks that follow each other directly (python-escpos
    splits tall images into 960-row blocks) are joined into one image."""
    commands = parse_commands(data) if isinstance(data, (bytes, bytearray)) else data
    images: list[Image.Image] = []
    run: list[Image.Image] = []

    def close_run() -> None:
        if not run:
            return
        if len(run) == 1:
            images.append(run[0])
        else:
            width = max(im.width for im in run)
            joined = Image.new("1", (width, sum(im.height for im in run)), 1)
            y = 0
            for im in run:
                joined.paste(im, (0, y))
                y += im.height
            images.append(joined)
        run.clear()

    for cmd in commands:
        if cmd.name == "raster":
            img = raster_to_image(cmd)
            if run and img.width != run[0].width:
                close_run()
            run.append(img)
        else:
            close_run()
    close_run()
    return images


def split_jobs(data: bytes) -> list[list[Command]]:
    """Split a stream into jobs at each ``ESC @`` (init) command."""
    jobs: list[list[Command]] = []
    current: list[Command] = []
    for cmd in parse_commands(data):
        if cmd.name == "init" and current:
            jobs.append(current)
            current = []
        current.append(cmd)
    if current:
        jobs.append(current)
    return jobs
