"""The staff print tab (kiosk.staff.print_tab says what it shows): pick a product, count,
lot on a keypad, the label preview, print, progress. Catalog reads, the preview and the
job's creation run on worker threads."""

from __future__ import annotations

import datetime as dt
import logging

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk.i18n import translator
from kiosk.printing.overview import label_preview_rgb
from kiosk.staff import print_tab
from kiosk.staff.print_tab import Editing, PrintLayout, PrintTabModel, progress_line
from kiosk.ui.screens.staff_base import StaffTabPane
from kiosk.ui.widgets import DataButton, ListButton, LotKeypad
from kiosk.viewmodels import SEARCH_DELAY_S

log = logging.getLogger(__name__)


class ProductPickButton(ListButton):
    """A product row in the staff picker (RecycleView view class)."""

    product_id = NumericProperty(0)


class CountPad(LotKeypad):
    """The number pad for the count: digits, backspace and clear (LotKeypad's keys)."""

    WIDE: tuple[str, ...] = ("1234567890",)  # type: ignore[assignment]
    NARROW: tuple[str, ...] = ("12345", "67890")  # type: ignore[assignment]


class PresetButton(DataButton):
    """One of print_tab.PRESET_COUNTS: sets the count in one tap."""

    count = NumericProperty(0)
    chosen = BooleanProperty(False)


class RepeatButton(DataButton):
    """+ or -: a press moves the count once; held, it repeats (print_tab.HOLD_DELAY_S,
    then every REPEAT_S, faster after a while) until the finger lifts or slides off.
    Chained Clock.schedule_once calls: each repeat decides the next, and one cancel
    stops it."""

    __events__ = ("on_step",)
    direction = NumericProperty(1)  # +1 or -1
    _repeat_event = None
    _repeats = 0

    def on_state(self, _widget, state):
        if state == "down":
            self._repeats = 0
            self._step()
            self._repeat_event = Clock.schedule_once(self._repeat, print_tab.HOLD_DELAY_S)
        else:
            self.stop_repeat()

    def _step(self):
        self.dispatch("on_step", self.direction * print_tab.repeat_step(self._repeats))

    def _repeat(self, _dt):
        if self.state != "down":
            return
        self._repeats += 1
        self._step()
        self._repeat_event = Clock.schedule_once(self._repeat, print_tab.REPEAT_S)

    def stop_repeat(self):
        if self._repeat_event is not None:
            self._repeat_event.cancel()
            self._repeat_event = None

    def on_step(self, delta):
        pass


