"""Staff screen (after the PIN): print stamps with a label preview and progress, the print
queue and printer status, sync status with "sync now", language and mode.

Printing runs in kiosk.printing's PrintWorker; the label preview is rendered on a worker
thread; printer status comes from a monitor thread. This screen only shows what they report.
"""

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
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import COLOURS
from kiosk.ui.widgets import DataLabel, KLabel, ListButton
from kiosk.viewmodels import job_state_text, printer_state_text

log = logging.getLogger(__name__)
MAX_COUNT = 100
PREVIEW_TEXT_CHARS = 122


class StaffScreen(KioskScreen):
    tab = StringProperty("print")
    product_id = NumericProperty(0)
    product_name = StringProperty("")
    count = NumericProperty(1)
    lot = StringProperty("")
    preview = ObjectProperty(None, allownone=True)
    progress_done = NumericProperty(0)
    progress_total = NumericProperty(0)
    progress_text = StringProperty("")
    printer_state = StringProperty("unknown")
    printer_text = StringProperty("")
    printer_detail = StringProperty("")
    printing_ok = BooleanProperty(True)
    jobs = ListProperty([])
    sync_lines = StringProperty("")
    sync_message = StringProperty("")
    _progress = None
    _printer = (None, None)
    _products_built_for = None

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.lot = dt.date.today().strftime("%Y-%m")

    # --- enter / leave --------------------------------------------------------------------

    def on_pre_enter(self, *_):
        app = self.app
        if not app.staff_signed_in:
            Clock.schedule_once(lambda dt: app.go("staff_pin"), 0)
            return
        started = app.services.start_printing(self._progress_from_worker,
                                              self._printer_from_worker)
        self.printing_ok = started
        watchdog = getattr(app, "watchdog", None)
        if started and watchdog is not None:
            watchdog.watch_thread("print", app.services.print_worker)
        monitor = app.services.printer_monitor
        if monitor is not None:
            monitor.active.set()
            monitor.poll_now()
        self._build_products()
        if not self.product_id:
            featured = app.services.catalog.all(limit=1)
            if featured:
                self.select_product(featured[0].id)
        else:
            self.render_preview()
        self.refresh_jobs()
        self.refresh_sync()
        self.on_language()

    def on_leave(self, *_):
        monitor = self.app.services.printer_monitor
        if monitor is not None:
            monitor.active.clear()

    def show_tab(self, tab):
        self.tab = tab
        self.app.poke()
        if tab == "queue":
            self.refresh_jobs()
            if self.app.services.printer_monitor:
                self.app.services.printer_monitor.poll_now()
        elif tab == "sync":
            self.refresh_sync()

    def sign_out(self):
        self.app.staff_signed_in = False
        self.app.go_home()

    def on_language(self):
        _ = translator(self.app.lang)
        self._build_products()
        if self._progress is not None:
            self._apply_progress(self._progress)
        state, err = self._printer
        if state is not None:
            self._apply_printer(state, err)
        elif not self.printing_ok:
            self.printer_text = _("Printing is not available here")
            self.printer_detail = self.app.services.print_error
        self.refresh_jobs()
        self.refresh_sync()

    # --- product, count, lot, preview ------------------------------------------------------

    def _build_products(self):
        box = self.ids.get("product_list")
        if box is None:
            return
        lang = self.app.lang
        key = (lang, self.product_id)
        if self._products_built_for == key:
            return
        self._products_built_for = key
        box.clear_widgets()
        for p in self.app.services.catalog.all(limit=300):
            btn = ListButton(text=f"{p.id} · {p.name(lang)}", selected=p.id == self.product_id)
            btn.bind(on_release=lambda b, pid=p.id: self.select_product(pid))
            box.add_widget(btn)

    def select_product(self, product_id: int):
        self.product_id = product_id
        product = self.app.services.catalog.product(product_id)
        self.product_name = product.name(self.app.lang) if product else ""
        self._build_products()
        self.render_preview()

    def change_count(self, delta: int):
        self.count = max(1, min(MAX_COUNT, int(self.count) + delta))

    def render_preview(self):
        """Render the label on a worker thread; show it when ready."""
        app = self.app
        product_id, lot = int(self.product_id), self.lot
        if not product_id:
            return

        def work():
            from kiosk.printing.queue import label_content, label_layout
            from printer import render_label
            product = app.services.catalog.product(product_id)
            sample = app.settings.stamps.base_url + "A" * PREVIEW_TEXT_CHARS
            image = render_label(label_content(product, product_id, sample, 0, lot),
                                 label_layout(app.settings))
            rgb = image.convert("RGB")
            return rgb.size, rgb.tobytes()

        future = app.services.submit(work)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda dt: self._preview(f)))

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

    def on_lot(self, *_):
        if self.product_id:
            self.render_preview()

    # --- printing -------------------------------------------------------------------------

    def print_now(self):
        app = self.app
        _ = translator(app.lang)
        if not self.printing_ok or app.services.print_queue is None:
            self.progress_text = _("Printing is not available here")
            return
        product_id, count, lot = int(self.product_id), int(self.count), self.lot.strip()
        self.progress_done, self.progress_total = 0, count
        self.progress_text = _("Reserving {n} stamps…").format(n=count)

        def work():
            return app.services.submit_print(product_id, count, lot)

        future = app.services.submit(work)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda dt: self._submitted(f)))

    def _submitted(self, future):
        _ = translator(self.app.lang)
        try:
            job_id = future.result()
        except Exception as exc:
            log.warning("print job not created: %s", exc)
            self.progress_text = _("Could not create the print job: {error}").format(
                error=exc)
            return
        self.progress_text = _("Job #{job} waiting for the printer").format(job=job_id)
        self.refresh_jobs()

    def _progress_from_worker(self, progress):       # print-worker thread
        Clock.schedule_once(lambda dt: self._apply_progress(progress))

    def _apply_progress(self, p):
        self._progress = p
        _ = translator(self.app.lang)
        self.progress_done, self.progress_total = p.done, p.total
        state = job_state_text(p.state.value, self.app.lang)
        line = _("Job #{job}: {done} of {total} printed · {state}").format(
            job=p.job_id, done=p.done, total=p.total, state=state)
        if p.paused and p.error is not None or p.error is not None:
            line += "\n" + (p.error.staff_message_vi if self.app.lang == "vi"
                            else p.error.staff_message_en)
        self.progress_text = line
        if p.state.value != "printing":
            self.refresh_jobs()

    def _printer_from_worker(self, state, err):       # printer-monitor thread
        Clock.schedule_once(lambda dt: self._apply_printer(state, err))

    def _apply_printer(self, state, err):
        self._printer = (state, err)
        self.printer_state = state.value
        self.printer_text = printer_state_text(state, self.app.lang)
        if err is not None and hasattr(err, "staff_message_en"):
            self.printer_detail = (err.staff_message_vi if self.app.lang == "vi"
                                   else err.staff_message_en)
        elif err is not None:
            self.printer_detail = str(err)
        else:
            self.printer_detail = ""

    def check_printer(self):
        monitor = self.app.services.printer_monitor
        if monitor is not None:
            monitor.poll_now()
            self.app.services.print_queue.wake()

    def refresh_jobs(self):
        queue = self.app.services.print_queue
        box = self.ids.get("job_list")
        if box is None:
            return
        box.clear_widgets()
        lang = self.app.lang
        _ = translator(lang)
        jobs = queue.jobs(limit=8) if queue is not None else []
        self.jobs = [j.id for j in jobs]
        if not jobs:
            box.add_widget(KLabel(text=_("No print jobs yet."), color=COLOURS["muted"],
                                  font_size=15 * self.app.u))
            return
        catalog = self.app.services.catalog
        for job in jobs:
            product = catalog.product(job.product_id)
            name = product.name(lang) if product else str(job.product_id)
            box.add_widget(DataLabel(text=f"#{job.id}  {name}", font_size=15 * self.app.u,
                                     shorten=True))
            box.add_widget(KLabel(
                text=_("{done}/{total} · {state}").format(
                    done=len(job.printed), total=job.count,
                    state=job_state_text(job.state.value, lang)),
                color=COLOURS["red"] if job.state.value in ("failed", "interrupted")
                else COLOURS["green_dark"], font_size=15 * self.app.u))

    # --- sync -----------------------------------------------------------------------------

    def refresh_sync(self):
        _ = translator(self.app.lang)
        view = self.app.services.sync_status()
        lines = [view.label(self.app.lang),
                 _("{n} records waiting to be sent").format(n=view.pending)]
        if view.last_success:
            lines.append(_("Last successful sync: {when}").format(when=view.last_success))
        if view.detail and view.state in ("offline", "error"):
            lines.append(view.detail)
        self.sync_lines = "\n".join(lines)

    def sync_now(self):
        _ = translator(self.app.lang)
        answer = self.app.services.sync_now()
        self.sync_message = {"started": _("Sync started."),
                             "no_registry": _("Nothing to sync: this kiosk has no registry "
                                              "address."),
                             }.get(answer, _("Sync is not running"))
        Clock.schedule_once(lambda dt: self.refresh_sync(), 1.0)
