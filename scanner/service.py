"""One object the kiosk starts and stops: capture thread + decode worker wired together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Unpack

from scanner.camera import CameraStatus, CaptureOptions, CaptureThread
from scanner.decoders import Decoded, DecodePipeline, Hint
from scanner.frames import Frame
from scanner.sources import FrameSource
from scanner.worker import GONE_AFTER_S, REPEAT_AFTER_S, DecodeWorker, FrameDecoder


class Scanner:
    """source -> CaptureThread -> (preview: latest_frame) + DecodeWorker -> on_codes.

    All callbacks run on scanner threads; the UI hops them onto its own thread."""

    def __init__(
        self,
        source: FrameSource,
        on_codes: Callable[[list[Decoded], Frame], None],
        on_state: Callable[[CameraStatus], None] | None = None,
        on_hint: Callable[[Hint, Frame], None] | None = None,
        decoder_factory: Callable[[], FrameDecoder] = DecodePipeline,
        repeat_after_s: float | None = REPEAT_AFTER_S,
        gone_after_s: float = GONE_AFTER_S,
        **capture_options: Unpack[CaptureOptions],
    ):
        self.worker = DecodeWorker(
            on_codes, decoder_factory, repeat_after_s, gone_after_s, on_hint=on_hint
        )
        self.capture = CaptureThread(source, self.worker.submit, on_state, **capture_options)

    def start(self) -> None:
        self.worker.start()
        self.capture.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self.capture.stop(timeout_s)
        self.worker.stop(timeout_s)

    @property
    def status(self) -> CameraStatus:
        return self.capture.status

    @property
    def latest_frame(self) -> Frame | None:
        """For the preview: the newest captured frame, whether or not it was decoded."""
        return self.capture.latest_frame
