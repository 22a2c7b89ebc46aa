"""Frame sources: USB webcams (OpenCV/V4L2), Pi CSI cameras (picamera2), replay of files.

A source is a small blocking interface driven by one capture thread (scanner.camera):

    open()  -> None, raises NoDevice / UnsupportedSource
    read()  -> image ndarray (BGR uint8), or None for an empty/bad frame; raises Disconnected
               (camera lost) or EndOfStream (replay finished)
    close() -> None, never raises, safe to call twice

Sources know nothing about threads, states or retries: that is scanner.camera's job.
`make_source()` picks the class from plain config values; kind "auto" is
scanner.auto_source.AutoCameraSource, which picks the camera again on every open().
"""

from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self

import cv2

from scanner.errors import Disconnected, EndOfStream, NoDevice, UnsupportedSource
from scanner.frames import Pixels, as_pixels

if TYPE_CHECKING:
    from scanner.detection import CameraDetector

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
)
VIDEO_SUFFIXES = frozenset({".avi", ".mp4", ".mkv", ".mov", ".webm", ".mjpg", ".mjpeg", ".m4v"})


class FrameSource(ABC):
    name: str = "source"
    repeats_frames: bool = False  # True: identical consecutive frames are normal (replays)

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def read(self) -> Pixels | None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------- USB webcams


