"""The stolen-station runbook (docs/operations.md) end to end: the real `ocop-registry` and
`ocop-kiosk` command lines as subprocesses against a real registry process, a printing
station that prints and reports some of its stamps, and a showroom kiosk that syncs. After
`station retire` the stolen token gets 401, the stamps it never reported printed read
REVOKED on the synced kiosk and the printed-and-reported ones stay genuine."""

from __future__ import annotations

import json

import requests

from kiosk.stamps.service import verifier_from_store
from kiosk.store import Store
from ocop.stamps.verdicts import Verdict
from tests.registry.server import write_kiosk_config
from tests.sync.conftest import run_kiosk_cli

API = "/api/v1"


def _kiosk_cli(config, *args):
    done = run_kiosk_cli("--config", str(config), *args)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def _station_line(reg, name: str) -> str:
    (line,) = [
        x for x in reg.cli("station", "list").stdout.splitlines() if x.startswith(name + "\t")
    ]
    return line


def test_stolen_station_runbook(fresh_registry, make_kiosk, tmp_path):
    reg = fresh_registry
    # The office sets up a printing station bound to product 101 and a showroom kiosk.
    reg.cli(
        "station",
        "add",
        "printer-1",
        "--role",
        "station",
        "--products",
        "101",
        "--token-file",
        str(tmp_path / "printer-1.token"),
    )
    reg.cli("station", "add", "showroom-1", "--token-file", str(tmp_path / "showroom-1.token"))
    stolen_token = (tmp_path / "printer-1.token").read_text().strip()
    station_dir = tmp_path / "printer-1"
    config = write_kiosk_config(
        tmp_path / "printer-1.toml", reg.url, stolen_token, reg.root_key, station_dir
    )
    _kiosk_cli(config, "init")
    _kiosk_cli(config, "sync", "--once")
    block = json.loads(_kiosk_cli(config, "sync", "block", "101", "10", "--json"))
    _kiosk_cli(config, "print", "--product", "101", "--count", "3")
    _kiosk_cli(config, "sync", "--once")  # the print records reach the registry
    store = Store.in_dir(station_dir)
    try:
        stamps = [tuple(r) for r in store.query("SELECT serial, text, state FROM stamps")]
    finally:
        store.close()
    printed = {text for _, text, state in stamps if state == "printed"}
    blank = {text for _, text, state in stamps if state != "printed"}
    assert len(printed) == 3 and len(blank) == 7

    showroom = make_kiosk(
        reg, token=(tmp_path / "showroom-1.token").read_text().strip(), name="showroom"
    )
    report, _ = showroom.engine.sync_once()
    assert report.ok, report.error
    verifier = verifier_from_store(showroom.store, showroom.settings)
    assert {verifier.verify(t).verdict for t in printed | blank} == {Verdict.GENUINE}

    # 1. Detect: the station list shows what it received and when it was last seen.
    line = _station_line(reg, "printer-1")
    assert "\tactive\t" in line and "total 10/" in line and "last seen 20" in line
    # 2. Retire: disable for good, revoke every serial it did not report printed.
    out = reg.cli("station", "retire", "printer-1", "--reason", "stolen 2026-12-02").stdout
    assert "7 unprinted serials revoked" in out and "3 printed and reported" in out
    assert "\tretired\t" in _station_line(reg, "printer-1")
    # The thief's token is dead everywhere.
    headers = {"Authorization": f"Bearer {stolen_token}"}
    for method, path in (("GET", "/stations/me"), ("GET", "/catalog/changes")):
        assert (
            requests.request(method, reg.url + API + path, headers=headers, timeout=10).status_code
            == 401
        )
    refused = run_kiosk_cli("--config", str(config), "sync", "block", "101", "5")
    assert refused.returncode != 0 and "401" in refused.stderr
    # 3. Kiosks receive it at their next sync: blank stamps REVOKED, printed ones genuine.
    report, _ = showroom.engine.sync_once()
    assert report.ok, report.error
    verifier = verifier_from_store(showroom.store, showroom.settings)
    assert {verifier.verify(t).verdict for t in printed} == {Verdict.GENUINE}
    assert {verifier.verify(t).verdict for t in blank} == {Verdict.REVOKED}
    assert block["last_serial"] - block["first_serial"] == 9
    # 4. Re-issue: a new station, new token, new blocks; the old name stays retired.
    reg.cli(
        "station",
        "add",
        "printer-2",
        "--role",
        "station",
        "--products",
        "101",
        "--token-file",
        str(tmp_path / "printer-2.token"),
    )
    assert reg.cli("station", "enable", "printer-1", check=False).returncode == 2
    new_dir = tmp_path / "printer-2"
    new_config = write_kiosk_config(
        tmp_path / "printer-2.toml",
        reg.url,
        (tmp_path / "printer-2.token").read_text().strip(),
        reg.root_key,
        new_dir,
    )
    _kiosk_cli(new_config, "init")
    _kiosk_cli(new_config, "sync", "--once")
    fresh = json.loads(_kiosk_cli(new_config, "sync", "block", "101", "2", "--json"))
    assert fresh["first_serial"] > block["last_serial"]


def test_a_kiosk_asking_for_stamps_is_told_why_in_its_language(registry, tmp_path):
    token = registry.add_station("showroom-asks", "Mộc Châu")
    data_dir = tmp_path / "kiosk"
    config = write_kiosk_config(
        tmp_path / "k.toml", registry.url, token, registry.root_key, data_dir
    )
    _kiosk_cli(config, "init")
    done = run_kiosk_cli("--config", str(config), "sync", "block", "101", "5")
    assert done.returncode != 0
    assert "Máy này không được in tem" in done.stderr  # the default language: Vietnamese
    assert "403" in done.stderr
    # Refused for good: not asked again at every sync round (each would be an alert).
    store = Store.in_dir(data_dir)
    try:
        assert store.query("SELECT key FROM sync_state WHERE key LIKE 'pending_block:%'") == []
    finally:
        store.close()
    alerts = [a for a in registry.report()["block_alerts"] if a["station"] == "showroom-asks"]
    assert [a["attempts"] for a in alerts] == [1]
