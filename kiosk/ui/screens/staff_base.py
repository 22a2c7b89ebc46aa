"""What the staff screen's tab widgets share: the app and screen they belong to, showing
a view-model's view (kiosk/staff/) as Kivy properties, and Clock callbacks that are
cancelled when staff leave the screen or the app stops (a callback must never run against a
screen or app that is gone)."""

from __future__ import annotations

import dataclasses

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ObjectProperty

from kiosk.staff.tabs import choice_look
from kiosk.ui.theme import COLOURS
from kiosk.ui.widgets import KButton, LangButton, Pane


class StaffTabPane(Pane):
    """One tab of the staff screen: its kv rule draws it, StaffScreen shows one at a time
    (`shown`); a hidden tab takes no room, is invisible and takes no touches."""

    screen = ObjectProperty(None, allownone=True)  # the StaffScreen, set in staff.kv

    def __init__(self, **kwargs):
        self._scheduled: list = []
        super().__init__(**kwargs)

    def on_shown(self, *_):
        self.size_hint_y = 1 if self.shown else None
        self.opacity = 1 if self.shown else 0
        self.disabled = not self.shown
        super().on_shown()

    @property
    def app(self):
        return App.get_running_app()

    def show(self, view) -> None:
        """A view-model's view (a dataclass) onto the Kivy properties of the same names."""
        for f in dataclasses.fields(view):
            setattr(self, f.name, getattr(view, f.name))

    def schedule(self, fn, delay_s: float = 0):
        """Clock.schedule_once(fn) until staff leave the screen or the app stops."""

        def run(_dt):
            self._scheduled.remove(event)
            fn()

        event = Clock.schedule_once(run, delay_s)
        self._scheduled.append(event)
        return event

    def unschedule(self, event) -> None:
        if event is not None:
            event.cancel()
            if event in self._scheduled:
                self._scheduled.remove(event)

    def cancel_scheduled(self) -> None:
        for event in self._scheduled:
            event.cancel()
        self._scheduled.clear()

    # --- what StaffScreen asks of each tab ------------------------------------------------

    def enter(self) -> None:
        """Staff opened the staff screen (signed in)."""

    def leave(self) -> None:
        """Staff left the staff screen, or the app stops."""
        self.cancel_scheduled()

    def signed_out(self) -> None:
        """The next person starts on a clean tab."""

    def on_language(self) -> None:
        """Re-word what came from view-models."""


class _Choice:
    """A tab or choice button: its colours follow `chosen` and `warn` (kiosk.staff.tabs)."""

    chosen = BooleanProperty(False)
    warn = BooleanProperty(False)

    def on_chosen(self, *_):
        self._apply_look()

    def on_warn(self, *_):
        self._apply_look()

    def _apply_look(self):
        look = choice_look(self.chosen, self.warn)
        self.bg, self.fg, self.line = COLOURS[look.bg], COLOURS[look.fg], COLOURS[look.line]


class ChoiceButton(_Choice, KButton):
    def on_kv_post(self, base_widget):
        self._apply_look()


class LangChoiceButton(_Choice, LangButton):
    def on_kv_post(self, base_widget):
        self._apply_look()
