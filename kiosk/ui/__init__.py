"""The touchscreen UI (Kivy). The only package that imports kivy; see docs/ui.md.

Importing kiosk.ui itself does not import kivy: app.py, widgets.py and screens/ do.
camera.py and services.py are plain Python (threads, no kivy) so they can be tested alone.
"""
