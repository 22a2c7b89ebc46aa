"""Issue 14, items 5 and 6, against a real registry process: trust lists expire and are
re-signed before expiry; a withheld update shows as "out of date" on every surface; key
rotation never shows a genuine stamp as forged."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from kiosk.doctor import build_env, run_doctor, select_checks
from kiosk.doctor.checks import Status
from kiosk.scanning import ScanService
from kiosk.staff.sync_tab import sync_lines
from kiosk.stamps.service import verifier_from_store
from kiosk.stamps.trust_store import stored_trust_state
from kiosk.sync.status import SyncState, read_sync_status
from kiosk.ui.services import Services
from kiosk.viewmodels import ResultViewModel
from ocop.stamps.freshness import TrustFreshness
from ocop.stamps.verdicts import Verdict
from tests.registry.server import start_registry
from tests.sync.faults import FaultServer

VALIDITY_S = 6  # short lists, so expiry comes within the test
SHORT_LISTS = {
    "OCOP_REGISTRY_TRUST_LIST_VALIDITY_S": str(VALIDITY_S),
    "OCOP_REGISTRY_TRUST_REFRESH_CHECK_S": "0.5",
}


def _ok(kiosk):
    report, status = kiosk.engine.sync_once()
    assert report.ok, (report, status)
    return report


def _published(reg) -> dict:
    return requests.get(reg.url + "/api/v1/trust-list", timeout=5).json()["trust_list"]


class ReplayStale:
    """The attacker's proxy: catalog pages are signed, so it cannot strip the trust list
    from a reply; it replays the first signed reply it saw for each cursor instead, so the
    kiosk keeps getting valid pages and never a newer trust list."""

    def __init__(self, proxy: FaultServer):
        self.proxy = proxy
        self.seen: dict[str, dict] = {}

    def __call__(self, reply: dict) -> None:
        since = parse_qs(urlsplit(self.proxy.path).query).get("since", ["0"])[0]
        first = self.seen.setdefault(since, copy.deepcopy(reply))
        reply.clear()
        reply.update(copy.deepcopy(first))


@pytest.fixture
def short_registry(tmp_path):
    reg = start_registry(tmp_path / "short-registry", env=SHORT_LISTS)
    yield reg
    reg.stop()


def _stamp(kiosk, count: int = 1) -> list[str]:
    block = kiosk.engine.request_stamp_block(101, count)
    return [
        r[0]
        for r in kiosk.store.query(
            "SELECT text FROM stamps WHERE block_id = ? ORDER BY serial", (block,)
        )
    ]


def test_withheld_trust_list_shows_out_of_date_everywhere(short_registry, make_kiosk):
    reg = short_registry
    proxy = FaultServer(reg.url)
    try:
        kiosk = make_kiosk(reg, url=proxy.url, name="behind-proxy")
        direct = make_kiosk(reg, name="direct")
        proxy.mode, proxy.poison = "poison", ReplayStale(proxy)
        _ok(kiosk)
        _ok(kiosk)  # the first reply at the new cursor: replayed from now on
        _ok(direct)
        (text,) = _stamp(direct)
        scans = ScanService(kiosk.store, kiosk.settings)
        fresh = scans.handle_text(text)
        assert fresh.verdict is Verdict.GENUINE
        assert fresh.trust_freshness is TrustFreshness.FRESH
        assert ResultViewModel.from_outcome(fresh, "en").trust_note == ""
        assert read_sync_status(kiosk.store).state is SyncState.IDLE

        held = stored_trust_state(kiosk.store.conn)
        expires = dt.datetime.fromisoformat(held.expires_at.removesuffix("Z")).replace(
            tzinfo=dt.UTC
        )
        time.sleep(max(0.0, (expires - dt.datetime.now(dt.UTC)).total_seconds()) + 1.0)
        _ok(kiosk)  # the round "succeeds": the catalog came, the list did not
        _ok(direct)
        # The registry re-signed in the background: the direct kiosk is fresh on a newer list.
        assert _published(reg)["sequence"] > held.sequence
        assert stored_trust_state(direct.store.conn).freshness is TrustFreshness.FRESH
        assert read_sync_status(direct.store).state is SyncState.IDLE

        assert stored_trust_state(kiosk.store.conn).sequence == held.sequence
        # Result screen: the signature still verifies; a note says the list is old.
        stale = scans.handle_text(text)
        assert stale.verdict is Verdict.GENUINE
        assert stale.trust_freshness is TrustFreshness.EXPIRED
        assert "out of date" in ResultViewModel.from_outcome(stale, "en").trust_note
        assert "đã cũ" in ResultViewModel.from_outcome(stale, "vi").trust_note
        assert stale.to_json()["trust_list_freshness"] == "expired"
        # Sync status and the staff screen: not "up to date".
        status = read_sync_status(kiosk.store)
        assert status.state is SyncState.TRUST_EXPIRED and str(held.sequence) in status.last_error
        services = Services(kiosk.settings, kiosk.store, kiosk.data_dir)
        try:
            view = services.sync_status()
        finally:
            services.close()
        lines = sync_lines(view, "en")
        assert "Up to date" not in lines and "Revocation list out of date" in lines
        assert "expired" in lines
        # Doctor: FAIL.
        doctor = run_doctor(
            build_env(str(kiosk.config_path), str(kiosk.data_dir)),
            select_checks(only=["trust list"]),
        )
        line = {r.name: r for r in doctor}["trust list"]
        assert line.status is Status.FAIL and "out of date" in line.detail, line
        # Heartbeat: the next one tells the registry (sent in the round after it is built).
        _ok(kiosk)
        stations = {s["name"]: s for s in reg.report()["stations"]}
        hb = stations["demo-station"]["heartbeat"]
        assert hb["trust_list_sequence"] == held.sequence
        assert hb["trust_list_expires_at"] == held.expires_at and hb["trust_list_stale"] is True

        # The proxy goes away: the next sync brings a fresh list and "up to date" again.
        proxy.mode = "proxy"
        _ok(kiosk)
        assert stored_trust_state(kiosk.store.conn).freshness is TrustFreshness.FRESH
        assert read_sync_status(kiosk.store).state is SyncState.IDLE
        assert scans.handle_text(text).trust_freshness is TrustFreshness.FRESH
    finally:
        proxy.stop()


def test_trust_refresh_cli_resigns_same_content_only_when_due(fresh_registry):
    reg = fresh_registry
    before = _published(reg)
    out = reg.cli("trust", "refresh").stdout
    assert "fresh" in out and _published(reg)["sequence"] == before["sequence"]
    out = reg.cli("trust", "refresh", "--force").stdout
    after = _published(reg)
    assert after["sequence"] == before["sequence"] + 1 and "published" in out
    assert after["expires_at"] > before["expires_at"] or after["issued_at"] >= before["issued_at"]
    moving = ("sequence", "issued_at", "expires_at")
    assert {k: v for k, v in after.items() if k not in moving} == {
        k: v for k, v in before.items() if k not in moving
    }
    # The default validity: 7 days from issue.
    issued = dt.datetime.fromisoformat(after["issued_at"].removesuffix("Z"))
    expires = dt.datetime.fromisoformat(after["expires_at"].removesuffix("Z"))
    assert expires - issued == dt.timedelta(days=7)


# --- key rotation (item 6) ------------------------------------------------------------------


def test_rotation_to_the_prepublished_key_is_genuine_on_a_kiosk_that_never_synced_again(
    tmp_path, make_kiosk
):
    """Lead time 0: the next key may sign from today, so a plain rotate is allowed."""
    reg = start_registry(tmp_path / "lead0", env={"OCOP_REGISTRY_NEXT_KEY_LEAD_S": "0"})
    try:
        offline = make_kiosk(reg, name="synced-before-rotation")
        station = make_kiosk(reg, name="station")
        _ok(offline)
        _ok(station)
        keys = {k["key_id"] for k in _published(reg)["signing_keys"]}
        assert keys == {1, 2}  # key 2 published before it is used
        out = reg.cli("key", "rotate").stdout
        assert "signing key 2 is current" in out and "next signing key 3" in out
        (text,) = _stamp(station)
        assert verifier_from_store(offline.store, offline.settings).verify(text).key_id == 2
        assert (
            verifier_from_store(offline.store, offline.settings).verify(text).verdict
            is Verdict.GENUINE
        )
    finally:
        reg.stop()


def test_stale_kiosk_says_cannot_verify_yet_never_forged(fresh_registry, make_kiosk):
    """Default lead time (one validity period): rotating early needs --now; kiosks that have
    not synced since see the new key's stamps as 'cannot verify yet'."""
    reg = fresh_registry
    stale = make_kiosk(reg, name="stale")
    station = make_kiosk(reg, name="station")
    _ok(stale)
    _ok(station)
    next_key = {k["key_id"]: k for k in _published(reg)["signing_keys"]}[2]
    assert next_key["valid_from"] > dt.datetime.now(dt.UTC).date().isoformat()
    refused = reg.cli("key", "rotate", check=False)
    assert (
        refused.returncode == 2
        and "--now" in refused.stderr
        and next_key["valid_from"] in (refused.stderr)
    )
    admin = reg.admin("POST", "/api/v1/admin/keys/rotate")
    assert admin.status_code == 409 and "--now" in admin.json()["detail"]
    assert _published(reg)["signing_keys"][1] == next_key  # refusals changed nothing

    out = reg.cli("key", "rotate", "--now").stdout
    assert "cannot verify yet" in out
    (key2_stamp,) = _stamp(station)  # the station pulls the new list for the new key
    # The stale kiosk knows key 2, but from next week: cannot verify yet, not forged.
    stale_verifier = verifier_from_store(stale.store, stale.settings)
    result = stale_verifier.verify(key2_stamp)
    assert result.verdict is Verdict.KEY_NOT_YET_KNOWN and result.product_id is None
    assert verifier_from_store(station.store, station.settings).verify(key2_stamp).verdict in (
        Verdict.GENUINE,
    )
    # A second emergency rotation: key 3, which the stale kiosk has never seen.
    reg.cli("key", "rotate", "--now")
    (key3_stamp,) = _stamp(station)
    assert json.loads(json.dumps(stale_verifier.verify(key3_stamp).to_json()))["verdict"] == (
        "key_not_yet_known"
    )
    # The shopper's card: a warning, no product, no accusation.
    scans = ScanService(stale.store, stale.settings)
    vm = ResultViewModel.from_outcome(scans.handle_text(key3_stamp), "en")
    assert vm.verdict == "key_not_yet_known" and vm.card is None
    assert "Cannot verify yet" in vm.title and "forged" not in vm.message.lower()
    # The registry's page knows every key: genuine there.
    page = requests.get(reg.url + "/S/" + key3_stamp.rsplit("/", 1)[1], timeout=5)
    assert page.status_code == 200 and 'data-verdict="genuine' in page.text
    # After a sync the stale kiosk verifies both.
    _ok(stale)
    fresh_verifier = verifier_from_store(stale.store, stale.settings)
    assert fresh_verifier.verify(key2_stamp).verdict is Verdict.GENUINE
    assert fresh_verifier.verify(key3_stamp).verdict is Verdict.GENUINE
