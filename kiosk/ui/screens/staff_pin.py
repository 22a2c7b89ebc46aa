"""Staff sign-in: a PIN pad. The PIN is checked (scrypt, lockout) on a worker thread by
kiosk.staff_pin.PinGate; this screen only shows dots and the answer."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.staff_pin import MAX_PIN_DIGITS, PinCheck
from kiosk.ui.screens.base import KioskScreen
from kiosk.viewmodels import pin_message


class StaffPinScreen(KioskScreen):
    pin = StringProperty("")
    message = StringProperty("")
    checking = BooleanProperty(False)
    demo_hint = StringProperty("")
    _last = None

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.ids.pinpad.bind(on_key=lambda pad, key: self.on_key(key))
        self._last = None

    def on_pre_enter(self, *_):
        self.pin = ""
        self._last = None
        gate = self.app.services.pin_gate
        self.message = ""
        if not gate.enabled:
            self._last = ("disabled", 0, 0.0)
        elif gate.locked_for_s() > 0:
            self._last = ("locked", 0, gate.locked_for_s())
        self.on_language()

    def on_language(self):
        from kiosk.i18n import translator

        _ = translator(self.app.lang)
        if self._last:
            check, left, locked_s = self._last
            self.message = pin_message(check, self.app.lang, left, locked_s)
        else:
            self.message = ""
        gate = self.app.services.pin_gate
        self.demo_hint = _("Demo kiosk: the PIN is 2468.") if gate.demo else ""

    def on_key(self, key: str):
        if self.checking:
            return
        if key == "⌫":
            self.pin = self.pin[:-1]
        elif key == "OK":
            self.submit()
        elif len(self.pin) < MAX_PIN_DIGITS:
            self.pin += key

    def submit(self):
        if not self.pin:
            return
        pin, self.pin = self.pin, ""
        self.checking = True
        gate = self.app.services.pin_gate
        future = self.app.services.submit(gate.check, pin)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda dt: self._checked(f)))

    def _checked(self, future):
        self.checking = False
        try:
            result = future.result()
        except Exception:  # noqa: BLE001 - the PIN store unreadable: lock the pad
            self._last = ("disabled", 0, 0.0)
            self.on_language()
            return
        if result.check is PinCheck.OK:
            self._last = None
            self.message = ""
            self.app.staff_signed_in = True
            self.app.go("staff")
            return
        self._last = (result.check.value, result.attempts_left, result.locked_for_s)
        self.on_language()
