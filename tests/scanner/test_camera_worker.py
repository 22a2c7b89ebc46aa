"""Capture thread states and recovery, decode worker stale-frame dropping and de-duplication.

Deterministic: threads are synchronised with events and polled with generous deadlines;
no test asserts how fast anything is (speed belongs to bench/)."""

from __future__ import annotations

import threading
import time

import numpy as np

from scanner.camera import CameraState, CaptureThread
from scanner.decoders import CodeFormat, Decoded, DecodeResult
from scanner.frames import Frame
from scanner.service import Scanner
from scanner.sources import FaultInjectingSource, ReplaySource
from scanner.worker import DecodeWorker, Deduplicator
from tests.scanner.helpers import DEADLINE_S, wait_until


def code(text: str) -> Decoded:
    return Decoded(text, CodeFormat.QR, ((0, 0), (1, 0), (1, 1), (0, 1)), "test")


def frame(seq: int) -> Frame:
    return Frame(np.zeros((4, 4, 3), np.uint8), float(seq), seq)


# ---------------------------------------------------------------------------- de-duplication


def test_dedup_reports_once_while_in_view():
    dedup = Deduplicator(repeat_after_s=5.0, gone_after_s=1.0)
    times = (0.0, 0.1, 0.5, 1.2, 2.0, 2.9, 3.8, 4.7, 4.9)  # never unseen for more than 1 s
    assert [len(dedup.filter([code("A")], t)) for t in times] == [1, 0, 0, 0, 0, 0, 0, 0, 0]


def test_dedup_reports_again_after_repeat_interval_while_in_view():
    dedup = Deduplicator(repeat_after_s=5.0, gone_after_s=1.0)
    times = [i * 0.5 for i in range(22)]  # 0 .. 10.5 s, seen every 0.5 s
    reported_at = [t for t in times if dedup.filter([code("A")], t)]
    assert reported_at == [0.0, 5.0, 10.0]


def test_dedup_reports_again_after_code_left_view():
    dedup = Deduplicator(repeat_after_s=None, gone_after_s=1.0, gone_after_frames=1)
    assert dedup.filter([code("A")], 0.0)
    assert not dedup.filter([code("A")], 0.9)
    assert dedup.filter([], 1.5) == []
    assert dedup.filter([code("A")], 2.5)  # unseen for 1.6 s: it left and came back
    assert not dedup.filter([code("A")], 100.0 - 97.0)


def test_a_starved_decoder_does_not_count_a_stamp_that_stayed_as_new():
    """The decoder got no CPU for 5 s (another process starting): two frames decoded, both
    with the stamp. It never left the view, so it is one scan."""
    dedup = Deduplicator(repeat_after_s=None, gone_after_s=3.0)
    assert dedup.filter([code("A")], 0.0)
    assert not dedup.filter([code("A")], 5.0)
    # really taken away: frames without it, for longer than gone_after_s, then back
    t = 5.0
    for _ in range(dedup.gone_after_frames):
        t += 0.6
        assert dedup.filter([], t) == []
    assert dedup.filter([code("A")], t + 0.1)


def test_a_glance_away_shorter_than_gone_after_s_is_the_same_presence():
    dedup = Deduplicator(repeat_after_s=None, gone_after_s=3.0)
    assert dedup.filter([code("A")], 0.0)
    for i in range(20):  # 20 frames without it, but within 2 s
        dedup.filter([], 0.1 * (i + 1))
    assert not dedup.filter([code("A")], 2.5)


def test_dedup_tracks_codes_independently():
    dedup = Deduplicator(repeat_after_s=5.0, gone_after_s=1.0)
    assert [c.text for c in dedup.filter([code("A"), code("B")], 0.0)] == ["A", "B"]
    assert [c.text for c in dedup.filter([code("A"), code("C")], 0.5)] == ["C"]


# ---------------------------------------------------------------------------- stale frames


class GatedDecoder:
    """A slow decoder: each decode waits until the test opens the gate."""

    def __init__(self):
        self.started = threading.Event()
        self.gate = threading.Event()
        self.seqs: list[int] = []

    def decode(self, image) -> DecodeResult:
        self.started.set()
        self.gate.wait(DEADLINE_S)
        self.seqs.append(int(image[0, 0, 0]))
        return DecodeResult((code(f"seq{int(image[0, 0, 0])}"),), None, 1.0, ("fake",))


def test_slow_decoder_sees_only_the_newest_frame():
    decoder = GatedDecoder()
    reported: list[list[str]] = []
    worker = DecodeWorker(
        lambda codes, f: reported.append([c.text for c in codes]), decoder_factory=lambda: decoder
    )
    worker.start()
    try:

        def make(seq):
            image = np.full((4, 4, 3), seq, np.uint8)
            return Frame(image, float(seq), seq)

        worker.submit(make(0))
        assert decoder.started.wait(DEADLINE_S)  # the worker is busy with frame 0
        for seq in range(1, 10):  # submit never blocks, even with the decoder stuck
            worker.submit(make(seq))
        decoder.gate.set()
        assert wait_until(lambda: worker.stats.frames_decoded == 2)
        time.sleep(0.05)
        assert decoder.seqs == [0, 9]  # frames 1..8 were stale and dropped
        assert worker.stats.frames_dropped == 8
        assert worker.decoded_seqs == [0, 9]
        assert reported == [["seq0"], ["seq9"]]
    finally:
        decoder.gate.set()
        worker.stop()


# ---------------------------------------------------------------------------- camera faults


