"""Scanning: live preview with a guide frame, an arrow towards the camera (camera.position)
with where to hold the stamp, hints when a code is seen but unreadable, friendly camera
states, and (demo camera only) demo stamps to hold up."""

from __future__ import annotations

from kivy.properties import ListProperty, StringProperty

from kiosk.i18n import N_, translator
from kiosk.settings import CameraPosition
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import COLOURS
from kiosk.ui.widgets import ListKButton

# What the shopper is told, for each place the camera can be.
HOLD_NEAR_CAMERA = {
    CameraPosition.ABOVE: N_("Hold the QR stamp close to the camera above the screen"),
    CameraPosition.BELOW: N_("Hold the QR stamp close to the camera below the screen"),
    CameraPosition.LEFT: N_("Hold the QR stamp close to the camera left of the screen"),
    CameraPosition.RIGHT: N_("Hold the QR stamp close to the camera right of the screen"),
}


class ScanScreen(KioskScreen):
    demo_buttons = ListProperty([])
    camera_position = StringProperty(CameraPosition.ABOVE.value)
    camera_msgid = StringProperty(HOLD_NEAR_CAMERA[CameraPosition.ABOVE])

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.app.bind(demo_stamps=lambda *_: self._build_demo_buttons())

    def on_pre_enter(self, *_):
        self._place_camera_hint(self.app.settings.camera.position)
        preview = self.ids.preview
        preview.get_frame = self.app.latest_frame
        preview.active = True
        self._build_demo_buttons()

    def _place_camera_hint(self, position: CameraPosition):
        """The arrow strip at the camera's edge: on top for above (and for left and right,
        the arrow then at that end), at the bottom for below."""
        self.camera_position = position.value
        self.camera_msgid = HOLD_NEAR_CAMERA[position]
        outer, strip, arrow = self.ids.scan_outer, self.ids.camera_hint, self.ids.camera_arrow
        outer.remove_widget(strip)
        # a BoxLayout lays its children out last-first: index 0 is the bottom / right end
        outer.add_widget(
            strip, index=0 if position is CameraPosition.BELOW else len(outer.children)
        )
        strip.remove_widget(arrow)
        strip.add_widget(
            arrow, index=0 if position is CameraPosition.RIGHT else len(strip.children)
        )

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
