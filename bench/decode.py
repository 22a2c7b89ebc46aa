"""Decode benchmark: zxing-cpp alone, pyzbar alone and the project's pipeline, side by side.

    .venv/bin/python bench/decode.py [--quick] [--frames N] [--photos DIR]

Sets: the real photos (tests/data/qr-photos, a copy of ../shared/data/qr-photos; expected text
in NAME.txt, compared after normalising line ends) and two sets of synthetic 640x480 camera
frames (bench/synthetic_frames.py, fixed seed, 20% of frames without a code): "labels", real
58 mm labels as printer.render_label draws them, and "plain QR", the bare stamp QR used before.
Pinned to one core. Prints decode rate (codes read / frames holding a code), median and p95 ms
per frame (every frame, including those without a code) and wrong texts (a code read with a
text other than expected, or a code "read" in a frame that holds none).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import zxingcpp  # noqa: E402
from pyzbar import pyzbar  # noqa: E402

from bench.synthetic_frames import make_frames  # noqa: E402
from scanner.decoders import DecodePipeline, to_gray  # noqa: E402


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


DEFAULT_PHOTOS = ROOT / "tests" / "data" / "qr-photos"


@dataclass
class Sample:
    gray: np.ndarray
    expected: str | None


def normalise(text: str) -> str:
    """Compare texts modulo line ends and one trailing line end.

    Some expected .txt files end in the code's own CRLF, others add a newline of their own."""
    text = text.replace("\r\n", "\n")
    return text[:-1] if text.endswith("\n") else text


def load_photo_set(folder: Path) -> list[Sample]:
    samples = []
    for png in sorted(folder.glob("*.png")):
        expected = png.with_suffix(".txt").read_bytes().decode("utf-8")
        image = cv2.imread(str(png), cv2.IMREAD_COLOR)
        samples.append(Sample(to_gray(image), normalise(expected)))
    return samples


def zxing_alone(gray: np.ndarray) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(gray)]  # library defaults


def pyzbar_alone(gray: np.ndarray) -> list[str]:
    return [d.data.decode("utf-8", "replace") for d in pyzbar.decode(gray)]  # library defaults


def pipeline_decoder(pipeline: DecodePipeline) -> Callable[[np.ndarray], list[str]]:
    return lambda gray: pipeline.decode(gray).texts


@dataclass
class Row:
    read: int
    with_code: int
    wrong: int
    median_ms: float
    p95_ms: float

    def cell(self) -> str:
        rate = 100.0 * self.read / max(1, self.with_code)
        wrong = f" !{self.wrong}" if self.wrong else ""
        return f"{rate:5.1f}% {self.median_ms:5.2f}/{self.p95_ms:5.2f}{wrong}"


def run(decode: Callable[[np.ndarray], list[str]], samples: list[Sample], repeat: int) -> Row:
    read = wrong = with_code = 0
    times_ms = []
    for sample in samples:
        best_ms = float("inf")
        for _ in range(repeat):  # the best of a few runs: removes scheduler noise, keeps order
            t0 = time.perf_counter()
            texts = decode(sample.gray)
            best_ms = min(best_ms, (time.perf_counter() - t0) * 1000.0)
        times_ms.append(best_ms)
        texts = [normalise(t) for t in texts]
        if sample.expected is None:
            wrong += bool(texts)
            continue
        with_code += 1
        if sample.expected in texts:
            read += 1
        elif texts:
            wrong += 1
    times_ms.sort()
    p95 = times_ms[min(len(times_ms) - 1, round(0.95 * (len(times_ms) - 1)))]
    return Row(read, with_code, wrong, statistics.median(times_ms), p95)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="decode benchmark")
    parser.add_argument("--quick", action="store_true", help="60 synthetic frames, one run each")
    parser.add_argument(
        "--spelling",
        choices=("current", "legacy"),
        default="current",
        help="stamp text of the synthetic frames (docs/stamp-format.md); default current",
    )
    parser.add_argument("--frames", type=int, default=300, help="synthetic frames (default 300)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per frame, best kept")
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.repeat = 60, 1
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    except (AttributeError, OSError):
        print("(could not pin to one core)")
    cv2.setNumThreads(1)

    sets: dict[str, list[Sample]] = {}
    for name in ("qrcode-1", "qrcode-2", "qrcode-3"):
        sets[name] = load_photo_set(args.photos / name)
    all_photos = [s for name in ("qrcode-1", "qrcode-2", "qrcode-3") for s in sets[name]]
    sets["photos ASCII"] = [s for s in all_photos if s.expected.isascii()]
    sets["photos non-ASCII"] = [s for s in all_photos if not s.expected.isascii()]
    for kind, name in (("label", "synthetic labels"), ("plain", "synthetic plain QR")):
        sets[f"{name} x{args.frames}"] = [
            Sample(to_gray(f.image), f.expected_text)
            for f in make_frames(args.frames, kind=kind, spelling=args.spelling)
        ]

    decoders: dict[str, Callable[[np.ndarray], list[str]]] = {
        "zxing-cpp alone (defaults)": zxing_alone,
        "pyzbar alone (defaults)": pyzbar_alone,
        "pipeline, live (4 ms budget)": pipeline_decoder(DecodePipeline()),
        "pipeline, files (thorough)": pipeline_decoder(DecodePipeline.for_files()),
    }
    print(
        f"zxing-cpp {_version('zxing-cpp')}, pyzbar {_version('pyzbar')}, "
        f"OpenCV {cv2.__version__}, one core, best of {args.repeat} run(s) per frame"
    )
    print("cell: decode rate, median/p95 ms per frame (all frames), !N wrong or phantom texts\n")
    header = ["set (frames with code/all)", *decoders]
    rows = []
    for set_name, samples in sets.items():
        with_code = sum(s.expected is not None for s in samples)
        cells = [f"{set_name} ({with_code}/{len(samples)})"]
        for decode in decoders.values():
            cells.append(run(decode, samples, args.repeat).cell())
        rows.append(cells)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
