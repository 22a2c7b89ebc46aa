"""The staff sync tab (kiosk.staff.sync_tab says what it shows): sync status, "sync now"."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.staff.sync_tab import SYNC_REFRESH_AFTER_S, sync_answer_text, sync_lines
from kiosk.ui.screens.staff_base import StaffTabPane


class SyncTab(StaffTabPane):
    sync_lines = StringProperty("")
    sync_message = StringProperty("")
    _answer = None

    def refresh(self) -> None:
        from kiosk.trusted_time import clock_for, staff_clock_note

        app = self.app
        clock_note = staff_clock_note(clock_for(app.store).reading(), app.lang)
        self.sync_lines = sync_lines(app.services.sync_status(), app.lang, clock_note)
        self.sync_message = sync_answer_text(self._answer, app.lang)

    def enter(self) -> None:
        self.refresh()

    def signed_out(self) -> None:
        self._answer = None
        self.sync_message = ""

    def on_language(self) -> None:
        self.refresh()

    def sync_now(self) -> None:
        self._answer = self.app.services.sync_now()
        self.sync_message = sync_answer_text(self._answer, self.app.lang)
        self.schedule(self.refresh, SYNC_REFRESH_AFTER_S)
