"""registry/dal/lots.py on a real migrated SQLite file: the lot and dates of a serial."""

from __future__ import annotations

import datetime as dt

from registry.auth import add_station
from registry.dal.lots import SerialLot, add_printed_lot, lot_for_serial
from registry.db import Database


def test_lot_for_serial_finds_the_printed_run(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'r.db'}")
    database.migrate()
    with database.write() as conn:
        station, _token = add_station(conn, "moc-chau-1")
        add_printed_lot(
            conn, station.id, 101, 150, "A12", dt.date(2026, 11, 1), dt.date(2027, 5, 1)
        )
        add_printed_lot(conn, station.id, 151, 160, "B7")
    with database.read() as conn:
        assert lot_for_serial(conn, 101) == SerialLot(
            "A12", dt.date(2026, 11, 1), dt.date(2027, 5, 1)
        )
        assert lot_for_serial(conn, 150).lot == "A12"
        assert lot_for_serial(conn, 155) == SerialLot("B7", None, None)
        assert lot_for_serial(conn, 100) is None and lot_for_serial(conn, 161) is None
