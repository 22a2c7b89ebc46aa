"""Print N labels to the fake printer -> decode the bytes to images -> decode each QR."""

from __future__ import annotations

import pytest
import zxingcpp

from printer import JobOptions, Printer, decode_images
from printer.label import LabelContent, LabelLayout, render_label
from printer.raster_decode import split_jobs


@pytest.mark.parametrize("width", [384, 576])
def test_print_n_labels_and_read_them_back(fake_printer, width):
    n = 12
    texts = [f"HTTPS://OCOP.SONLA.GOV.VN/S/{i:06d}K{i * 7919 % 100000:05d}" for i in range(n)]
    layout = LabelLayout(width_dots=width)
    with Printer(
        fake_printer.uri + "?timeout=1", width_dots=width, job_options=JobOptions(cut=True)
    ) as printer:
        for i, text in enumerate(texts):
            img = render_label(
                LabelContent(
                    qr_text=text,
                    title="Trà Shan tuyết Mộc Châu",
                    producer="HTX Chè Mộc Châu",
                    district="Mộc Châu",
                    stars=4,
                    serial_text=f"Số {i:06d}",
                ),
                layout,
            )
            printer.print_image(img)
    data = fake_printer.control.received()
    images = decode_images(data)
    assert len(images) == n
    decoded = []
    for img in images:
        assert img.width == width
        decoded += [r.text for r in zxingcpp.read_barcodes(img.convert("L"))]
    assert decoded == texts
    jobs = [j for j in split_jobs(data) if any(c.name == "raster" for c in j)]
    job_commands = [[c.name for c in j if c.name != "status_query"] for j in jobs]
    # POS-5890 (58 mm) has no cutter: python-escpos cut() only feeds there.
    last = "cut" if width == 576 else "feed_lines"
    assert len(jobs) == n and all(names[-1] == last for names in job_commands)


def test_store_dir_keeps_the_bytes(fake_printer):
    with Printer(fake_printer.uri + "?timeout=1") as printer:
        printer.print_image(render_label(LabelContent(qr_text="A1", title="x", serial_text="1")))
    files = sorted(fake_printer.store_dir.glob("conn-*.bin"))
    assert files and files[-1].read_bytes() == fake_printer.control.received()
