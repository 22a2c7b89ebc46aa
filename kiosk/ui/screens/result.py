"""Result: verdict banner (colour + icon + words) and the product card."""

from __future__ import annotations

from kivy.properties import ObjectProperty, StringProperty

from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import rgba
from kiosk.viewmodels import TONE_COLOUR, UNAVAILABLE_TONE, ResultViewModel


class ResultScreen(KioskScreen):
    outcome = ObjectProperty(None, allownone=True)
    vm = ObjectProperty(None, allownone=True)
    image = StringProperty("")

    def prepare(self, outcome=None, **_):
        self.outcome = outcome
        self.render()

    def on_language(self):
        self.render()

    def render(self):
        if self.outcome is None:
            # the scan itself failed (a bug or a broken database): say so calmly
            self.vm = ResultViewModel.unavailable(self.app.lang)
        else:
            self.vm = ResultViewModel.from_outcome(self.outcome, self.app.lang)
        self.image = self.image_source(self.vm.card.image_hash) if self.vm.card else ""
        self.ids.detail.scroll_to_top()

    def banner_rgba(self, vm):
        return rgba(vm.colour if vm else TONE_COLOUR[UNAVAILABLE_TONE])
