"""The soak bench's eyes inside the kiosk process: `ocop-kiosk run` with a probe on the UI
clock that appends one JSON line per window to a file. It changes nothing in the app; it
only reads (Kivy's clock, the window's flips, the screen manager, the attract screen, the
camera's newest frame number).

    python -m bench.soak_probe --out FILE [--window-s 10] -- [ocop-kiosk arguments...]

runs exactly `ocop-kiosk <arguments>` (kiosk.cli.main.main), the probe scheduled before it.
Each line (cumulative counters unless said otherwise; times are time.time()):

    t, window_s              end of this window, its length
    ticks, drawn             Kivy main-loop iterations, frames really drawn (on_flip)
    max_tick_gap_ms          longest time between two loop iterations IN THIS WINDOW
    py_blocks                sys.getallocatedblocks(): live Python heap blocks
    malloc_free_mb           what glibc holds freed (kiosk.heap gives it back)
    screen                   the screen shown now
    results, home_returns    entries to the result screen / back to attract from elsewhere
    slide_changes            attract slides changed (index) while attract was shown
    attract_s                time spent on the attract screen
    max_slide_stall_s        longest stretch on attract without a slide change, IN THIS
                             WINDOW (a stretch still running counts up to now)
    camera_frame             the camera's newest frame number (replay: its position), -1
    camera_frame_t           when that frame was captured
    camera_state             app.camera_state
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WINDOW_S = 10.0
HOME = "attract"


class Probe:
    def __init__(self, out: Path, window_s: float = WINDOW_S):
        self.out = out
        self.window_s = window_s
        self.app = None
        self.flips: dict = {"n": 0}
        self.results = self.home_returns = self.slide_changes = 0
        self.attract_s = 0.0
        self._screen = None
        self._screen_since = time.monotonic()
        self._last_slide = time.monotonic()  # start of the current stretch on attract
        self._window_stall_s = 0.0
        self._last_tick = None
        self._window_gap_s = 0.0
        self._window_start = time.time()

    # -- wiring, once the app and its window exist --------------------------------------
    def attach(self, _dt=None) -> None:
        from kivy.app import App
        from kivy.clock import Clock

        app = App.get_running_app()
        if app is None or getattr(app, "sm", None) is None or not app.sm.has_screen(HOME):
            Clock.schedule_once(self.attach, 0.1)
            return
        from bench.kiosk_process import flip_counter

        self.app = app
        self.flips = flip_counter()
        self._screen = app.sm.current
        self._screen_since = self._last_slide = time.monotonic()
        app.sm.bind(current=self._screen_changed)
        app.sm.get_screen(HOME).bind(index=self._slide_changed)
        Clock.schedule_interval(self._tick, 0)
        Clock.schedule_interval(self._write, self.window_s)

    def _tick(self, _dt) -> None:
        now = time.perf_counter()
        if self._last_tick is not None:
            self._window_gap_s = max(self._window_gap_s, now - self._last_tick)
        self._last_tick = now

    def _screen_changed(self, _sm, name) -> None:
        now = time.monotonic()
        if self._screen == HOME:
            self._close_stall(now)
            self.attract_s += now - self._screen_since
        if name == "result":
            self.results += 1
        if name == HOME and self._screen != HOME:
            self.home_returns += 1
            self._last_slide = now
        self._screen, self._screen_since = name, now

    def _slide_changed(self, *_):
        if self._screen == HOME:
            now = time.monotonic()
            self._close_stall(now)
            self.slide_changes += 1
            self._last_slide = now

    def _close_stall(self, now: float) -> None:
        self._window_stall_s = max(self._window_stall_s, now - self._last_slide)

    # -- one line per window ------------------------------------------------------------
    def snapshot(self) -> dict:
        from kivy.clock import Clock

        from bench.kiosk_process import malloc_free_mb

        now, mono = time.time(), time.monotonic()
        app = self.app
        attract_s = self.attract_s
        if self._screen == HOME:
            attract_s += mono - self._screen_since
            self._close_stall(mono)
        camera = getattr(app, "camera", None)
        frame = getattr(camera, "latest_frame", None) if camera is not None else None
        line = {
            "t": now,
            "window_s": now - self._window_start,
            "ticks": Clock.frames,
            "drawn": self.flips["n"],
            "max_tick_gap_ms": self._window_gap_s * 1000,
            "py_blocks": sys.getallocatedblocks(),
            "malloc_free_mb": malloc_free_mb(),
            "screen": self._screen,
            "results": self.results,
            "home_returns": self.home_returns,
            "slide_changes": self.slide_changes,
            "attract_s": attract_s,
            "max_slide_stall_s": self._window_stall_s,
            "camera_frame": frame.seq if frame is not None else -1,
            "camera_frame_t": now - (mono - frame.timestamp_s) if frame is not None else 0,
            "camera_state": getattr(app, "camera_state", ""),
        }
        self._window_start, self._window_gap_s, self._window_stall_s = now, 0.0, 0.0
        return line

    def _write(self, _dt) -> None:
        with self.out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(self.snapshot()) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--window-s", type=float, default=WINDOW_S)
    parser.add_argument("kiosk_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    kiosk_args = args.kiosk_args[1:] if args.kiosk_args[:1] == ["--"] else args.kiosk_args
    from kiosk.cli.run_cmd import tune_process

    tune_process()  # as `run` does first, before Kivy is imported
    from kivy.clock import Clock  # Kivy reads its environment here: the parent sets it

    probe = Probe(args.out, args.window_s)  # held here: Kivy's clock keeps weak references
    Clock.schedule_once(probe.attach, 0)
    from kiosk.cli.main import main as kiosk_main

    return kiosk_main(kiosk_args)


if __name__ == "__main__":
    sys.exit(main())
