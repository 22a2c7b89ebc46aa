"""Camera kind "auto": the camera is chosen again on every open(), not once at start.

open() asks scanner.detection what is attached: a Pi CSI camera first (PiCameraSource), else
a USB webcam (OpenCvSource on its capture node). With nothing attached it raises NoDevice like
any source whose camera is missing, so the capture thread's reconnect loop (scanner.camera)
keeps calling open() with backoff and a camera plugged in months later is used by itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from scanner.detection import AttachedCamera, CameraBus, CameraDetector
from scanner.errors import Disconnected, NoDevice, SourceError
from scanner.frames import Pixels
from scanner.sources import FrameSource, OpenCvSource, PiCameraSource

log = logging.getLogger(__name__)


class AutoCameraSource(FrameSource):
    """Wraps whichever real source open() found; read() and close() go to it.

    preferred_device: the configured USB device (index or path); when it names one of the
    detected USB cameras, that one is tried first among them. open_camera turns a detected
    camera into a source (injectable: tests use replayed pictures in place of a webcam)."""

    def __init__(
        self,
        width_px: int = 640,
        height_px: int = 480,
        fps: float = 30.0,
        preferred_device: int | str | None = None,
        detector: CameraDetector | None = None,
        open_camera: Callable[[AttachedCamera], FrameSource] | None = None,
    ):
        self.width_px, self.height_px, self.fps = width_px, height_px, fps
        self.preferred_device = preferred_device
        self.detector = detector or CameraDetector()
        self.open_camera = open_camera or self.source_for
        self._source: FrameSource | None = None
        self._last_name = ""
        # Both follow the source in use: set by open() and close(). The name is kept after
        # close() so logs and the doctor can name the camera; the capture thread asks
        # repeats_frames after open().
        self.name = "auto"
        self.repeats_frames = False

    @property
    def current(self) -> FrameSource | None:
        """The source in use while open."""
        return self._source

    def source_for(self, camera: AttachedCamera) -> FrameSource:
        if camera.bus is CameraBus.CSI:
            return PiCameraSource(int(camera.device), self.width_px, self.height_px, self.fps)
        return OpenCvSource(camera.device, self.width_px, self.height_px, self.fps)

    def _preferred_path(self) -> str | None:
        device = self.preferred_device
        if isinstance(device, int):
            return f"/dev/video{device}"
        if isinstance(device, str) and device.startswith("/dev/"):
            return os.path.realpath(device)  # /dev/v4l/by-id/... links to /dev/videoN
        return None

    def candidates(self) -> list[AttachedCamera]:
        """Attached cameras in the order open() tries them."""
        cameras = self.detector.attached()
        preferred = self._preferred_path()
        # Stable sort: CSI stays first; the configured USB device leads the USB ones.
        return sorted(
            cameras,
            key=lambda c: (
                c.bus is not CameraBus.CSI,
                os.path.realpath(str(c.device)) != preferred,
            ),
        )

    def open(self) -> None:
        self.close()
        cameras = self.candidates()
        if not cameras:
            raise NoDevice("no camera attached (no Pi camera, no USB camera)")
        failures = []
        for camera in cameras:
            source = self.open_camera(camera)
            try:
                source.open()
            except SourceError as exc:
                failures.append(f"{camera.label}: {exc}")
                source.close()
                continue
            except Exception as exc:  # noqa: BLE001 - a driver bug must not end the retries
                failures.append(f"{camera.label}: {exc!r}")
                source.close()
                continue
            if self._last_name != source.name:
                log.info("camera auto: using %s", camera.label)
            self._source, self._last_name = source, source.name
            self.name = f"auto:{source.name}" if source.name else "auto"
            self.repeats_frames = source.repeats_frames
            return
        raise NoDevice("; ".join(failures))

    def read(self) -> Pixels | None:
        if self._source is None:
            raise Disconnected("camera is not open")
        return self._source.read()

    def close(self) -> None:
        source, self._source = self._source, None
        self.repeats_frames = False
        if source is not None:
            source.close()


__all__ = ["AutoCameraSource"]
