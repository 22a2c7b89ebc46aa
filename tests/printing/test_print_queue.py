"""The print queue end to end against a real fake-printer process on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import zxingcpp

from kiosk.printing.queue import JobState, PrintQueue
from kiosk.scanning import ScanService
from kiosk.settings import Settings
from kiosk.store import Store
from ocop.stamps.verdicts import Verdict
from printer import decode_images
from tests.conftest import REPO_ROOT, TODAY, copy_data_dir


def _settings(uri: str) -> Settings:
    base = Settings()
    return dataclasses.replace(base, printer=dataclasses.replace(base.printer, uri=uri))


def _qr_texts(raw: bytes) -> list[str]:
    texts = []
    for image in decode_images(raw):
        pixels = np.array(image.convert("L"))
        found = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)
        assert len(found) == 1, "every label carries exactly one readable QR"
        texts.append(found[0].text)
    return texts


def _outbox_serials(store) -> list[int]:
    return [
        json.loads(r[0])["serial"]
        for r in store.query("SELECT payload_json FROM outbox WHERE kind = 'print' ORDER BY id")
    ]


def test_printed_stamps_round_trip_as_genuine(demo_store, data_dir, fake_printer):
    settings = _settings(fake_printer.uri + "?timeout=3")
    queue = PrintQueue(demo_store, settings, data_dir, today=TODAY)
    job_id = queue.submit(101, 6, lot="2026-11")
    with queue.printer() as printer:
        view = queue.run_job(job_id, printer)
    assert view.state is JobState.DONE and len(view.printed) == 6
    texts = _qr_texts(fake_printer.control.received())
    assert len(texts) == 6 and len(set(texts)) == 6
    scans = ScanService(demo_store, settings, today=TODAY)
    outcomes = [scans.handle_text(t) for t in texts]
    assert all(o.verdict is Verdict.GENUINE for o in outcomes)
    serials = [o.verification.serial for o in outcomes]
    assert sorted(serials) == view.printed
    assert sorted(_outbox_serials(demo_store)) == view.printed  # each recorded once


def test_serials_never_reused_across_jobs(demo_store, data_dir):
    queue = PrintQueue(demo_store, Settings(), data_dir, today=TODAY)
    first = queue.job(queue.submit(101, 3))
    queue.cancel(first.id)
    second = queue.job(queue.submit(101, 3))
    assert set(first.void).isdisjoint(second.pending)
    assert queue.job(first.id).state is JobState.FAILED


def test_bad_requests_change_nothing(demo_store, data_dir):
    queue = PrintQueue(demo_store, Settings(), data_dir, today=TODAY)
    from ocop.errors import NotFound, UserError

    with pytest.raises(NotFound):
        queue.submit(999, 1)
    with pytest.raises(UserError):
        queue.submit(101, 0)
    assert demo_store.query_one("SELECT count(*) FROM print_jobs")[0] == 0


def test_paper_out_pauses_then_resumes(demo_store, data_dir, fake_printer):
    queue = PrintQueue(
        demo_store, _settings(fake_printer.uri + "?timeout=3"), data_dir, today=TODAY
    )
    job_id = queue.submit(101, 3)
    fake_printer.control.set(paper_out=True)
    paused = []

    def on_progress(progress):
        if progress.paused and not paused:
            paused.append(progress.message)
            fake_printer.control.reset()  # staff load paper
            queue.wake()

    with queue.printer() as printer:
        view = queue.run_job(job_id, printer, on_progress=on_progress)
    assert paused and "paper" in paused[0].lower()
    assert view.state is JobState.DONE and len(view.printed) == 3
    assert len(_qr_texts(fake_printer.control.received())) == 3


def test_connection_dropped_mid_job_leaves_one_uncertain_stamp(demo_store, data_dir, fake_printer):
    queue = PrintQueue(
        demo_store, _settings(fake_printer.uri + "?timeout=2"), data_dir, today=TODAY
    )
    job_id = queue.submit(101, 4)
    fake_printer.control.set(drop_after_bytes=40_000)  # inside the third label
    with queue.printer() as printer:
        view = queue.run_job(job_id, printer)
    assert view.state is JobState.INTERRUPTED
    assert len(view.uncertain) == 1 and len(view.printed) + len(view.pending) == 3
    # Staff look at the printer: it did not come out; they confirm a reprint and resume.
    queue.resolve_uncertain(job_id, view.uncertain[0], printed=False)
    queue.resume(job_id)
    fake_printer.control.reset()
    with queue.printer() as printer:
        final = queue.run_job(job_id, printer)
    assert final.state is JobState.DONE and len(final.printed) == 4
    assert sorted(_outbox_serials(demo_store)) == final.printed


def test_kill_9_during_batch(tmp_path, fake_printer, demo_init_template):
    data = copy_data_dir(demo_init_template, tmp_path / "d")  # after `init --demo`
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    count = 150
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk",
            "--data-dir",
            str(data),
            "print",
            "--product",
            "101",
            "--count",
            str(count),
            "--printer",
            fake_printer.uri + "?timeout=3",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    progress = re.compile(rb"(\d+)/%d" % count)
    buffer = b""
    while True:
        chunk = os.read(proc.stderr.fileno(), 256)
        assert chunk, "printing ended before it could be interrupted"
        buffer += chunk
        done = [int(m) for m in progress.findall(buffer)]
        if done and max(done) >= 5:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    received = _qr_texts(fake_printer.control.received())
    assert len(received) == len(set(received)), "nothing printed twice"

    store = Store.in_dir(data)
    queue = PrintQueue(store, Settings(), data, today=TODAY)
    assert queue.recover_interrupted() == [1]
    view = queue.job(1)
    assert view.state is JobState.INTERRUPTED
    assert len(view.uncertain) <= 1
    assert len(view.printed) + len(view.uncertain) + len(view.pending) == count
    texts_by_serial = dict(store.query("SELECT serial, text FROM stamps WHERE job_id = 1"))
    assert {texts_by_serial[s] for s in view.printed} <= set(received)
    for serial in view.uncertain:  # staff check the printer's output
        queue.resolve_uncertain(1, serial, printed=texts_by_serial[serial] in received)
    queue.resume(1)
    settings = _settings(fake_printer.uri + "?timeout=3")
    queue = PrintQueue(store, settings, data, today=TODAY)
    with queue.printer() as printer:
        final = queue.run_job(1, printer)
    assert final.state is JobState.DONE and len(final.printed) == count
    everything = _qr_texts(fake_printer.control.received())
    assert len(everything) == count == len(set(everything))
    assert sorted(_outbox_serials(store)) == final.printed
    scans = ScanService(store, settings, today=TODAY)
    assert {scans.verify(t).verdict for t in everything} == {Verdict.GENUINE}
    store.close()


def test_serial_text_keeps_every_digit():
    from kiosk.printing.queue import serial_text

    assert serial_text(1) == "Số/No. 0000 0000 0001"
    assert serial_text(2**40 - 1) == "Số/No. 1 0995 1162 7775"
    assert "".join(c for c in serial_text(123456789012345) if c.isdigit()) == "123456789012345"


def test_a_job_keeps_its_lot_dates_in_the_store(demo_store, data_dir):
    import datetime as dt

    from ocop.lots import LotDates

    queue = PrintQueue(demo_store, Settings(), data_dir, today=TODAY)
    dates = LotDates(dt.date(2026, 11, 1), dt.date(2027, 5, 1))
    job = queue.job(queue.submit(101, 2, "A12", dates))
    assert (job.lot, job.produced_on, job.best_before) == ("A12", "2026-11-01", "2027-05-01")
    assert job.to_json()["best_before"] == "2027-05-01"
    plain = queue.job(queue.submit(101, 1, "B7"))  # dates are optional
    assert (plain.produced_on, plain.best_before) == (None, None)
    row = demo_store.query_one("SELECT produced_on FROM print_jobs WHERE id = ?", (job.id,))
    assert row["produced_on"] == "2026-11-01"  # real SQLite column (migration 2)


def test_printed_records_carry_the_lot_and_its_dates(demo_store, data_dir, fake_printer):
    """What the registry's phone page shows comes from these records (registry/uploads.py
    checks them with the same ocop.lots rules)."""
    import datetime as dt

    from ocop.lots import LotDates

    queue = PrintQueue(
        demo_store, _settings(fake_printer.uri + "?timeout=3"), data_dir, today=TODAY
    )
    dates = LotDates(dt.date(2026, 11, 1), dt.date(2027, 5, 1))
    job_id = queue.submit(101, 2, "A12", dates)
    with queue.printer() as printer:
        assert queue.run_job(job_id, printer).state is JobState.DONE
    records = [
        json.loads(r[0])
        for r in demo_store.query("SELECT payload_json FROM outbox WHERE kind = 'print'")
    ]
    assert len(records) == 2
    assert {(r["lot"], r["produced_on"], r["best_before"]) for r in records} == {
        ("A12", "2026-11-01", "2027-05-01")
    }


def test_lot_dates_go_on_the_label_footer_and_the_largest_label_still_fits():
    import datetime as dt

    from kiosk.printing.queue import _largest_label, label_footer, label_problem
    from ocop.lots import LotDates

    dates = LotDates(dt.date(2026, 11, 1), dt.date(2027, 5, 1))
    assert label_footer("A12", dates) == "Lô/Lot A12 · NSX 01/11/2026 HSD 01/05/2027"
    assert label_footer("", dates) == "NSX 01/11/2026 HSD 01/05/2027"
    assert label_footer("A12") == "Lô/Lot A12"
    assert "HSD 28/12/2100" in _largest_label("https://x.vn/").footer  # the worst case
    for width_mm, height_mm in ((58, 40), (80, 50)):
        base = Settings()
        settings = dataclasses.replace(
            base,
            printer=dataclasses.replace(base.printer, width_mm=width_mm, label_height_mm=height_mm),
        )
        assert label_problem(settings) is None, (width_mm, height_mm)