class PrintTab(StaffTabPane):
    # what PrintTabModel.view() says (PrintView's fields)
    editing = StringProperty("")
    # rebind: kv reads its fields (root.layout.products.shown)
    layout = ObjectProperty(PrintLayout.of(Editing.NONE, False), rebind=True)
    search_query = StringProperty("")
    search_text = StringProperty("")
    searching = BooleanProperty(False)
    product_rows = ListProperty([])
    product_hint = StringProperty("")
    product_id = NumericProperty(0)
    product_name = StringProperty("")
    count = NumericProperty(1)
    print_text = StringProperty("")
    can_print = BooleanProperty(False)
    # A job is being created: Print is off until it exists (a double tap made two jobs).
    submitting = BooleanProperty(False)
    lot = StringProperty("")
    lot_button_text = StringProperty("")
    lot_field_text = StringProperty("")
    lot_length_text = StringProperty("")
    counting = BooleanProperty(False)
    count_field_text = StringProperty("")
    count_problem = StringProperty("")
    numpad = BooleanProperty(False)
    pad_title = StringProperty("")
    pad_field_text = StringProperty("")
    pad_problem = StringProperty("")
    produced_text = StringProperty("")
    best_before_text = StringProperty("")
    produced_empty = BooleanProperty(True)
    best_before_empty = BooleanProperty(True)
    dates_problem = StringProperty("")
    # the rest: the rendered label and the job on its way
    preview = ObjectProperty(None, allownone=True)
    progress_done = NumericProperty(0)
    progress_total = NumericProperty(0)
    progress_text = StringProperty("")
    _progress = None
    _search_request = 0
    _search_event = None

    def __init__(self, **kwargs):
        self.vm = PrintTabModel.for_today(dt.date.today())
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.ids.search_keyboard.bind(on_key=lambda kb, key: self.on_search_key(key))
        self.ids.lot_keypad.bind(on_key=lambda kb, key: self.on_lot_key(key))
        self.ids.count_pad.bind(on_key=lambda kb, key: self.on_count_key(key))
        self.app.bind(portrait=lambda *_: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        self.show(self.vm.view(self.app.lang, self.app.portrait))

    def enter(self) -> None:
        self.vm.editing = Editing.NONE
        self.vm.today = self.app.services.catalog.today  # the trusted day (kiosk.trusted_time)
        self.vm.printing_ok = self.screen.printing_ok
        self._load_default_products()
        if self.vm.product_id:
            self.render_preview()
        self.refresh()

    def signed_out(self) -> None:
        self.stop_repeats()
        self.vm.editing = Editing.NONE
        self.vm.search_query = ""
        self.vm.found_products = []
        self.refresh()

    def on_language(self) -> None:
        if self._progress is not None:
            self.show_progress(self._progress)
        self.refresh()

    def stop_editing(self) -> None:
        """Another tab was opened: keyboards close."""
        self.vm.editing = Editing.NONE
        self.refresh()

    # --- product picker: featured/first products, or a search -------------------------------

    def _load_default_products(self):
        future = self.app.services.submit(print_tab.default_products, self.app.services.catalog)
        future.add_done_callback(lambda f: self.app.on_ui_thread(self._defaults_loaded, f))

    def _defaults_loaded(self, future):
        try:
            self.vm.default_products = future.result()
        except Exception:
            log.exception("product list failed")
            self.vm.default_products = []
        first = self.vm.first_default()
        if first is not None:
            self.select_product(first)
        self.refresh()

    def start_search(self):
        self._start_editing(Editing.SEARCH)

    def _start_editing(self, editing: Editing) -> None:
        """A keyboard opens: a "cancel the rest" waiting for its second tap is disarmed."""
        self.vm.editing = editing
        self.screen.disarm()
        self.app.poke()
        self.refresh()

    def stop_search(self):
        self.vm.editing = Editing.NONE
        self.refresh()

    def on_search_key(self, key: str):
        self.vm.key_in_search(key)
        self.refresh()
        self.unschedule(self._search_event)
        self._search_event = self.schedule(self.run_search, SEARCH_DELAY_S)

    def run_search(self):
        """Catalog.search (diacritic-free, ranked) on a worker thread; the newest wins."""
        query = self.vm.search_query.strip()
        self._search_request += 1
        request = self._search_request
        if not query:
            self.vm.found_products = []
            self.refresh()
            return
        catalog = self.app.services.catalog
        future = self.app.services.submit(catalog.search, query, limit=print_tab.SEARCH_LIMIT)
        future.add_done_callback(
            lambda f: self.app.on_ui_thread(self._search_done, request, query, f)
        )

    def _search_done(self, request, query, future):
        if request != self._search_request:
            return  # a newer search is on its way
        try:
            self.vm.found_products = future.result()
        except Exception:
            log.exception("product search %r failed", query)
            self.vm.found_products = []
        self.refresh()

    def select_product(self, product_id: int):
        product = self.vm.find_product(product_id)
        if product is None:
            product = self.app.services.catalog.product(product_id)
        self.vm.select(product_id, product, self.app.lang)
        self.refresh()
        self.render_preview()

    # --- count, lot, preview ----------------------------------------------------------------

    def change_count(self, delta: int):
        self.vm.change_count(delta)
        self.refresh()

    def set_count(self, count: int):
        self.vm.set_count(count)
        self.refresh()

    def stop_repeats(self) -> None:
        for name in ("count_minus", "count_plus"):
            self.ids[name].stop_repeat()

    def start_count(self):
        self._start_editing(Editing.COUNT)
        self.vm.start_count()
        self.refresh()

    def on_count_key(self, key: str):
        """The number pad: the count's or a date's digits."""
        self.vm.key_in_pad(key)
        self.refresh()

    def stop_count(self):
        dating = self.vm.editing in print_tab.DATE_FIELDS
        self.vm.finish_pad(self.app.lang)
        self.refresh()
        if dating:
            self.render_preview()

    def start_date(self, field: str):
        """field: "produced_on" or "best_before" (an Editing value)."""
        self._start_editing(Editing(field))
        self.vm.start_date(Editing(field))
        self.refresh()

    def start_lot(self):
        self._start_editing(Editing.LOT)

    def on_lot_key(self, key: str):
        self.vm.key_in_lot(key)
        self.refresh()

    def stop_lot(self):
        self.vm.editing = Editing.NONE
        self.refresh()
        self.render_preview()

    def render_preview(self):
        """Render the label on a worker thread (kiosk.printing.overview); show it when
        ready."""
        app = self.app
        product_id, lot = int(self.vm.product_id), self.vm.lot
        if not product_id:
            return
        dates = self.vm.dates(app.lang)[1]  # a wrong date is not drawn (Print waits)
        future = app.services.submit(
            label_preview_rgb, app.services.catalog, app.settings, product_id, lot, dates
        )
        future.add_done_callback(lambda f: app.on_ui_thread(self._preview, f))

    def _preview(self, future):
        try:
            (w, h), data = future.result()
        except Exception:
            log.exception("label preview failed")
            return
        texture = Texture.create(size=(w, h), colorfmt="rgb")
        texture.blit_buffer(data, colorfmt="rgb", bufferfmt="ubyte")
        texture.flip_vertical()
        self.preview = texture

    # --- printing -------------------------------------------------------------------------

    def print_now(self):
        app = self.app
        _ = translator(app.lang)
        if not self.screen.printing_ok or app.services.print_queue is None:
            self.progress_text = _("Printing is not available here")
            return
        if self.submitting:
            return
        problem, dates = self.vm.dates(app.lang)
        if dates is None:  # Print is disabled then; a tap that slipped through prints nothing
            self.progress_text = problem
            return
        self.submitting = True
        product_id, count, lot = int(self.vm.product_id), int(self.vm.count), self.vm.lot.strip()
        self.progress_done, self.progress_total = 0, count
        self.progress_text = _("Reserving {n} stamps…").format(n=count)
        future = app.services.submit(app.services.submit_print, product_id, count, lot, dates)
        future.add_done_callback(lambda f: app.on_ui_thread(self._submitted, f))

    def _submitted(self, future):
        _ = translator(self.app.lang)
        self.submitting = False
        try:
            job_id = future.result()
        except Exception as exc:  # noqa: BLE001 - the reason is shown to staff
            log.warning("print job not created: %s", exc)
            self.progress_text = _("Could not create the print job: {error}").format(error=exc)
            return
        self.progress_text = _("Job #{job} waiting for the printer").format(job=job_id)
        self.screen.queue_tab.refresh_jobs()

    def show_progress(self, progress) -> None:
        """What the print worker reported (kiosk.printing.queue.Progress)."""
        self._progress = progress
        self.progress_done, self.progress_total = progress.done, progress.total
        self.progress_text = progress_line(progress, self.app.lang)
