"""Issue 15: a stamp's lot and dates reach every kiosk through the lots feed (sync protocol
3, GET /lots/changes). Station A prints with lot dates and syncs up; kiosk B, which never
printed the stamp, syncs down, scans it and shows the lot line. Hostile lots replies are
refused with the problem named and change nothing; a registry without the feed is skipped."""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse

import pytest

from kiosk.printing.queue import JobState, PrintQueue
from kiosk.scanning import ScanService
from kiosk.viewmodels import LOT_PASSED_COLOUR, ResultViewModel
from ocop.lots import LotDates
from tests.registry.server import backends, start_registry
from tests.sync.faults import LOTS_PATH, FaultServer

NSX, HSD = dt.date(2026, 11, 1), dt.date(2027, 5, 1)


@pytest.fixture(params=backends())
def any_registry(request, tmp_path):
    reg = start_registry(tmp_path / "registry", request.param)
    yield reg
    reg.stop()


def print_stamps(kiosk, count: int, lot: str, dates: LotDates | None = None) -> list[str]:
    """Station A as staff use it: a stamp block from the registry, a print job to the
    virtual printer with the lot and its dates. Returns the printed stamps' texts."""
    if not kiosk.store.query_value("SELECT count(*) FROM products"):
        report, _ = kiosk.engine.sync_once()
        assert report.ok, report.error
    kiosk.engine.request_stamp_block(101, count)
    settings = dataclasses.replace(
        kiosk.settings, printer=dataclasses.replace(kiosk.settings.printer, uri="virtual:")
    )
    queue = PrintQueue(kiosk.store, settings, kiosk.data_dir)
    job_id = queue.submit(101, count, lot=lot, dates=dates)
    with queue.printer() as printer:
        assert queue.run_job(job_id, printer).state is JobState.DONE
    rows = kiosk.store.query("SELECT text FROM stamps WHERE job_id = ? ORDER BY serial", (job_id,))
    return [r[0] for r in rows]


def scan(kiosk, text: str, lang: str = "vi") -> ResultViewModel:
    outcome = ScanService(kiosk.store, kiosk.settings).handle_text(text)
    return ResultViewModel.from_outcome(outcome, lang)


def lots_state(kiosk) -> dict:
    q = kiosk.store.query
    return {
        "ranges": [tuple(r) for r in q("SELECT * FROM lot_ranges ORDER BY first_serial")],
        "cursor": [
            tuple(r)
            for r in q("SELECT * FROM sync_state WHERE key IN ('lots_cursor', 'lots_registry_id')")
        ],
    }


def test_a_lot_printed_at_one_station_shows_on_another_kiosk(any_registry, make_kiosk):
    reg = any_registry
    station = make_kiosk(reg, name="station-a")
    texts = print_stamps(station, 3, "L-07", LotDates(NSX, HSD))
    report, _ = station.engine.sync_once()  # the print records go up
    assert report.ok and report.push.accepted >= 3, report.error
    today = dt.date.today()
    expired = print_stamps(
        station, 2, "OLD-1", LotDates(today - dt.timedelta(days=200), today - dt.timedelta(days=1))
    )
    plain = print_stamps(station, 1, "NO-DATES")
    assert station.engine.sync_once()[0].ok

    kiosk = make_kiosk(reg, token=reg.add_station("kiosk-b"), name="kiosk-b")
    report, _ = kiosk.engine.sync_once()
    assert report.ok, report.error
    assert report.pull.lot_ranges == 3  # one range per job: consecutive serials merge
    assert kiosk.store.query_value("SELECT count(*) FROM stamps") == 0  # it printed none

    vm = scan(kiosk, texts[1])
    assert vm.verdict == "genuine"
    assert vm.lot_text == "Số lô L-07 · NSX 01/11/2026 · HSD 01/05/2027"
    # its own line under the rating; the scan count and the serial stay under the facts
    assert "Số lô" not in vm.extra_text and vm.serial_text in vm.extra_text
    assert scan(kiosk, texts[1], "en").lot_text == "Lot L-07 · MFG 01/11/2026 · EXP 01/05/2027"

    passed = scan(kiosk, expired[0])
    assert passed.lot_text.startswith("Số lô OLD-1 · NSX ")
    assert passed.lot_text.endswith(f"\n[b][color={LOT_PASSED_COLOUR}]HSD đã qua[/color][/b]")
    assert scan(kiosk, plain[0]).lot_text == "Số lô NO-DATES"
    assert "HSD đã qua" not in vm.lot_text

    # the next round asks from its cursor and gets nothing new; the station's own kiosk
    # shows its lot from its print job before any sync
    again, _ = kiosk.engine.sync_once()
    assert again.ok and again.pull.lot_ranges == 0
    assert scan(station, texts[2]).lot_text.startswith("Số lô L-07")


