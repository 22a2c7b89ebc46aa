"""The staff settings tab (kiosk.staff.settings_tab says what it shows): the kiosk mode and
default language, saved in the store on a worker thread and kept after a restart."""

from __future__ import annotations

import logging

from kivy.properties import BooleanProperty, StringProperty

from kiosk import ui_prefs
from kiosk.staff.settings_tab import not_saved_text, settings_view
from kiosk.ui.screens.staff_base import StaffTabPane

log = logging.getLogger(__name__)


class SettingsTab(StaffTabPane):
    # SettingsView's fields
    default_language = StringProperty("")
    mode = StringProperty("")
    lang_source_text = StringProperty("")
    mode_source_text = StringProperty("")
    lang_saved = BooleanProperty(False)
    mode_saved = BooleanProperty(False)
    settings_message = StringProperty("")

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.app.bind(prefs=lambda *_: self.refresh(), mode=lambda *_: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        app = self.app
        self.show(settings_view(app.prefs, app.mode, app.lang))

    def on_language(self) -> None:
        self.refresh()
        self.settings_message = ""

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
        except Exception as exc:  # noqa: BLE001 - the change still lasts until a restart
            log.error("kiosk settings not saved: %s", exc)
            self.settings_message = not_saved_text(exc, self.app.lang)
