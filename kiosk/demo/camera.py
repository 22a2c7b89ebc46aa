"""The demo camera: what a desktop or Pi without a camera shows, and its pictures.

DemoCameraSource is a scanner frame source in software: a plain "counter top" picture at
camera frame rate; `show(image)` holds a stamp picture in front of it for a few seconds,
exactly as if a shopper held a stamp up. The frames still go through the real decoder.
stamp_picture() draws such a picture (kiosk.demo.stamps makes the demo set). No Kivy here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from scanner.sources import FrameSource

FRAME_W, FRAME_H = 640, 480
DEMO_HOLD_S = 4.0


def counter_top(seed: int = 7) -> np.ndarray:
    """A plain counter top: warm grey gradient with a little sensor-like noise (BGR)."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, FRAME_H)[:, None]
    x = np.linspace(0, 1, FRAME_W)[None, :]
    base = 120 + 50 * (1 - y) * 0.8 + 20 * x
    img = np.stack([base * 0.86, base * 0.93, base], axis=-1)
    img += rng.normal(0, 3.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def stamp_picture(
    text: str,
    caption: str = "OCOP Sơn La",
    angle_deg: float = -4.0,
    module_px: int = 5,
    seed: int = 7,
) -> np.ndarray:
    """A 640x480 BGR frame: a white stamp label with the QR, held slightly tilted."""
    from PIL import Image, ImageDraw, ImageFont

    from printer.fonts import font_path
    from printer.label import qr_matrix

    dark, _version = qr_matrix(text)  # the modules the station prints
    quiet = np.pad(dark, 4)  # the 4-module quiet zone
    pixels = np.where(np.kron(quiet, np.ones((module_px, module_px), dtype=bool)), 0, 255)
    qr_img = Image.fromarray(pixels.astype(np.uint8)).convert("RGB")
    side = qr_img.width
    label_w, label_h = side + 40, side + 80
    label = Image.new("RGB", (label_w, label_h), (252, 250, 244))
    draw = ImageDraw.Draw(label)
    draw.rectangle((0, 0, label_w - 1, 34), fill=(14, 107, 58))
    font = ImageFont.truetype(str(font_path("bold")), 20)
    draw.text((label_w // 2, 17), caption, fill=(255, 255, 255), font=font, anchor="mm")
    label.paste(qr_img, (20, 40))
    label = label.rotate(
        angle_deg, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0)
    )
    mask = label.convert("L").point(lambda v: 255 if v > 8 else 0)
    bg = Image.fromarray(counter_top(seed)[:, :, ::-1].copy())
    bg.paste(label, ((FRAME_W - label.width) // 2, (FRAME_H - label.height) // 2), mask)
    return np.ascontiguousarray(np.asarray(bg)[:, :, ::-1])


def load_bgr(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path} is not a readable image")
    return image


class DemoCameraSource(FrameSource):
    """A camera in software: the counter top, or a stamp picture while one is 'held up'."""

    repeats_frames = True

    def __init__(self, fps: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.name = "demo-camera"
        self.fps = fps
        self.clock = clock
        self._background = counter_top()
        self._held: np.ndarray | None = None
        self._held_until = 0.0
        self._lock = threading.Lock()
        self._next_due = 0.0

    def show(self, image: np.ndarray, hold_s: float = DEMO_HOLD_S) -> None:
        with self._lock:
            self._held = image
            self._held_until = self.clock() + hold_s

    def clear(self) -> None:
        with self._lock:
            self._held = None

    def open(self) -> None:
        self._next_due = 0.0

    def read(self) -> np.ndarray:
        if self.fps:
            now = time.monotonic()
            if self._next_due > now:
                time.sleep(self._next_due - now)
            self._next_due = max(now, self._next_due) + 1.0 / self.fps
        with self._lock:
            if self._held is not None and self.clock() < self._held_until:
                return self._held
            self._held = None
            return self._background

    def close(self) -> None:
        pass
