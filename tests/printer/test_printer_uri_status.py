from __future__ import annotations

from pathlib import Path

import pytest

from printer.errors import BadPrinterURI, PrinterFault
from printer.status import PaperState, PrinterState, parse_status, status_bytes
from printer.uri import FileURI, SerialURI, TcpURI, UsbURI, VirtualURI, parse_printer_uri


@pytest.mark.parametrize(
    "text,expected",
    [
        ("tcp://192.168.1.50:9100", TcpURI(host="192.168.1.50", port=9100)),
        ("tcp://printer.local", TcpURI(host="printer.local", port=9100)),
        ("TCP://[::1]:9101?timeout=2.5", TcpURI(host="::1", port=9101, timeout_s=2.5)),
        ("usb://0416:5011", UsbURI(vendor_id=0x0416, product_id=0x5011)),
        (
            "usb://0x04b8:0x0e15?in_ep=0x81&out_ep=0x02&profile=TM-T20II",
            UsbURI(
                vendor_id=0x04B8, product_id=0x0E15, in_ep=0x81, out_ep=0x02, profile="TM-T20II"
            ),
        ),
        ("serial:///dev/ttyUSB0?baud=115200", SerialURI(device="/dev/ttyUSB0", baud=115200)),
        (
            "serial:///dev/ttyS0?baud=9600&flow=rtscts&parity=e&stopbits=2",
            SerialURI(device="/dev/ttyS0", baud=9600, flow="rtscts", parity="E", stopbits=2),
        ),
        ("file:///dev/usb/lp0", FileURI(path="/dev/usb/lp0")),
        ("virtual:", VirtualURI(directory=None)),
        ("virtual://labels", VirtualURI(directory=Path("labels"))),
        ("virtual:///var/lib/ocop/labels", VirtualURI(directory=Path("/var/lib/ocop/labels"))),
    ],
)
def test_parse_good_uris(text, expected):
    assert parse_printer_uri(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "tcp://10.0.0.5:9100",
        "usb://0416:5011",
        "usb://0416:5011?in_ep=0x81&out_ep=0x02&profile=TM-T20II",
        "serial:///dev/ttyUSB0?baud=115200",
        # every line setting, not only baud and flow, survives str()
        "serial:///dev/ttyS0?baud=9600&bytesize=7&parity=E&stopbits=2&flow=rtscts",
        "serial:///dev/ttyS0?stopbits=1.5&timeout=2",
        "file:///dev/usb/lp0",
        "virtual:",
        # a virtual printer's profile (its paper width) and timeout survive str() too
        "virtual:?profile=TM-T20II&timeout=2",
        "virtual:///var/lib/ocop/labels?profile=TM-T20II",
        "tcp://[::1]:9100?timeout=2",
    ],
)
def test_str_round_trips(text):
    uri = parse_printer_uri(text)
    assert parse_printer_uri(str(uri)) == uri


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "empty"),
        ("192.168.1.50", "scheme"),
        ("lpt://x", "unknown scheme"),
        ("tcp://", "missing host"),
        ("tcp://host:99999", "port"),
        ("tcp://host:abc", "port"),
        ("tcp://host:9100?timeuot=3", "unknown parameter"),
        ("tcp://host?timeout=-1", "timeout"),
        ("usb://0416", "VID:PID"),
        ("usb://zzzz:5011", "integer"),
        ("usb://12345:5011", "16-bit"),
        ("serial://dev/ttyUSB0", "absolute"),
        ("serial:///dev/ttyUSB0?baud=12345", "baud"),
        ("serial:///dev/ttyUSB0?flow=magic", "flow"),
        ("file://dev/usb/lp0", "three slashes"),
        ("file:///", "absolute device path"),
    ],
)
def test_bad_uris_are_explained(text, words):
    with pytest.raises(BadPrinterURI) as info:
        parse_printer_uri(text)
    assert words.lower() in str(info.value).lower()
    assert info.value.fault is PrinterFault.BAD_URI
    assert info.value.staff_message_vi and info.value.staff_message_en


def test_status_from_printer_replies():
    ok = parse_status(0x12, None, 0x12)
    assert ok.online and ok.paper is PaperState.OK and ok.state is PrinterState.READY
    near = parse_status(0x12, None, 0x1E)
    assert near.paper is PaperState.NEAR_END and near.state is PrinterState.PAPER_NEAR_END
    out = parse_status(0x1A, 0x32, 0x72)
    assert out.paper is PaperState.OUT and out.state is PrinterState.PAPER_OUT
    cover = parse_status(0x1A, 0x16, 0x12)
    assert cover.cover_open and cover.state is PrinterState.COVER_OPEN
    offline = parse_status(0x1A, 0x12, 0x12)
    assert offline.state is PrinterState.OFFLINE


def test_empty_or_garbage_reply_is_unknown_never_ok():
    none = parse_status(None, None, None)
    assert none.online is None and none.paper is PaperState.UNKNOWN
    assert none.state is PrinterState.UNKNOWN
    garbage = parse_status(0xFF, 0x00, 0x01)
    assert garbage.online is None and garbage.cover_open is None
    assert garbage.paper is PaperState.UNKNOWN


def test_status_bytes_round_trip_through_parse():
    for flags in [
        {},
        {"offline": True},
        {"paper_out": True},
        {"cover_open": True},
        {"paper_near_end": True},
    ]:
        b = status_bytes(**flags)
        s = parse_status(b[1], b[2], b[4])
        expected = {
            (): PrinterState.READY,
            ("offline",): PrinterState.OFFLINE,
            ("paper_out",): PrinterState.PAPER_OUT,
            ("cover_open",): PrinterState.COVER_OPEN,
            ("paper_near_end",): PrinterState.PAPER_NEAR_END,
        }[tuple(flags)]
        assert s.state is expected
    assert all(label for st in PrinterState for label in (st.label_vi, st.label_en))
