"""The doctor's only contact with hardware packages: one function per device.

Camera: the kiosk's own source choice (kiosk.camera_choice, plain Python, no Kivy) so the
doctor opens exactly what the kiosk opens.
Printer: printer.Printer(uri).status() (DLE EOT queries) as the print queue would.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ocop.paper import DOTS_BY_WIDTH_MM, NARROW_WIDTH_DOTS


@dataclass(frozen=True)
class CameraProbe:
    source_name: str
    is_demo: bool  # no camera found: the kiosk would show its demo camera
    is_replay: bool
    frames: int  # frames delivered (not None)
    reads: int
    width_px: int
    height_px: int
    seconds: float
    distinct_frames: int


def probe_camera(
    settings, data_dir: Path, *, frames_wanted: int = 5, read_for_s: float = 5.0
) -> CameraProbe:
    """Open the camera, read up to `frames_wanted` frames within `read_for_s`, close it.
    Raises the scanner's NoDevice / UnsupportedSource / Disconnected on failure."""
    from kiosk.camera_choice import make_camera_source
    from scanner.camera import frame_fingerprint

    source, is_demo = make_camera_source(settings, data_dir)
    is_replay = bool(getattr(source, "repeats_frames", False)) and not is_demo
    start = time.monotonic()
    frames = reads = 0
    width = height = 0
    prints: set[int] = set()
    source.open()
    try:
        deadline = start + read_for_s
        while frames < frames_wanted and time.monotonic() < deadline:
            image = source.read()
            reads += 1
            if image is None:
                time.sleep(0.02)
                continue
            frames += 1
            height, width = image.shape[:2]
            prints.add(frame_fingerprint(image))
    finally:
        source.close()
    return CameraProbe(
        getattr(source, "name", type(source).__name__),
        is_demo,
        is_replay,
        frames,
        reads,
        width,
        height,
        time.monotonic() - start,
        len(prints),
    )


def camera_device_path(settings) -> str | None:
    device = str(settings.camera.device).strip()
    if device.isdigit():
        return f"/dev/video{device}"
    return device if device.startswith("/dev/") else None


def processes_using(path: str) -> list[tuple[int, str]]:
    """(pid, command) of processes with `path` open (those we may see: all when root)."""
    try:
        target = os.path.realpath(path)
    except OSError:
        return []
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                try:
                    if os.readlink(fd.path) == target:
                        cmd = Path(f"/proc/{entry.name}/cmdline").read_bytes()
                        found.append(
                            (
                                int(entry.name),
                                cmd.replace(b"\0", b" ").decode(errors="replace").strip(),
                            )
                        )
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return found


def open_printer(settings, data_dir: Path):
    """A printer.Printer for the settings (not connected yet). Raises BadPrinterURI."""
    from printer.session import Printer

    return Printer(
        settings.printer.uri,
        width_dots=DOTS_BY_WIDTH_MM.get(settings.printer.width_mm, NARROW_WIDTH_DOTS),
    )


def is_virtual_printer(uri: str) -> bool:
    return uri.strip().lower().startswith("virtual:")


__all__ = [
    "CameraProbe",
    "camera_device_path",
    "is_virtual_printer",
    "open_printer",
    "probe_camera",
    "processes_using",
]
