"""The `ocop-kiosk sync` command in real processes: a fresh kiosk end to end, and a kiosk
killed with SIGKILL between sending its outbox and recording the acknowledgement."""

from __future__ import annotations

import json
import signal

import requests

from kiosk.store import Store
from tests.sync.conftest import run_kiosk_cli

CRASH_AFTER_UPLOAD = """
import os, signal
from kiosk.sync.engine import SyncEngine
def _die(engine, reply):
    os.kill(os.getpid(), signal.SIGKILL)
SyncEngine.after_upload_reply = _die
"""


def test_fresh_kiosk_end_to_end(registry, tmp_path):
    """init (no demo) -> sync -> block -> print (take stamps) -> upload once -> phone GET."""
    from tests.registry.server import write_kiosk_config

    data_dir = tmp_path / "kiosk"
    config = write_kiosk_config(
        tmp_path / "kiosk.toml", registry.url, registry.token, registry.root_key, data_dir
    )
    init = run_kiosk_cli("--config", str(config), "init")
    assert init.returncode == 0, init.stderr
    assert "sync" in init.stdout
    once = run_kiosk_cli("--config", str(config), "sync", "--once")
    assert once.returncode == 0, once.stderr
    assert "pulled" in once.stdout
    block = run_kiosk_cli("--config", str(config), "sync", "block", "101", "4", "--json")
    assert block.returncode == 0, block.stderr
    info = json.loads(block.stdout)
    assert info["last_serial"] - info["first_serial"] == 3

    # The station prints two stamps: what the print service does, in one transaction.
    from kiosk.stamps.service import take_stamps

    store = Store.in_dir(data_dir)
    try:
        with store.transaction() as tx:
            stamps = take_stamps(tx, 101, 2, state="printed")
            for s in stamps:
                tx.execute(
                    "INSERT INTO outbox(kind, idempotency_key, payload_json, created_at)"
                    " VALUES ('print', ?, ?, '2026-11-29T08:00:00Z')",
                    (
                        f"print-{s.serial}",
                        json.dumps(
                            {
                                "printed_at": "2026-11-29T08:00:00Z",
                                "serial": s.serial,
                                "product_id": 101,
                            }
                        ),
                    ),
                )
            tx.execute(
                "INSERT INTO outbox(kind, idempotency_key, payload_json, created_at) "
                "VALUES ('scan', 'scan-e2e-1', ?, '2026-11-29T09:00:00Z')",
                (
                    json.dumps(
                        {
                            "scanned_at": "2026-11-29T09:00:00Z",
                            "text": stamps[0].text,
                            "verdict": "genuine",
                        }
                    ),
                ),
            )
    finally:
        store.close()
    once = run_kiosk_cli("--config", str(config), "sync", "--once", "--json")
    assert once.returncode == 0, once.stderr
    push = json.loads(once.stdout)["push"]
    assert push["accepted"] == 4 and push["rejected"] == 0  # 2 prints, 1 scan, heartbeat
    status = run_kiosk_cli("--config", str(config), "sync", "status", "--json")
    assert json.loads(status.stdout)["state"] == "idle"
    assert json.loads(status.stdout)["pending_outbox"] == 0

    # A phone opens the stamp URL (lower-cased, as some phones do).
    code = stamps[0].text.rsplit("/", 1)[1]
    page = requests.get(
        f"{registry.url}/s/{code.lower()}",
        timeout=5,
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile"},
    )
    assert page.status_code == 200
    assert 'data-verdict="genuine"' in page.text
    assert 'data-scans="1"' in page.text  # the kiosk scan arrived, once
    assert "Bích Thao" in page.text and "★" in page.text


def test_kill_between_send_and_ack_does_not_duplicate(registry, make_kiosk):
    kiosk = make_kiosk(registry, name="crashing")
    serial = 31337
    keys = kiosk.add_scans(25, serial=serial, product_id=106)
    before = registry.report()["total_scans"]
    crashed = run_kiosk_cli(
        "--config", str(kiosk.config_path), "sync", "--once", prelude=CRASH_AFTER_UPLOAD
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    # The registry stored the batch; the kiosk never recorded the acknowledgement.
    assert registry.report()["total_scans"] == before + 25
    pending = kiosk.store.query_one(
        "SELECT count(*) FROM outbox WHERE kind = 'scan' AND sent_at IS NULL"
    )[0]
    assert pending == 25
    again = run_kiosk_cli("--config", str(kiosk.config_path), "sync", "--once", "--json")
    assert again.returncode == 0, again.stderr
    push = json.loads(again.stdout)["push"]
    assert push["duplicate"] >= 25
    assert registry.report()["total_scans"] == before + 25  # exactly once
    sent = kiosk.store.query_one(
        f"SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND idempotency_key IN "
        f"({','.join('?' * len(keys))})",
        tuple(keys),
    )[0]
    assert sent == 25


def test_lost_upload_reply_is_resent_without_duplicates(registry, faults, make_kiosk):
    kiosk = make_kiosk(registry, url=faults.url)
    kiosk.add_scans(7, serial=4711)
    before = registry.report()["total_scans"]
    faults.mode = "drop_upload_reply"
    report, _ = kiosk.engine.sync_once()
    assert not report.ok and kiosk.unsent() >= 7
    faults.mode = "proxy"
    report, _ = kiosk.engine.sync_once()
    assert report.ok and report.push.duplicate >= 7 and kiosk.unsent() == 0
    assert registry.report()["total_scans"] == before + 7


def test_sync_without_registry_settings_is_a_clear_error(tmp_path):
    data_dir = tmp_path / "kiosk"
    assert run_kiosk_cli("--data-dir", str(data_dir), "init").returncode == 0
    result = run_kiosk_cli("--data-dir", str(data_dir), "sync", "--once")
    assert result.returncode == 2
    assert "registry.url" in result.stderr and "Traceback" not in result.stderr
