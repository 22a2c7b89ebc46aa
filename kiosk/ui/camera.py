"""Camera wiring for the UI: pick a frame source from the settings, and the demo camera.

No Kivy here. The scanner package does the work (capture thread, decode worker with
newest-frame dropping and de-duplication); this module only chooses the source:

    camera.kind = "replay"  -> scanner ReplaySource over camera.replay_path (or the demo
                               stamp pictures when empty)
    camera.kind = "usb" / "picamera" -> that camera
    camera.kind = "auto"    -> when a camera is attached (scanner.detection: a Pi camera
                               libcamera lists, or a USB capture node in sysfs), the
                               scanner's AutoCameraSource, which re-detects on every
                               (re)open; else the DEMO CAMERA, and the app watches sysfs
                               (usb_cameras_attached) to switch when a USB camera is plugged in

The demo camera (DemoCameraSource) is what a desktop without a camera shows: a plain
"counter top" picture at camera frame rate; `show(image)` holds one of the demo stamp
pictures in front of it for a few seconds, exactly as if a shopper held a stamp up. The scan
screen offers those pictures as buttons. The frames still go through the real decoder.

Demo stamp pictures are made once per data folder in <data_dir>/demo-stamps/ (PNG, 640x480,
plus index.json): genuine stamps signed by the demo registry for a 5-star and a 4-star
product, a genuine stamp of a product whose rating expired, a forged copy (one signature
character changed), a product barcode (GTIN) and a QR that is not an OCOP stamp. The same
folder works as `camera.replay_path`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.i18n import N_

log = logging.getLogger(__name__)

FRAME_W, FRAME_H = 640, 480
DEMO_DIRNAME = "demo-stamps"
DEMO_HOLD_S = 4.0


@dataclass(frozen=True)
class DemoStamp:
    key: str          # genuine | genuine4 | expired | forged | barcode | not_ocop
    label: str        # msgid for the button
    text: str         # what the QR holds
    path: Path        # the 640x480 picture


DEMO_LABELS = {   # msgids (translated by the scan screen)
    "genuine": N_("Genuine stamp, 5 stars"),
    "genuine4": N_("Genuine stamp, 4 stars"),
    "expired": N_("Genuine stamp, rating expired"),
    "forged": N_("Forged stamp"),
    "barcode": N_("Product barcode"),
    "not_ocop": N_("Some other QR code"),
}


# --- pictures ---------------------------------------------------------------------------


def _background(seed: int = 7) -> np.ndarray:
    """A plain counter top: warm grey gradient with a little sensor-like noise (BGR)."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, FRAME_H)[:, None]
    x = np.linspace(0, 1, FRAME_W)[None, :]
    base = 120 + 50 * (1 - y) * 0.8 + 20 * x
    img = np.stack([base * 0.86, base * 0.93, base], axis=-1)
    img += rng.normal(0, 3.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def stamp_picture(text: str, caption: str = "OCOP Sơn La", angle_deg: float = -4.0,
                  module_px: int = 5, seed: int = 7) -> np.ndarray:
    """A 640x480 BGR frame: a white stamp label with the QR, held slightly tilted."""
    from PIL import Image, ImageDraw, ImageFont

    from kiosk.fonts import dejavu_sans_path
    from printer.label import qr_matrix

    dark, _version = qr_matrix(text)                 # the modules the station prints
    quiet = np.pad(dark, 4)                           # the 4-module quiet zone
    pixels = np.where(np.kron(quiet, np.ones((module_px, module_px), dtype=bool)), 0, 255)
    qr_img = Image.fromarray(pixels.astype(np.uint8)).convert("RGB")
    side = qr_img.width
    label_w, label_h = side + 40, side + 80
    label = Image.new("RGB", (label_w, label_h), (252, 250, 244))
    draw = ImageDraw.Draw(label)
    draw.rectangle((0, 0, label_w - 1, 34), fill=(14, 107, 58))
    font = ImageFont.truetype(str(dejavu_sans_path(bold=True)), 20)
    draw.text((label_w // 2, 17), caption, fill=(255, 255, 255), font=font, anchor="mm")
    label.paste(qr_img, (20, 40))
    label = label.rotate(angle_deg, expand=True, resample=Image.BICUBIC,
                         fillcolor=(0, 0, 0))
    mask = label.convert("L").point(lambda v: 255 if v > 8 else 0)
    bg = Image.fromarray(_background(seed)[:, :, ::-1].copy())
    bg.paste(label, ((FRAME_W - label.width) // 2, (FRAME_H - label.height) // 2), mask)
    return np.ascontiguousarray(np.asarray(bg)[:, :, ::-1])


def _write_png(path: Path, bgr: np.ndarray) -> None:
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(bgr[:, :, ::-1].copy()).save(path, format="PNG", optimize=True)


def _forge(text: str) -> str:
    """Change one character in the signature part, keeping the text canonical base32."""
    i = len(text) - 30
    replacement = "A" if text[i] != "A" else "B"
    return text[:i] + replacement + text[i + 1:]


def prepare_demo_stamps(store, settings, data_dir: Path) -> list[DemoStamp]:
    """The demo stamp pictures for this data folder; made on first call (needs demo keys).
    Returns [] when the folder has no demo registry (a real kiosk)."""
    folder = Path(data_dir) / DEMO_DIRNAME
    index = folder / "index.json"
    if index.exists():
        try:
            entries = json.loads(index.read_text(encoding="utf-8"))
            stamps = [DemoStamp(e["key"], DEMO_LABELS.get(e["key"], e["key"]), e["text"],
                                folder / e["file"]) for e in entries]
            if all(s.path.exists() for s in stamps):
                return stamps
        except (ValueError, KeyError, OSError):
            log.warning("demo stamp index unreadable; making it again")
    try:
        from kiosk.stamps.demo import load_demo_signer
        from kiosk.stamps.service import take_stamps
    except ImportError:
        return []
    signer = load_demo_signer(store, data_dir, settings)
    if signer is None:
        return []
    from kiosk.catalog import Catalog
    catalog = Catalog(store)
    products = {p.id: p for p in catalog.all()}

    def pick(pred, prefer):
        for pid in prefer:
            if pid in products and pred(products[pid]):
                return products[pid]
        return next((p for p in products.values() if pred(p)), None)

    five = pick(lambda p: p.stars == 5, (101,))
    four = pick(lambda p: p.stars == 4, (116, 107, 106))
    expired = pick(lambda p: p.rating_status == "expired", (102, 112))
    with_gtin = pick(lambda p: bool(p.gtin), (106, 101))
    texts: dict[str, str] = {}
    with store.transaction() as conn:
        for key, product in (("genuine", five), ("genuine4", four), ("expired", expired)):
            if product is not None:
                issued = take_stamps(conn, product.id, 1, state="printed",
                                     demo_signer=signer)
                texts[key] = issued[0].text
    if "genuine" in texts:
        texts["forged"] = _forge(texts["genuine"])
    if with_gtin is not None:
        texts["barcode"] = with_gtin.gtin
    texts["not_ocop"] = "HTTPS://EXAMPLE.COM/KHUYEN-MAI?MA=2024"
    entries = []
    stamps = []
    for n, (key, text) in enumerate(texts.items(), start=1):
        name = f"{n:02d}-{key}.png"
        caption = "OCOP Sơn La" if key not in ("barcode", "not_ocop") else \
            ("GTIN" if key == "barcode" else "QR")
        _write_png(folder / name, stamp_picture(text, caption, angle_deg=-4.0 + n,
                                                seed=n))
        entries.append({"key": key, "file": name, "text": text})
        stamps.append(DemoStamp(key, DEMO_LABELS[key], text, folder / name))
    index.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    log.info("demo stamp pictures written to %s", folder)
    return stamps


def load_bgr(path: Path) -> np.ndarray:
    import cv2
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path} is not a readable image")
    return image


# --- the demo camera -------------------------------------------------------------------------


def _frame_source_base():
    from scanner.sources import FrameSource
    return FrameSource


class DemoCameraSource(_frame_source_base()):
    """A camera in software: the counter top, or a stamp picture while one is 'held up'."""

    repeats_frames = True

    def __init__(self, fps: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.name = "demo-camera"
        self.fps = fps
        self.clock = clock
        self._background = _background()
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


def _detector(detector=None):
    from scanner.detection import CameraDetector
    return detector if detector is not None else CameraDetector()


def camera_present(detector=None) -> bool:
    """A USB camera or a Pi camera is attached. USB first: sysfs is cheap, while asking
    libcamera (picamera2) costs up to a second the first time in a process (and the UI thread
    calls this at start and on a hot-plug switch)."""
    detector = _detector(detector)
    return bool(detector.usb()) or bool(detector.csi())


def usb_cameras_attached(detector=None) -> list:
    """The USB capture cameras attached now: sysfs reads only, cheap enough for a UI timer.
    Pi cameras are not checked: a ribbon cable is not hot-pluggable (found at boot or never)."""
    return _detector(detector).usb()


def make_camera_source(settings, data_dir: Path, detector=None):
    """(source, is_demo) for the settings; see the module docstring. is_demo is True only for
    camera.kind = "auto" with no camera attached. `detector`: scanner CameraDetector (tests)."""
    from scanner.sources import make_source, parse_device
    cam = settings.camera
    kind = cam.kind.value
    if kind == "replay":
        path = cam.replay_path or str(Path(data_dir) / DEMO_DIRNAME)
        return make_source("replay", path=path, fps=cam.fps), False
    if kind == "usb":
        return make_source("opencv", parse_device(cam.device), cam.width_px, cam.height_px,
                           cam.fps), False
    if kind == "picamera":
        return make_source("picamera2", parse_device(cam.device), cam.width_px,
                           cam.height_px, cam.fps), False
    if camera_present(detector):
        return make_source("auto", parse_device(cam.device), cam.width_px, cam.height_px,
                           cam.fps, detector=detector), False
    log.info("no camera found: using the demo camera")
    return DemoCameraSource(fps=cam.fps), True


DECODE_MAX_HZ = 15.0   # frames offered to the decoder per second (the preview gets them all)


class _Throttle:
    """Passes at most max_hz frames a second on to the decode worker. Decoding every frame of
    a 30 fps camera costs a whole core on a Pi for no faster answer; the preview still shows
    every frame (it reads CaptureThread.latest_frame)."""

    def __init__(self, submit, max_hz: float, clock=time.monotonic):
        self.submit = submit
        self.min_gap_s = 1.0 / max_hz if max_hz else 0.0
        self.clock = clock
        self._last = float("-inf")

    def __call__(self, frame) -> None:
        now = self.clock()
        if now - self._last >= self.min_gap_s:
            self._last = now
            self.submit(frame)


class CameraService:
    """The scanner (capture thread + decode worker) around one source.

    Callbacks run on scanner threads; the app hops them onto the UI thread."""

    def __init__(self, source, on_codes, on_state=None, on_hint=None,
                 gone_after_s: float | None = None, is_demo: bool = False,
                 decode_max_hz: float = DECODE_MAX_HZ):
        from scanner import Scanner
        self.source = source
        self.is_demo = is_demo
        from scanner.worker import GONE_AFTER_S
        self.scanner = Scanner(source, on_codes, on_state=on_state, on_hint=on_hint,
                               gone_after_s=GONE_AFTER_S if gone_after_s is None
                               else gone_after_s)
        self.scanner.capture.on_frame = _Throttle(self.scanner.worker.submit, decode_max_hz)
        self.started = False

    def start(self) -> None:
        if not self.started:
            self.scanner.start()
            self.started = True

    def stop(self) -> None:
        if self.started:
            self.scanner.stop()
            self.started = False

    @property
    def latest_frame(self):
        return self.scanner.latest_frame

    @property
    def status(self):
        return self.scanner.status

    @property
    def demo_source(self) -> DemoCameraSource | None:
        src = self.source
        while src is not None:
            if isinstance(src, DemoCameraSource):
                return src
            src = getattr(src, "inner", None)
        return None