class OpenCvSource(FrameSource):
    """A V4L2 webcam through OpenCV: device index (0) or path ('/dev/video0',
    '/dev/v4l/by-id/...', the stable choice when several cameras are plugged in)."""

    def __init__(
        self,
        device: int | str = 0,
        width_px: int = 640,
        height_px: int = 480,
        fps: float = 30.0,
        fourcc: str | None = "MJPG",
    ):
        self.device = device
        self.width_px, self.height_px, self.fps = width_px, height_px, fps
        self.fourcc = fourcc  # MJPG lets cheap UVC cams deliver 30 fps over USB 2
        self.name = f"opencv:{device}"
        self._capture: cv2.VideoCapture | None = None

    def _device_path(self) -> str | None:
        if isinstance(self.device, int):
            return f"/dev/video{self.device}"
        return self.device if self.device.startswith("/dev/") else None

    def open(self) -> None:
        path = self._device_path()
        if path is not None and not os.path.exists(path):
            raise NoDevice(f"no camera at {path}")
        backend = cv2.CAP_V4L2 if hasattr(cv2, "CAP_V4L2") and os.name == "posix" else cv2.CAP_ANY
        capture = cv2.VideoCapture(self.device, backend)
        if not capture.isOpened():
            capture.release()
            raise NoDevice(f"camera {self.device} could not be opened (busy or not a camera?)")
        if self.fourcc:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self.fourcc))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width_px)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height_px)
        capture.set(cv2.CAP_PROP_FPS, self.fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # fewer queued frames = less preview lag
        self._capture = capture

    def read(self) -> Pixels | None:
        if self._capture is None:
            raise Disconnected("camera is not open")
        ok, image = self._capture.read()
        if ok and image is not None and image.size:
            return as_pixels(image)
        path = self._device_path()
        if path is not None and not os.path.exists(path):
            raise Disconnected(f"camera at {path} went away")
        return None  # an empty frame; the capture thread decides when that means "frozen"

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


# ---------------------------------------------------------------------------- Pi CSI cameras


class _Picamera2(Protocol):
    """What PiCameraSource uses of a started ``picamera2.Picamera2`` (no type information
    ships with it)."""

    def capture_array(self, name: str, /) -> Pixels | None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class PiCameraSource(FrameSource):
    """A Raspberry Pi CSI camera through libcamera/picamera2 (Debian python3-picamera2).

    picamera2 is imported on open() so that the package works where it is not installed."""

    def __init__(
        self, camera_index: int = 0, width_px: int = 640, height_px: int = 480, fps: float = 30.0
    ):
        self.camera_index = camera_index
        self.width_px, self.height_px, self.fps = width_px, height_px, fps
        self.name = f"picamera2:{camera_index}"
        self._camera: _Picamera2 | None = None

    @staticmethod
    def available() -> bool:
        """picamera2 imports. NOT "a camera is attached" (Raspberry Pi OS always ships
        picamera2): scanner.detection.csi_cameras() answers that."""
        try:
            import picamera2  # noqa: F401
        except Exception:  # noqa: BLE001 - ImportError, or libcamera failing inside the import
            return False
        return True

    def open(self) -> None:
        try:
            from picamera2 import Picamera2
        except Exception as exc:
            raise UnsupportedSource(f"picamera2 is not importable: {exc}") from exc
        try:
            camera = Picamera2(self.camera_index)
            # "RGB888" in libcamera terms is B,G,R byte order in numpy: what OpenCV expects.
            config = camera.create_video_configuration(
                main={"size": (self.width_px, self.height_px), "format": "RGB888"},
                controls={"FrameRate": float(self.fps)},
                buffer_count=2,
            )
            camera.configure(config)
            camera.start()
        except (IndexError, RuntimeError, OSError) as exc:
            raise NoDevice(f"CSI camera {self.camera_index}: {exc}") from exc
        self._camera = camera

    def read(self) -> Pixels | None:
        if self._camera is None:
            raise Disconnected("camera is not open")
        try:
            image = self._camera.capture_array("main")
        except (RuntimeError, OSError) as exc:
            raise Disconnected(f"CSI camera {self.camera_index}: {exc}") from exc
        return image if image is not None and image.size else None

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            try:
                camera.stop()
                camera.close()
            except Exception:  # noqa: BLE001 - closing a camera that already failed
                pass


# ---------------------------------------------------------------------------- replay


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


class ReplaySource(FrameSource):
    """Replays an image, a folder of images (sorted by name) or a video file.

    fps=None delivers frames as fast as they are read (tests); a number paces read() like a
    camera (demo). loop=True starts again at the end, else read() raises EndOfStream."""

    repeats_frames = True

    def __init__(self, path: str | os.PathLike[str], fps: float | None = None, loop: bool = True):
        self.path = Path(path)
        self.fps = fps
        self.loop = loop
        self.name = f"replay:{self.path}"
        self._images: list[Pixels] | None = None
        self._video: cv2.VideoCapture | None = None
        self._index = 0
        self._next_due_s = 0.0

    @property
    def is_video(self) -> bool:
        return self.path.is_file() and self.path.suffix.lower() not in IMAGE_SUFFIXES

    def open(self) -> None:
        if not self.path.exists():
            raise NoDevice(f"{self.path} does not exist")
        self._index = 0
        self._next_due_s = 0.0
        if self.path.is_dir():
            files = list_images(self.path)
            images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in files]
            self._images = [as_pixels(im) for im in images if im is not None]
            if not self._images:
                raise NoDevice(f"no readable images in {self.path}")
        elif not self.is_video:
            image = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
            if image is None:
                raise NoDevice(f"{self.path} is not a readable image")
            self._images = [as_pixels(image)]
        else:
            video = cv2.VideoCapture(str(self.path))
            if not video.isOpened():
                video.release()
                raise NoDevice(f"{self.path} is not a readable video")
            self._video = video

    def _pace(self) -> None:
        if not self.fps:
            return
        now = time.monotonic()
        if self._next_due_s > now:
            time.sleep(self._next_due_s - now)
        self._next_due_s = max(now, self._next_due_s) + 1.0 / self.fps

    def read(self) -> Pixels | None:
        self._pace()
        if self._images is not None:
            if self._index >= len(self._images):
                if not self.loop:
                    raise EndOfStream(str(self.path))
                self._index = 0
            still = self._images[self._index]
            self._index += 1
            return still
        if self._video is None:
            raise Disconnected("replay is not open")
        ok, image = self._video.read()
        if not ok:
            if not self.loop:
                raise EndOfStream(str(self.path))
            self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._video.read()
            if not ok:
                raise Disconnected(f"{self.path} gave no frames")
        return as_pixels(image)

    def close(self) -> None:
        video, self._video = self._video, None
        if video is not None:
            video.release()
        self._images = None


