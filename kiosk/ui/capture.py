"""Headless helpers: pump frames, wait for a condition, capture the window to a PNG.

Used by `ocop-kiosk screenshot`, the UI tests and bench/ui.py. Capturing happens inside a
Window.on_flip handler (before the buffers swap): Window.screenshot() between frames can
return black or stale pixels with the SDL offscreen driver.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from kivy.base import EventLoop
from kivy.core.window import Window


def pump(frames: int = 1) -> None:
    for _ in range(frames):
        EventLoop.idle()


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0, min_frames: int = 1) -> bool:
    deadline = time.monotonic() + timeout_s
    pump(min_frames)
    while time.monotonic() < deadline:
        if condition():
            return True
        EventLoop.idle()
    return condition()


def settle(seconds: float = 0.4) -> None:
    """Let animations and transitions finish."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        EventLoop.idle()


def grab_image():
    """The next rendered frame as a PIL RGB image."""
    from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels
    from PIL import Image

    holder: dict = {}

    def on_flip(*_):
        w, h = Window.size
        data = glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE)
        holder["image"] = (
            Image.frombytes("RGBA", (w, h), bytes(data))
            .transpose(Image.Transpose.FLIP_TOP_BOTTOM)
            .convert("RGB")
        )

    Window.bind(on_flip=on_flip)
    try:
        Window.canvas.ask_update()
        deadline = time.monotonic() + 5
        while "image" not in holder and time.monotonic() < deadline:
            EventLoop.idle()
    finally:
        Window.unbind(on_flip=on_flip)
    if "image" not in holder:
        raise RuntimeError("no frame was rendered")
    return holder["image"]


def save_screenshot(path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grab_image().save(path, format="PNG", optimize=True)
    return path
