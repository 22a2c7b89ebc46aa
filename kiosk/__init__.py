"""OCOP Sơn La kiosk and stamp station: the application core (plain Python, no Kivy)."""

from ocop import __version__  # noqa: F401  (one version: ocop/__init__.py)
