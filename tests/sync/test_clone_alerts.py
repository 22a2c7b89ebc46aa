"""Issue 14 item 4 end to end: real kiosks (stores, scan service, sync engines) and a real
registry process. A copied stamp scanned at two kiosks, or checked by many phones, reaches
a third kiosk as "possibly copied" on its next sync, with no person acting (policy
publish), or once the office approves (policy approve). Forged scans are refused for good
and the kiosk counts them as it always did."""

from __future__ import annotations

import logging
import time
import uuid

import requests

from kiosk.scanning import ScanService
from kiosk.sync import status as st
from ocop.stamps.verdicts import Verdict
from tests.registry.server import start_registry
from tests.sync.conftest import genuine_stamp

API = "/api/v1"


def _sync(kiosk):
    report, status = kiosk.engine.sync_once()
    assert report.ok, report.error
    return report


def _kiosk(reg, make_kiosk, name, district):
    token = reg.add_station(f"{name}-{uuid.uuid4().hex[:6]}", district)
    kiosk = make_kiosk(reg, token=token, name=name)
    _sync(kiosk)
    return kiosk


def _printed_stamp(reg) -> str:
    """A genuine stamp printed by demo-station (the producer's stamp station)."""
    return reg.issue_block()["stamps"][0]


def _verdict(kiosk, text) -> Verdict:
    return ScanService(kiosk.store, kiosk.settings).verify(text).verdict


def _scan_and_sync(kiosk, text) -> None:
    outcome = ScanService(kiosk.store, kiosk.settings).handle_text(text)
    assert outcome.verification is not None
    report = _sync(kiosk)
    assert report.push.rejected == 0


def test_copied_stamp_at_two_kiosks_is_suspect_on_a_third_after_sync(registry, make_kiosk):
    showroom = _kiosk(registry, make_kiosk, "showroom", "Mộc Châu")
    market = _kiosk(registry, make_kiosk, "market", "Sông Mã")
    third = _kiosk(registry, make_kiosk, "reststop", "Yên Châu")
    stamp = _printed_stamp(registry)
    _sync(third)
    assert _verdict(third, stamp) is Verdict.GENUINE
    _scan_and_sync(showroom, stamp)  # the original, at the showroom
    _sync(third)
    assert _verdict(third, stamp) is Verdict.GENUINE  # one site: nothing to say
    _scan_and_sync(market, stamp)  # a photocopy of it, 100 km away
    _sync(third)
    assert _verdict(third, stamp) is Verdict.SUSPECT_CLONE
    page = requests.get(f"{registry.url}/S/{stamp.rsplit('/', 1)[1]}", timeout=10).text
    assert 'data-verdict="suspect_clone"' in page


def test_approve_policy_shows_it_on_kiosks_once_the_office_approves(tmp_path, make_kiosk):
    reg = start_registry(tmp_path / "approving", extra_args=("--clone-policy", "approve"))
    try:
        a = _kiosk(reg, make_kiosk, "a", "Mộc Châu")
        b = _kiosk(reg, make_kiosk, "b", "Thành phố Sơn La")
        third = _kiosk(reg, make_kiosk, "c", "Phù Yên")
        stamp = _printed_stamp(reg)
        _scan_and_sync(a, stamp)
        _scan_and_sync(b, stamp)
        _sync(third)
        assert _verdict(third, stamp) is Verdict.GENUINE  # pending: the office decides
        pending = reg.admin("GET", f"{API}/admin/clone-detections?status=pending").json()
        assert pending["detections"], pending
        detection = pending["detections"][0]
        reply = reg.admin("POST", f"{API}/admin/clone-detections/{detection['id']}/approve")
        assert reply.status_code == 200, reply.text
        _sync(third)
        assert _verdict(third, stamp) is Verdict.SUSPECT_CLONE
    finally:
        reg.stop()


def test_a_stamp_checked_by_many_phones_is_suspect_on_a_kiosk(tmp_path, make_kiosk):
    reg = start_registry(
        tmp_path / "phones",
        extra_args=("--trusted-proxy", "127.0.0.1", "--clone-rule", "max_phone_clients=4"),
    )
    try:
        kiosk = _kiosk(reg, make_kiosk, "k", "Vân Hồ")
        stamp = _printed_stamp(reg)
        code = stamp.rsplit("/", 1)[1]
        for n in range(5):  # five phones behind the province's proxy
            page = requests.get(
                f"{reg.url}/S/{code}",
                headers={"User-Agent": "Mozilla/5.0 Mobile", "X-Forwarded-For": f"10.1.2.{n}"},
                timeout=10,
            )
            assert page.status_code == 200
        # Views are written in batches (registry/views.py ViewLog, every 0.25 s): the clone
        # rules run on the batch with the fifth phone, and a later view of the page says so.
        deadline = time.monotonic() + 15
        while 'data-verdict="suspect_clone"' not in page.text and time.monotonic() < deadline:
            time.sleep(0.2)
            page = requests.get(
                f"{reg.url}/S/{code}",
                headers={"User-Agent": "Mozilla/5.0 Mobile", "X-Forwarded-For": "10.1.2.0"},
                timeout=10,
            )
        assert 'data-verdict="suspect_clone"' in page.text
        _sync(kiosk)
        assert _verdict(kiosk, stamp) is Verdict.SUSPECT_CLONE
    finally:
        reg.stop()


