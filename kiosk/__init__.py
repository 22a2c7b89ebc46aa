"""OCOP Sơn La kiosk and stamp station: the application core (plain Python, no Kivy)."""

__version__ = "0.1.0"
