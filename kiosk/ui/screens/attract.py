"""Attract (idle) screen: featured products cycling, a clear call to scan; in rest-stop mode
large type, the route strip of the site's road and slides for passers-by (stars, showroom)."""

from __future__ import annotations

import logging

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import (
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.ticks import every
from kiosk.viewmodels import AttractViewModel, InfoSlide

log = logging.getLogger(__name__)


class AttractScreen(KioskScreen):
    vm = ObjectProperty(None, allownone=True)
    slide = ObjectProperty(None, allownone=True)
    index = NumericProperty(0)
    slides_shown = NumericProperty(0)  # slide changes since start (tests, soak bench)
    image = StringProperty("")
    dots = StringProperty("")
    route_stops = ListProperty([])
    route_ends = ListProperty(["", ""])
    site_district = StringProperty("")  # "you are here" on the route strip
    info = ObjectProperty(None, allownone=True)  # an InfoSlide on show instead of a product
    heading = StringProperty("")
    subheading = StringProperty("")
    call_to_scan = StringProperty("")
    section = StringProperty("")
    _cycle = None
    _fades: tuple = ()

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        # At boot this screen is current before its ids exist, so on_enter found nothing
        # to start: start the cycle here once the tree is built.
        Clock.schedule_once(lambda dt: self._boot(), 0)

    def _boot(self):
        self.refresh()
        if self.manager is not None and self.manager.current == self.name:
            self._start_cycle()

    def on_enter(self, *_):
        if "card" not in self.ids:
            return  # entered while the kv rule is still being applied: _boot starts it
        self.refresh()
        self._start_cycle()

    def on_leave(self, *_):
        if self._cycle is not None:
            self._cycle.cancel()
            self._cycle = None
        self._stop_fades()

    def _stop_fades(self):
        card = self.ids.get("card")
        for anim in self._fades:
            anim.cancel(card)
        self._fades = ()
        if card is not None:
            card.opacity = 1

    def _start_cycle(self):
        if self._cycle is None:
            self._cycle = every(self.app.attract_cycle_s, self.next_slide)

    @property
    def cycling(self) -> bool:
        return self._cycle is not None

    def on_language(self):
        self.refresh(keep_index=True)

    def on_catalog_changed(self):
        """Sync applied changes, or the day changed: show the store as it is now."""
        self.refresh(keep_index=True)

    def refresh(self, keep_index: bool = False):
        self._rebuild()
        if not keep_index:
            self.index = 0
        self._show(self.index)

    def _rebuild(self):
        """The slides from the store, with stars as of today (a rating revoked by sync or
        expired at midnight loses its stars at the next slide)."""
        app = self.app
        catalog = app.services.catalog
        featured = catalog.featured()
        if not featured:
            featured = catalog.all(limit=12)
        site = app.settings.site
        self.vm = AttractViewModel.build(
            featured,
            app.lang,
            app.mode,
            catalog.districts(),
            site.district,
            site.road,
            (site.showroom_name, site.showroom_address, site.showroom_distance_km),
        )
        self.heading, self.subheading = self.vm.heading, self.vm.subheading
        self.section = self.vm.heading.upper()
        self.call_to_scan = self.vm.call_to_scan
        self.route_stops = [(s.label, s.count, s.district) for s in self.vm.route]
        self.route_ends = list(self.vm.route_ends)
        self.site_district = site.district

    def _show(self, index: int):
        slides = self.vm.sequence if self.vm else ()
        if not slides:
            self.slide = self.info = None
            self.image = ""
            self.dots = ""
            return
        self.index = index % len(slides)
        item = slides[self.index]
        if isinstance(item, InfoSlide):
            self.slide, self.info = None, item
            self.image = ""
        else:
            self.slide, self.info = item, None
            self.image = self.image_source(item.image_hash)
        shown = min(len(slides), 12)
        self.dots = " ".join("●" if i == self.index % shown else "○" for i in range(shown))

    def next_slide(self):
        card = self.ids.get("card")
        if card is None:
            return
        self._stop_fades()
        fade_out = Animation(opacity=0, duration=0.18)
        fade_in = Animation(opacity=1, duration=0.25)
        self._fades = (fade_out, fade_in)

        def swap(*_):
            self._rebuild()
            self._show(self.index + 1)
            self.slides_shown += 1
            log.debug(
                "attract slide %d of %d: product %s",
                self.index + 1,
                len(self.vm.sequence),
                self.slide.product_id if self.slide else None,
            )
            fade_in.start(card)

        fade_out.bind(on_complete=swap)
        fade_out.start(card)

    def hold(self, index: int):
        """Stop the rotation on slide `index` of the sequence (screenshots)."""
        self.on_leave()
        self._show(index)

    def open_slide(self):
        if self.slide is not None:
            self.app.show_product(self.slide.product_id)
