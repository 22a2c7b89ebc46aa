"""The decode worker: newest frame only, stale frames dropped, each code reported once.

The capture thread calls submit(frame) for every frame; submit only swaps a one-frame slot,
so capture and preview never wait for decoding. The worker decodes whatever is newest when
it is free; frames that were replaced before it got to them are counted as dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from scanner.decoders import Decoded, DecodePipeline, DecodeResult, Hint
from scanner.frames import Frame, Pixels
from scanner.liveness import CallTimer

log = logging.getLogger(__name__)

# One presence, one report: a stamp left on the counter in front of the camera is one scan,
# however long it stays (a repeat in view would count it again after every idle reset and
# reach the clone threshold by itself). It counts again once it has been out of view this
# long, which also bridges frames the decoder misses while the code is still there.
GONE_AFTER_S = 3.0
REPEAT_AFTER_S: float | None = None  # report again while still in view after this; None: never
# ... and once this many decoded frames did not contain it (the kiosk decodes ~12 a second,
# so this is half a second of looking when the CPU is free).
GONE_AFTER_FRAMES = 6


class FrameDecoder(Protocol):
    def decode(self, image: Pixels) -> DecodeResult: ...


@dataclass
class _Seen:
    last_seen_s: float
    last_reported_s: float
    frames_without: int = 0  # decoded frames since it was last in one


class Deduplicator:
    """Reports a code once while it stays in view; again after it was out of view for more
    than gone_after_s (or, when repeat_after_s is set, after that long in view).

    "Out of view" also needs gone_after_frames decoded frames without the code: a decoder
    starved of CPU for a few seconds (another process starting, a slow SD card) has not
    looked, so it must not count a stamp that never moved as a new scan.

    Pure (times are passed in), so it is tested without threads or sleeps."""

    def __init__(
        self,
        repeat_after_s: float | None = REPEAT_AFTER_S,
        gone_after_s: float = GONE_AFTER_S,
        gone_after_frames: int = GONE_AFTER_FRAMES,
    ):
        self.repeat_after_s = repeat_after_s  # None: never repeat while in view
        self.gone_after_s = gone_after_s
        self.gone_after_frames = gone_after_frames
        self._seen: dict[str, _Seen] = {}

    def _gone(self, seen: _Seen, now_s: float, after_s: float) -> bool:
        return now_s - seen.last_seen_s > after_s and seen.frames_without >= self.gone_after_frames

    def filter(self, codes: list[Decoded], now_s: float) -> list[Decoded]:
        """One decoded frame's codes (call it for every decoded frame, with or without
        codes): the ones that are new."""
        present = {code.text for code in codes}
        for text, absent in self._seen.items():
            if text not in present:
                absent.frames_without += 1
        fresh = []
        for code in codes:
            seen = self._seen.get(code.text)
            if (
                seen is None
                or self._gone(seen, now_s, self.gone_after_s)
                or (
                    self.repeat_after_s is not None
                    and now_s - seen.last_reported_s >= self.repeat_after_s
                )
            ):
                fresh.append(code)
                self._seen[code.text] = _Seen(now_s, now_s)
            else:
                seen.last_seen_s = now_s
                seen.frames_without = 0
        # Forget codes long gone so the table stays small on a kiosk running for months.
        horizon_s = max(self.gone_after_s, self.repeat_after_s or 0.0) * 2
        for text in [t for t, s in self._seen.items() if self._gone(s, now_s, horizon_s)]:
            del self._seen[text]
        return fresh

    def reset(self) -> None:
        self._seen.clear()


@dataclass(frozen=True)
class WorkerStats:
    frames_submitted: int
    frames_decoded: int
    frames_dropped: int  # replaced in the slot before the worker took them
    last_decode_ms: float


class DecodeWorker(threading.Thread):
    """Decodes the newest submitted frame; calls on_codes(codes, frame) with new codes only.

    on_codes / on_hint run on this worker thread: hop to the UI thread from there.
    on_hint(hint, frame) is called (rate-limited) when a QR was seen but not readable."""

    def __init__(
        self,
        on_codes: Callable[[list[Decoded], Frame], None],
        decoder_factory: Callable[[], FrameDecoder] = DecodePipeline,
        repeat_after_s: float | None = REPEAT_AFTER_S,
        gone_after_s: float = GONE_AFTER_S,
        on_hint: Callable[[Hint, Frame], None] | None = None,
        hint_every_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__(name="decode-worker", daemon=True)
        self.on_codes = on_codes
        self.on_hint = on_hint
        self.hint_every_s = hint_every_s
        # Built on first use on the worker thread: pyzbar scanners are per thread.
        self._decoder_factory = decoder_factory
        self.in_decoder = CallTimer(clock)  # decode() under way: a hung decoder shows here
        self.dedup = Deduplicator(repeat_after_s, gone_after_s)
        self.clock = clock
        self._slot: Frame | None = None
        self._cond = threading.Condition()
        self._stop_event = threading.Event()
        self._submitted = self._decoded = self._dropped = 0
        self._last_ms = 0.0
        self._last_hint_s = float("-inf")
        self.decoded_seqs: list[int] = []  # what the worker actually decoded (tests, stats)

    def submit(self, frame: Frame) -> None:
        """Never blocks beyond a lock swap: the newest frame replaces any waiting one."""
        with self._cond:
            if self._slot is not None:
                self._dropped += 1
            self._slot = frame
            self._submitted += 1
            self._cond.notify()

    @property
    def stats(self) -> WorkerStats:
        with self._cond:
            return WorkerStats(self._submitted, self._decoded, self._dropped, self._last_ms)

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout_s)

    def _take(self) -> Frame | None:
        with self._cond:
            while self._slot is None and not self._stop_event.is_set():
                self._cond.wait(0.5)
            frame, self._slot = self._slot, None
            return frame

    def run(self) -> None:
        decoder = self._decoder_factory()
        while not self._stop_event.is_set():
            frame = self._take()
            if frame is None:
                continue
            try:
                with self.in_decoder:
                    result = decoder.decode(frame.image)
            except Exception:  # one bad frame must not end scanning
                log.exception("decoding frame %d failed", frame.seq)
                continue
            with self._cond:
                self._decoded += 1
                self._last_ms = result.decode_ms
                self.decoded_seqs.append(frame.seq)
                del self.decoded_seqs[:-1000]
            now_s = self.clock()
            new_codes = self.dedup.filter(list(result.codes), now_s)
            if new_codes:
                self.on_codes(new_codes, frame)
            elif (
                result.hint is not None
                and self.on_hint is not None
                and now_s - self._last_hint_s >= self.hint_every_s
            ):
                self._last_hint_s = now_s
                self.on_hint(result.hint, frame)
