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
    report_qr = StringProperty("")  # PNG of the site's report URL as a QR code

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
            site = self.app.settings.site
            self.vm = ResultViewModel.from_outcome(
                self.outcome, self.app.lang, site.hotline, site.report_url
            )
        self.image = self.image_source(self.vm.card.image_hash) if self.vm.card else ""
        self.report_qr = self.qr_png(self.vm.report_url) if self.vm.report_url else ""
        self.ids.detail.scroll_to_top()

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
