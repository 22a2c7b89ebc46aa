"""One real Kivy window per process (SDL offscreen): the app is built once per session and
every test starts from the attract screen. Helpers drive it like a person: taps with
UnitTestTouch, waits that pump the event loop."""

from __future__ import annotations

import dataclasses
import time

import pytest

WINDOW_SIZE = (800, 480)


@pytest.fixture(scope="session")
def kiosk(tmp_path_factory):
    from kivy.config import Config

    Config.set("graphics", "width", str(WINDOW_SIZE[0]))
    Config.set("graphics", "height", str(WINDOW_SIZE[1]))
    Config.set("graphics", "fullscreen", "0")
    from kiosk.demo.camera import DemoCameraSource
    from kiosk.demo.setup import set_up_demo
    from kiosk.demo.stamps import prepare_demo_stamps
    from kiosk.settings import (
        Mode,
        PrinterSettings,
        Settings,
        StaffSettings,
        UiSettings,
    )
    from kiosk.store import Store
    from scanner import FaultInjectingSource

    data_dir = tmp_path_factory.mktemp("kiosk-ui") / "data"
    data_dir.mkdir()
    store = Store.in_dir(data_dir)
    set_up_demo(store, data_dir)
    settings = Settings(
        mode=Mode.STATION,
        ui=UiSettings(idle_timeout_s=600.0, fullscreen=False, attract_cycle_s=2.0),
        staff=StaffSettings(max_attempts=3, lockout_s=60.0),
        printer=PrinterSettings(uri="virtual:"),
    )
    stamps = {s.key: s for s in prepare_demo_stamps(store, settings, data_dir)}
    source = FaultInjectingSource(DemoCameraSource(fps=30))
    source.repeats_frames = True  # a held picture repeats, like the demo camera itself
    from kiosk.ui.app import KioskApp

    app = KioskApp(settings, store, data_dir, camera_source=source, camera_is_demo=True)
    app._run_prepare()
    built_at_start = [screen.name for screen in app.sm.screens]
    k = Kiosk(app, source, stamps, data_dir, store, settings)
    k.built_at_start = built_at_start
    k.wait(lambda: app.camera_state == "scanning", 10)
    yield k
    app.stop()
    from kivy.base import EventLoop

    EventLoop.idle()
    store.close()


@pytest.fixture
def ui(kiosk):
    """Each test starts on the attract screen, in Vietnamese, signed out, camera clear."""
    kiosk.reset()
    yield kiosk
    kiosk.reset()


@pytest.fixture
def settings_with(ui):
    """settings_with("site", district="Mai Sơn"): the app runs with one settings section
    changed for the test; the original settings come back after."""
    app = ui.app
    original = app.settings

    def change(section: str, **values):
        part = dataclasses.replace(getattr(original, section), **values)
        app.settings = dataclasses.replace(original, **{section: part})

    yield change
    app.settings = original


class Kiosk:
    def __init__(self, app, source, stamps, data_dir, store, settings):
        self.app, self.source, self.stamps = app, source, stamps
        self.data_dir, self.store, self.settings = data_dir, store, settings

    # --- driving ----------------------------------------------------------------------------

    def pump(self, frames: int = 1):
        from kivy.base import EventLoop

        for _ in range(frames):
            EventLoop.idle()

    def wait(self, condition, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.pump()
            if condition():
                return True
        return condition()

    def settle(self, seconds: float = 0.3):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump()

    def screen(self, name=None):
        sm = self.app.sm
        return self.app.screen(name or sm.current)

    def wait_screen(self, name: str, timeout_s: float = 10.0) -> bool:
        ok = self.wait(
            lambda: self.app.sm.current == name and not self.app.sm.transition.is_active, timeout_s
        )
        self.settle(0.15)
        return ok

    def tap(self, widget):
        from kivy.tests import UnitTestTouch

        assert widget.get_root_window() is not None, f"{widget} is not on screen"
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump(2)
        touch.touch_up()
        self.pump(3)

    def keyboard_keys(self, keyboard) -> dict:
        """The visible keys of an on-screen keyboard by their label."""
        return {
            b.text: b
            for b in self.visible_widgets(keyboard)
            if hasattr(b, "text") and len(b.text) == 1
        }

    def type_on(self, keyboard, text: str):
        """Tap the keys of `text` (letters and spaces) like a person would."""
        keys = self.keyboard_keys(keyboard)
        for ch in text:
            self.tap(keys["␣" if ch == " " else ch.upper()])

    def hold_stamp(self, key: str, hold_s: float = 3.0):
        from kiosk.demo.camera import load_bgr

        self.source.inner.show(load_bgr(self.stamps[key].path), hold_s=hold_s)

    def reset(self):
        from kiosk.ui.app import IDLE_COUNTDOWN_S

        app = self.app
        self.source.replug()
        self.source.inner.clear()
        app.camera.scanner.worker.dedup.reset()
        app.idle_timeout_s = 600.0
        app.idle_countdown_s = IDLE_COUNTDOWN_S
        app.staff_signed_in = False
        app.scan_busy = False
        app.lang = "vi"
        app.mode = "station"
        app._result_text = ""
        app.go_home(reset=True)  # as after an idle timeout: the next shopper
        self.wait_screen("attract")

    # --- reading the widget tree --------------------------------------------------------------

    def visible_widgets(self, root=None):
        """Widgets the person can see: on the current screen, the top bar or the idle
        countdown over them, not hidden (opacity 0), not collapsed to zero size."""
        app = self.app
        shown = [app.root.ids.topbar, app.sm.current_screen, app.root.ids.idle_warning]
        roots = [root] if root is not None else shown
        found = []

        def walk(w):
            if w.opacity == 0 or w.width < 1 or w.height < 1:
                return
            found.append(w)
            for child in w.children:
                walk(child)

        for r in roots:
            walk(r)
        return found

    def labels(self, kinds=None):
        from kivy.uix.label import Label

        return [
            w
            for w in self.visible_widgets()
            if isinstance(w, Label) and (kinds is None or isinstance(w, kinds)) and w.text.strip()
        ]

    def texts(self):
        return [w.text for w in self.labels()]
