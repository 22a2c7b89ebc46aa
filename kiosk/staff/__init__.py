"""The staff screen's view-models, one module per tab: plain Python (no Kivy), testable
without a window (tests/kiosk/test_staff_viewmodels.py). The Kivy widgets in
kiosk/ui/screens/staff*.py show what these say and run their work on worker threads."""

STAFF_TABS = ("print", "queue", "sync", "settings")