def test_a_stamp_printed_again_takes_its_newest_lot(registry, make_kiosk):
    """A later print record of the same serials (a reprint) replaces what kiosks know;
    kiosk/lots.py splits the older range around it."""
    from kiosk.lots import apply_lot_ranges, lot_of_serial

    kiosk = make_kiosk(registry, token=registry.add_station("kiosk-split"), name="split")

    def r(first, last, lot, produced_on=None):
        return {
            "first_serial": first,
            "last_serial": last,
            "product_id": 101,
            "lot": lot,
            "produced_on": produced_on,
            "best_before": None,
        }

    with kiosk.store.transaction() as tx:
        apply_lot_ranges(tx, [r(10, 20, "A")])
        apply_lot_ranges(tx, [r(14, 15, "B", "2026-11-01"), r(20, 25, "C")])
        apply_lot_ranges(tx, [r(11, 11, "")])  # voided: no lot any more
    ranges = [tuple(x)[:4] for x in kiosk.store.query("SELECT * FROM lot_ranges ORDER BY 1")]
    assert ranges == [
        (10, 10, 101, "A"),
        (11, 11, 101, ""),
        (12, 13, 101, "A"),
        (14, 15, 101, "B"),
        (16, 19, 101, "A"),
        (20, 25, 101, "C"),
    ]
    conn = kiosk.store.conn
    assert lot_of_serial(conn, 15).lot == "B" and lot_of_serial(conn, 16).lot == "A"
    assert lot_of_serial(conn, 11) is None and lot_of_serial(conn, 26) is None
    assert lot_of_serial(conn, 20, product_id=102) is None  # not the stamp's product


def _resigned(reg, change):
    """A poison that changes a lots reply and signs it again with the registry's own
    list-signing key (as only a test can): the checks, not the signature, must refuse it."""
    from ocop.stamps.catalog_signature import LOTS, sign_catalog_reply
    from ocop.stamps.keys import load_private_key

    key = load_private_key(next((reg.data_dir / "keys").glob("list-*.key")))

    def poison(reply, proxy):
        change(reply)
        query = urllib.parse.parse_qs(urllib.parse.urlparse(proxy.path).query)
        since = int(query.get("since", ["0"])[0])
        reply["lots_signature"] = sign_catalog_reply(reply, since, key, LOTS)

    return poison


HOSTILE = [
    (
        "overlap",
        lambda reply: reply["lots"].append(
            {**reply["lots"][0], "first_serial": reply["lots"][0]["last_serial"], "lot": "X"}
        ),
        "overlap lots[0]",
    ),
    ("bad date", lambda reply: reply["lots"][0].update(produced_on="2026-02-31"), "calendar"),
    (
        "best-before first",
        lambda reply: reply["lots"][0].update(produced_on="2026-11-01", best_before="2026-10-01"),
        "best_before_first",
    ),
    ("long lot", lambda reply: reply["lots"][0].update(lot="X" * 41), "longer than 40"),
    ("control char", lambda reply: reply["lots"][0].update(lot="A\n1"), "U+000A"),
    (
        "reversed range",
        lambda reply: reply["lots"][0].update(first_serial=reply["lots"][0]["last_serial"] + 5),
        "is after last_serial",
    ),
    ("dates without a lot", lambda reply: reply["lots"][0].update(lot=""), "dates without a lot"),
    ("not a list", lambda reply: reply.update(lots={"a": 1}), "expected a list"),
]


def test_hostile_lots_replies_are_refused_and_change_nothing(fresh_registry, make_kiosk):
    registry = fresh_registry
    station = make_kiosk(registry, name="station-h")
    texts = print_stamps(station, 2, "H-1", LotDates(NSX, HSD))
    assert station.engine.sync_once()[0].ok
    proxy = FaultServer(registry.url)
    try:
        kiosk = make_kiosk(
            registry, url=proxy.url, token=registry.add_station("kiosk-h"), name="kiosk-h"
        )
        proxy.poison_path = LOTS_PATH
        for name, change, says in HOSTILE:
            proxy.mode = "poison"
            proxy.poison = lambda reply, change=change: _resigned(registry, change)(reply, proxy)
            before = lots_state(kiosk)
            report, status = kiosk.engine.sync_once()
            assert not report.ok, name
            assert "lots: lots reply refused, nothing changed" in status.last_error, name
            assert says in status.last_error, (name, status.last_error)
            assert "pull:" not in status.last_error  # the catalog still came in
            assert lots_state(kiosk) == before, name
            assert scan(kiosk, texts[0]).lot_text == "", name
        # altered but not signed again: the signature says so
        proxy.poison = lambda reply: reply["lots"][0].update(lot="FAKE")
        report, status = kiosk.engine.sync_once()
        assert not report.ok and "lots reply signature does not verify" in status.last_error
        assert lots_state(kiosk)["ranges"] == []
        # the registry's own reply, untouched, is taken
        proxy.mode = "proxy"
        report, _ = kiosk.engine.sync_once()
        assert report.ok, report.error
        assert scan(kiosk, texts[0]).lot_text == "Số lô H-1 · NSX 01/11/2026 · HSD 01/05/2027"
    finally:
        proxy.stop()


