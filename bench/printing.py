"""Benchmark: label render + encode, a 500-stamp batch through the fake printer, and
python-escpos's own text() + qr() path for comparison.

    .venv/bin/python bench/printing.py [--batch 500] [--reps 200]

Pins itself to one CPU core.  Labels carry real-length stamps in the current spelling
('https://OCOP.SONLA.GOV.VN/S/' + 184 digits = 212 characters, printed as the kiosk
prints them: byte / alphanumeric / numeric QR segments, version 6-M).  Targets: render +
encode <= 10 ms per 58 mm label (median and p95), and the pipeline renders faster than a
100 mm/s printer prints.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import segno

from ocop.stamps.codec import PAYLOAD_BYTES, PAYLOAD_DIGITS, stamp_qr_segments
from printer._escpos import escpos_printer
from printer.escpos_raster import encode_label_job, encode_raster
from printer.fake_server import FakePrinterProcess
from printer.label import (
    LabelContent,
    LabelLayout,
    clear_caches,
    qr_matrix,
    render_label,
)
from printer.session import Printer

PRINT_SPEED_MM_S = 100.0
TITLES = [
    "Chè Shan tuyết cổ thụ Tà Xùa",
    "Mật ong hoa rừng Mộc Châu",
    "Cà phê Arabica Thuận Châu",
    "Xoài tròn Yên Châu",
    "Mận hậu Mộc Châu sấy dẻo",
    "Thịt trâu gác bếp Mường La",
]


def stamp_text(i: int) -> str:
    """A real-length stamp in the current spelling: 'https://' + host/path + 76 pseudo-random
    bytes as 184 digits (212 chars)."""
    raw = hashlib.shake_128(i.to_bytes(8, "big")).digest(PAYLOAD_BYTES)
    return "https://OCOP.SONLA.GOV.VN/S/" + str(int.from_bytes(raw, "big")).zfill(PAYLOAD_DIGITS)


def content(i: int, title: str | None = None) -> LabelContent:
    return LabelContent(
        qr_text=stamp_text(i),
        qr_segments=stamp_qr_segments(stamp_text(i)),  # as kiosk/printing/queue.py prints
        title=title or TITLES[i % len(TITLES)],
        producer="HTX Nông nghiệp Bắc Yên",
        district="Huyện Bắc Yên",
        stars=4,
        serial_text=f"Số {i:010d}",
        footer="Lô 2024-07 · HSD 2025-07",
    )


def pin_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"cpu {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


def ms(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s) * 1e3, s[int(0.95 * (len(s) - 1))] * 1e3


def bench_width(width: int, profile: str, reps: int) -> dict:
    layout = LabelLayout(width_dots=width)
    # Warm up fonts (loaded once per process in real use too).
    render_label(content(0), layout)
    cold, warm, enc_ours, enc_escpos = [], [], [], []
    sizes, heights = [], []
    for i in range(reps):
        clear_caches()  # cold: a different product every label (layout + text fitting redone)
        t0 = time.perf_counter()
        img = render_label(content(i, title=f"{TITLES[i % 6]} {i}"), layout)
        data = encode_label_job(img, width_dots=width, profile_name=profile)
        cold.append(time.perf_counter() - t0)
    render_label(content(0), layout)
    for i in range(reps):
        t0 = time.perf_counter()
        img = render_label(content(i, title=TITLES[0]), layout)  # a batch: same product
        data = encode_label_job(img, width_dots=width, profile_name=profile)
        warm.append(time.perf_counter() - t0)
        sizes.append(len(data))
        heights.append(img.height)
    for _ in range(reps):
        t0 = time.perf_counter()
        encode_raster(img)
        enc_ours.append(time.perf_counter() - t0)
        d = escpos_printer.Dummy(profile=profile)
        t0 = time.perf_counter()
        d.image(img)
        enc_escpos.append(time.perf_counter() - t0)
    assert bytes(d.output) == encode_raster(img)
    # python-escpos's own path: text() lines + qr() (as image, and native).
    lib_img, lib_native = [], []
    lib_bytes = lib_native_bytes = 0
    c = content(1)
    for _ in range(reps):
        d = escpos_printer.Dummy(profile=profile)
        t0 = time.perf_counter()
        d.text(f"{c.mark_text}\n{c.title}\n{c.producer}\n{c.district}\n{c.serial_text}\n")
        d.qr(c.qr_text, size=4)
        d.cut()
        lib_img.append(time.perf_counter() - t0)
        lib_bytes = len(d.output)
        d = escpos_printer.Dummy(profile=profile)
        t0 = time.perf_counter()
        d.text(f"{c.mark_text}\n{c.title}\n{c.producer}\n{c.district}\n{c.serial_text}\n")
        d.qr(c.qr_text, size=4, native=True)
        d.cut()
        lib_native.append(time.perf_counter() - t0)
        lib_native_bytes = len(d.output)
    # The QR symbol alone: segno on the plain text (its own segmentation) vs the label's
    # qr_matrix with the stamp's explicit segments (which go to segno too: label.py).
    qr_segno, qr_label = [], []
    for i in range(reps):
        text = stamp_text(10**6 + i)
        t0 = time.perf_counter()
        _ = segno.make(text, error="m", boost_error=False, micro=False).matrix
        qr_segno.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        qr_matrix.__wrapped__(text, stamp_qr_segments(text))
        qr_label.append(time.perf_counter() - t0)
    mean_height = statistics.mean(heights)
    feed_ms = mean_height / 8.0 / PRINT_SPEED_MM_S * 1e3  # 203 dpi = 8 dots/mm
    return {
        "width": width,
        "cold": ms(cold),
        "warm": ms(warm),
        "enc_ours": ms(enc_ours),
        "enc_escpos": ms(enc_escpos),
        "bytes": statistics.mean(sizes),
        "height": mean_height,
        "feed_ms": feed_ms,
        "lib_img": ms(lib_img),
        "lib_native": ms(lib_native),
        "lib_bytes": lib_bytes,
        "lib_native_bytes": lib_native_bytes,
        "qr_segno": ms(qr_segno),
        "qr_label": ms(qr_label),
    }


def bench_batch(n: int, width: int) -> dict:
    layout = LabelLayout(width_dots=width)
    profile = {384: "POS-5890", 576: "TM-T20II"}[width]
    out = {}
    with FakePrinterProcess() as fake:
        with Printer(fake.uri + "?timeout=5", width_dots=width) as printer:
            t0 = time.perf_counter()
            render_s = 0.0
            for i in range(n):
                r0 = time.perf_counter()
                img = render_label(content(i, title=TITLES[0]), layout)
                render_s += time.perf_counter() - r0
                printer.print_image(img)
            total = time.perf_counter() - t0
        stats = fake.control.stats()
        out["ours"] = (total, render_s, stats["total_bytes"], img.height)
        fake.control.clear()
        # python-escpos alone: text() + qr() over its Network class, no status checks.
        net = escpos_printer.Network(fake.host, port=fake.port, timeout=5, profile=profile)
        c = content(1)
        t0 = time.perf_counter()
        for i in range(n):
            net.text(f"{c.mark_text}\n{c.title}\n{c.producer}\n{c.district}\nSo {i:010d}\n")
            net.qr(stamp_text(i), size=4)
            net.cut()
        net.close()
        total_lib = time.perf_counter() - t0
        time.sleep(0.2)
        out["lib"] = (total_lib, fake.control.stats()["total_bytes"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="100-label batch, 50 repetitions")
    args = ap.parse_args()
    if args.quick:
        args.batch, args.reps = min(args.batch, 100), min(args.reps, 50)
    pinned = pin_one_core()
    print(
        f"python {sys.version.split()[0]}, pinned to {pinned}, reps={args.reps}, "
        f"batch={args.batch}\n"
    )

    rows = [bench_width(384, "POS-5890", args.reps), bench_width(576, "TM-T20II", args.reps)]
    print("Per label (median / p95 ms)                58 mm (384)          80 mm (576)")

    def line(name: str, key: str, fmt=None) -> None:
        cells = []
        for r in rows:
            v = r[key]
            cells.append(fmt(v) if fmt else f"{v[0]:7.2f} / {v[1]:6.2f}")
        print(f"  {name:40s} {cells[0]:20s} {cells[1]:20s}")

    line("render+encode, new product each label", "cold")
    line("render+encode, batch of one product", "warm")
    line("QR symbol only: segno.make, automatic", "qr_segno")
    line("QR symbol only: label qr_matrix, segments", "qr_label")
    line("encode only: printer.escpos_raster", "enc_ours")
    line("encode only: python-escpos image()", "enc_escpos")
    line("python-escpos text()+qr() (image QR)", "lib_img")
    line("python-escpos text()+qr(native=True)", "lib_native")
    line("bytes per label: ours (1 image)", "bytes", lambda v: f"{v:9.0f}")
    line("bytes per label: text()+qr() image", "lib_bytes", lambda v: f"{v:9.0f}")
    line("bytes per label: text()+qr(native)", "lib_native_bytes", lambda v: f"{v:9.0f}")
    line("label height (dots)", "height", lambda v: f"{v:9.0f}")
    line("printer time at 100 mm/s (ms)", "feed_ms", lambda v: f"{v:9.1f}")
    for r in rows:
        ratio = r["feed_ms"] / r["cold"][0]
        print(
            f"  {r['width']} dots: cold render+encode is {ratio:.0f}x faster than the "
            "printer prints"
        )
    ok = rows[0]["cold"][0] <= 10.0 and rows[0]["cold"][1] <= 10.0
    print(
        "  target render+encode <= 10 ms per 58 mm label (median and p95): "
        f"{'met' if ok else 'NOT met'}\n"
    )

    for width in (384, 576):
        b = bench_batch(args.batch, width)
        total, render_s, nbytes, height = b["ours"]
        paper_s = args.batch * height / 8.0 / PRINT_SPEED_MM_S
        print(f"{args.batch}-stamp batch, {width} dots, through the fake TCP printer:")
        print(
            f"  ours: {total:6.2f} s total ({args.batch / total:6.0f} labels/s), "
            f"render {render_s:5.2f} s, {nbytes / 1e6:5.2f} MB incl. status checks before "
            "and after each label"
        )
        lt, lb = b["lib"]
        print(
            f"  python-escpos text()+qr()+cut(): {lt:6.2f} s ({args.batch / lt:6.0f} labels/s),"
            f" {lb / 1e6:5.2f} MB, no status checks, Vietnamese text through code pages"
        )
        print(f"  a 100 mm/s printer needs {paper_s:6.1f} s of paper time for this batch\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
