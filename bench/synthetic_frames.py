"""Synthetic 640x480 camera frames of a printed OCOP stamp (fixed seed, reproducible).

Two kinds of frame (``kind=``):

* ``"label"`` (default): a real 58 mm label as the printer renders it -
  ``printer.render_label_info(LabelContent(...), LabelLayout(width_dots=384))`` with a
  Vietnamese product name, producer and district from kiosk/demo/catalog.json, 3-5 stars or
  none, the serial under the QR and sometimes a lot line - on a 58 mm wide strip of paper
  (the unprinted paper edges included). The QR is whatever the label renderer makes of the
  stamp text (version 6-M, 4 dots per module).
* ``"plain"``: the older stand-in, a bare version-6 QR with a strip of Hershey "text" under
  it (kept for comparison; the same frames as before for the same seed).

The stamp text (``spelling=``, docs/stamp-format.md) is by default the current one,
'https://OCOP.SONLA.GOV.VN/S/' + 184 digits as a mixed QR ('https://' byte, host/path
alphanumeric, digits numeric), or with ``spelling="legacy"`` the one printed before issue 15,
'HTTPS://OCOP.SONLA.GOV.VN/S/' + 122 base32 chars ([A-Z2-7]), 150 alphanumeric chars; both
are QR version 6 at EC level M (41x41 modules), and for the same seed both spellings carry the
same random 76 bytes in the same frames. Each frame applies:
perspective tilt up to 30 deg, any in-plane rotation, 2.5-6 camera pixels per module,
defocus or motion blur, glare, uneven light, sensor noise and JPEG quality 60-90. A share of
frames holds no code at all (the kiosk camera sees mostly empty counters, and those frames
must be cheap). A label bigger than the frame is cut by the frame edge; its QR code and
quiet zone always stay inside.

    from bench.synthetic_frames import make_frames
    for frame in make_frames(count=200, seed=20240601, kind="label"):
        frame.image, frame.expected_text  # expected_text is None for frames with no code

Run as a script to write the frames to a folder (PNG + .txt like the real photo set):
    .venv/bin/python bench/synthetic_frames.py OUT_DIR [--count N] [--seed S] [--kind plain]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import segno

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ocop.stamps.codec import PAYLOAD_CHARS, PAYLOAD_DIGITS, stamp_qr_segments  # noqa: E402
from ocop.stamps.errors import StampFormatError  # noqa: E402
from printer.label import LabelContent, LabelLayout, render_label_info  # noqa: E402

FRAME_WIDTH_PX = 640
FRAME_HEIGHT_PX = 480
URL_PREFIX = "HTTPS://OCOP.SONLA.GOV.VN/S/"  # legacy spelling
CURRENT_PREFIX = "https://OCOP.SONLA.GOV.VN/S/"
BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
QR_VERSION = 6
QR_MODULES = 17 + 4 * QR_VERSION  # 41
QUIET_ZONE_MODULES = 4
MAX_TILT_DEG = 30.0
MODULE_PX_RANGE = (2.5, 6.0)
JPEG_QUALITY_RANGE = (60, 90)
NO_CODE_SHARE = 0.2
FOCAL_LENGTH_PX = 600.0  # a typical 640x480 webcam (~56 deg horizontal field of view)
DEFAULT_SEED = 20240601
CATALOG_PATH = ROOT / "kiosk" / "demo" / "catalog.json"
LABEL_WIDTH_DOTS = 384  # 58 mm paper, 48 mm printable
PAPER_WIDTH_DOTS = 464  # 58 mm at 8 dots/mm: 40 unprinted dots each side
PAPER_END_DOTS = (16, 40)  # paper above the first printed row / below the last one
STAR_CHOICES = (3, 4, 5, None)  # None: no valid rating, the label draws no stars
Kind = Literal["label", "plain"]
Spelling = Literal["current", "legacy"]


@dataclass(frozen=True)
class SyntheticFrame:
    image: np.ndarray  # BGR uint8, 480x640x3
    expected_text: str | None  # None: the frame holds no code
    module_px: float  # mean camera pixels per QR module (0 for no-code frames)
    description: str  # the distortions applied, for debugging failures
    kind: str = "plain"  # "label" or "plain"


def stamp_payload(rng: np.random.Generator, spelling: Spelling = "current") -> str:
    chars = rng.integers(0, len(BASE32_ALPHABET), PAYLOAD_CHARS)
    b32 = "".join(BASE32_ALPHABET[i] for i in chars)
    if spelling == "legacy":
        return URL_PREFIX + b32
    number = int(
        b32.translate(str.maketrans(BASE32_ALPHABET, "0123456789abcdefghijklmnopqrstuv")), 32
    )
    return CURRENT_PREFIX + str(number >> 2).zfill(PAYLOAD_DIGITS)  # the same 76 bytes


def qr_segments(payload: str) -> tuple[tuple[str, str], ...]:
    """The segments the kiosk prints a current-spelling stamp with; () for a legacy text."""
    try:
        return stamp_qr_segments(payload)
    except StampFormatError:
        return ()


def stamp_label(payload: str, module_px_on_label: int = 8) -> np.ndarray:
    """Grey image of a printed label: QR with quiet zone plus a strip of 'text' underneath."""
    segments = qr_segments(payload)
    if segments:
        modes = {"byte": segno.consts.MODE_BYTE, "alphanumeric": segno.consts.MODE_ALPHANUMERIC}
        modes["numeric"] = segno.consts.MODE_NUMERIC
        content = [(t, modes[m]) for t, m in segments]
        qr = segno.make(content, version=QR_VERSION, error="M", boost_error=False)
    else:
        qr = segno.make(payload, version=QR_VERSION, error="M", boost_error=False)
    matrix = np.array(qr.matrix, dtype=np.uint8)
    assert matrix.shape == (QR_MODULES, QR_MODULES)
    symbol = np.where(matrix > 0, 0, 255).astype(np.uint8)
    symbol = np.kron(symbol, np.ones((module_px_on_label, module_px_on_label), np.uint8))
    pad = QUIET_ZONE_MODULES * module_px_on_label
    label = cv2.copyMakeBorder(symbol, pad, pad * 3, pad, pad, cv2.BORDER_CONSTANT, value=255)
    height = label.shape[0]
    cv2.putText(
        label,
        "OCOP SON LA",
        (pad, height - pad),
        cv2.FONT_HERSHEY_SIMPLEX,
        module_px_on_label / 6.0,
        40,
        max(1, module_px_on_label // 3),
        cv2.LINE_AA,
    )
    return label


@functools.lru_cache(maxsize=1)
def _catalog() -> tuple[tuple[str, str, str], ...]:
    """(product name, producer name, district) for every product of the demo catalog."""
    data = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    producers = {p["id"]: p for p in data["producers"]}
    rows = []
    for product in data["products"]:
        producer = producers.get(product.get("producer"), {})
        rows.append((product["name_vi"], producer.get("name", ""), producer.get("district", "")))
    return tuple(rows)


def serial_text(serial: int) -> str:
    """As kiosk.printing.queue.serial_text prints it: 12 digits in groups of four."""
    digits = f"{serial:012d}"
    return "Số/No. " + " ".join(digits[i : i + 4] for i in range(0, 12, 4))


@dataclass(frozen=True)
class PrintedLabel:
    image: np.ndarray  # grey paper strip, 255 = paper, 0 = ink
    module_px: int  # label pixels per QR module
    keep_box: tuple[int, int, int, int]  # QR + quiet zone in strip pixels: x0, y0, x1, y1
    description: str


def printed_label(payload: str, rng: np.random.Generator) -> PrintedLabel:
    """A 58 mm label as printer.render_label draws it, on its strip of paper."""
    catalog = _catalog()
    title, producer, district = catalog[int(rng.integers(0, len(catalog)))]
    stars = STAR_CHOICES[int(rng.integers(0, len(STAR_CHOICES)))]
    serial = int(rng.integers(1, 10**7))
    footer = f"Lô/Lot 2024-{int(rng.integers(1, 13)):02d}" if rng.random() < 0.5 else ""
    content = LabelContent(
        qr_text=payload,
        qr_segments=qr_segments(payload),  # type: ignore[arg-type]
        title=title,
        serial_text=serial_text(serial),
        producer=producer,
        district=district,
        stars=stars,
        footer=footer,
    )
    info = render_label_info(content, LabelLayout(width_dots=LABEL_WIDTH_DOTS))
    ink = np.asarray(info.image, dtype=bool)  # True = paper
    printed = np.where(ink, 255, 0).astype(np.uint8)
    side = (PAPER_WIDTH_DOTS - LABEL_WIDTH_DOTS) // 2
    top, bottom = PAPER_END_DOTS
    strip = cv2.copyMakeBorder(printed, top, bottom, side, side, cv2.BORDER_CONSTANT, value=255)
    x0, y0, x1, y1 = info.qr_box
    q = info.quiet_dots
    keep = (x0 - q + side, y0 - q + top, x1 + q + side, y1 + q + top)
    desc = f"label {info.arrangement} v{info.qr_version} stars={stars} '{title[:24]}'"
    return PrintedLabel(strip, info.module_dots, keep, desc)


def _background(rng: np.random.Generator) -> np.ndarray:
    """A cluttered counter: smooth shading, blocks of colour, some lines and text."""
    low = rng.uniform(40, 200, (6, 8)).astype(np.float32)
    shade = cv2.resize(low, (FRAME_WIDTH_PX, FRAME_HEIGHT_PX), interpolation=cv2.INTER_CUBIC)
    image = np.clip(np.dstack([shade * rng.uniform(0.7, 1.2) for _ in range(3)]), 0, 255)
    image = image.astype(np.uint8)  # OpenCV 5 draws text on 8-bit images only
    for _ in range(int(rng.integers(3, 10))):
        x0, y0 = int(rng.integers(0, FRAME_WIDTH_PX)), int(rng.integers(0, FRAME_HEIGHT_PX))
        x1, y1 = x0 + int(rng.integers(20, 250)), y0 + int(rng.integers(20, 200))
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            cv2.rectangle(image, (x0, y0), (x1, y1), colour, -1)
        else:
            cv2.line(image, (x0, y0), (x1, y1), colour, int(rng.integers(1, 6)))
    for _ in range(int(rng.integers(0, 4))):
        org = (int(rng.integers(0, FRAME_WIDTH_PX - 100)), int(rng.integers(20, FRAME_HEIGHT_PX)))
        cv2.putText(
            image,
            "Tra Shan Tuyet 250g",
            org,
            cv2.FONT_HERSHEY_SIMPLEX,
            float(rng.uniform(0.4, 1.2)),
            (20, 20, 20),
            2,
            cv2.LINE_AA,
        )
    return image.astype(np.float32)


def _rotation_matrix(tilt_deg: float, tilt_axis_deg: float, roll_deg: float) -> np.ndarray:
    roll = math.radians(roll_deg)
    rz = np.array(
        [[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]]
    )
    # Tilt about an in-plane axis at angle tilt_axis (Rodrigues).
    axis_rad = math.radians(tilt_axis_deg)
    axis = np.array([math.cos(axis_rad), math.sin(axis_rad), 0])
    tilt, _ = cv2.Rodrigues(axis * math.radians(tilt_deg))
    return tilt @ rz


def _project_label(
    label: np.ndarray,
    rng: np.random.Generator,
    module_px: float,
    tilt_deg: float,
    roll_deg: float,
    module_on_label: float | None = None,
    keep_box: tuple[int, int, int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Homography that puts the label in the frame with the QR at about module_px per module.

    The whole label is placed inside the frame when it fits; otherwise only ``keep_box``
    (the QR with its quiet zone, label pixels) is kept inside and the frame cuts the rest.
    """
    label_h, label_w = label.shape
    if module_on_label is None:  # the plain stamp: the QR + quiet zone spans the label width
        module_on_label = label_w / (QR_MODULES + 2 * QUIET_ZONE_MODULES)
    # Scale so that at the frame centre one module spans module_px pixels.
    scale = module_px / module_on_label
    corners = np.array([[0, 0], [label_w, 0], [label_w, label_h], [0, label_h]], np.float64)
    rotation = _rotation_matrix(tilt_deg, float(rng.uniform(0, 180)), roll_deg)

    def project(points: np.ndarray) -> np.ndarray:
        centred = (points - [label_w / 2, label_h / 2]) * scale
        rotated = np.hstack([centred, np.zeros((len(points), 1))]) @ rotation.T
        depth = FOCAL_LENGTH_PX + rotated[:, 2]
        return rotated[:, :2] * (FOCAL_LENGTH_PX / depth[:, None])

    projected = project(corners)
    frame = np.array([FRAME_WIDTH_PX, FRAME_HEIGHT_PX], np.float64)
    span = projected.max(axis=0) - projected.min(axis=0)
    if keep_box is None or (span <= frame - 8).all():
        free = np.maximum(0.0, frame - span - 8)
        offset = 4 + rng.uniform(0, 1, 2) * free - projected.min(axis=0)
    else:
        x0, y0, x1, y1 = keep_box
        kept = project(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64))
        low = 4 - kept.min(axis=0)
        high = frame - 4 - kept.max(axis=0)
        offset = np.where(
            low <= high, low + rng.uniform(0, 1, 2) * np.maximum(0, high - low), (low + high) / 2
        )
    target = (projected + offset).astype(np.float32)
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return homography, target


