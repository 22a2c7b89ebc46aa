import json

import pytest

from kiosk.scanning import ScanService
from kiosk.settings import Settings
from kiosk.stamps.demo import load_demo_signer
from kiosk.stamps.service import issue_stamps
from ocop.stamps.verdicts import Verdict
from tests.conftest import TODAY


@pytest.fixture
def service(demo_store):
    return ScanService(demo_store, Settings(), today=TODAY)


def _demo_stamp(store, data_dir, product_id):
    signer = load_demo_signer(store, data_dir, Settings())
    return issue_stamps(store, product_id, 1, demo_signer=signer, today=TODAY)[0]


def _outbox(store):
    return [
        json.loads(r["payload_json"])
        for r in store.query("SELECT payload_json FROM outbox WHERE kind = 'scan' ORDER BY id")
    ]


def test_genuine_scan_is_recorded_once_with_its_outbox_row(service, demo_store, data_dir):
    stamp = _demo_stamp(demo_store, data_dir, 101)
    outcome = service.handle_text(stamp.text)
    assert outcome.verdict is Verdict.GENUINE
    assert outcome.product.name_vi == "Cà phê bột nguyên chất Bích Thao"
    assert outcome.product.stars == 5
    assert outcome.scan_count == 1
    again = service.handle_text(stamp.text)
    assert again.scan_count == 2
    rows = _outbox(demo_store)
    assert [r["serial"] for r in rows] == [stamp.serial, stamp.serial]
    keys = demo_store.query("SELECT idempotency_key FROM outbox")
    assert len({k[0] for k in keys}) == 2


def test_expired_rating_has_no_stars(service, demo_store, data_dir):
    outcome = service.handle_text(_demo_stamp(demo_store, data_dir, 102).text)
    assert outcome.verdict is Verdict.GENUINE_RATING_EXPIRED
    assert outcome.product is not None and outcome.product.stars is None


def test_forged_and_private_content(service, demo_store, data_dir):
    text = _demo_stamp(demo_store, data_dir, 101).text
    forged = text[:-3] + ("AAA" if not text.endswith("AAA") else "BBB")
    assert service.handle_text(forged).verdict is Verdict.FORGED
    other = service.handle_text("WIFI:S:home;P:secret;;")
    assert other.verdict is Verdict.NOT_OCOP
    stored = [r["text"] for r in demo_store.query("SELECT text FROM scans")]
    assert "WIFI:S:home;P:secret;;" not in stored  # never stored
    assert all(r["verdict"] != "not_ocop" for r in _outbox(demo_store))  # never sent


def test_product_barcode_lookup(service):
    outcome = service.handle_text("2000000001012")
    assert outcome.verdict is Verdict.PRODUCT_BARCODE
    assert outcome.product.id == 101


def test_without_trust_list_nothing_is_claimed(store):
    outcome = ScanService(store, Settings()).handle_text("HTTPS://OCOP.SONLA.GOV.VN/S/AAAA")
    assert outcome.verification is None and "root public key" in outcome.unavailable_reason
    assert store.query_one("SELECT count(*) FROM scans")[0] == 0


def test_full_disk_still_gives_the_verdict_and_saves_nothing(service, demo_store, data_dir):
    """SQLITE_FULL for real: the database is capped at its size and its free space filled
    (each table and index has its own pages, so fill the ones a scan writes to)."""
    from kiosk.store import StoreFull

    stamp = _demo_stamp(demo_store, data_dir, 101)
    pages = demo_store.query_one("PRAGMA page_count")[0]
    demo_store.conn.execute(f"PRAGMA max_page_count = {pages}")
    fillers = [
        (
            "INSERT INTO scans(scanned_at, text, verdict, serial, source) "
            "VALUES ('2000-01-01', ?, 'forged', ?, 'test')"
        ),
        (
            "INSERT INTO outbox(kind, idempotency_key, payload_json, created_at) "
            "VALUES ('heartbeat', ?, '{}', '2000-01-01')"
        ),
    ]
    n = 0
    for size in (400, 60, 1):
        for sql in fillers:
            with pytest.raises(StoreFull):
                for _ in range(10_000):
                    n += 1
                    args = ("x" * size, n) if "scans" in sql else (f"{n:0{size}d}",)
                    with demo_store.transaction() as conn:
                        conn.execute(sql, args)
    before = demo_store.query_one("SELECT count(*) FROM scans")[0]
    outcome = service.handle_text(stamp.text)
    assert outcome.verdict is Verdict.GENUINE and not outcome.recorded
    assert demo_store.query_one("SELECT count(*) FROM scans")[0] == before
