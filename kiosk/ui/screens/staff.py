"""Staff screen (after the PIN): print stamps with a label preview and progress, the print
queue and printer status (with the steps to finish a job that stopped part-way), sync status
with "sync now", the kiosk mode and default language (kept after a restart).

Printing runs in kiosk.printing's PrintWorker; the label preview, catalog searches, queue
reads and every queue change (resolve, resume, cancel) run on a worker thread; printer status
comes from a monitor thread. This screen only shows what they report. No Kivy text input:
the product search and the lot have on-screen keyboards.
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
from kivy.uix.boxlayout import BoxLayout

from kiosk import ui_prefs
from kiosk.i18n import N_, translator
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import COLOURS
from kiosk.ui.widgets import DataLabel, KLabel, ListButton
from kiosk.viewmodels import (
    LANGUAGE_NAMES,
    LOT_MAX_CHARS,
    SEARCH_DELAY_S,
    JobRecoveryViewModel,
    count_text,
    edit_lot,
    edit_query,
    job_state_text,
    mode_name,
    needs_attention,
    pref_source_text,
    printer_state_text,
    recovery_done_text,
)

log = logging.getLogger(__name__)
MAX_COUNT = 100
PREVIEW_TEXT_CHARS = 122
DEFAULT_PRODUCTS = 100        # featured products first, then the first by id
SEARCH_LIMIT = 50             # top matches shown for a search
CANCEL_CONFIRM_S = 5.0        # the second tap that confirms "cancel the rest" must come soon
RECENT_JOBS = 8
ATTENTION_SCAN = 50           # the newest interrupted/failed jobs looked at for recovery


class ProductPickButton(ListButton):
    """A product row in the staff picker (RecycleView view class)."""
    product_id = NumericProperty(0)


class UncertainRow(BoxLayout):
    """One label the printer may or may not have printed, with the two answers."""
    screen = ObjectProperty(None, allownone=True)
    busy = BooleanProperty(False)
    serial = NumericProperty(0)
    label = StringProperty("")
    printed_text = StringProperty("")
    reprint_text = StringProperty("")


class StaffScreen(KioskScreen):
    tab = StringProperty("print")
    editing = StringProperty("")           # "" | "search" (product keyboard) | "lot" (keypad)
    product_id = NumericProperty(0)
    product_name = StringProperty("")
    search_query = StringProperty("")
    product_rows = ListProperty([])
    product_hint = StringProperty("")
    count = NumericProperty(1)
    print_text = StringProperty("")
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
    recovery = ObjectProperty(None, allownone=True)    # JobRecoveryViewModel
    recovery_busy = BooleanProperty(False)
    recovery_message = StringProperty("")
    recovery_error = BooleanProperty(False)
    cancel_armed = BooleanProperty(False)
    attention = NumericProperty(0)         # jobs that need a staff decision
    sync_lines = StringProperty("")
    sync_message = StringProperty("")
    mode_source_text = StringProperty("")
    lang_source_text = StringProperty("")
    settings_message = StringProperty("")
    _progress = None
    _printer = (None, None)
    _search_request = 0
    _search_event = None
    _jobs_request = 0
    _disarm_event = None
    _jump_to_attention = False
    _recovery_job = None
    _recovery_note = None
    _sync_answer = None

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.lot = dt.date.today().strftime("%Y-%m")
        self._default_products = []
        self._found_products = []
        self.ids.search_keyboard.bind(on_key=lambda kb, key: self.on_search_key(key))
        self.ids.lot_keypad.bind(on_key=lambda kb, key: self.on_lot_key(key))
        self.app.bind(prefs=lambda *_: self._update_pref_texts(),
                      staff_signed_in=lambda *_: self._signed_in_changed())
        self.on_count()

    def _signed_in_changed(self):
        if not self.app.staff_signed_in:     # the next person starts on a clean screen
            self.tab = "print"
            self.editing = ""
            self.search_query = ""
            self._found_products = []
            self.show_recovery_note(None)
            self.sync_message = ""
            self._sync_answer = None
            self._disarm()

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
        self.editing = ""
        self._jump_to_attention = True
        self._load_default_products()
        if self.product_id:
            self.render_preview()
        self.refresh_jobs()
        self.refresh_sync()
        self.on_language()

    def on_leave(self, *_):
        monitor = self.app.services.printer_monitor
        if monitor is not None:
            monitor.active.clear()
        self._disarm()

    def show_tab(self, tab):
        self.tab = tab
        self.editing = ""
        self._disarm()
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
        self.on_count()
        self._show_products()
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
        self.show_recovery_note(self._recovery_note)
        self._show_sync_answer()
        self._update_pref_texts()
        self.settings_message = ""

    # --- product picker: featured/first products, or a search -------------------------------

    def _load_default_products(self):
        catalog = self.app.services.catalog

        def work():
            picked = {}
            for p in catalog.featured(limit=DEFAULT_PRODUCTS) + catalog.all(
                    limit=DEFAULT_PRODUCTS):
                picked.setdefault(p.id, p)
            return list(picked.values())[:DEFAULT_PRODUCTS]

        future = self.app.services.submit(work)
        future.add_done_callback(lambda f: self.app.on_ui_thread(self._defaults_loaded, f))

    def _defaults_loaded(self, future):
        try:
            self._default_products = future.result()
        except Exception:
            log.exception("product list failed")
            self._default_products = []
        if not self.product_id and self._default_products:
            self.select_product(self._default_products[0].id)
        self._show_products()

    def start_search(self):
        self.editing = "search"
        self._disarm()
        self.app.poke()

    def stop_search(self):
        self.editing = ""

    def on_search_key(self, key: str):
        self.search_query = edit_query(self.search_query, key)
        if self._search_event is not None:
            self._search_event.cancel()
        self._search_event = Clock.schedule_once(lambda dt: self.run_search(), SEARCH_DELAY_S)

    def run_search(self):
        """Catalog.search (diacritic-free, ranked) on a worker thread; the newest wins."""
        query = self.search_query.strip()
        self._search_request += 1
        request = self._search_request
        if not query:
            self._found_products = []
            self._show_products()
            return
        catalog = self.app.services.catalog
        future = self.app.services.submit(catalog.search, query, limit=SEARCH_LIMIT)
        future.add_done_callback(lambda f: self.app.on_ui_thread(
            self._search_done, request, query, f))

    def _search_done(self, request, query, future):
        if request != self._search_request:
            return      # a newer search is on its way
        try:
            self._found_products = future.result()
        except Exception:
            log.exception("product search %r failed", query)
            self._found_products = []
        self._show_products()

    def _shown_products(self) -> list:
        return self._found_products if self.search_query.strip() else self._default_products

    def _show_products(self):
        lang = self.app.lang
        _ = translator(lang)
        products = self._shown_products()
        self.product_rows = [{"text": f"{p.id} · {p.name(lang)}", "product_id": p.id,
                              "selected": p.id == self.product_id} for p in products]
        if not self.search_query.strip():
            self.product_hint = _("Featured products first. Search to find any other.")
        elif not products:
            self.product_hint = _("No product found. Try fewer letters.")
        elif len(products) >= SEARCH_LIMIT:
            self.product_hint = _("The first {n} matches. Type more to narrow down.").format(
                n=len(products))
        else:
            self.product_hint = count_text(len(products), lang, N_("{n} product found"),
                                           N_("{n} products found"))

    def select_product(self, product_id: int):
        self.product_id = product_id
        product = next((p for p in self._shown_products() + self._default_products
                        if p.id == product_id), None)
        if product is None:
            product = self.app.services.catalog.product(product_id)
        self.product_name = product.name(self.app.lang) if product else ""
        self.product_rows = [dict(row, selected=row["product_id"] == product_id)
                             for row in self.product_rows]
        self.editing = ""
        self.render_preview()

    # --- count, lot, preview ----------------------------------------------------------------

    def change_count(self, delta: int):
        self.count = max(1, min(MAX_COUNT, int(self.count) + delta))

    def on_count(self, *_):
        self.print_text = count_text(int(self.count), self.app.lang, N_("Print {n} stamp"),
                                     N_("Print {n} stamps"))

    def start_lot(self):
        self.editing = "lot"
        self._disarm()
        self.app.poke()

    def on_lot_key(self, key: str):
        self.lot = edit_lot(self.lot, key, LOT_MAX_CHARS)

    def stop_lot(self):
        self.editing = ""
        self.render_preview()

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
        self.app.on_ui_thread(self._new_progress, progress)

    def _new_progress(self, progress):
        if progress.state.value == "interrupted":
            self._jump_to_attention = True      # the job on show stopped: its steps next
        self._apply_progress(progress)

    def _apply_progress(self, p):
        self._progress = p
        _ = translator(self.app.lang)
        self.progress_done, self.progress_total = p.done, p.total
        state = job_state_text(p.state.value, self.app.lang)
        line = _("Job #{job}: {done} of {total} printed · {state}").format(
            job=p.job_id, done=p.done, total=p.total, state=state)
        if p.error is not None:
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

    # --- the queue: recent jobs, and a job that stopped part-way ------------------------------

    def refresh_jobs(self):
        """Read the recent jobs and the jobs needing a decision on a worker thread."""
        queue = self.app.services.print_queue
        if queue is None:
            self._jobs_loaded(self.app.lang, [], [], {})
            return
        catalog = self.app.services.catalog
        lang = self.app.lang
        self._jobs_request += 1
        request = self._jobs_request

        def work():
            recent = queue.jobs(limit=RECENT_JOBS)
            ids = [r[0] for r in queue.store.query(
                "SELECT id FROM print_jobs WHERE state IN ('interrupted', 'failed') "
                "ORDER BY id DESC LIMIT ?", (ATTENTION_SCAN,))]
            attention = [j for j in (queue.job(i) for i in reversed(ids))
                         if needs_attention(j)]
            names = {}
            for job in recent + attention[:1]:
                if job.product_id not in names:
                    product = catalog.product(job.product_id)
                    names[job.product_id] = product.name(lang) if product else \
                        f"#{job.product_id}"
            return recent, attention, names

        future = self.app.services.submit(work)
        future.add_done_callback(lambda f: self.app.on_ui_thread(
            self._jobs_read, request, lang, f))

    def _jobs_read(self, request, lang, future):
        if request != self._jobs_request:
            return
        try:
            recent, attention, names = future.result()
        except Exception:
            log.exception("print jobs could not be read")
            recent, attention, names = [], [], {}
        self._jobs_loaded(lang, recent, attention, names)

    def _jobs_loaded(self, lang, recent, attention, names):
        if lang != self.app.lang:
            self.refresh_jobs()
            return
        _ = translator(lang)
        self.jobs = [j.id for j in recent]
        self._build_job_list(recent, names, lang)
        self.attention = len(attention)
        job = attention[0] if attention else None
        if job != self._recovery_job:     # a cancel armed for another state is not valid
            self._disarm()
        self._recovery_job = job
        self.recovery = (JobRecoveryViewModel.build(job, names.get(job.product_id, ""), lang,
                                                    others=len(attention) - 1)
                         if job is not None else None)
        self._build_recovery()
        if job is not None and self._jump_to_attention and self.tab == "print" \
                and self.editing == "":
            self.tab = "queue"       # a stopped job waits for a decision: show it first
        self._jump_to_attention = False
        if not self.printing_ok:
            self.printer_text = _("Printing is not available here")

    def _build_job_list(self, jobs, names, lang):
        """Two labels a job. Existing labels are updated in place (a language switch changes
        their text rather than swapping them for new widgets)."""
        box = self.ids.get("job_list")
        if box is None:
            return
        _ = translator(lang)
        u = self.app.u
        if not jobs:
            cells = [(KLabel, _("No print jobs yet."), COLOURS["muted"])]
        else:
            cells = []
            for job in jobs:
                cells.append((DataLabel, f"#{job.id}  {names.get(job.product_id, '')}",
                              COLOURS["ink"]))
                cells.append((KLabel, _("{done}/{total} · {state}").format(
                    done=len(job.printed), total=job.count,
                    state=job_state_text(job.state.value, lang)),
                    COLOURS["red"] if needs_attention(job) else COLOURS["green_dark"]))
        old = list(reversed(box.children))
        if [type(w) for w in old] != [kind for kind, _t, _c in cells]:
            box.clear_widgets()
            old = []
            for kind, _t, _c in cells:
                widget = kind(font_size=15 * u, shorten=kind is DataLabel)
                box.add_widget(widget)
                old.append(widget)
        for widget, (_k, text, colour) in zip(old, cells):
            widget.text, widget.color, widget.font_size = text, colour, 15 * u

    def _build_recovery(self):
        box = self.ids.get("uncertain_list")
        if box is None:
            return
        vm = self.recovery
        stamps = vm.uncertain if vm is not None else ()
        rows = list(reversed(box.children))
        if [r.serial for r in rows] == [s.serial for s in stamps]:
            for row, stamp in zip(rows, stamps):      # same labels: new words in place
                row.label, row.printed_text = stamp.label, vm.printed_text
                row.reprint_text = vm.reprint_text
            return
        box.clear_widgets()
        for stamp in stamps:
            box.add_widget(UncertainRow(screen=self, busy=self.recovery_busy,
                                         serial=stamp.serial, label=stamp.label,
                                         printed_text=vm.printed_text,
                                         reprint_text=vm.reprint_text))

    def on_recovery_busy(self, *_):
        box = self.ids.get("uncertain_list")
        for row in box.children if box is not None else ():
            row.busy = self.recovery_busy

    def resolve_stamp(self, serial: int, printed: bool):
        """Staff looked at the printer: the label with this number came out, or not (it will
        be printed again). PrintQueue.resolve_uncertain runs on a worker thread."""
        vm = self.recovery
        queue = self.app.services.print_queue
        if vm is None or queue is None or self.recovery_busy:
            return
        job_id = vm.job_id
        self._run_recovery(lambda: queue.resolve_uncertain(job_id, serial, printed),
                           "printed" if printed else "reprint", serial=serial)

    def resume_job(self):
        """Back in the queue; the print worker picks it up at once."""
        vm = self.recovery
        services = self.app.services
        if vm is None or services.print_queue is None or self.recovery_busy:
            return
        job_id = vm.job_id

        def work():
            services.print_queue.resume(job_id)
            services.print_worker.kick()

        self._run_recovery(work, "resume", job_id=job_id)

    def cancel_rest(self):
        """First tap arms, a second tap within CANCEL_CONFIRM_S voids the unprinted stamps."""
        vm = self.recovery
        queue = self.app.services.print_queue
        if vm is None or queue is None or self.recovery_busy:
            return
        if not self.cancel_armed:
            self.cancel_armed = True
            self._disarm_event = Clock.schedule_once(lambda dt: self._disarm(),
                                                     CANCEL_CONFIRM_S)
            return
        self._disarm()
        job_id = vm.job_id
        self._run_recovery(lambda: queue.cancel(job_id), "cancel", job_id=job_id)

    def _disarm(self):
        if self._disarm_event is not None:
            self._disarm_event.cancel()
            self._disarm_event = None
        self.cancel_armed = False

    def _run_recovery(self, work, action, serial=None, job_id=0):
        self.recovery_busy = True
        self.show_recovery_note(None)
        self.app.poke()
        future = self.app.services.submit(work)
        future.add_done_callback(lambda f: self.app.on_ui_thread(
            self._recovery_done, f, action, serial, job_id))

    def _recovery_done(self, future, action, serial, job_id):
        self.recovery_busy = False
        try:
            result = future.result()
        except Exception as exc:
            log.warning("print job %s: %s failed: %s", job_id or serial, action, exc)
            self.show_recovery_note(("error", str(exc), 0, 0))
        else:
            self.show_recovery_note((action, serial, job_id,
                                     result if isinstance(result, int) else 0))
        self.refresh_jobs()

    def show_recovery_note(self, note):
        """The line under the stopped job: (action, serial, job_id, count), ("error",
        message, 0, 0) or None; re-worded when the language changes."""
        self._recovery_note = note
        lang = self.app.lang
        if note is None:
            self.recovery_error, self.recovery_message = False, ""
        elif note[0] == "error":
            _ = translator(lang)
            self.recovery_error = True
            self.recovery_message = _("Could not do that: {error}").format(error=note[1])
        else:
            action, serial, job_id, count = note
            self.recovery_error = False
            self.recovery_message = recovery_done_text(action, lang, serial=serial,
                                                       job_id=job_id, count=count)

    # --- sync -----------------------------------------------------------------------------

    def refresh_sync(self):
        _ = translator(self.app.lang)
        view = self.app.services.sync_status()
        lines = [view.label(self.app.lang),
                 _("{n} records waiting to be sent").format(n=view.pending)]
        if view.last_success:
            lines.append(_("Last successful sync: {when}").format(when=view.last_success))
        if view.detail and view.failed:
            lines.append(view.detail)
        from kiosk.trusted_time import clock_for, staff_clock_note
        clock_note = staff_clock_note(clock_for(self.app.store).reading(), self.app.lang)
        if clock_note:                      # "Clock not set": ratings use the trusted time
            lines.append(clock_note)
        self.sync_lines = "\n".join(lines)

    def sync_now(self):
        self._sync_answer = self.app.services.sync_now()
        self._show_sync_answer()
        Clock.schedule_once(lambda dt: self.refresh_sync(), 1.0)

    def _show_sync_answer(self):
        _ = translator(self.app.lang)
        answer = self._sync_answer
        if answer is None:
            self.sync_message = ""
            return
        self.sync_message = {"started": _("Sync started."),
                             "no_registry": _("Nothing to sync: this kiosk has no registry "
                                              "address."),
                             }.get(answer, _("Sync is not running"))

    # --- mode and default language, kept after a restart ------------------------------------

    def choose_mode(self, mode: str | None):
        """A mode (None: the settings file's), saved in the store on a worker thread."""
        app = self.app
        app.prefs = app.prefs.with_mode(mode)
        app.set_mode(app.prefs.mode)
        self._save(ui_prefs.save_mode, mode)

    def choose_language(self, lang: str | None):
        """The default language the kiosk returns to when idle (None: the settings file's)."""
        app = self.app
        app.prefs = app.prefs.with_language(lang)
        app.default_lang = app.prefs.language
        app.set_lang(app.prefs.language)
        self._save(ui_prefs.save_language, lang)

    def use_config(self, which: str):
        """Forget the staff's choice: the settings file's value applies again."""
        if which == "mode":
            self.choose_mode(None)
        elif which == "language":
            self.choose_language(None)

    def _save(self, fn, value):
        self.settings_message = ""
        future = self.app.services.submit(fn, self.app.store, value)
        future.add_done_callback(lambda f: self.app.on_ui_thread(self._saved, f))

    def _saved(self, future):
        try:
            future.result()
        except Exception as exc:
            log.error("kiosk settings not saved: %s", exc)
            _ = translator(self.app.lang)
            self.settings_message = _("Not saved: {error}. The change lasts until the kiosk "
                                      "restarts.").format(error=exc)

    def _update_pref_texts(self):
        app = self.app
        prefs, lang = app.prefs, app.lang
        if prefs is None:
            return
        self.mode_source_text = pref_source_text(prefs.mode_source.value,
                                                 mode_name(prefs.config_mode, lang), lang)
        self.lang_source_text = pref_source_text(
            prefs.language_source.value,
            LANGUAGE_NAMES.get(prefs.config_language, prefs.config_language), lang)