def _motion_kernel(length_px: int, angle_deg: float) -> np.ndarray:
    size = max(3, length_px | 1)
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1.0
    rotation = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle_deg, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (size, size))
    return kernel / max(kernel.sum(), 1e-6)


def _render(rng: np.random.Generator, payload: str | None, kind: Kind = "plain") -> SyntheticFrame:
    image = _background(rng)
    parts: list[str] = []
    module_px = 0.0
    if payload is not None:
        module_px = float(rng.uniform(*MODULE_PX_RANGE))
        tilt_deg = float(rng.uniform(0, MAX_TILT_DEG))
        roll_deg = float(rng.uniform(0, 360))
        if kind == "label":
            printed = printed_label(payload, rng)
            label = printed.image
            homography, _ = _project_label(
                label, rng, module_px, tilt_deg, roll_deg, printed.module_px, printed.keep_box
            )
            parts.append(printed.description)
        else:
            label = stamp_label(payload)
            homography, _ = _project_label(label, rng, module_px, tilt_deg, roll_deg)
        # Warp ink and paper separately so the label is opaque on the background.
        paper_tone = rng.uniform(190, 250)
        ink_tone = rng.uniform(10, 70)
        toned = ink_tone + (label.astype(np.float32) / 255.0) * (paper_tone - ink_tone)
        warped = cv2.warpPerspective(
            toned, homography, (FRAME_WIDTH_PX, FRAME_HEIGHT_PX), flags=cv2.INTER_AREA
        )
        mask = cv2.warpPerspective(
            np.ones_like(toned),
            homography,
            (FRAME_WIDTH_PX, FRAME_HEIGHT_PX),
            flags=cv2.INTER_LINEAR,
        )
        tint = rng.uniform(0.9, 1.05, 3)
        image = image * (1 - mask[..., None]) + (warped[..., None] * tint) * mask[..., None]
        parts.append(f"module={module_px:.2f}px tilt={tilt_deg:.0f} roll={roll_deg:.0f}")

    # Uneven light: a gentle gain ramp across the frame.
    ramp = np.linspace(
        rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.2), FRAME_WIDTH_PX, dtype=np.float32
    )
    if rng.random() < 0.5:
        ramp = ramp[::-1]
    image = image * ramp[None, :, None]

    # Glare: a bright soft blob (a lamp reflected on a glossy label).
    if rng.random() < 0.35:
        centre = (rng.uniform(0, FRAME_WIDTH_PX), rng.uniform(0, FRAME_HEIGHT_PX))
        radius_px = rng.uniform(25, 90)
        yy, xx = np.mgrid[0:FRAME_HEIGHT_PX, 0:FRAME_WIDTH_PX].astype(np.float32)
        blob = np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * radius_px**2))
        strength = rng.uniform(80, 200)
        image = image + (blob * strength)[..., None]
        parts.append(f"glare r={radius_px:.0f} +{strength:.0f}")

    blur_kind = rng.choice(["none", "defocus", "motion"], p=[0.3, 0.4, 0.3])
    if blur_kind == "defocus":
        sigma = float(rng.uniform(0.4, 1.4))
        image = cv2.GaussianBlur(image, (0, 0), sigma)
        parts.append(f"defocus sigma={sigma:.2f}")
    elif blur_kind == "motion":
        length_px = int(rng.integers(2, 6))
        angle = float(rng.uniform(0, 180))
        image = cv2.filter2D(image, -1, _motion_kernel(length_px, angle))
        parts.append(f"motion {length_px}px@{angle:.0f}")

    sigma_noise = float(rng.uniform(2, 9))
    image = image + rng.normal(0, sigma_noise, image.shape).astype(np.float32)
    parts.append(f"noise={sigma_noise:.1f}")
    image = np.clip(image, 0, 255).astype(np.uint8)

    quality = int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1))
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    image = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    parts.append(f"jpeg={quality}")
    return SyntheticFrame(image, payload, module_px, " ".join(parts), kind)


def make_frames(
    count: int = 200,
    seed: int = DEFAULT_SEED,
    no_code_share: float = NO_CODE_SHARE,
    kind: Kind = "label",
    spelling: Spelling = "current",
) -> Iterator[SyntheticFrame]:
    """Yields `count` frames; the same (count, seed, kind, spelling) always gives the same
    frames (the spelling changes only the QR text, not the distortions)."""
    if kind not in ("label", "plain"):
        raise ValueError(f"kind must be 'label' or 'plain', got {kind!r}")
    rng = np.random.default_rng(seed)
    for _ in range(count):
        has_code = rng.random() >= no_code_share
        payload = stamp_payload(rng, spelling) if has_code else None
        yield _render(rng, payload, kind)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--kind", choices=("label", "plain"), default="label")
    parser.add_argument("--spelling", choices=("current", "legacy"), default="current")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(
        make_frames(args.count, args.seed, kind=args.kind, spelling=args.spelling)
    ):
        stem = args.out_dir / f"frame-{index:04d}"
        cv2.imwrite(str(stem.with_suffix(".png")), frame.image)
        if frame.expected_text is not None:
            stem.with_suffix(".txt").write_text(frame.expected_text + "\n", encoding="ascii")
    print(f"wrote {args.count} frames to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