# ---------------------------------------------------------------------------- fault injection


class FaultInjectingSource(FrameSource):
    """Wraps a source with switchable faults, like a virtual camera (tests, demo, UI work).

    unplug(): open() raises NoDevice and read() raises Disconnected until replug().
    freeze(): read() repeats the last frame (a stuck driver). empty(): read() returns None.
    Switches are thread-safe: a test flips them while the capture thread runs."""

    def __init__(self, inner: FrameSource):
        self.inner = inner
        self.name = f"faulty:{inner.name}"
        self._lock = threading.Lock()
        self._unplugged = False
        self._frozen = False
        self._empty = False
        self._last: Pixels | None = None
        self.open_calls = 0

    def unplug(self) -> None:
        with self._lock:
            self._unplugged = True

    def replug(self) -> None:
        with self._lock:
            self._unplugged = False

    def freeze(self, frozen: bool = True) -> None:
        with self._lock:
            self._frozen = frozen

    def empty(self, empty: bool = True) -> None:
        with self._lock:
            self._empty = empty

    def open(self) -> None:
        with self._lock:
            self.open_calls += 1
            unplugged = self._unplugged
        if unplugged:
            raise NoDevice(f"{self.inner.name} is unplugged (injected)")
        self.inner.open()

    def read(self) -> Pixels | None:
        with self._lock:
            unplugged, frozen, empty = self._unplugged, self._frozen, self._empty
        if unplugged:
            raise Disconnected(f"{self.inner.name} was unplugged (injected)")
        if empty:
            time.sleep(0.005)  # a real driver spends time even on a bad frame
            return None
        if frozen and self._last is not None:
            time.sleep(0.005)
            return self._last
        image = self.inner.read()
        self._last = image
        return image

    def close(self) -> None:
        self.inner.close()


# ---------------------------------------------------------------------------- factory

SOURCE_KINDS = ("auto", "opencv", "picamera2", "replay")


def make_source(
    kind: str = "auto",
    device: int | str = 0,
    width_px: int = 640,
    height_px: int = 480,
    fps: float = 30.0,
    path: str | None = None,
    loop: bool = True,
    detector: CameraDetector | None = None,
) -> FrameSource:
    """Build a source from plain config values (kiosk.settings maps its dataclass onto this).

    kind "auto": a replay when `path` is given, else an AutoCameraSource: on every open() a
    Pi CSI camera, else a USB camera (`device` first when it is attached), else NoDevice.
    `detector`: a scanner.detection.CameraDetector (tests: a fake /sys tree)."""
    if kind not in SOURCE_KINDS:
        raise ValueError(f"camera kind must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")
    if kind == "replay" or (kind == "auto" and path):
        if not path:
            raise ValueError("camera kind 'replay' needs a path (image, folder or video)")
        return ReplaySource(path, fps=fps, loop=loop)
    if isinstance(device, str) and device.isdigit():
        device = int(device)
    if kind == "auto":
        from scanner.auto_source import AutoCameraSource  # imports this module: import late

        return AutoCameraSource(
            width_px, height_px, fps, preferred_device=device, detector=detector
        )
    if kind == "picamera2":
        index = device if isinstance(device, int) else 0
        return PiCameraSource(index, width_px, height_px, fps)
    return OpenCvSource(device, width_px, height_px, fps)


def parse_device(value: str | int) -> int | str:
    """'0' -> 0, '/dev/video2' -> '/dev/video2' (config files hold strings)."""
    if isinstance(value, int):
        return value
    return int(value) if value.strip().isdigit() else value.strip()


__all__: Sequence[str] = (
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "FaultInjectingSource",
    "FrameSource",
    "OpenCvSource",
    "PiCameraSource",
    "ReplaySource",
    "list_images",
    "make_source",
    "parse_device",
)
