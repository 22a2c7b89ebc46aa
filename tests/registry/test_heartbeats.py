"""Heartbeats end to end: the UI process records its camera and printer, `ocop-kiosk sync`
(another process, like ocop-kiosk-sync.service) sends them, a real registry process keeps the
newest one per station, shows it on /reports and flags stations that went silent."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from kiosk.settings import settings_from_dict
from kiosk.store import Store
from tests.registry.server import REPO_ROOT, start_registry, write_kiosk_config
from tests.sync.conftest import run_kiosk_cli

SILENT_AFTER_S = 3


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


def _kiosk(tmp_path, registry, name: str):
    """A real (non-demo) data folder made by the CLI, with its own station token."""
    token = registry.add_station(name, district="Mộc Châu")
    data_dir = tmp_path / name
    assert run_kiosk_cli("--data-dir", str(data_dir), "init").returncode == 0
    config = write_kiosk_config(
        tmp_path / f"{name}.toml", registry.url, token, registry.root_key, data_dir
    )
    return data_dir, config, token


def _sync_once(config) -> dict:
    done = run_kiosk_cli("--config", str(config), "sync", "--once", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _station(registry, name: str) -> dict:
    return {s["name"]: s for s in registry.report()["stations"]}[name]


def _reports_page(registry) -> str:
    page = requests.get(registry.url + "/reports", timeout=10, auth=("admin", registry.admin_token))
    assert page.status_code == 200
    return page.text


def test_ui_devices_reach_the_registry_through_the_sync_process(tmp_path, registry, fake_printer):
    from kiosk.ui.services import Services

    data_dir, config, token = _kiosk(tmp_path, registry, "hb-station-ui")
    fake_printer.control.set(paper_near_end=True)
    settings = settings_from_dict(
        {
            "data_dir": str(data_dir),
            "printer": {"uri": fake_printer.uri + "?timeout=3"},
            "registry": {"url": registry.url, "token": token, "root_public_key": registry.root_key},
        }
    )
    store = Store.in_dir(data_dir)
    services = Services(settings, store, data_dir)
    try:
        # The staff screen starts printing and the monitor polls the (fake) printer.
        assert services.start_printing(lambda p: None, lambda state, err: None)
        services.printer_monitor.active.set()
        services.printer_monitor.poll_now()
        deadline = time.monotonic() + 20
        while services.printer_monitor.last_reading is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert services.printer_monitor.last_reading is not None
        # The app hands over its camera state; the recorder writes both for `sync`.
        services.watch_devices(lambda: "scanning", lambda: False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not store.query_one(
            "SELECT 1 FROM sync_state WHERE key = 'devices'"
        ):
            time.sleep(0.05)
        _sync_once(config)  # the heartbeat is queued first: this one has no trust list yet
        _sync_once(config)
    finally:
        services.close()
        store.close()
    hb = _station(registry, "hb-station-ui")["heartbeat"]
    assert hb["camera"] == "scanning" and hb["camera_is_demo"] is False
    assert 0 <= hb["camera_age_s"] < 120
    assert hb["printer"] == "paper_near_end" and hb["paper"] == "near_end"
    assert 0 <= hb["printer_age_s"] < 120
    assert hb["disk_free_bytes"] > 0
    assert hb["trust_list_sequence"] >= 1 and hb["trust_list_age_s"] >= 0
    assert hb["pending_outbox"] == 0 and hb["pending_outbox_oldest_age_s"] is None
    assert hb["uptime_s"] >= 0 and hb["app_version"] and hb["mode"] == "showroom"
    assert hb["clock"]["system_time"] == hb["at"]
    assert hb["clock"]["state"] == "ok" and hb["clock"]["behind_s"] == 0
    assert hb["clock"]["signed_time"]  # the trust list's signed issued_at
    page = _reports_page(registry)
    row = page[page.index('data-station="hb-station-ui"') :]
    row = row[: row.index("</tr>")]
    assert "scanning" in row and "paper_near_end" in row and "near_end" in row
    assert 'data-contact="ok"' in row


def test_sync_process_alone_says_devices_are_not_watched(tmp_path, registry):
    data_dir, config, _ = _kiosk(tmp_path, registry, "hb-no-ui")
    store = Store.in_dir(data_dir)
    try:  # an unsent scan: the backlog and its age are reported
        store.conn.execute(
            "INSERT INTO outbox(kind, idempotency_key, payload_json, "
            "created_at) VALUES ('scan', 'scan-old', '{}', "
            "'2020-01-01T00:00:00.000000Z')"
        )
    finally:
        store.close()
    registry_before = _station(registry, "hb-no-ui")
    assert registry_before["contact"] == "never" and registry_before["flagged"]
    _sync_once(config)
    hb = _station(registry, "hb-no-ui")["heartbeat"]
    assert hb["camera"] == "not_watched" and hb["camera_age_s"] is None
    assert hb["printer"] == "not_watched" and hb["paper"] == "not_watched"
    assert hb["printer_age_s"] is None
    assert hb["pending_outbox"] == 1 and hb["pending_outbox_oldest_age_s"] > 5 * 365 * 86400


def test_heartbeats_keep_one_row_per_station_not_events(tmp_path, registry):
    _, config, _ = _kiosk(tmp_path, registry, "hb-repeat")
    for _ in range(3):
        _sync_once(config)
    db_path = registry.db_url.split("sqlite:///", 1)[1]
    with sqlite3.connect(db_path) as conn:
        station_id = conn.execute("SELECT id FROM stations WHERE name = 'hb-repeat'").fetchone()[0]
        assert (
            conn.execute(
                "SELECT count(*) FROM station_heartbeats WHERE station_id = ?", (station_id,)
            ).fetchone()[0]
            == 1
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM events WHERE kind = 'heartbeat' AND station_id = ?",
                (station_id,),
            ).fetchone()[0]
            == 0
        )


@pytest.mark.slow
def test_a_station_that_stops_is_flagged_silent(tmp_path):
    reg = start_registry(
        tmp_path / "silent-registry", env={"OCOP_REGISTRY_SILENT_AFTER_S": str(SILENT_AFTER_S)}
    )
    try:
        _, config, _ = _kiosk(tmp_path, reg, "hb-stops")
        _kiosk(tmp_path, reg, "hb-never")
        _sync_once(config)
        assert _station(reg, "hb-stops")["contact"] == "ok"
        assert _station(reg, "hb-never")["contact"] == "never"
        # The kiosk sends nothing more: after the configured time it is flagged.
        deadline = time.monotonic() + 30
        while _station(reg, "hb-stops")["contact"] != "silent":
            assert time.monotonic() < deadline, "never flagged silent"
            time.sleep(0.5)
        station = _station(reg, "hb-stops")
        assert station["flagged"] and station["silent_for_s"] > SILENT_AFTER_S
        page = _reports_page(reg)
        assert 'id="silent-stations" data-count="3"' in page  # + demo-station, hb-never
        row = page[page.index('data-station="hb-stops"') :]
        assert row.startswith('data-station="hb-stops" data-contact="silent"')
        assert (
            'class="flagged"'
            in page[
                page.index('data-station="hb-stops"') - 30 : page.index('data-station="hb-stops"')
            ]
        )
        # It comes back: not flagged any more.
        _sync_once(config)
        assert _station(reg, "hb-stops")["contact"] == "ok"
    finally:
        reg.stop()


def test_bad_silent_setting_is_refused(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        env={**os.environ, "OCOP_REGISTRY_SILENT_AFTER_S": "half an hour"},
    )
    assert result.returncode == 2
    assert "OCOP_REGISTRY_SILENT_AFTER_S" in result.stderr and "Traceback" not in result.stderr


def test_a_kiosk_whose_clock_is_behind_says_so_in_its_heartbeat(tmp_path, registry):
    """A Pi without RTC booted before NTP: its clock is years behind the last trusted time
    it saw (a local mark counts at most 366 days past the signed time). The heartbeat
    carries the trusted clock's report and /reports shows it."""
    from kiosk.trusted_time import META_LOCAL_MARK

    data_dir, config, _token = _kiosk(tmp_path, registry, "hb-clock-behind")
    _sync_once(config)
    ahead = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 200 * 86400))
    with sqlite3.connect(data_dir / "kiosk.sqlite") as conn:  # what it saw before a reboot
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
            "SET value = excluded.value",
            (META_LOCAL_MARK, ahead),
        )
    _sync_once(config)
    clock = _station(registry, "hb-clock-behind")["heartbeat"]["clock"]
    assert clock["state"] == "behind" and clock["trusted_time"] == ahead
    assert clock["behind_s"] > 199 * 86400
    page = _reports_page(registry)
    row = page[page.index('data-station="hb-clock-behind"') :]
    assert "clock behind" in row[: row.index("</tr>")]
