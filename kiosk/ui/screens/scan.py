"""Scanning: live preview with a guide frame, hints when a code is seen but unreadable,
friendly camera states, and (demo camera only) demo stamps to hold up."""

from __future__ import annotations

from kivy.properties import ListProperty

from kiosk.i18n import translator
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import COLOURS
from kiosk.ui.widgets import ListKButton


class ScanScreen(KioskScreen):
    demo_buttons = ListProperty([])

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.app.bind(demo_stamps=lambda *_: self._build_demo_buttons())

    def on_pre_enter(self, *_):
        preview = self.ids.preview
        preview.get_frame = self.app.latest_frame
        preview.active = True
        self._build_demo_buttons()

    def on_leave(self, *_):
        self.ids.preview.active = False

    def on_language(self):
        self._build_demo_buttons()

    def _build_demo_buttons(self):
        box = self.ids.get("demo_box")
        if box is None:
            return
        box.clear_widgets()
        _ = translator(self.app.lang)
        colours = {
            "forged": COLOURS["red"],
            "not_ocop": COLOURS["slate"],
            "barcode": COLOURS["blue"],
            "expired": COLOURS["amber"],
        }
        for stamp in self.app.demo_stamps:
            btn = ListKButton(text=_(stamp.label), fg=colours.get(stamp.key, COLOURS["green_dark"]))
            btn.bind(on_release=lambda b, key=stamp.key: self.app.hold_demo_stamp(key))
            box.add_widget(btn)