def start_capture(source, **options) -> tuple[CaptureThread, list[Frame]]:
    frames: list[Frame] = []
    capture = CaptureThread(source, on_frame=frames.append, **options)
    capture.start()
    return capture, frames


def test_capture_reaches_scanning_and_preview_has_latest_frame(replay_folder):
    capture, frames = start_capture(ReplaySource(replay_folder, fps=200))
    try:
        assert wait_until(lambda: len(frames) >= 5)
        assert capture.status.state is CameraState.SCANNING
        assert capture.latest_frame is not None and capture.latest_frame.seq >= 4
        assert [f.seq for f in frames[:5]] == [0, 1, 2, 3, 4]
    finally:
        capture.stop()
    assert capture.status.state is CameraState.STOPPED


def test_unplugged_camera_recovers_within_5_s_of_returning(replay_folder):
    """Default backoff: DISCONNECTED -> RECONNECTING while away, SCANNING < 5 s after replug."""
    source = FaultInjectingSource(ReplaySource(replay_folder, fps=100))
    states: list[CameraState] = []
    capture = CaptureThread(
        source, on_frame=lambda f: None, on_state=lambda s: states.append(s.state)
    )
    capture.start()
    try:
        assert wait_until(lambda: capture.status.state is CameraState.SCANNING)
        source.unplug()
        assert wait_until(lambda: CameraState.DISCONNECTED in states)
        assert wait_until(lambda: capture.status.state is CameraState.RECONNECTING)
        time.sleep(2.5)  # long enough for the backoff to reach its cap
        assert capture.status.state is CameraState.RECONNECTING
        assert capture.status.retry_in_s is not None
        replugged_s = time.monotonic()
        source.replug()
        assert wait_until(lambda: capture.status.state is CameraState.SCANNING, timeout_s=5.0)
        assert time.monotonic() - replugged_s < 5.0
        after = states[states.index(CameraState.DISCONNECTED) :]
        assert after[0] is CameraState.DISCONNECTED and after[-1] is CameraState.SCANNING
        assert set(after[1:-1]) == {CameraState.RECONNECTING}
    finally:
        capture.stop()


def test_no_device_at_start_then_device_appears(replay_folder):
    source = FaultInjectingSource(ReplaySource(replay_folder, fps=100))
    source.unplug()
    capture, frames = start_capture(source, backoff_initial_s=0.02, backoff_max_s=0.1)
    try:
        assert wait_until(lambda: capture.status.state is CameraState.NO_DEVICE)
        assert wait_until(lambda: source.open_calls >= 3)  # it keeps retrying
        assert frames == []
        source.replug()
        assert wait_until(lambda: capture.status.state is CameraState.SCANNING)
        assert capture.history[:3] == [
            CameraState.STARTING,
            CameraState.NO_DEVICE,
            CameraState.SCANNING,
        ]
    finally:
        capture.stop()


def test_frozen_stream_is_detected_and_reopened(replay_folder):
    source = FaultInjectingSource(ReplaySource(replay_folder, fps=100))
    capture, frames = start_capture(source, stall_after_s=0.3, backoff_initial_s=0.02)
    try:
        assert wait_until(lambda: capture.status.state is CameraState.SCANNING)
        opens_before = source.open_calls
        source.freeze()
        assert wait_until(lambda: CameraState.FROZEN in capture.history)
        assert wait_until(lambda: source.open_calls > opens_before)  # it reopened the camera
        source.freeze(False)
        count = len(frames)
        assert wait_until(
            lambda: capture.status.state is CameraState.SCANNING and len(frames) > count
        )
    finally:
        capture.stop()


def test_empty_frames_count_as_frozen(replay_folder):
    source = FaultInjectingSource(ReplaySource(replay_folder, fps=100))
    capture, _frames = start_capture(source, stall_after_s=0.2, backoff_initial_s=0.02)
    try:
        assert wait_until(lambda: capture.status.state is CameraState.SCANNING)
        source.empty()
        assert wait_until(lambda: CameraState.FROZEN in capture.history)
        source.empty(False)
        assert wait_until(lambda: capture.status.state is CameraState.SCANNING)
    finally:
        capture.stop()


def test_replay_without_loop_ends_in_ended_state(replay_folder):
    capture, frames = start_capture(ReplaySource(replay_folder, loop=False))
    assert wait_until(lambda: not capture.is_alive())
    assert len(frames) == 4
    assert CameraState.ENDED in capture.history
    assert capture.status.state is CameraState.STOPPED


# ---------------------------------------------------------------------------- end to end


def test_scanner_reports_each_code_once_from_a_looping_replay(replay_folder):
    """Real decoders on a replayed folder looping for a while: A and B are each reported once
    (both stay 'in view' because the loop shows them again well within gone_after_s)."""
    reported: list[str] = []
    states: list[CameraState] = []
    scanner = Scanner(
        ReplaySource(replay_folder, fps=100, loop=True),
        on_codes=lambda codes, f: reported.extend(c.text for c in codes),
        on_state=lambda s: states.append(s.state),
        repeat_after_s=None,
    )
    scanner.start()
    try:
        assert wait_until(lambda: scanner.worker.stats.frames_decoded >= 30)
    finally:
        scanner.stop()
    assert sorted(reported) == [
        "HTTPS://OCOP.SONLA.GOV.VN/S/AAAA",
        "HTTPS://OCOP.SONLA.GOV.VN/S/BBBB",
    ]
    assert CameraState.SCANNING in states
    assert scanner.latest_frame is not None
