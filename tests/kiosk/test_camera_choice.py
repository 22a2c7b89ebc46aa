"""kiosk.camera_choice's choice for camera.kind = "auto" (plain Python, no window): real detection
against a fake /sys tree and an injected picamera2 probe."""

from __future__ import annotations

import dataclasses

from kiosk.camera_choice import camera_present, make_camera_source, usb_cameras_attached
from kiosk.demo.camera import DemoCameraSource
from kiosk.settings import Settings
from scanner import AutoCameraSource, CameraDetector
from tests.scanner.fake_sysfs import FakeSysfs

IMX708 = {"Model": "imx708_wide", "Id": "/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a"}


def test_a_pi_without_a_camera_gets_the_demo_camera(tmp_path):
    """Codec/ISP nodes and an importable picamera2 used to count as a camera."""
    sysfs = FakeSysfs(tmp_path / "sys")
    sysfs.add_pi_codec_nodes()
    detector = CameraDetector(sysfs.root, csi_probe=lambda: [])
    assert not camera_present(detector)
    source, is_demo = make_camera_source(Settings(), tmp_path, detector=detector)
    assert isinstance(source, DemoCameraSource) and is_demo


def test_an_attached_camera_gets_the_auto_source(tmp_path):
    sysfs = FakeSysfs(tmp_path / "sys")
    sysfs.add_usb_webcam()
    detector = CameraDetector(sysfs.root, csi_probe=lambda: [])
    settings = Settings()
    settings = dataclasses.replace(
        settings, camera=dataclasses.replace(settings.camera, device="/dev/video0", width_px=1280)
    )
    source, is_demo = make_camera_source(settings, tmp_path, detector=detector)
    assert isinstance(source, AutoCameraSource) and not is_demo
    assert source.detector is detector and source.width_px == 1280
    assert source.preferred_device == "/dev/video0"


def test_a_pi_camera_counts_at_start_but_not_for_the_usb_watch(tmp_path):
    detector = CameraDetector(tmp_path / "sys", csi_probe=lambda: [IMX708])
    assert camera_present(detector)
    assert usb_cameras_attached(detector) == []
    source, is_demo = make_camera_source(Settings(), tmp_path, detector=detector)
    assert isinstance(source, AutoCameraSource) and not is_demo
