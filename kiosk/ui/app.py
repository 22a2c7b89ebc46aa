"""KioskApp: the Kivy application. Its screens are those of kiosk/ui/screen_registry.py
(kiosk/ui/screens/*.py + *.kv).

Threads: the camera capture thread and decode worker (scanner), a small worker pool for scans,
PIN checks and label previews, the print worker and printer monitor (station), sync (when
wired). None of them touches a widget: results come back through Clock.schedule_once.
The UI thread never waits on them.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from kiosk.heap import release_free_heap
from kiosk.i18n import translator
from kiosk.ui.render import gl_info, screen_transition
from kiosk.ui.screen_registry import SCREENS, SHARED_KV_FILES, screen_spec
from kiosk.ui.theme import COLOURS, scale_unit
from kiosk.ui.ticks import every
from kiosk.viewmodels import camera_state_text, scan_hint_text
from printer.fonts import font_path

log = logging.getLogger(__name__)

UI_DIR = Path(__file__).resolve().parent
SCANS_IGNORED_ON = frozenset({"staff_pin", "staff"})
HINT_SHOW_S = 2.5
CAMERA_WATCH_INTERVAL_S = 2.0  # how often a kiosk on its demo camera looks for a USB camera
HEAP_TIDY_INTERVAL_S = 3600.0  # kiosk.heap: freed memory back to the system, on attract
IDLE_CHECK_INTERVAL_S = 0.5  # how often the idle time is looked at before a countdown
IDLE_COUNTDOWN_S = 10.0  # the last seconds before the idle return are counted down
DAY_CHECK_INTERVAL_S = 30.0  # a rating that expires at midnight loses its stars by then
# systemd's watchdog: a worker inside one call this long is hung, not slow. Opening a USB
# camera takes 1-3 s; a frame decodes in 2-100 ms.
CAMERA_STUCK_AFTER_S = 15.0
DECODE_STUCK_AFTER_S = 10.0
_kv_loaded = False


def register_fonts() -> None:
    """One font with every Vietnamese glyph and the star for every label."""
    LabelBase.register(DEFAULT_FONT, str(font_path()), fn_bold=str(font_path("bold")))


def load_kv() -> None:
    global _kv_loaded
    if _kv_loaded:
        return
    for spec in SCREENS:
        spec.widget_class()  # imported: the class and its widgets are in Factory
    Builder.load_file(str(UI_DIR / "widgets.kv"))
    for kv in SHARED_KV_FILES + tuple(kv for spec in SCREENS for kv in spec.kv_files):
        Builder.load_file(str(UI_DIR / "screens" / kv))
    Builder.load_file(str(UI_DIR / "app.kv"))
    _kv_loaded = True


class Root(BoxLayout):
    pass


class IdleWarning(BoxLayout):
    """The countdown before the idle return, over the bottom of the current screen (app.kv).
    Shown while `seconds` > 0; then a touch on it stays on it (the Stay button or nothing),
    never reaching the screen below. Hidden, it lets every touch through."""

    seconds = NumericProperty(0)

    def on_touch_down(self, touch):
        if not self.seconds or not self.collide_point(*touch.pos):
            return False
        super().on_touch_down(touch)
        return True


class KioskApp(App):
    lang = StringProperty("vi")
    mode = StringProperty("showroom")
    u = NumericProperty(1.0)  # size unit: 1.0 at 800x480, 2.25 at 1920x1080
    big = NumericProperty(1.0)  # rest-stop mode: larger type for reading from afar
    portrait = BooleanProperty(False)
    current = StringProperty("attract")
    camera_state = StringProperty("starting")
    camera_text = StringProperty("")
    scan_hint = StringProperty("")
    scan_busy = BooleanProperty(False)
    idle_countdown = NumericProperty(0)  # seconds left before the idle return; 0: not shown
    demo_camera = BooleanProperty(False)
    demo_stamps = ListProperty([])
    staff_signed_in = BooleanProperty(False)
    services = ObjectProperty(None)
    prefs = ObjectProperty(None)  # kiosk.ui_prefs.UiPrefs: mode/language and sources

    def __init__(
        self,
        settings,
        store,
        data_dir,
        services=None,
        camera_source=None,
        camera_is_demo: bool | None = None,
        today=None,
        start_camera: bool = True,
        cli_mode: str | None = None,
        cli_lang: str | None = None,
        camera_detector=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.title = "OCOP Sơn La"
        self.settings = settings
        self.store = store
        self.data_dir = Path(data_dir)
        self.today = today
        if services is None:
            from kiosk.ui.services import Services

            services = Services.create(settings, store, data_dir, today=today)
        self.services = services
        # Mode and default language: command line > staff's saved choice > settings file.
        from kiosk.ui_prefs import load_prefs

        self.prefs = load_prefs(store, settings, cli_mode, cli_lang)
        self.default_lang = self.prefs.language
        self.lang = self.default_lang
        self.mode = self.prefs.mode
        self.idle_timeout_s = settings.ui.idle_timeout_s
        self.attract_cycle_s = settings.ui.attract_cycle_s
        self._camera_source = camera_source
        self._camera_is_demo = camera_is_demo
        self.start_camera = start_camera
        self.camera = None
        self.camera_detector = camera_detector  # scanner CameraDetector; None: the real /sys
        self.camera_watch_interval_s = CAMERA_WATCH_INTERVAL_S
        self._camera_watch = None  # Clock event while looking for a camera
        self._last_activity = time.monotonic()
        self.idle_countdown_s = IDLE_COUNTDOWN_S
        self._countdown_event = None  # Clock event of the next countdown step
        self._catalog_seen: tuple | None = None  # (cursor, trust sequence, day) on screen
        self._hint_event = None
        self._ready_sent = False
        self.first_frame_s: float | None = None
        self.last_outcome = None
        self._result_text = ""
        self._stopped = False

    # --- helpers for kv -------------------------------------------------------------------

    def tr(self, msgid: str, lang: str | None = None) -> str:
        """Translate for kv: `text: app.tr("Scan", app.lang)` re-evaluates on a switch."""
        return translator(lang or self.lang)(msgid)

    def col(self, name: str, alpha: float | None = None) -> list[float]:
        c = list(COLOURS[name])
        if alpha is not None:
            c[3] = alpha
        return c

    # --- life cycle -----------------------------------------------------------------------

    def build(self):
        register_fonts()
        load_kv()
        self.on_mode(self, self.mode)
        Window.clearcolor = COLOURS["cream"]
        Window.bind(
            size=self._on_window_size,
            on_touch_down=self._on_touch_down,
            on_touch_up=self._on_touch_up,
            on_key_down=self._on_key,
        )
        self._on_window_size(Window, Window.size)
        self.root = Root()
        self.sm = self.root.ids.sm
        self.sm.transition = screen_transition(gl_info()["renderer"])
        self.sm.bind(current=self.setter("current"))
        return self.root

    def screen(self, name: str):
        """The screen called `name`, built the first time it is asked for: each screen's
        widgets, texts and textures cost memory (~15 MB for result, product and the two
        staff screens on software GL), and a showroom kiosk may never show some of them."""
        if not self.sm.has_screen(name):
            self.sm.add_widget(screen_spec(name).widget_class()(name=name))
        return self.sm.get_screen(name)

    def on_start(self):
        from kiosk.ui.render import throttle_software_gl
        from kiosk.watchdog import Watchdog

        throttle_software_gl()  # software GL only: finish each frame before the next
        self.watchdog = Watchdog()
        Window.bind(on_flip=self._first_flip)
        # Pings come from the UI clock: a frozen UI loop stops them by itself. A worker
        # thread that died or hangs stops them too (checks below and in _start_camera).
        every(self.watchdog.tick_s, self.watchdog.heartbeat)
        self.watchdog.add_check("print worker", self._print_worker_health)
        if self.start_camera:
            self._start_camera()
        every(IDLE_CHECK_INTERVAL_S, self._check_idle)
        # A rest-stop kiosk may show the attract slides for days without a shopper.
        every(HEAP_TIDY_INTERVAL_S, self._tidy_heap)
        self._catalog_seen = self._catalog_version()
        # The clock's high-water mark: a Pi without RTC that boots in 1970 still judges
        # ratings by the last time it saw (kiosk.trusted_time).
        from kiosk.trusted_time import ClockKeeper, clock_for

        self.clock_keeper = ClockKeeper(clock_for(self.store)).start()
        every(DAY_CHECK_INTERVAL_S, self._check_catalog)
        self.services.watch_devices(lambda: self.camera_state, lambda: self.demo_camera)
        self.services.start_sync(
            on_status=lambda status: self.on_ui_thread(self._sync_changed, status)
        )

    def _print_worker_health(self) -> object:
        worker = self.services.print_worker
        return worker is None or worker.is_alive() or "print worker thread died"

    def _sync_changed(self, _status):
        if self.sm.current == "staff":
            self.screen("staff").refresh_sync()
        self._check_catalog()

    # --- what the screens show must follow the store ---------------------------------------

    def _catalog_version(self) -> tuple:
        """What the shown products depend on: the catalog and trust list applied by sync,
        and the day (ratings expire at midnight)."""
        from kiosk.sync.status import read_sync_status

        status = read_sync_status(self.store)  # saved by sync in this process or another
        return (status.catalog_cursor, status.trust_list_sequence, self.services.catalog.today)

    def _check_catalog(self) -> None:
        version = self._catalog_version()
        if version == self._catalog_seen:
            return
        log.info(
            "catalog, trust list or day changed: %s -> %s; refreshing %s",
            self._catalog_seen,
            version,
            self.sm.current,
        )
        self._catalog_seen = version
        screen = self.sm.current_screen
        if hasattr(screen, "on_catalog_changed"):
            screen.on_catalog_changed()

    def on_stop(self):
        self._stopped = True
        self._stop_countdown()  # its next step must not run after the app has gone
        self._watch_for_camera(False)
        for screen in self.sm.screens:  # a screen's timers must not outlive the app
            if hasattr(screen, "stop_callbacks"):
                screen.stop_callbacks()
        watchdog = getattr(self, "watchdog", None)
        if watchdog is not None:
            watchdog.stopping()
        if self.camera is not None:
            self.camera.stop()
        keeper = getattr(self, "clock_keeper", None)
        if keeper is not None:
            keeper.stop()  # the last mark, at a clean stop
        self.services.close()

    def _first_flip(self, *_):
        if self.first_frame_s is None:
            self.first_frame_s = time.perf_counter()
        if not self._ready_sent:
            self._ready_sent = True
            self.watchdog.ready("attract screen")
        Window.unbind(on_flip=self._first_flip)

    # --- layout ---------------------------------------------------------------------------

    def _on_window_size(self, _window, size):
        w, h = size
        self.u = scale_unit(w, h)
        self.portrait = h > w

    def on_mode(self, _inst, mode):
        self.big = 1.2 if mode == "reststop" else 1.0

    # --- language and navigation ----------------------------------------------------------

    def set_lang(self, code: str) -> None:
        if code in ("vi", "en"):
            self.lang = code
            self.poke()

    def set_mode(self, code: str) -> None:
        if code in ("showroom", "reststop", "station"):
            self.mode = code

    def open_staff(self, *_) -> None:
        """The hidden staff gesture (hold the top-bar logo): the PIN pad, in every mode."""
        if self.sm.current not in SCANS_IGNORED_ON:
            self.go("staff" if self.staff_signed_in else "staff_pin")

    def go(self, name: str, **kwargs) -> None:
        screen = self.screen(name)
        if hasattr(screen, "prepare"):
            screen.prepare(**kwargs)
        self.sm.current = name
        self.poke()

    def go_home(self, *_, reset: bool = False) -> None:
        self._stop_countdown()
        self.idle_countdown = 0
        if reset:
            self.lang = self.default_lang
            self.staff_signed_in = False
            if self.sm.has_screen("browse"):  # the next shopper starts afresh
                self.sm.get_screen("browse").reset()
            for name in ("result", "product"):  # and sees every card from its top
                if self.sm.has_screen(name):
                    self.sm.get_screen(name).ids.detail.scroll_to_top()
        self.sm.current = "attract"
        if reset:  # nobody is waiting: give the day's freed heap back (~3 ms)
            release_free_heap()

    def show_product(self, product_id: int) -> None:
        self.go("product", product_id=product_id)

    # --- idle -----------------------------------------------------------------------------

    def poke(self, *_):
        """Someone is here: the idle time starts again and a countdown on screen ends."""
        self._last_activity = time.monotonic()
        self._stop_countdown()
        self.idle_countdown = 0

    def stay(self, *_):
        """The countdown's Stay button."""
        log.info("idle countdown: stay on %s", self.sm.current)
        self.poke()

    def _on_touch_down(self, *_):
        # The idle time starts again now, but a countdown on screen stays until the finger
        # lifts: the touch that lands on its Stay button presses it, not what lies below.
        self._last_activity = time.monotonic()
        self._stop_countdown()

    def _on_touch_up(self, *_):
        self.poke()

    def _stop_countdown(self) -> None:
        if self._countdown_event is not None:
            self._countdown_event.cancel()
            self._countdown_event = None

    def _on_key(self, _window, key, _scancode=None, _codepoint=None, modifiers=(), *_):
        self.poke()
        # Ctrl+Q leaves full screen for a technician with a keyboard; a shopper on the
        # touchscreen cannot (Esc is off in full screen). Under systemd the unit restarts it.
        if key == ord("q") and "ctrl" in (modifiers or ()):
            log.info("Ctrl+Q: quitting")
            self.stop()
            return True
        return False

    def idle_for_s(self) -> float:
        return time.monotonic() - self._last_activity

    def _check_idle(self):
        """Every IDLE_CHECK_INTERVAL_S: start the countdown on time. The countdown itself
        steps on whole seconds (_count_down), not on this coarse check."""
        if self.sm.current == "attract":
            self._stop_countdown()
            self.idle_countdown = 0
            return
        if self._countdown_event is not None:
            return
        wait_s = self.idle_timeout_s - self.idle_for_s() - self.idle_countdown_s
        if wait_s <= IDLE_CHECK_INTERVAL_S:
            self._countdown_event = Clock.schedule_once(self._count_down, max(0.0, wait_s))

    def _count_down(self, *_):
        """Show the whole seconds left, and come back when the next one begins; at 0, the
        return to attract, once (poke and the attract screen end the countdown)."""
        self._countdown_event = None
        if self.sm.current == "attract":
            self.idle_countdown = 0
            return
        left_s = self.idle_timeout_s - self.idle_for_s()
        if left_s <= 0:
            log.info("idle for %.0f s on %s: back to attract", self.idle_for_s(), self.sm.current)
            self.idle_countdown = 0
            self.go_home(reset=True)
            return
        # never more than the countdown's length: a timer firing early must not flash 11
        shown = min(math.ceil(left_s), math.ceil(self.idle_countdown_s))
        self.idle_countdown = shown
        # the moment the number shown becomes shown - 1 (a clock firing early comes back)
        self._countdown_event = Clock.schedule_once(self._count_down, left_s - (shown - 1))

    def _tidy_heap(self):
        if self.sm.current == "attract":
            release_free_heap()

    # --- camera and scanning --------------------------------------------------------------

    def _start_camera(self):
        from kiosk.camera_choice import make_camera_source
        from kiosk.ui.camera import CameraService

        source, is_demo = self._camera_source, self._camera_is_demo
        chosen_by_settings = source is None
        if chosen_by_settings:
            source, is_demo = make_camera_source(
                self.settings, self.data_dir, detector=self.camera_detector
            )
        self.camera = CameraService(
            source,
            on_codes=self._codes_from_worker,
            on_state=self._state_from_worker,
            on_hint=self._hint_from_worker,
            gone_after_s=self.settings.camera.gone_after_s,
            is_demo=bool(is_demo),
        )
        if is_demo is None:
            is_demo = self.camera.demo_source is not None
        self.demo_camera = bool(is_demo) and self.camera.demo_source is not None
        if self.demo_camera:
            self.services.submit(self._prepare_demo_stamps).add_done_callback(
                lambda f: Clock.schedule_once(lambda dt: self._demo_stamps_ready(f))
            )
        self.camera.start()
        watchdog = getattr(self, "watchdog", None)
        if watchdog is not None:
            scanner = self.camera.scanner
            watchdog.watch_worker(
                "camera", scanner.capture, scanner.capture.in_driver, CAMERA_STUCK_AFTER_S
            )
            watchdog.watch_worker(
                "decode", scanner.worker, scanner.worker.in_decoder, DECODE_STUCK_AFTER_S
            )
        # The demo camera is temporary only when "auto" fell back to it for want of a camera;
        # a replay or demo source asked for (settings, command line, tests) stays as it is.
        self._watch_for_camera(
            chosen_by_settings and self.demo_camera and self.settings.camera.kind.value == "auto"
        )

    @property
    def watching_for_camera(self) -> bool:
        return self._camera_watch is not None

    def _watch_for_camera(self, on: bool) -> None:
        if self._camera_watch is not None:
            self._camera_watch.cancel()
            self._camera_watch = None
        if on and not self._stopped:
            log.info(
                "no camera attached: demo camera; looking for a USB camera every %.0f s",
                self.camera_watch_interval_s,
            )
            self._camera_watch = every(self.camera_watch_interval_s, self._look_for_camera)

    def _look_for_camera(self):
        """UI thread, every camera_watch_interval_s: sysfs reads only, nothing is opened here;
        the new source is opened by the capture thread restart_camera() starts."""
        from kiosk.camera_choice import usb_cameras_attached

        cameras = usb_cameras_attached(self.camera_detector)
        if not cameras:
            return
        log.info(
            "camera plugged in (%s): switching from the demo camera",
            ", ".join(c.label for c in cameras),
        )
        self._watch_for_camera(False)
        self.restart_camera()  # from the settings again: "auto" now finds the camera

    def restart_camera(self, source=None, is_demo: bool | None = None) -> None:
        """Stop the scanner and start it again on `source` (None: from the settings)."""
        if self.camera is not None:
            self.camera.stop()
            self.camera = None
        self._camera_source, self._camera_is_demo = source, is_demo
        self._start_camera()

    def _prepare_demo_stamps(self):
        from kiosk.demo.stamps import prepare_demo_stamps

        return prepare_demo_stamps(self.store, self.settings, self.data_dir)

    def _demo_stamps_ready(self, future):
        try:
            self.demo_stamps = future.result()
        except Exception:
            log.exception("demo stamps could not be made")

    def hold_demo_stamp(self, key: str) -> None:
        """Demo camera: hold one of the demo stamp pictures in front of the 'camera'."""
        from kiosk.demo.camera import load_bgr

        source = self.camera.demo_source if self.camera else None
        stamp = next((s for s in self.demo_stamps if s.key == key), None)
        if source is None or stamp is None:
            return
        source.show(load_bgr(stamp.path))
        self.poke()

    def latest_frame(self):
        return self.camera.latest_frame if self.camera else None

    def on_ui_thread(self, fn, *args) -> None:
        """From any thread: run fn(*args) on the UI thread at the next frame (dropped once
        the app has stopped)."""
        Clock.schedule_once(lambda dt: None if self._stopped else fn(*args))

    def _codes_from_worker(self, codes, frame):  # decode-worker thread
        self.on_ui_thread(self.on_codes, [c.text for c in codes])

    def _state_from_worker(self, status):  # capture thread
        self.on_ui_thread(self._set_camera_state, status.state.value)

    def _hint_from_worker(self, hint, frame):  # decode-worker thread
        xs = [p[0] for p in hint.quad] if hint.quad else []
        width = (max(xs) - min(xs)) if xs else None
        self.on_ui_thread(self._show_hint, width)

    def _set_camera_state(self, state: str):
        self.camera_state = state
        self.camera_text = camera_state_text(state, self.lang)

    def on_lang(self, *_):
        self.camera_text = camera_state_text(self.camera_state, self.lang)

    def _show_hint(self, width):
        if self.sm.current != "scan":
            return
        self.scan_hint = scan_hint_text(width, self.lang)
        if self._hint_event is not None:
            self._hint_event.cancel()
        self._hint_event = Clock.schedule_once(
            lambda dt: setattr(self, "scan_hint", ""), HINT_SHOW_S
        )

    def on_codes(self, texts: list[str]) -> None:
        """UI thread: a new code was decoded. Verify and record it on a worker thread."""
        if not texts or self.sm.current in SCANS_IGNORED_ON or self.scan_busy:
            return
        text = texts[0]
        if self.sm.current == "result" and text == self._result_text:
            return  # the same stamp still in front of the camera
        self.scan_text(text)

    def scan_text(self, text: str, source: str = "camera") -> None:
        self.scan_busy = True
        self.scan_hint = ""
        self.poke()
        future = self.services.submit(self.services.scan.handle_text, text, source)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda dt: self._scan_done(text, f)))

    def _scan_done(self, text, future):
        self.scan_busy = False
        try:
            outcome = future.result()
        except Exception:
            log.exception("scan of %r failed", text[:80])
            outcome = None
        self.show_outcome(text, outcome)

    def show_outcome(self, text, outcome) -> None:
        self.last_outcome = outcome
        self._result_text = text
        self.go("result", outcome=outcome)
