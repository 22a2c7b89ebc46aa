"""Shared screen behaviour: re-render Python-built content when the language changes."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.screenmanager import Screen

from kiosk.media_renditions import RenditionSize


class KioskScreen(Screen):
    def on_kv_post(self, base_widget):
        app = App.get_running_app()
        if app is not None:
            app.bind(lang=lambda *_: self.on_language(), mode=lambda *_: self.on_language())

    @property
    def app(self):
        return App.get_running_app()

    def on_language(self):
        """Rebuild texts that come from view-models (kv texts re-bind by themselves)."""

    def image_source(self, image_hash, size: RenditionSize = RenditionSize.CARD) -> str:
        path = self.app.services.image_path(image_hash, size)
        return str(path) if path else ""
