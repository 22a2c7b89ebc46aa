"""Staff screen (after the PIN): a tab bar over four tab widgets, each its own module, kv
rule and view-model (kiosk/staff/):

    print     staff_print.py     product, count, lot, label preview, print, progress
    queue     staff_queue.py     printer status, recent jobs, a job that stopped part-way
    sync      staff_sync.py      sync status, "sync now"
    settings  staff_settings.py  kiosk mode and default language (kept after a restart)

This screen starts printing when staff arrive (kiosk.printing's PrintWorker and the printer
monitor run on their own threads), routes what they report to the tabs, and picks the tab:
a stopped job waiting for a decision opens the printer tab. Leaving the screen (or the app
stopping) cancels every Clock callback a tab scheduled.
"""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.staff.tabs import attention_mark, tab_after_jobs_read
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.staff_base import ChoiceButton, LangChoiceButton  # noqa: F401 (kv)
from kiosk.ui.screens.staff_print import PrintTab
from kiosk.ui.screens.staff_queue import QueueTab
from kiosk.ui.screens.staff_settings import SettingsTab
from kiosk.ui.screens.staff_sync import SyncTab


class StaffScreen(KioskScreen):
    tab = StringProperty("print")
    printing_ok = BooleanProperty(True)
    attention_mark = StringProperty("")  # " ⚠" on the printer tab while jobs wait
    _jump_to_attention = False

    @property
    def print_tab(self) -> PrintTab:
        return self.ids.print_tab

    @property
    def queue_tab(self) -> QueueTab:
        return self.ids.queue_tab

    @property
    def sync_tab(self) -> SyncTab:
        return self.ids.sync_tab

    @property
    def settings_tab(self) -> SettingsTab:
        return self.ids.settings_tab

    @property
    def tabs(self) -> tuple:
        return (self.print_tab, self.queue_tab, self.sync_tab, self.settings_tab)

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.queue_tab.bind(
            attention=lambda _tab, n: setattr(self, "attention_mark", attention_mark(n))
        )
        self.app.bind(staff_signed_in=lambda *_: self._signed_in_changed())

    def _signed_in_changed(self):
        if not self.app.staff_signed_in:  # the next person starts on a clean screen
            self.tab = "print"
            for tab in self.tabs:
                tab.signed_out()

    # --- enter / leave --------------------------------------------------------------------

    def on_pre_enter(self, *_):
        app = self.app
        if not app.staff_signed_in:
            Clock.schedule_once(lambda dt: app.go("staff_pin"), 0)
            return
        started = app.services.start_printing(self._progress_from_worker, self._printer_from_worker)
        self.printing_ok = started
        watchdog = getattr(app, "watchdog", None)
        if started and watchdog is not None:
            watchdog.watch_thread("print", app.services.print_worker)
        monitor = app.services.printer_monitor
        if monitor is not None:
            monitor.active.set()
            monitor.poll_now()
        self._jump_to_attention = True
        for tab in self.tabs:
            tab.enter()
        self.on_language()

    def on_leave(self, *_):
        monitor = self.app.services.printer_monitor
        if monitor is not None:
            monitor.active.clear()
        self.stop_callbacks()

    def stop_callbacks(self) -> None:
        """Staff left, or the app stops: no tab callback may run after this."""
        for tab in self.tabs:
            tab.leave()

    def show_tab(self, tab):
        self.tab = tab
        self.print_tab.stop_editing()
        self.disarm()
        self.app.poke()
        if tab == "queue":
            self.queue_tab.refresh_jobs()
            if self.app.services.printer_monitor:
                self.app.services.printer_monitor.poll_now()
        elif tab == "sync":
            self.sync_tab.refresh()

    def disarm(self):
        """Any other action disarms a "cancel the rest" waiting for its second tap."""
        self.queue_tab.disarm()

    def sign_out(self):
        self.app.staff_signed_in = False
        self.app.go_home()

    def on_language(self):
        for tab in self.tabs:
            tab.on_language()

    def refresh_sync(self):
        """Sync reported (the app calls this while the screen is shown)."""
        self.sync_tab.refresh()

    def jobs_read(self, stopped_job_waiting: bool) -> None:
        """The printer tab read the queue: a stopped job's steps come first."""
        self.tab = tab_after_jobs_read(
            self.tab, self.print_tab.editing, self._jump_to_attention, stopped_job_waiting
        )
        self._jump_to_attention = False

    # --- what the print worker and the printer monitor report --------------------------------

    def _progress_from_worker(self, progress):  # print-worker thread
        self.app.on_ui_thread(self._new_progress, progress)

    def _new_progress(self, progress):
        if progress.state.value == "interrupted":
            self._jump_to_attention = True  # the job on show stopped: its steps next
        self.print_tab.show_progress(progress)
        if progress.state.value != "printing":
            self.queue_tab.refresh_jobs()

    def _printer_from_worker(self, state, err):  # printer-monitor thread
        self.app.on_ui_thread(self.queue_tab.printer_reported, state, err)
