"""Camera detection (fake /sys tree, injected picamera2 probe) and the "auto" camera source
that re-detects on every open(), so the capture thread's reconnect loop finds a camera
plugged in after start."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import cv2
import pytest

from scanner.auto_source import AutoCameraSource
from scanner.camera import CameraState, CaptureThread
from scanner.detection import (
    AttachedCamera,
    CameraBus,
    CameraDetector,
    csi_cameras,
    picamera2_camera_info,
)
from scanner.errors import NoDevice
from scanner.sources import OpenCvSource, PiCameraSource, ReplaySource
from tests.scanner.fake_sysfs import FakeSysfs
from tests.scanner.helpers import qr_frame, wait_until

IMX708 = {
    "Model": "imx708_wide",
    "Num": 0,
    "Location": 2,
    "Rotation": 180,
    "Id": "/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a",
}
UVC_VIA_LIBCAMERA = {
    "Model": "HD Webcam",
    "Num": 1,  # libcamera lists UVC webcams too
    "Id": "/base/axi/pcie@120000/rp1/usb@200000-1:1.0-046d:0825",
}
WEBCAM = AttachedCamera(CameraBus.USB, "HD Webcam: HD Webcam", "/dev/video0")


def no_csi() -> list[dict]:
    return []


@pytest.fixture
def sysfs(tmp_path) -> FakeSysfs:
    return FakeSysfs(tmp_path / "sys")


# ---------------------------------------------------------------------------- detection


def test_usb_webcam_is_one_camera_its_capture_node(sysfs):
    sysfs.add_usb_webcam(first_number=0)  # video0 capture, video1 metadata
    assert CameraDetector(sysfs.root, no_csi).attached() == [WEBCAM]


def test_pi_codec_and_isp_nodes_are_not_cameras(sysfs):
    sysfs.add_pi_codec_nodes()
    assert sorted(p.name for p in sysfs.class_dir.iterdir())[:2] == ["video10", "video11"]
    assert CameraDetector(sysfs.root, no_csi).attached() == []


def test_webcam_on_a_pi_among_codec_nodes(sysfs):
    sysfs.add_pi_codec_nodes()
    sysfs.add_usb_webcam(first_number=0)
    sysfs.add_usb_webcam(first_number=2, port="1-1.3", name="USB2.0 PC CAMERA")
    assert CameraDetector(sysfs.root, no_csi).usb() == [
        WEBCAM,
        AttachedCamera(CameraBus.USB, "USB2.0 PC CAMERA", "/dev/video2"),
    ]


@pytest.mark.parametrize("video4linux_exists", [True, False])
def test_nothing_attached(sysfs, video4linux_exists):
    if not video4linux_exists:  # containers, no videodev module
        shutil.rmtree(sysfs.root)
    assert CameraDetector(sysfs.root, no_csi).attached() == []


def test_csi_cameras_from_the_picamera2_probe_without_usb_ones():
    assert csi_cameras(lambda: [IMX708, UVC_VIA_LIBCAMERA]) == [
        AttachedCamera(CameraBus.CSI, "imx708_wide", 0)
    ]


def test_failing_or_missing_picamera2_means_no_csi_camera(monkeypatch):
    def libcamera_fails():
        raise RuntimeError("libcamera: no pipeline handler")

    assert csi_cameras(libcamera_fails) == []
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes `import picamera2` fail
    assert picamera2_camera_info() == []


def test_csi_cameras_come_before_usb(sysfs):
    sysfs.add_usb_webcam()
    cameras = CameraDetector(sysfs.root, lambda: [IMX708]).attached()
    assert [c.bus for c in cameras] == [CameraBus.CSI, CameraBus.USB]


# ---------------------------------------------------------------------------- auto source


@pytest.fixture
def picture(tmp_path) -> Path:
    path = tmp_path / "stamp.png"
    cv2.imwrite(str(path), qr_frame("HTTPS://OCOP.SONLA.GOV.VN/S/AUTO", noise_seed=3))
    return path


class ReplayCameras:
    """open_camera for AutoCameraSource: every detected camera 'shows' one picture; records
    which cameras were opened. fail_buses: cameras on these buses fail to open."""

    def __init__(self, picture: Path, fail_buses=()):
        self.picture = picture
        self.fail_buses = set(fail_buses)
        self.opened: list[AttachedCamera] = []

    def __call__(self, camera: AttachedCamera):
        if camera.bus in self.fail_buses:
            return ReplaySource(self.picture.with_name("missing.png"))  # open(): NoDevice
        self.opened.append(camera)
        return ReplaySource(self.picture)


def test_auto_prefers_the_csi_camera(sysfs, picture):
    sysfs.add_usb_webcam()
    cameras = ReplayCameras(picture)
    source = AutoCameraSource(
        detector=CameraDetector(sysfs.root, lambda: [IMX708]), open_camera=cameras
    )
    with source:
        assert source.read() is not None
    assert [c.bus for c in cameras.opened] == [CameraBus.CSI]
    assert source.name == f"auto:replay:{picture}"


def test_auto_takes_the_usb_camera_without_csi(sysfs, picture):
    sysfs.add_pi_codec_nodes()
    sysfs.add_usb_webcam()
    cameras = ReplayCameras(picture)
    with AutoCameraSource(detector=CameraDetector(sysfs.root, no_csi), open_camera=cameras):
        pass
    assert cameras.opened == [WEBCAM]


def test_auto_falls_back_to_usb_when_the_csi_camera_will_not_open(sysfs, picture):
    sysfs.add_usb_webcam()
    cameras = ReplayCameras(picture, fail_buses={CameraBus.CSI})
    with AutoCameraSource(
        detector=CameraDetector(sysfs.root, lambda: [IMX708]), open_camera=cameras
    ):
        pass
    assert cameras.opened == [WEBCAM]


def test_auto_tries_the_configured_usb_device_first(sysfs, picture):
    sysfs.add_usb_webcam(first_number=0)
    sysfs.add_usb_webcam(first_number=2, port="1-3", name="Second")
    cameras = ReplayCameras(picture)
    with AutoCameraSource(
        preferred_device=2, open_camera=cameras, detector=CameraDetector(sysfs.root, no_csi)
    ):
        pass
    assert [c.device for c in cameras.opened] == ["/dev/video2"]


def test_auto_with_nothing_attached_is_no_device(sysfs, picture):
    sysfs.add_pi_codec_nodes()
    source = AutoCameraSource(
        detector=CameraDetector(sysfs.root, no_csi), open_camera=ReplayCameras(picture)
    )
    with pytest.raises(NoDevice, match="no camera attached"):
        source.open()
    source.close()


def test_auto_names_every_camera_that_would_not_open(sysfs, picture):
    sysfs.add_usb_webcam()
    source = AutoCameraSource(
        detector=CameraDetector(sysfs.root, lambda: [IMX708]),
        open_camera=ReplayCameras(picture, {CameraBus.CSI, CameraBus.USB}),
    )
    with pytest.raises(NoDevice) as failure:
        source.open()
    assert "imx708_wide" in str(failure.value) and "/dev/video0" in str(failure.value)


def test_auto_detects_again_on_every_open(sysfs, picture):
    cameras = ReplayCameras(picture)
    source = AutoCameraSource(detector=CameraDetector(sysfs.root, no_csi), open_camera=cameras)
    with pytest.raises(NoDevice):
        source.open()
    sysfs.add_usb_webcam()  # plugged in after the failure
    source.open()
    assert source.read() is not None and cameras.opened == [WEBCAM]
    source.close()


def test_auto_builds_the_real_sources(sysfs):
    source = AutoCameraSource(
        width_px=1280, height_px=720, fps=15, detector=CameraDetector(sysfs.root, no_csi)
    )
    csi = source.source_for(AttachedCamera(CameraBus.CSI, "imx708", 1))
    usb = source.source_for(AttachedCamera(CameraBus.USB, "cam", "/dev/video4"))
    assert isinstance(csi, PiCameraSource) and csi.camera_index == 1 and csi.width_px == 1280
    assert isinstance(usb, OpenCvSource) and usb.device == "/dev/video4" and usb.fps == 15


def test_real_usb_source_for_a_node_without_device_file_is_no_device(sysfs):
    """Detected in sysfs but no /dev node (udev not done yet, or a fake tree): the capture
    thread retries instead of dying."""
    sysfs.add_usb_webcam(first_number=90)  # /dev/video90 does not exist here
    source = AutoCameraSource(detector=CameraDetector(sysfs.root, no_csi))
    with pytest.raises(NoDevice, match="/dev/video90"):
        source.open()


def test_capture_thread_picks_up_a_camera_plugged_in_later(sysfs, picture):
    """The kiosk's real loop: NO_DEVICE while nothing is attached, SCANNING once a webcam
    appears in sysfs, with no restart."""
    source = AutoCameraSource(
        detector=CameraDetector(sysfs.root, no_csi), open_camera=ReplayCameras(picture)
    )
    thread = CaptureThread(source, backoff_initial_s=0.02, backoff_max_s=0.05)
    thread.start()
    try:
        assert wait_until(lambda: thread.status.state is CameraState.NO_DEVICE)
        assert "no camera attached" in thread.status.detail
        sysfs.add_usb_webcam()
        assert wait_until(lambda: thread.status.state is CameraState.SCANNING)
        assert thread.latest_frame is not None
        assert source.name == f"auto:replay:{picture}"
    finally:
        thread.stop()
