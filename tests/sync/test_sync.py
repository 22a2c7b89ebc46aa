"""Kiosk <-> registry sync against a real registry process on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests

from kiosk.catalog import Catalog
from kiosk.stamps.service import verifier_from_store
from kiosk.sync import SyncState, read_sync_status
from ocop.ratings import add_months
from ocop.stamps.verdicts import Verdict

API = "/api/v1"


def _ok(kiosk):
    report, status = kiosk.engine.sync_once()
    assert report.ok, report.error
    assert status.state is SyncState.IDLE
    return report


# --- the happy path -----------------------------------------------------------------------


def test_first_sync_from_a_fresh_registry(registry, make_kiosk):
    kiosk = make_kiosk(registry)
    report = _ok(kiosk)
    assert report.pull.products >= 27 and report.pull.trust_list_sequence >= 1
    catalog = Catalog(kiosk.store)
    coffee = catalog.product(101)
    assert coffee.name_vi.startswith("Cà phê") and coffee.producer
    assert coffee.image_hash and (kiosk.data_dir / "media").is_dir()
    assert catalog.search("moc chau")  # the search index is fed by sync too
    status = read_sync_status(kiosk.store)
    assert status.state is SyncState.IDLE and status.last_success_at
    assert status.pending_outbox == 0 and status.catalog_cursor > 0
    doctor_keys = dict(
        kiosk.store.query(
            "SELECT key, value FROM sync_state WHERE key IN ('last_success_at', 'last_error')"
        )
    )
    assert doctor_keys == {"last_success_at": status.last_success_at, "last_error": ""}
    # A second round transfers nothing new.
    again = _ok(kiosk)
    assert again.pull.products == 0 and again.pull.media == 0


def test_small_pages_give_the_same_catalog(registry, make_kiosk):
    big, small = make_kiosk(registry), make_kiosk(registry)
    small.engine.pull_page_items = 4
    _ok(big)
    report = _ok(small)
    assert report.pull.pages > 5
    assert big.snapshot()["products"] == small.snapshot()["products"]


def test_deltas_update_add_and_delete(registry, make_kiosk):
    kiosk = make_kiosk(registry)
    _ok(kiosk)
    product = registry.admin("GET", f"{API}/admin/products/102").json()
    product["name_en"] = "Changed in a delta"
    assert registry.admin("PUT", f"{API}/admin/products/102", json=product).ok
    new_id = 700_000 + uuid.uuid4().int % 100_000
    assert registry.admin(
        "PUT",
        f"{API}/admin/products/{new_id}",
        json={
            "name_vi": "Sản phẩm thử",
            "group": 1,
            "producer": "htx-bich-thao",
            "ratings": [{"stars": 3, "recognised_on": "2025-01-10"}],
        },
    ).ok
    report = _ok(kiosk)
    assert report.pull.products == 2
    catalog = Catalog(kiosk.store)
    assert catalog.product(102).name_en == "Changed in a delta"
    assert catalog.product(new_id).stars == 3
    assert registry.admin("DELETE", f"{API}/admin/products/{new_id}").ok
    report = _ok(kiosk)
    assert report.pull.tombstones == 1 and catalog.product(new_id) is None


def test_rating_change_and_expiry(registry, make_kiosk):
    kiosk = make_kiosk(registry)
    _ok(kiosk)
    product = registry.admin("GET", f"{API}/admin/products/103").json()
    yesterday = dt.date.today() - dt.timedelta(days=1)
    recognised = add_months(yesterday, -24)  # valid_until is at most 36 months after it
    product["ratings"] = [
        {
            "stars": 4,
            "recognised_on": recognised.isoformat(),
            "valid_until": yesterday.isoformat(),
            "status": "valid",
        }
    ]
    assert registry.admin("PUT", f"{API}/admin/products/103", json=product).ok
    _ok(kiosk)
    view = Catalog(kiosk.store).product(103)
    assert view.stars is None and view.rating_status == "expired"
    product["ratings"].append({"stars": 5, "recognised_on": dt.date.today().isoformat()})
    assert registry.admin("PUT", f"{API}/admin/products/103", json=product).ok
    _ok(kiosk)
    assert Catalog(kiosk.store).product(103).stars == 5


def test_stamp_block_prints_and_verifies(registry, make_kiosk):
    kiosk = make_kiosk(registry)
    _ok(kiosk)
    block_id = kiosk.engine.request_stamp_block(101, 10)
    rows = kiosk.store.query(
        "SELECT serial, text, state FROM stamps WHERE block_id = ?", (block_id,)
    )
    assert len(rows) == 10 and {r["state"] for r in rows} == {"available"}
    verifier = verifier_from_store(kiosk.store, kiosk.settings)
    v = verifier.verify(rows[0]["text"])
    assert v.verdict is Verdict.GENUINE and v.serial == rows[0]["serial"]


def test_block_request_retried_after_a_lost_reply_is_not_allocated_twice(
    registry, faults, make_kiosk
):
    kiosk = make_kiosk(registry, url=faults.url)
    _ok(kiosk)
    faults.mode = "truncated"
    from kiosk.sync import SyncError

    with pytest.raises(SyncError):
        kiosk.engine.request_stamp_block(104, 5)
    assert kiosk.store.query_one("SELECT count(*) FROM stamps")[0] == 0
    faults.mode = "proxy"
    report = _ok(kiosk)  # completes the pending request
    assert len(report.blocks) == 1
    serials = [r[0] for r in kiosk.store.query("SELECT serial FROM stamps ORDER BY serial")]
    assert len(serials) == 5
    # The registry allocated these serials once: a direct retry with another id is new.
    pending = kiosk.store.query("SELECT key FROM sync_state WHERE key LIKE 'pending_block:%'")
    assert pending == []
    page = requests.get(
        registry.url
        + "/S/"
        + kiosk.store.query_one("SELECT text FROM stamps LIMIT 1")[0].rsplit("/", 1)[1],
        timeout=5,
    )
    assert page.status_code == 200 and "demo-station" in page.text


def test_heartbeat_reports_devices(registry, make_kiosk):
    kiosk = make_kiosk(registry)
    kiosk.engine.camera_state = lambda: "running"
    kiosk.engine.printer_state = lambda: "paper_out"
    _ok(kiosk)
    stations = {s["name"]: s for s in registry.report()["stations"]}
    heartbeat = stations["demo-station"]["heartbeat"]
    assert heartbeat["printer"] == "paper_out" and heartbeat["camera"] == "running"
    assert heartbeat["app_version"]


def test_outbox_reaches_the_registry_once(registry, make_kiosk):
    kiosk = make_kiosk(registry)
    serial = 500_000 + uuid.uuid4().int % 100_000
    kiosk.add_scans(3, serial=serial)
    before = registry.report()["total_scans"]
    report = _ok(kiosk)
    assert report.push.accepted >= 3 and kiosk.unsent() == 0
    assert registry.report()["total_scans"] == before + 3
    # Forget that they were sent (as if the ack was lost): a resend stores nothing new.
    kiosk.store.conn.execute("UPDATE outbox SET sent_at = NULL")
    report = _ok(kiosk)
    assert report.push.duplicate >= 3 and report.push.accepted == 1  # the new heartbeat
    assert registry.report()["total_scans"] == before + 3


# --- keys and revocation ------------------------------------------------------------------


def test_key_rotation_and_revocation(fresh_registry, make_kiosk):
    reg = fresh_registry
    kiosk = make_kiosk(reg)
    _ok(kiosk)
    old_block = kiosk.engine.request_stamp_block(101, 3)
    old_texts = [
        r[0]
        for r in kiosk.store.query(
            "SELECT text FROM stamps WHERE block_id = ? ORDER BY serial", (old_block,)
        )
    ]
    # Key 2 was published in advance, valid from a week on: a plain rotate is refused now.
    refused = reg.cli("key", "rotate", check=False)
    assert refused.returncode == 2 and "--now" in refused.stderr
    out = reg.cli("key", "rotate", "--now").stdout
    assert "signing key 2" in out and "cannot verify yet" in out
    report = _ok(kiosk)
    assert report.pull.trust_list_sequence == 2
    new_block = kiosk.engine.request_stamp_block(101, 3)
    new_rows = kiosk.store.query(
        "SELECT serial, key_id, text FROM stamps WHERE block_id = ?", (new_block,)
    )
    assert {r["key_id"] for r in new_rows} == {2}
    verifier = verifier_from_store(kiosk.store, kiosk.settings)
    assert verifier.verify(old_texts[0]).verdict is Verdict.GENUINE
    assert verifier.verify(new_rows[0]["text"]).verdict is Verdict.GENUINE
    # Revoke the first old serial; the registry page and the kiosk agree.
    first_serial = verifier.verify(old_texts[0]).serial
    reg.cli("revoke", "serials", str(first_serial), str(first_serial), "--reason", "stolen")
    _ok(kiosk)
    verifier = verifier_from_store(kiosk.store, kiosk.settings)
    assert verifier.verify(old_texts[0]).verdict is Verdict.REVOKED
    assert verifier.verify(old_texts[1]).verdict is Verdict.GENUINE
    page = requests.get(reg.url + "/S/" + old_texts[0].rsplit("/", 1)[1], timeout=5)
    assert page.status_code == 200 and 'data-verdict="revoked"' in page.text
    # Revoking key 1 from its first day revokes everything it signed.
    reg.cli("revoke", "key", "1", "--from", "2020-01-01")
    _ok(kiosk)
    verifier = verifier_from_store(kiosk.store, kiosk.settings)
    assert verifier.verify(old_texts[2]).verdict is Verdict.REVOKED
    assert verifier.verify(new_rows[1]["text"]).verdict is Verdict.GENUINE
    assert read_sync_status(kiosk.store).trust_list_sequence == 4


# --- failures change nothing --------------------------------------------------------------


def test_registry_down(registry, make_kiosk):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    kiosk = make_kiosk(registry, url=f"http://127.0.0.1:{port}")
    kiosk.add_scans(2)
    before = kiosk.snapshot()
    report, status = kiosk.engine.sync_once()
    assert not report.ok and report.retryable
    assert status.state is SyncState.OFFLINE and status.offline_since
    assert "unreachable" in status.last_error
    assert kiosk.snapshot() == before
    assert kiosk.unsent() == 3  # 2 scans + the newest heartbeat, kept
    kiosk.engine.sync_once()
    assert kiosk.unsent() == 3  # an older unsent heartbeat is replaced
    assert read_sync_status(kiosk.store).state is SyncState.OFFLINE


@pytest.mark.parametrize(
    "mode", ["slow", "500", "garbage", "truncated", "truncated_json", "badsig", "foreign_root"]
)
def test_bad_replies_change_nothing(registry, faults, make_kiosk, mode):
    kiosk = make_kiosk(registry, url=faults.url, timeout_s=1.0)
    before = kiosk.snapshot()
    faults.mode, faults.delay_s = mode, 2.5
    report, status = kiosk.engine.sync_once()
    assert not report.ok, mode
    assert kiosk.snapshot() == before, f"{mode} changed the store"
    if mode in ("badsig", "foreign_root"):
        # Not 'offline': the kiosk reached something it must not trust.
        assert status.state is SyncState.REFUSED
        assert "trust list" in report.error
        assert read_sync_status(kiosk.store).state is SyncState.REFUSED
    else:
        assert status.state is SyncState.OFFLINE
    # The same kiosk then syncs fine once the path is healthy again.
    faults.mode = "proxy"
    _ok(kiosk)
    assert kiosk.product_count() >= 27


def test_bad_replies_mid_catalog_keep_earlier_pages(registry, faults, make_kiosk):
    kiosk = make_kiosk(registry, url=faults.url)
    kiosk.engine.pull_page_items = 5
    faults.mode = "proxy"
    kiosk.engine.client.changes_calls = 0
    original = kiosk.engine.client.changes

    def flaky(*args, **kwargs):
        kiosk.engine.client.changes_calls += 1
        if kiosk.engine.client.changes_calls == 3:
            faults.mode = "truncated_json"
        try:
            return original(*args, **kwargs)
        finally:
            faults.mode = "proxy"

    kiosk.engine.client.changes = flaky
    report, _ = kiosk.engine.sync_once()
    assert not report.ok
    cursor = int(
        kiosk.store.query_one("SELECT value FROM sync_state WHERE key = 'catalog_cursor'")[0]
    )
    assert cursor > 0  # two whole pages were applied
    partial = kiosk.product_count()
    _ok(kiosk)
    assert kiosk.product_count() >= max(partial, 27)


def test_wrong_token_is_an_error_not_offline(registry, make_kiosk):
    kiosk = make_kiosk(registry, token="not-a-real-token-" + "x" * 30)
    report, status = kiosk.engine.sync_once()
    assert not report.ok and not report.retryable
    assert status.state is SyncState.ERROR and "401" in status.last_error


def test_another_stations_token_uploads_only_as_that_station(registry, make_kiosk):
    other_token = registry.add_station(f"kiosk-{uuid.uuid4().hex[:6]}", "Sông Mã")
    kiosk = make_kiosk(registry, token=other_token)
    kiosk.add_scans(1, serial=424242)
    _ok(kiosk)
    page = requests.get(registry.url + "/reports", auth=("office", registry.admin_token), timeout=5)
    assert page.status_code == 200 and "Sông Mã" in page.text
