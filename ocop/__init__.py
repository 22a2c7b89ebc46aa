"""The OCOP Sơn La domain: what a stamp, a rating, a verdict and a sync message are.

Pure Python (no SQLite, no network, no Kivy, no FastAPI); the kiosk (kiosk/), the registry
(registry/) and the printer adapter's label profiles share it, so each rule, state, wire
field and limit is written once. tests/test_layers.py enforces what it may import.
"""

__version__ = "0.1.0"  # the one version number (pyproject reads it)
