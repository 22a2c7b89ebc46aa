"""Test images for scanner tests: generated QR frames, EAN-13 barcodes, MJPG videos."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import segno

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "qr-photos"

# EAN-13 encoding tables (GS1 General Specifications 5.2.1.2).
_L = [
    "0001101",
    "0011001",
    "0010011",
    "0111101",
    "0100011",
    "0110001",
    "0101111",
    "0111011",
    "0110111",
    "0001011",
]
_G = ["".join("1" if b == "0" else "0" for b in code[::-1]) for code in _L]
_R = ["".join("1" if b == "0" else "0" for b in code) for code in _L]
_PARITY = [
    "LLLLLL",
    "LLGLGG",
    "LLGGLG",
    "LLGGGL",
    "LGLLGG",
    "LGGLLG",
    "LGGGLL",
    "LGLGLG",
    "LGLGGL",
    "LGGLGL",
]


def ean13_check_digit(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def ean13_image(
    digits12: str, module_px: int = 3, height_px: int = 120, quiet_modules: int = 12
) -> tuple[np.ndarray, str]:
    """A minimal EAN-13 renderer (bars only, no human-readable digits). Returns (gray, text)."""
    code = digits12 + ean13_check_digit(digits12)
    bits = "101"
    for digit, parity in zip(code[1:7], _PARITY[int(code[0])], strict=True):
        bits += (_L if parity == "L" else _G)[int(digit)]
    bits += "01010"
    for digit in code[7:]:
        bits += _R[int(digit)]
    bits += "101"
    row = np.array([0 if b == "1" else 255 for b in bits], np.uint8)
    row = np.repeat(row, module_px)
    image = np.tile(row, (height_px, 1))
    pad = quiet_modules * module_px
    image = cv2.copyMakeBorder(image, 20, 20, pad, pad, cv2.BORDER_CONSTANT, value=255)
    return image, code


def qr_frame(
    text: str,
    module_px: int = 4,
    size=(640, 480),
    at=(80, 60),
    background: int = 170,
    noise_seed: int | None = None,
) -> np.ndarray:
    """A BGR 'camera frame' with a QR code pasted on a grey background."""
    qr = segno.make(text, error="M", boost_error=False)
    matrix = np.array(qr.matrix, np.uint8)
    symbol = np.where(matrix > 0, 0, 255).astype(np.uint8)
    symbol = np.kron(symbol, np.ones((module_px, module_px), np.uint8))
    symbol = cv2.copyMakeBorder(
        symbol,
        4 * module_px,
        4 * module_px,
        4 * module_px,
        4 * module_px,
        cv2.BORDER_CONSTANT,
        value=255,
    )
    width, height = size
    frame = np.full((height, width), background, np.uint8)
    x, y = at
    frame[y : y + symbol.shape[0], x : x + symbol.shape[1]] = symbol
    if noise_seed is not None:
        rng = np.random.default_rng(noise_seed)
        frame = np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def blank_frame(seed: int, size=(640, 480)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    width, height = size
    return rng.integers(100, 180, (height, width, 3), dtype=np.uint8)


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """MJPG in AVI: the codec opencv-python-headless can always write and read back."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), "MJPG/AVI writer unavailable"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


DEADLINE_S = 10.0  # only a safety net against hangs


def wait_until(predicate, timeout_s: float = DEADLINE_S) -> bool:
    """Poll `predicate` until it is true or the safety-net deadline passes."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