def test_a_registry_without_the_lots_feed_is_skipped(registry, make_kiosk):
    """A new kiosk and a registry from before protocol 3: the round succeeds, lots come
    only from the kiosk's own prints. (Old kiosks never ask for the feed: nothing changed
    for them.)"""
    proxy = FaultServer(registry.url)
    try:
        proxy.mode = "no_lots"
        kiosk = make_kiosk(registry, url=proxy.url, name="old-registry")
        report, status = kiosk.engine.sync_once()
        assert report.ok, report.error
        assert any(path.startswith(LOTS_PATH) for _, path in proxy.requests)
        assert lots_state(kiosk) == {"ranges": [], "cursor": []}
    finally:
        proxy.stop()


def test_the_lots_feed_pages_and_serves_old_bad_records_as_no_lot(fresh_registry, make_kiosk):
    """Pages of `limit` print records, cursor by cursor; a print record stored before the
    registry checked lots strictly (here: written straight into its database) is served
    as "no lot", so it cannot block every kiosk's feed."""
    import json

    import sqlalchemy as sa

    registry = fresh_registry
    station = make_kiosk(registry, name="station-p")
    texts = print_stamps(station, 4, "P-1", LotDates(NSX, HSD))
    assert station.engine.sync_once()[0].ok
    engine = sa.create_engine(registry.db_url)
    with engine.begin() as conn:
        row = conn.execute(
            sa.text("SELECT id, payload_json FROM events WHERE kind = 'print' ORDER BY serial DESC")
        ).first()
        payload = json.loads(row.payload_json)
        payload.update(lot="BAD\tLOT", best_before="2026-01-01")  # a tab, dates reversed
        conn.execute(
            sa.text("UPDATE events SET payload_json = :p WHERE id = :i"),
            {"p": json.dumps(payload), "i": row.id},
        )
    engine.dispose()
    first = registry.station("GET", "/api/v1/lots/changes", params={"since": 0, "limit": 3})
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["more"] is True and len(page["lots"]) == 1
    assert page["lots"][0]["last_serial"] - page["lots"][0]["first_serial"] == 2
    rest = registry.station(
        "GET", "/api/v1/lots/changes", params={"since": page["cursor"], "limit": 3}
    ).json()
    assert rest["more"] is False
    assert rest["lots"][-1]["lot"] == "" and rest["lots"][-1]["best_before"] is None

    kiosk = make_kiosk(registry, token=registry.add_station("kiosk-p"), name="kiosk-p")
    kiosk.engine.pull_page_items = 3
    report, _ = kiosk.engine.sync_once()
    assert report.ok, report.error
    assert scan(kiosk, texts[0]).lot_text.startswith("Số lô P-1 · NSX 01/11/2026")
    assert scan(kiosk, texts[3]).lot_text == ""


def test_another_registry_database_restarts_the_lots_feed_from_0(registry, make_kiosk):
    """A kiosk whose lots cursor came from another registry database (or an earlier epoch
    of this one) does not trust it: it asks again from 0 and gets every lot."""
    station = make_kiosk(registry, name="station-e")
    texts = print_stamps(station, 2, "E-1")
    assert station.engine.sync_once()[0].ok
    kiosk = make_kiosk(registry, token=registry.add_station("kiosk-e"), name="kiosk-e")
    assert kiosk.engine.sync_once()[0].ok
    with kiosk.store.transaction() as tx:
        tx.execute("DELETE FROM lot_ranges")
        tx.execute("UPDATE sync_state SET value = '999999' WHERE key = 'lots_cursor'")
        tx.execute("UPDATE sync_state SET value = 'old-db' WHERE key = 'lots_registry_id'")
    assert scan(kiosk, texts[0]).lot_text == ""
    report, _ = kiosk.engine.sync_once()
    assert report.ok, report.error
    assert scan(kiosk, texts[0]).lot_text == "Số lô E-1"
    assert (
        int(kiosk.store.query_value("SELECT value FROM sync_state WHERE key = 'lots_cursor'"))
        < 999999
    )
    assert "lot ranges" in report.summary()
