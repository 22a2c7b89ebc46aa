"""The staff printer tab (kiosk.staff.queue_tab says what it shows): printer status, recent
jobs, and the steps to finish a job that stopped part-way. Queue reads and every queue change
(resolve, resume, cancel) run on a worker thread."""

from __future__ import annotations

import logging

from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from kiosk.printing.overview import QueueOverview, read_overview
from kiosk.staff.queue_tab import QueueTabModel, RecoveryLook, job_cells, printer_light
from kiosk.ui.screens.staff_base import StaffTabPane
from kiosk.ui.theme import COLOURS, FONT_LABEL
from kiosk.ui.widgets import DataLabel, KLabel

log = logging.getLogger(__name__)
CANCEL_CONFIRM_S = 5.0  # the second tap that confirms "cancel the rest" must come soon


class UncertainRow(BoxLayout):
    """One label the printer may or may not have printed, with the two answers."""

    tab = ObjectProperty(None, allownone=True)
    busy = BooleanProperty(False)
    serial = NumericProperty(0)
    label = StringProperty("")
    printed_text = StringProperty("")
    reprint_text = StringProperty("")


class QueueTab(StaffTabPane):
    printer_state = StringProperty("unknown")
    printer_text = StringProperty("")
    printer_detail = StringProperty("")
    printer_light = StringProperty("amber")
    recovery = ObjectProperty(None, allownone=True)  # kiosk.viewmodels.JobRecoveryViewModel
    look = ObjectProperty(RecoveryLook.of(None, False), rebind=True)  # kv reads its fields
    recovery_busy = BooleanProperty(False)
    recovery_message = StringProperty("")
    recovery_error = BooleanProperty(False)
    cancel_armed = BooleanProperty(False)
    attention = NumericProperty(0)  # jobs that need a staff decision
    _jobs_request = 0
    _disarm_event = None

    def __init__(self, **kwargs):
        self.vm = QueueTabModel()
        super().__init__(**kwargs)

    def refresh(self) -> None:
        lang = self.app.lang
        vm = self.vm
        self.printer_state, self.printer_text, self.printer_detail = vm.printer_texts(lang)
        self.printer_light = printer_light(self.printer_state)
        self.attention = vm.attention
        self.cancel_armed = vm.cancel_armed
        self.recovery = vm.recovery(lang)
        self.look = RecoveryLook.of(self.recovery, vm.cancel_armed)
        self.recovery_message, self.recovery_error = vm.note_text(lang)

    def enter(self) -> None:
        self.vm.printing_ok = self.screen.printing_ok
        self.vm.print_error = self.app.services.print_error
        self.refresh_jobs()

    def leave(self) -> None:
        self.disarm()
        super().leave()

    def signed_out(self) -> None:
        self.vm.recovery_note = None
        self.disarm()

    def on_language(self) -> None:
        self.refresh_jobs()
        self.refresh()

    # --- printer --------------------------------------------------------------------------

    def printer_reported(self, state, err) -> None:
        self.vm.printer = (state, err)
        self.refresh()

    def check_printer(self):
        monitor = self.app.services.printer_monitor
        if monitor is not None:
            monitor.poll_now()
            self.app.services.print_queue.wake()

    # --- recent jobs and the jobs needing a decision --------------------------------------------

    def refresh_jobs(self):
        """Read the queue (kiosk.printing.overview) on a worker thread."""
        queue = self.app.services.print_queue
        lang = self.app.lang
        if queue is None:
            self._jobs_loaded(lang, QueueOverview.empty())
            return
        self._jobs_request += 1
        request = self._jobs_request
        future = self.app.services.submit(read_overview, queue, self.app.services.catalog, lang)
        future.add_done_callback(lambda f: self.app.on_ui_thread(self._jobs_read, request, lang, f))

    def _jobs_read(self, request, lang, future):
        if request != self._jobs_request:
            return
        try:
            overview = future.result()
        except Exception:
            log.exception("print jobs could not be read")
            overview = QueueOverview.empty()
        self._jobs_loaded(lang, overview)

    def _jobs_loaded(self, lang, overview: QueueOverview):
        if lang != self.app.lang:
            self.refresh_jobs()
            return
        was_armed = self.vm.cancel_armed
        self.vm.jobs_read(overview)
        if was_armed and not self.vm.cancel_armed:
            self.disarm()
        self._build_job_list(lang)
        self.refresh()
        self._build_recovery()
        self.screen.jobs_read(self.vm.stopped_job is not None)

    def _build_job_list(self, lang):
        """Two labels a job. Existing labels are updated in place (a language switch changes
        their text rather than swapping them for new widgets)."""
        box = self.ids.get("job_list")
        if box is None:
            return
        u = self.app.u
        cells = [
            (DataLabel if c.data else KLabel, c.text, COLOURS[c.colour])
            for c in job_cells(self.vm.overview, lang)
        ]
        old = list(reversed(box.children))
        if [type(w) for w in old] != [kind for kind, _t, _c in cells]:
            box.clear_widgets()
            old = []
            for kind, _t, _c in cells:
                widget = kind(font_size=FONT_LABEL * u, shorten=kind is DataLabel)
                box.add_widget(widget)
                old.append(widget)
        for widget, (_k, text, colour) in zip(old, cells, strict=True):
            widget.text, widget.color, widget.font_size = text, colour, FONT_LABEL * u

    def _build_recovery(self):
        box = self.ids.get("uncertain_list")
        if box is None:
            return
        vm = self.recovery
        stamps = vm.uncertain if vm is not None else ()
        rows = list(reversed(box.children))
        if [r.serial for r in rows] == [s.serial for s in stamps]:
            for row, stamp in zip(rows, stamps, strict=True):  # same labels: new words
                row.label, row.printed_text = stamp.label, vm.printed_text
                row.reprint_text = vm.reprint_text
            return
        box.clear_widgets()
        for stamp in stamps:
            box.add_widget(
                UncertainRow(
                    tab=self,
                    busy=self.recovery_busy,
                    serial=stamp.serial,
                    label=stamp.label,
                    printed_text=vm.printed_text,
                    reprint_text=vm.reprint_text,
                )
            )

    def on_recovery_busy(self, *_):
        box = self.ids.get("uncertain_list")
        for row in box.children if box is not None else ():
            row.busy = self.recovery_busy

    # --- the stopped job's steps ---------------------------------------------------------------

    def resolve_stamp(self, serial: int, printed: bool):
        """Staff looked at the printer: the label with this number came out, or not (it will
        be printed again). PrintQueue.resolve_uncertain runs on a worker thread."""
        vm = self.recovery
        queue = self.app.services.print_queue
        if vm is None or queue is None or self.recovery_busy:
            return
        job_id = vm.job_id
        self._run_recovery(
            lambda: queue.resolve_uncertain(job_id, serial, printed),
            "printed" if printed else "reprint",
            serial=serial,
        )

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
        if not self.vm.cancel_armed:
            self.vm.cancel_armed = True
            self._disarm_event = self.schedule(self.disarm, CANCEL_CONFIRM_S)
            self.refresh()
            return
        self.disarm()
        job_id = vm.job_id
        self._run_recovery(lambda: queue.cancel(job_id), "cancel", job_id=job_id)

    def disarm(self):
        self.unschedule(self._disarm_event)
        self._disarm_event = None
        self.vm.cancel_armed = False
        if self.app is not None:
            self.refresh()

    def _run_recovery(self, work, action, serial=None, job_id=0):
        self.recovery_busy = True
        self.show_recovery_note(None)
        self.app.poke()
        future = self.app.services.submit(work)
        future.add_done_callback(
            lambda f: self.app.on_ui_thread(self._recovery_done, f, action, serial, job_id)
        )

    def _recovery_done(self, future, action, serial, job_id):
        self.recovery_busy = False
        try:
            result = future.result()
        except Exception as exc:  # noqa: BLE001 - shown to staff, who decide again
            log.warning("print job %s: %s failed: %s", job_id or serial, action, exc)
            self.show_recovery_note(("error", str(exc), 0, 0))
        else:
            self.show_recovery_note(
                (action, serial, job_id, result if isinstance(result, int) else 0)
            )
        self.refresh_jobs()

    def show_recovery_note(self, note):
        """The line under the stopped job: (action, serial, job_id, count), ("error",
        message, 0, 0) or None; re-worded when the language changes."""
        self.vm.recovery_note = note
        self.recovery_message, self.recovery_error = self.vm.note_text(self.app.lang)
