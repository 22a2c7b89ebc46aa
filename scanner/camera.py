"""The capture thread: owns a frame source, reports a typed camera state, reopens with backoff.

The UI shows `CameraStatus` (state + detail); the preview reads `latest_frame` and never
waits for decoding; every frame is also handed to a consumer (the DecodeWorker's submit(),
which only swaps a slot and returns at once).
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from scanner.errors import Disconnected, EndOfStream, NoDevice, SourceError
from scanner.frames import Frame, Pixels
from scanner.liveness import CallTimer
from scanner.sources import FrameSource

log = logging.getLogger(__name__)

BACKOFF_INITIAL_S = 0.25
BACKOFF_MAX_S = 2.0  # capped so a returning camera is scanning again well within 5 s
STALL_AFTER_S = 3.0  # no new picture for this long (empty or identical frames) -> FROZEN


class CameraState(str, enum.Enum):
    STARTING = "starting"  # opening the source for the first time
    SCANNING = "scanning"  # frames are flowing
    NO_DEVICE = "no_device"  # no camera at start; retrying
    DISCONNECTED = "disconnected"  # a camera that worked went away; retrying
    FROZEN = "frozen"  # the camera is open but delivers no new picture; reopening
    RECONNECTING = "reconnecting"  # reopening after DISCONNECTED / FROZEN
    ENDED = "ended"  # a replay without looping finished
    STOPPED = "stopped"  # stop() was called

    @property
    def is_fault(self) -> bool:
        return self in (
            CameraState.NO_DEVICE,
            CameraState.DISCONNECTED,
            CameraState.FROZEN,
            CameraState.RECONNECTING,
        )


@dataclass(frozen=True)
class CameraStatus:
    state: CameraState
    detail: str = ""  # for logs and staff screens, not for shoppers
    since_s: float = 0.0  # monotonic time of the change
    retry_in_s: float | None = None  # next reopen attempt, while retrying


def frame_fingerprint(image: Pixels) -> int:
    """Cheap content hash of a sparse pixel grid: real sensors never repeat it (noise)."""
    return zlib.crc32(np.ascontiguousarray(image[::16, ::16]).tobytes())


class CaptureOptions(TypedDict, total=False):
    """CaptureThread's tuning arguments (what Scanner passes through)."""

    backoff_initial_s: float
    backoff_max_s: float
    stall_after_s: float
    clock: Callable[[], float]


class CaptureThread(threading.Thread):
    """Reads frames as fast as the source gives them; survives faults.

    on_frame(frame) is called on this thread for every frame: keep it O(1).
    on_state(status) is called on this thread on every state change (the UI hops it onto
    its own thread, e.g. Clock.schedule_once)."""

    def __init__(
        self,
        source: FrameSource,
        on_frame: Callable[[Frame], None] | None = None,
        on_state: Callable[[CameraStatus], None] | None = None,
        backoff_initial_s: float = BACKOFF_INITIAL_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        stall_after_s: float = STALL_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__(name="camera-capture", daemon=True)
        self.source = source
        self.on_frame = on_frame
        self.on_state = on_state
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.stall_after_s = stall_after_s
        self.clock = clock
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self.in_driver = CallTimer(clock)  # open()/read() under way: a hung driver shows here
        self._status = CameraStatus(CameraState.STARTING, source.name, clock())
        self._latest: Frame | None = None
        self._seq = 0
        self.history: list[CameraState] = [CameraState.STARTING]  # for tests and diagnostics

    # -- what the UI reads ------------------------------------------------------------------
    @property
    def status(self) -> CameraStatus:
        with self._lock:
            return self._status

    @property
    def latest_frame(self) -> Frame | None:
        with self._lock:
            return self._latest

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout_s)

    # -- the loop ---------------------------------------------------------------------------
    def _set_state(
        self, state: CameraState, detail: str = "", retry_in_s: float | None = None
    ) -> None:
        with self._lock:
            if self._status.state is state and self._status.retry_in_s == retry_in_s:
                return
            changed = self._status.state is not state
            since_s = self.clock() if changed else self._status.since_s
            self._status = CameraStatus(state, detail, since_s, retry_in_s)
            status = self._status
            if changed:
                self.history.append(state)
        if changed:
            log.info("camera %s: %s %s", self.source.name, state.value, detail)
        if self.on_state is not None:
            self.on_state(status)

    def run(self) -> None:
        backoff_s = self.backoff_initial_s
        ever_opened = False
        try:
            while not self._stop_event.is_set():
                try:
                    with self.in_driver:
                        self.source.open()
                except (NoDevice, SourceError) as exc:
                    state = CameraState.RECONNECTING if ever_opened else CameraState.NO_DEVICE
                    self._set_state(state, str(exc), retry_in_s=backoff_s)
                    if self._stop_event.wait(backoff_s):
                        break
                    backoff_s = min(backoff_s * 2, self.backoff_max_s)
                    continue
                ever_opened = True
                backoff_s = self.backoff_initial_s
                outcome = self._read_until_fault()
                self.source.close()
                if outcome is None:
                    break
                state, detail = outcome
                if state is CameraState.ENDED:
                    self._set_state(state, detail)
                    return
                self._set_state(state, detail)
                # Reopen at once (the device may be back already), then back off.
                self._set_state(CameraState.RECONNECTING, detail, retry_in_s=0.0)
        finally:
            self.source.close()
            self._set_state(CameraState.STOPPED)

    def _read_until_fault(self) -> tuple[CameraState, str] | None:
        """Reads until stop (None) or a fault (the state to report)."""
        last_new_s = self.clock()
        last_print: int | None = None
        # A replay may legitimately show the same picture again; a camera never does (noise).
        check_repeats = not getattr(self.source, "repeats_frames", False)
        while not self._stop_event.is_set():
            try:
                with self.in_driver:
                    image = self.source.read()
            except EndOfStream as exc:
                return CameraState.ENDED, str(exc)
            except (Disconnected, SourceError) as exc:
                return CameraState.DISCONNECTED, str(exc)
            except Exception as exc:  # a driver bug must not kill the kiosk's camera loop
                log.exception("camera read failed")
                return CameraState.DISCONNECTED, f"read failed: {exc!r}"
            now = self.clock()
            fresh = False
            if image is not None and image.size:
                if check_repeats:
                    fingerprint = frame_fingerprint(image)
                    fresh = fingerprint != last_print
                    last_print = fingerprint
                else:
                    fresh = True
            if image is None or not fresh:
                if now - last_new_s >= self.stall_after_s:
                    return CameraState.FROZEN, f"no new picture for {self.stall_after_s:.1f} s"
                continue
            last_new_s = now
            frame = Frame(image, now, self._seq)
            self._seq += 1
            with self._lock:
                self._latest = frame
            self._set_state(CameraState.SCANNING, self.source.name)
            if self.on_frame is not None:
                self.on_frame(frame)
        return None