def test_twenty_scans_from_one_kiosk_do_not_flag_anothers_stamp(registry, make_kiosk):
    liar = _kiosk(registry, make_kiosk, "liar", "Quỳnh Nhai")
    other = _kiosk(registry, make_kiosk, "other", "Bắc Yên")
    stamp = _printed_stamp(registry)
    service = ScanService(liar.store, liar.settings)
    for _ in range(20):
        service.handle_text(stamp)
    _sync(liar)
    _sync(other)
    assert _verdict(other, stamp) is Verdict.GENUINE


def test_forged_scans_are_refused_and_the_kiosk_counts_them(registry, make_kiosk, caplog):
    kiosk = _kiosk(registry, make_kiosk, "forger", "Mai Sơn")
    stamp = genuine_stamp(registry, 101, 987_654)
    forged = stamp[:-3] + ("AAA" if stamp[-3:] != "AAA" else "BBB")
    # A kiosk with an edited scan row (or a tampered build) sends a forged text as genuine.
    kiosk.add_scans(2, serial=987_654, text=forged)
    before = int(st.get_state(kiosk.store.conn, st.REJECTED_KEY, "0"))
    with caplog.at_level(logging.WARNING, logger="kiosk.sync.engine"):
        report = _sync(kiosk)
    assert report.push.rejected == 2 and kiosk.unsent() == 0  # delivered for good
    assert int(st.get_state(kiosk.store.conn, st.REJECTED_KEY, "0")) == before + 2
    assert "scan_not_genuine" in caplog.text
    # Resent (as if the reply had been lost): the same answer, no new anomaly.
    kiosk.store.conn.execute("UPDATE outbox SET sent_at = NULL WHERE kind = 'scan'")
    assert _sync(kiosk).push.rejected == 2
    station = [a for a in registry.report()["anomalies"] if a["station"].startswith("forger-")]
    assert [(a["reason"], a["count"]) for a in station] == [("scan_not_genuine", 2)]


def test_the_office_clears_a_wrongly_flagged_stamp_for_good(registry, make_kiosk):
    """Clone rules can be abused against a genuine stamp (a dishonest station, faked phone
    clients): the office takes it off the suspect list, every kiosk shows it genuine again
    after its next sync, and the rules that fired do not put it back."""
    showroom = _kiosk(registry, make_kiosk, "honest", "Mộc Châu")
    dishonest = _kiosk(registry, make_kiosk, "dishonest", "Sốp Cộp")
    third = _kiosk(registry, make_kiosk, "checker", "Mai Sơn")
    stamp = _printed_stamp(registry)
    _scan_and_sync(showroom, stamp)
    _scan_and_sync(dishonest, stamp)
    _sync(third)
    assert _verdict(third, stamp) is Verdict.SUSPECT_CLONE
    serial = ScanService(third.store, third.settings).verify(stamp).serial

    registry.cli("revoke", "clear-suspect", str(serial), "--reason", "checked at the producer")
    _sync(third)
    assert _verdict(third, stamp) is Verdict.GENUINE
    _scan_and_sync(dishonest, stamp)  # the same sightings again: nothing fires
    _sync(third)
    assert _verdict(third, stamp) is Verdict.GENUINE
    detections = [d for d in registry.report()["detections"] if d["serial"] == serial]
    assert detections and {d["status"] for d in detections} == {"dismissed"}
    audit = registry.admin("GET", f"{API}/admin/audit?action=suspect.clear").json()["entries"]
    assert audit[0]["target"] == f"serials:{serial}" and audit[0]["actor"].startswith("cli:")
    # The API does the same for the admin role only.
    refused = registry.station("POST", f"{API}/admin/suspects/clear", json={"serials": [serial]})
    assert refused.status_code == 403
    again = registry.admin("POST", f"{API}/admin/suspects/clear", json={"serials": [serial]})
    assert again.status_code == 200 and again.json()["cleared"] == []
