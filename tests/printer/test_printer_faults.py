"""Each fault against a real fake-printer process over TCP, plus file:// and virtual:."""

from __future__ import annotations

import os

import pytest

from printer import (
    BadPrinterURI,
    ConnectionDropped,
    CoverOpen,
    JobPhase,
    PaperOut,
    PaperState,
    Printer,
    PrinterError,
    PrinterFault,
    PrinterNotFound,
    PrinterOffline,
    PrinterState,
    PrinterTimeout,
    decode_images,
    open_printer,
)
from printer.label import LabelContent, LabelLayout, render_label

FAST = "?timeout=0.5"
LABEL = render_label(
    LabelContent(qr_text="HTTPS://X.VN/S/1", title="Mộc Châu", serial_text="Số 1"), LabelLayout()
)


def connect(fake) -> Printer:
    return open_printer(fake.uri + FAST, width_dots=384)


def test_status_ready(fake_printer):
    with connect(fake_printer) as p:
        s = p.status()
        assert s.online is True and s.paper is PaperState.OK and s.state is PrinterState.READY
        assert p.state is PrinterState.READY


def test_print_sends_the_label(fake_printer):
    with connect(fake_printer) as p:
        result = p.print_image(LABEL)
        assert result.status_before.state is PrinterState.READY
        assert result.bytes_sent == len(p.encode(LABEL))
    [img] = decode_images(fake_printer.control.received())
    assert img.tobytes() == LABEL.tobytes()


@pytest.mark.parametrize(
    "fault,error,code",
    [
        ("offline", PrinterOffline, PrinterFault.OFFLINE),
        ("paper_out", PaperOut, PrinterFault.PAPER_OUT),
        ("cover_open", CoverOpen, PrinterFault.COVER_OPEN),
    ],
)
def test_faults_before_the_job_send_nothing(fake_printer, fault, error, code):
    fake_printer.control.set(**{fault: True})
    with connect(fake_printer) as p:
        with pytest.raises(error) as info:
            p.print_image(LABEL)
        assert p.state is not PrinterState.READY
    err = info.value
    assert err.fault is code and err.code == code.value
    assert err.phase is JobPhase.BEFORE_SEND and err.nothing_sent
    assert err.staff_message_vi and err.staff_message_en
    assert decode_images(fake_printer.control.received()) == []  # no raster reached it
    fake_printer.control.reset()
    with connect(fake_printer) as p:  # and it recovers when the fault clears
        p.print_image(LABEL)


def test_paper_near_end_still_prints(fake_printer):
    fake_printer.control.set(paper_near_end=True)
    with connect(fake_printer) as p:
        result = p.print_image(LABEL)
    assert result.status_before.state is PrinterState.PAPER_NEAR_END


def test_silent_printer_times_out(fake_printer):
    fake_printer.control.set(silent=True)
    with connect(fake_printer) as p, pytest.raises(PrinterTimeout) as info:
        p.print_image(LABEL)
    assert info.value.fault is PrinterFault.TIMEOUT and info.value.nothing_sent
    assert fake_printer.control.stats()["status_queries"] >= 1


def test_silent_printer_can_be_printed_to_blind_when_allowed(fake_printer):
    fake_printer.control.set(silent=True)
    with open_printer(fake_printer.uri + FAST, require_status=False) as p:
        result = p.print_image(LABEL)
    assert result.status_after.state is PrinterState.UNKNOWN
    assert len(decode_images(fake_printer.control.received())) == 1


@pytest.mark.parametrize("after", [5, 3000, "job+3"])
def test_connection_dropped_mid_job(fake_printer, after):
    with connect(fake_printer) as p:
        job_len = len(p.encode(LABEL))
        limit = job_len + 3 + 6 if after == "job+3" else 6 + after  # 6 = two status queries
        fake_printer.control.set(drop_after_bytes=limit)
        with pytest.raises(ConnectionDropped) as info:
            p.print_image(LABEL)
    err = info.value
    assert err.fault is PrinterFault.CONNECTION_DROPPED
    assert err.phase in (JobPhase.SENDING, JobPhase.AFTER_SEND)
    assert not err.nothing_sent  # the queue must not blindly reprint this label
    assert fake_printer.control.stats()["drops"] == 1


def test_reconnects_after_a_drop(fake_printer):
    with connect(fake_printer) as p:
        fake_printer.control.set(drop_after_bytes=100)
        with pytest.raises(ConnectionDropped):
            p.print_image(LABEL)
        fake_printer.control.reset()
        p.print_image(LABEL)  # opens a new connection by itself
    assert fake_printer.control.stats()["connections"] == 2


