"""camera.kind = "auto" with no camera at start: the demo camera, and a watch (sysfs, every
camera_watch_interval_s) that switches to a camera plugged in later, without a restart.

Detection is faked at its boundary: a fake /sys tree in tmp_path and a picamera2 probe that
lists nothing. The app is shared by every UI test: each test puts its own camera back."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from tests.scanner.fake_sysfs import FakeSysfs

pytestmark = pytest.mark.ui


def no_csi() -> list[dict]:
    return []


@pytest.fixture
def own_camera(ui, tmp_path):
    """A fake /sys with a Pi's codec nodes only (no camera); the app's camera, detector,
    watch interval and settings are put back afterwards."""
    from kiosk.ui.app import CAMERA_WATCH_INTERVAL_S
    from scanner import CameraDetector

    app = ui.app
    sysfs = FakeSysfs(tmp_path / "sys")
    sysfs.add_pi_codec_nodes()
    app.camera_detector = CameraDetector(sysfs.root, csi_probe=no_csi)
    app.camera_watch_interval_s = 0.2
    yield sysfs
    app.camera_detector = None
    app.camera_watch_interval_s = CAMERA_WATCH_INTERVAL_S
    app.settings = ui.settings
    app.restart_camera(ui.source, is_demo=True)
    assert ui.wait(lambda: app.camera_state == "scanning", 10)
    assert not app.watching_for_camera


def test_demo_camera_switches_to_a_camera_plugged_in_later(ui, own_camera, monkeypatch):
    import kiosk.camera_choice as camera_choice
    from scanner import CameraState, ReplaySource

    app = ui.app
    assert ui.settings.camera.kind.value == "auto"
    app.restart_camera()  # from the settings: "auto", nothing attached
    assert app.demo_camera and app.watching_for_camera
    assert type(app.camera.source).__name__ == "DemoCameraSource"
    assert ui.wait(lambda: app.camera.status.state is CameraState.SCANNING, 10)
    ui.settle(0.6)  # a few watch ticks with nothing attached
    assert app.demo_camera and app.watching_for_camera

    # The USB webcam's picture: a real stamp picture replayed by the scanner.
    asked = []

    def camera_source(settings, data_dir, detector=None):
        asked.append(camera_choice.camera_present(detector))
        return ReplaySource(ui.stamps["genuine"].path, fps=15), False

    monkeypatch.setattr(camera_choice, "make_camera_source", camera_source)
    own_camera.add_usb_webcam()

    assert ui.wait(lambda: not app.demo_camera, 5)
    assert asked == [True] and not app.watching_for_camera
    assert isinstance(app.camera.source, ReplaySource)
    assert ui.wait(
        lambda: app.camera.status.state is CameraState.SCANNING and app.camera_state == "scanning",
        10,
    )
    assert ui.wait_screen("result", 15)  # the stamp in front of the new camera is scanned
    vm = ui.screen("result").vm
    assert vm.verdict == "genuine" and vm.card.product_id == 101


def test_explicit_demo_or_replay_source_is_not_watched(ui, own_camera, tmp_path):
    from kiosk.settings import CameraKind

    app = ui.app
    # The session app was given its demo camera by the caller (like `ocop-kiosk screenshot`).
    app.restart_camera(ui.source, is_demo=True)
    assert app.demo_camera and not app.watching_for_camera

    # A watch that runs stops when the caller picks a source.
    app.restart_camera()
    assert app.watching_for_camera
    app.restart_camera(ui.source, is_demo=True)
    assert not app.watching_for_camera

    # camera.kind = "replay" in the settings: replayed pictures are what was asked for.
    folder = tmp_path / "frames"
    folder.mkdir()
    shutil.copy(ui.stamps["genuine"].path, folder / "genuine.png")
    app.settings = dataclasses.replace(
        ui.settings,
        camera=dataclasses.replace(
            ui.settings.camera, kind=CameraKind.REPLAY, replay_path=str(folder), fps=15
        ),
    )
    app.restart_camera()
    assert not app.demo_camera and not app.watching_for_camera
    own_camera.add_usb_webcam()
    ui.settle(0.6)
    assert type(app.camera.source).__name__ == "ReplaySource"
