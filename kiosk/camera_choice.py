"""Which camera source to open, given the settings and what is attached. Used by the app
and by `ocop-kiosk doctor`, so the doctor opens exactly what the kiosk opens. No Kivy here.

    camera.kind = "replay"  -> scanner ReplaySource over camera.replay_path (or the demo
                               stamp pictures when empty)
    camera.kind = "usb" / "picamera" -> that camera
    camera.kind = "auto"    -> when a camera is attached (scanner.detection: a Pi camera
                               libcamera lists, or a USB capture node in sysfs), the
                               scanner's AutoCameraSource, which re-detects on every
                               (re)open; else the DEMO CAMERA (kiosk.demo.camera), and the app
                               watches sysfs (usb_cameras_attached) to switch when a USB
                               camera is plugged in
"""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.demo.stamps import DEMO_DIRNAME

log = logging.getLogger(__name__)


def _detector(detector=None):
    from scanner.detection import CameraDetector

    return detector if detector is not None else CameraDetector()


def camera_present(detector=None) -> bool:
    """A USB camera or a Pi camera is attached. USB first: sysfs is cheap, while asking
    libcamera (picamera2) costs up to a second the first time in a process (and the UI thread
    calls this at start and on a hot-plug switch)."""
    detector = _detector(detector)
    return bool(detector.usb()) or bool(detector.csi())


def usb_cameras_attached(detector=None) -> list:
    """The USB capture cameras attached now: sysfs reads only, cheap enough for a UI timer.
    Pi cameras are not checked: a ribbon cable is not hot-pluggable (found at boot or never)."""
    return _detector(detector).usb()


def make_camera_source(settings, data_dir: Path, detector=None):
    """(source, is_demo) for the settings; see the module docstring. is_demo is True only for
    camera.kind = "auto" with no camera attached. `detector`: scanner CameraDetector (tests)."""
    from scanner.sources import make_source, parse_device

    cam = settings.camera
    kind = cam.kind.value
    if kind == "replay":
        path = cam.replay_path or str(Path(data_dir) / DEMO_DIRNAME)
        return make_source("replay", path=path, fps=cam.fps), False
    if kind == "usb":
        return make_source(
            "opencv", parse_device(cam.device), cam.width_px, cam.height_px, cam.fps
        ), False
    if kind == "picamera":
        return make_source(
            "picamera2", parse_device(cam.device), cam.width_px, cam.height_px, cam.fps
        ), False
    if camera_present(detector):
        return make_source(
            "auto",
            parse_device(cam.device),
            cam.width_px,
            cam.height_px,
            cam.fps,
            detector=detector,
        ), False
    log.info("no camera found: using the demo camera")
    from kiosk.demo.camera import DemoCameraSource

    return DemoCameraSource(fps=cam.fps), True
