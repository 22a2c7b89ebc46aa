"""Fixtures: a real fake-printer process on 127.0.0.1 (port 0), shared by the module."""

from __future__ import annotations

import socket

import pytest

from printer.fake_server import FakePrinterProcess


@pytest.fixture(scope="session")
def fake_printer_process(tmp_path_factory):
    store = tmp_path_factory.mktemp("fake-printer")
    with FakePrinterProcess(store_dir=store) as fake:
        yield fake


@pytest.fixture
def fake_printer(fake_printer_process):
    """The fake printer with no faults and no received data at the start of each test."""
    fake_printer_process.control.reset()
    fake_printer_process.control.clear()
    yield fake_printer_process
    fake_printer_process.control.reset()


@pytest.fixture
def closed_port():
    """A local port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return port
