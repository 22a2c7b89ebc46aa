"""Frame sources: replay of folders, images and videos; factory; missing devices."""

from __future__ import annotations

import sys

import pytest

from scanner.auto_source import AutoCameraSource
from scanner.decoders import DecodePipeline
from scanner.errors import Disconnected, EndOfStream, NoDevice, UnsupportedSource
from scanner.sources import (
    FaultInjectingSource,
    OpenCvSource,
    PiCameraSource,
    ReplaySource,
    make_source,
    parse_device,
)


def test_replay_folder_in_name_order_then_loops(replay_folder):
    source = ReplaySource(replay_folder, loop=True)
    with source:
        frames = [source.read() for _ in range(6)]
    assert all(f.shape == (480, 640, 3) for f in frames)
    assert (frames[4] == frames[0]).all() and (frames[5] == frames[1]).all()
    pipeline = DecodePipeline()
    assert pipeline.decode(frames[0]).texts == ["HTTPS://OCOP.SONLA.GOV.VN/S/AAAA"]
    assert pipeline.decode(frames[2]).texts == []
    assert pipeline.decode(frames[3]).texts == ["HTTPS://OCOP.SONLA.GOV.VN/S/BBBB"]


def test_replay_without_loop_ends(replay_folder):
    source = ReplaySource(replay_folder, loop=False)
    source.open()
    for _ in range(4):
        source.read()
    with pytest.raises(EndOfStream):
        source.read()
    source.close()
    source.close()  # closing twice is harmless


def test_replay_single_image(replay_folder):
    with ReplaySource(replay_folder / "f3.png") as source:
        assert DecodePipeline().decode(source.read()).texts == ["HTTPS://OCOP.SONLA.GOV.VN/S/BBBB"]


def test_replay_video_mjpg_avi(replay_video):
    source = ReplaySource(replay_video, loop=False)
    pipeline = DecodePipeline()
    texts = []
    with source:
        while True:
            try:
                image = source.read()
            except EndOfStream:
                break
            texts.append(tuple(pipeline.decode(image).texts))
    assert len(texts) == 12
    assert texts[0] == () and texts[3] == ("HTTPS://OCOP.SONLA.GOV.VN/S/VIDEO1",)
    assert texts[-1] == ("HTTPS://OCOP.SONLA.GOV.VN/S/VIDEO2",)


def test_replay_video_loops(replay_video):
    with ReplaySource(replay_video, loop=True) as source:
        frames = [source.read() for _ in range(14)]
    assert all(f is not None for f in frames)


@pytest.mark.parametrize("name", ["missing", "empty-folder", "bad.png"])
def test_replay_of_unreadable_path_is_no_device(tmp_path, name):
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(NoDevice):
        ReplaySource(tmp_path / name).open()


def test_opencv_source_without_camera_is_no_device():
    with pytest.raises(NoDevice):
        OpenCvSource("/dev/video-that-does-not-exist").open()


def test_picamera_source_without_picamera2_is_unsupported(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes `import picamera2` fail
    assert not PiCameraSource.available()
    with pytest.raises(UnsupportedSource):
        PiCameraSource().open()


def test_make_source(monkeypatch, replay_folder):
    monkeypatch.setitem(sys.modules, "picamera2", None)
    assert isinstance(make_source("auto", path=str(replay_folder)), ReplaySource)
    auto = make_source("auto", device="2", width_px=1280, height_px=720, fps=15)
    assert isinstance(auto, AutoCameraSource)  # picks the camera on open(): test_detection
    assert auto.preferred_device == 2 and (auto.width_px, auto.fps) == (1280, 15)
    usb = make_source("opencv", device="2", width_px=1280, height_px=720, fps=15)
    assert isinstance(usb, OpenCvSource) and usb.device == 2 and usb.width_px == 1280
    assert isinstance(make_source("picamera2"), PiCameraSource)
    with pytest.raises(ValueError):
        make_source("replay")
    with pytest.raises(ValueError):
        make_source("webcam")
    assert parse_device("0") == 0 and parse_device("/dev/video1") == "/dev/video1"


def test_fault_injecting_source_switches(replay_folder):
    source = FaultInjectingSource(ReplaySource(replay_folder))
    source.open()
    first = source.read()
    source.freeze()
    assert source.read() is first
    source.freeze(False)
    source.empty()
    assert source.read() is None
    source.empty(False)
    source.unplug()
    with pytest.raises(Disconnected):
        source.read()
    with pytest.raises(NoDevice):
        source.open()
    source.replug()
    source.open()
    assert source.read() is not None
