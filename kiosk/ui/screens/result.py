"""Result: verdict banner (colour + icon + words) and the product card."""

from __future__ import annotations

from kivy.properties import ObjectProperty, StringProperty

from kiosk.printing.sample import sample_png, stamp_domain
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import rgba
from kiosk.viewmodels import (
    GENUINE_SAMPLE_SERIAL,
    TONE_COLOUR,
    UNAVAILABLE_TONE,
    ResultViewModel,
)


class ResultScreen(KioskScreen):
    outcome = ObjectProperty(None, allownone=True)
    vm = ObjectProperty(None, allownone=True)
    image = StringProperty("")
    report_qr = StringProperty("")  # PNG of the site's report URL as a QR code
    genuine_sample = StringProperty("")  # PNG of a sample genuine label, beside a report

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
            settings = self.app.settings
            product = self.outcome.product
            verdict = self.outcome.verdict
            related = (
                self.app.services.catalog.related(product)
                if product is not None and verdict is not None and verdict.names_a_product
                else ()
            )
            self.vm = ResultViewModel.from_outcome(
                self.outcome,
                self.app.lang,
                settings.site.hotline,
                settings.site.report_url,
                related=related,
                stamp_domain=stamp_domain(settings.stamps.base_url),
            )
        self.image = self.image_source(self.vm.card.image_hash) if self.vm.card else ""
        self.report_qr = self.qr_png(self.vm.report_url) if self.vm.report_url else ""
        self.genuine_sample = (
            str(
                sample_png(
                    self.app.settings.stamps.base_url,
                    GENUINE_SAMPLE_SERIAL,
                    self.app.data_dir / "cache",
                )
            )
            if self.vm.asks_for_report
            else ""
        )
        self.ids.detail.scroll_to_top()
        self.ids.report_scroll.scroll_y = 1

    @staticmethod
    def side_by_side(vm, portrait: bool) -> bool:
        """A card and a report share the screen: side by side on a landscape window."""
        return bool(vm and vm.card and vm.asks_for_report and not portrait)

    @classmethod
    def card_size_hint(cls, vm, portrait: bool) -> tuple:
        if not (vm and vm.card):
            return (None, None)
        if not vm.asks_for_report:
            return (1, 1)
        return (0.6, 1) if cls.side_by_side(vm, portrait) else (1, 0.5)

    @classmethod
    def report_size_hint(cls, vm, portrait: bool) -> tuple:
        if not (vm and vm.asks_for_report):
            return (None, None)
        if not vm.card:
            return (1, 1)
        return (0.4, 1) if cls.side_by_side(vm, portrait) else (1, 0.5)

    @staticmethod
    def wide_report(vm, portrait: bool) -> bool:
        """The report has the whole width: the sample stamp sits beside its caption."""
        return bool(vm and vm.asks_for_report and not vm.card and not portrait)

    def qr_png(self, text: str) -> str:
        """The QR code of `text` as a PNG in the data folder (drawn once per URL)."""
        import hashlib

        from PIL import ImageOps

        from printer.label import qr_image

        name = hashlib.sha256(text.encode()).hexdigest()[:16]
        path = self.app.data_dir / "cache" / f"report-qr-{name}.png"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            image, _version = qr_image(text, 8)
            ImageOps.expand(image.convert("L"), border=32, fill=255).save(path)
        return str(path)

    def banner_rgba(self, vm):
        return rgba(vm.colour if vm else TONE_COLOUR[UNAVAILABLE_TONE])
