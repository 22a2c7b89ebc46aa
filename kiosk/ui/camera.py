"""The scanner as the UI runs it: CameraService (capture thread + decode worker around one
source) with a decode throttle. Which source to open is kiosk.camera_choice's job; the demo
camera and its stamp pictures are kiosk.demo.camera and kiosk.demo.stamps. No Kivy here:
callbacks run on scanner threads and the app hops them onto the UI thread.
"""

from __future__ import annotations

import time

from kiosk.demo.camera import DemoCameraSource

DECODE_MAX_HZ = 15.0  # frames offered to the decoder per second (the preview gets them all)


class _Throttle:
    """Passes at most max_hz frames a second on to the decode worker. Decoding every frame of
    a 30 fps camera costs a whole core on a Pi for no faster answer; the preview still shows
    every frame (it reads CaptureThread.latest_frame)."""

    def __init__(self, submit, max_hz: float, clock=time.monotonic):
        self.submit = submit
        self.min_gap_s = 1.0 / max_hz if max_hz else 0.0
        self.clock = clock
        self._last = float("-inf")

    def __call__(self, frame) -> None:
        now = self.clock()
        if now - self._last >= self.min_gap_s:
            self._last = now
            self.submit(frame)


class CameraService:
    """The scanner (capture thread + decode worker) around one source.

    Callbacks run on scanner threads; the app hops them onto the UI thread."""

    def __init__(
        self,
        source,
        on_codes,
        on_state=None,
        on_hint=None,
        gone_after_s: float | None = None,
        is_demo: bool = False,
        decode_max_hz: float = DECODE_MAX_HZ,
    ):
        from scanner import Scanner

        self.source = source
        self.is_demo = is_demo
        from scanner.worker import GONE_AFTER_S

        self.scanner = Scanner(
            source,
            on_codes,
            on_state=on_state,
            on_hint=on_hint,
            gone_after_s=GONE_AFTER_S if gone_after_s is None else gone_after_s,
        )
        self.scanner.capture.on_frame = _Throttle(self.scanner.worker.submit, decode_max_hz)
        self.started = False

    def start(self) -> None:
        if not self.started:
            self.scanner.start()
            self.started = True

    def stop(self) -> None:
        if self.started:
            self.scanner.stop()
            self.started = False

    @property
    def latest_frame(self):
        return self.scanner.latest_frame

    @property
    def status(self):
        return self.scanner.status

    @property
    def demo_source(self) -> DemoCameraSource | None:
        src = self.source
        while src is not None:
            if isinstance(src, DemoCameraSource):
                return src
            src = getattr(src, "inner", None)
        return None
