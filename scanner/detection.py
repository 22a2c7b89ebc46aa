"""Which cameras are attached right now: Pi CSI cameras (picamera2) and USB webcams (sysfs).

Cheap and side-effect free: nothing is opened. USB detection only reads sysfs, so it may run
every couple of seconds (even on a UI thread); the CSI probe asks libcamera, which costs about
a second the first time in a process (picamera2 import), then little.

Why not `/dev/video*` or "is picamera2 importable": on a Raspberry Pi both are always true.
The bcm2835 codec/ISP (Pi 4) and PiSP/CFE (Pi 5) nodes are /dev/video10.. and not cameras, and
Raspberry Pi OS ships python3-picamera2 with or without a camera on the ribbon cable.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

SYSFS_ROOT = Path("/sys")
_USB_ROOT_HUB = re.compile(r"usb\d+")  # /sys/devices/.../usb1/1-2/1-2:1.0: under a USB bus


class CameraBus(str, enum.Enum):
    CSI = "csi"  # Pi camera on the ribbon cable, through libcamera/picamera2
    USB = "usb"  # UVC webcam, through V4L2/OpenCV


@dataclass(frozen=True)
class AttachedCamera:
    bus: CameraBus
    name: str  # model (CSI) or V4L2 card name (USB), for logs
    device: int | str  # CSI: picamera2 camera index; USB: "/dev/videoN"

    @property
    def label(self) -> str:
        return f"{self.bus.value} {self.name} ({self.device})"


class CameraInfo(TypedDict, total=False):
    """One entry of Picamera2.global_camera_info() (libcamera's camera properties)."""

    Model: str
    Location: int
    Rotation: int
    Id: str
    Num: int


CsiProbe = Callable[[], list[CameraInfo]]


def picamera2_camera_info() -> list[CameraInfo]:
    """Picamera2.global_camera_info(), or [] when picamera2/libcamera is missing or fails."""
    try:
        from picamera2 import Picamera2

        return list(Picamera2.global_camera_info())
    # ImportError, or libcamera failing inside picamera2: no CSI camera
    except Exception:  # noqa: BLE001
        return []


def csi_cameras(probe: CsiProbe = picamera2_camera_info) -> list[AttachedCamera]:
    """CSI cameras as libcamera lists them. libcamera also lists UVC webcams (their Id holds
    "/usb"); those are left to usb_cameras(). The index is the position in picamera2's list,
    which is what Picamera2(camera_num) takes."""
    try:
        infos = probe()
    # An injected or future probe failing means "none", never a crash.
    except Exception:  # noqa: BLE001
        return []
    return [
        AttachedCamera(CameraBus.CSI, str(info.get("Model", "camera")), index)
        for index, info in enumerate(infos)
        if "/usb" not in str(info.get("Id", ""))
    ]


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _on_usb_bus(device_dir: str, sysfs_real: str) -> bool:
    # Only the part below the sysfs root counts (a fake root's own path may say anything).
    below_root = Path(os.path.relpath(device_dir, sysfs_real)).parts
    return any(_USB_ROOT_HUB.fullmatch(part) for part in below_root)


def usb_cameras(sysfs_root: Path = SYSFS_ROOT) -> list[AttachedCamera]:
    """USB capture cameras from <sysfs_root>/class/video4linux, lowest /dev/videoN first.

    A UVC webcam makes two nodes on the same USB interface: the capture node (`index` 0) and
    a metadata node (`index` 1); only the lowest index per interface is a camera we can read.
    Nodes whose `device` does not resolve under a USB bus (codec, ISP, CSI receiver,
    v4l2loopback) are not USB cameras."""
    class_dir = Path(sysfs_root) / "class" / "video4linux"
    try:
        entries = list(class_dir.iterdir())
    except OSError:  # no V4L2 at all (containers, machines without the videodev module)
        return []
    sysfs_real = os.path.realpath(sysfs_root)
    best: dict[str, tuple[int, int, str]] = {}  # device dir -> (index, N, name)
    for entry in entries:
        number = entry.name.removeprefix("video")
        if not entry.name.startswith("video") or not number.isdigit():
            continue
        device_link = entry / "device"
        if not device_link.exists():
            continue  # the node is going away (unplug in progress)
        device_dir = os.path.realpath(device_link)
        if not _on_usb_bus(device_dir, sysfs_real):
            continue
        index_text = _read_text(entry / "index")
        index = int(index_text) if index_text and index_text.isdigit() else 0
        name = _read_text(entry / "name") or entry.name
        candidate = (index, int(number), name)
        if device_dir not in best or candidate < best[device_dir]:
            best[device_dir] = candidate
    nodes = sorted(best.values(), key=lambda node: node[1])
    return [
        AttachedCamera(CameraBus.USB, name, f"/dev/video{number}") for _index, number, name in nodes
    ]


class CameraDetector:
    """Detection with its two boundaries injectable: the sysfs root and the picamera2 probe
    (tests point them at a fake /sys tree in a temporary folder and a plain function)."""

    def __init__(
        self, sysfs_root: Path | str = SYSFS_ROOT, csi_probe: CsiProbe = picamera2_camera_info
    ):
        self.sysfs_root = Path(sysfs_root)
        self.csi_probe = csi_probe

    def csi(self) -> list[AttachedCamera]:
        return csi_cameras(self.csi_probe)

    def usb(self) -> list[AttachedCamera]:
        return usb_cameras(self.sysfs_root)

    def attached(self) -> list[AttachedCamera]:
        """Every attached camera, in the order "auto" tries them: CSI first, then USB."""
        return self.csi() + self.usb()


__all__ = [
    "SYSFS_ROOT",
    "AttachedCamera",
    "CameraBus",
    "CameraDetector",
    "csi_cameras",
    "picamera2_camera_info",
    "usb_cameras",
]
