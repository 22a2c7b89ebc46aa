"""Attract (idle) screen: featured products cycling, a clear call to scan; in rest-stop mode
large type and the QL6 route strip."""

from __future__ import annotations

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import (
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk.ui.screens.base import KioskScreen
from kiosk.viewmodels import AttractViewModel


class AttractScreen(KioskScreen):
    vm = ObjectProperty(None, allownone=True)
    slide = ObjectProperty(None, allownone=True)
    index = NumericProperty(0)
    image = StringProperty("")
    dots = StringProperty("")
    route_stops = ListProperty([])
    heading = StringProperty("")
    subheading = StringProperty("")
    call_to_scan = StringProperty("")
    section = StringProperty("")
    _cycle = None

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        Clock.schedule_once(lambda dt: self.refresh(), 0)

    def on_enter(self, *_):
        if "card" not in self.ids:
            return       # entered while the kv rule is still being applied
        self.refresh()
        self._start_cycle()

    def on_leave(self, *_):
        if self._cycle is not None:
            self._cycle.cancel()
            self._cycle = None

    def _start_cycle(self):
        if self._cycle is None:
            self._cycle = Clock.schedule_interval(self.next_slide,
                                                  self.app.attract_cycle_s)

    def on_language(self):
        self.refresh(keep_index=True)

    def refresh(self, keep_index: bool = False):
        app = self.app
        catalog = app.services.catalog
        featured = catalog.featured()
        if not featured:
            featured = catalog.all(limit=12)
        self.vm = AttractViewModel.build(featured, app.lang, app.mode, catalog.districts(),
                                         app.settings.site.district)
        self.heading, self.subheading = self.vm.heading, self.vm.subheading
        self.section = self.vm.heading.upper()
        self.call_to_scan = self.vm.call_to_scan
        self.route_stops = [(s.label, s.count, s.district) for s in self.vm.route]
        if not keep_index:
            self.index = 0
        self._show(self.index)

    def _show(self, index: int):
        slides = self.vm.slides if self.vm else ()
        if not slides:
            self.slide = None
            self.image = ""
            self.dots = ""
            return
        self.index = index % len(slides)
        self.slide = slides[self.index]
        self.image = self.image_source(self.slide.image_hash)
        shown = min(len(slides), 12)
        self.dots = " ".join("●" if i == self.index % shown else "○" for i in range(shown))

    def next_slide(self, *_):
        card = self.ids.get("card")
        if card is None or not self.vm or not self.vm.slides:
            return
        anim = Animation(opacity=0, duration=0.18)
        anim.bind(on_complete=lambda *_: (self._show(self.index + 1),
                                          Animation(opacity=1, duration=0.25).start(card)))
        anim.start(card)

    def open_slide(self):
        if self.slide is not None:
            self.app.show_product(self.slide.product_id)