def test_fault_appearing_after_the_job_is_reported_as_after_send(fake_printer):
    # Paper runs out while the label prints: the check after the job sees it.
    with connect(fake_printer) as p:
        p.status()
        fake_printer.control.set(paper_out=True)
        with pytest.raises(PaperOut):
            p.print_image(LABEL)  # checked before: fails before sending
        fake_printer.control.reset()
        before = p.check_ready()
        assert before.state is PrinterState.READY


def test_closed_port_is_not_found(closed_port):
    with pytest.raises(PrinterNotFound) as info:
        open_printer(f"tcp://127.0.0.1:{closed_port}{FAST}")
    assert info.value.fault is PrinterFault.NOT_FOUND
    assert info.value.nothing_sent


def test_usb_printer_not_plugged_in_is_not_found():
    with pytest.raises(PrinterNotFound):
        open_printer("usb://dead:beef")


def test_missing_serial_device_is_not_found(tmp_path):
    with pytest.raises(PrinterNotFound):
        open_printer(f"serial://{tmp_path}/ttyUSB9?baud=115200")


def test_file_uri_refuses_a_regular_file_and_creates_nothing(tmp_path):
    regular = tmp_path / "lp0"
    regular.write_bytes(b"")
    with pytest.raises(BadPrinterURI) as info:
        open_printer(f"file://{regular}")
    assert "not a character device" in str(info.value)
    missing = tmp_path / "lp1"
    with pytest.raises(PrinterNotFound):
        open_printer(f"file://{missing}")
    assert not missing.exists()  # python-escpos's File would have created it
    assert regular.read_bytes() == b""


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_file_uri_writes_to_a_character_device():
    with open_printer("file:///dev/null") as p:
        result = p.print_image(LABEL)
    assert result.status_before.state is PrinterState.UNKNOWN  # file:// cannot read status
    assert result.bytes_sent > 0


def test_virtual_printer_stores_png_per_job(tmp_path):
    with open_printer(f"virtual://{tmp_path}/out") as p:
        assert p.status().state is PrinterState.READY
        p.print_image(LABEL)
        p.print_image(LABEL)
        assert len(p.transport.jobs) == 2
    files = sorted((tmp_path / "out").glob("*.png"))
    assert [f.name for f in files] == ["job-000001.png", "job-000002.png"]
    from PIL import Image

    with Image.open(files[0]) as im:
        assert im.convert("1").tobytes() == LABEL.tobytes()
    with open_printer(f"virtual://{tmp_path}/out") as p:  # numbering continues after restart
        p.print_image(LABEL)
    assert (tmp_path / "out" / "job-000003.png").exists()


def test_virtual_printer_faults(tmp_path):
    with open_printer("virtual:") as p:
        p.transport.set_condition(cover_open=True)
        with pytest.raises(CoverOpen):
            p.print_image(LABEL)
        p.transport.set_condition()
        p.print_image(LABEL)
    folder = tmp_path / "v"
    with open_printer(f"virtual://{folder}") as p:
        (folder / "fault").write_text("paper_out\n")
        with pytest.raises(PaperOut):
            p.print_image(LABEL)


def test_profile_must_match_width():
    with pytest.raises(PrinterError):
        Printer("virtual:", width_dots=576, profile="POS-5890")
    assert Printer("virtual:", width_dots=576).profile == "TM-T20II"
    assert Printer("virtual:", width_dots=384).profile == "POS-5890"


def test_serial_transport_against_a_pty_printer():
    """A fake printer on a pseudo-terminal: same status bytes, over serial://."""
    import threading

    from printer.raster_decode import StreamParser
    from printer.status import status_bytes

    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    received = bytearray()
    stop = threading.Event()
    faults = {"paper_out": False}

    def serve():
        parser = StreamParser()
        while not stop.is_set():
            import select

            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            received.extend(chunk)
            for cmd in parser.feed(chunk):
                if cmd.name == "status_query":
                    os.write(master, bytes([status_bytes(**faults)[cmd.status_n]]))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with open_printer(f"serial://{os.ttyname(slave)}?baud=115200&timeout=1") as p:
            assert p.status().state is PrinterState.READY
            p.print_image(LABEL)
            faults["paper_out"] = True
            with pytest.raises(PaperOut):
                p.print_image(LABEL)
    finally:
        stop.set()
        t.join(1)
        os.close(master)
        os.close(slave)
    [img] = decode_images(bytes(received))
    assert img.tobytes() == LABEL.tobytes()
