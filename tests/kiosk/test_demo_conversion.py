"""Demo data never leaks into a real deployment: a demo data folder with a registry configured
is refused by `run` and `sync` (exit 2, the way out named), and `init --force` converts it:
demo catalog, keys, trust lists, stamps, scans and PIN gone, real records kept, and a sync
against a real registry process then works. Real data folders, the real CLI as a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.demo.seed import load_demo_catalog
from kiosk.staff_pin import PinCheck, PinGate, hash_pin
from kiosk.store import Store
from ocop.wire import Refusal
from tests.conftest import copy_data_dir, run_cli
from tests.registry.server import start_registry, write_kiosk_config

HINT = "run `ocop-kiosk init --force` to convert it"
NOW = "2026-11-29T09:00:00.000000Z"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


def _count(store, sql: str, params=()) -> int:
    return store.query_one(f"SELECT count(*) FROM {sql}", params)[0]


def _demo_folder(data: Path, demo_init_template: Path) -> None:
    """`init --demo` (a copy of the folder that command made), two demo stamps printed, a
    demo stamp scanned and a forged one, and a block of real (registry) stamps with a print
    job and its outbox record."""
    copy_data_dir(demo_init_template, data)
    printed = run_cli(
        "--data-dir",
        str(data),
        "print",
        "--product",
        "101",
        "--count",
        "2",
        "--printer",
        "virtual:",
    )
    assert printed.returncode == 0, printed.stderr
    from kiosk.scanning import ScanService
    from kiosk.settings import Settings

    store = Store.in_dir(data)
    try:
        text = store.query_one("SELECT text FROM stamps WHERE state = 'printed'")[0]
        service = ScanService(store, Settings())
        assert service.handle_text(text).verification.verdict.value == "genuine"
        forged = text[:-1] + ("A" if text[-1] != "A" else "B")
        assert service.handle_text(forged).verification.verdict.value == "forged"
        with store.transaction() as tx:
            block = tx.execute(
                "INSERT INTO stamp_blocks(product_id, first_serial, "
                "last_serial, received_at, source) VALUES "
                "(101, 999999, 999999, ?, 'registry')",
                (NOW,),
            ).lastrowid
            job = tx.execute(
                "INSERT INTO print_jobs(product_id, count, state, created_at, "
                "updated_at) VALUES (101, 1, 'done', ?, ?)",
                (NOW, NOW),
            ).lastrowid
            tx.execute(
                "INSERT INTO stamps(serial, product_id, key_id, issued_on, text, "
                "block_id, state, job_id, printed_at) VALUES (999999, 101, 7, "
                "'2026-11-29', 'real-stamp-text', ?, 'printed', ?, ?)",
                (block, job, NOW),
            )
            tx.execute(
                "INSERT INTO outbox(kind, idempotency_key, payload_json, created_at) "
                "VALUES ('print', 'print-real', ?, ?)",
                (
                    json.dumps(
                        {
                            "serial": 999999,
                            "product_id": 101,
                            "key_id": 7,
                            "job_id": job,
                            "status": "printed",
                            "at": NOW,
                        }
                    ),
                    NOW,
                ),
            )
    finally:
        store.close()


def test_demo_folder_is_refused_then_converted_then_syncs(tmp_path, registry, demo_init_template):
    data = tmp_path / "kiosk"
    _demo_folder(data, demo_init_template)
    config = write_kiosk_config(
        tmp_path / "kiosk.toml", registry.url, registry.token, registry.root_key, data
    )
    scans_before = registry.report()["total_scans"]
    refused_before = _refused_forged(registry)

    for command in (("sync", "--once"), ("sync",), ("run",)):
        refused = run_cli("--config", str(config), *command)
        assert refused.returncode == 2, (command, refused.stderr)
        assert "this data folder holds demo data" in refused.stderr and HINT in refused.stderr
        assert "demo PIN" in refused.stderr and "Traceback" not in refused.stderr
    assert registry.report()["total_scans"] == scans_before  # nothing was sent

    converted = run_cli("--config", str(config), "init", "--force")
    assert converted.returncode == 0, converted.stderr
    assert "staff hash-pin" in converted.stdout

    store = Store.in_dir(data)
    try:
        assert store.get_meta("demo") == "0"
        assert _count(store, "products") == 0 and _count(store, "producers") == 0
        assert _count(store, "media") == 0 and not list((data / "media").rglob("*.png"))
        assert _count(store, "trust_lists") == 0
        assert store.get_meta("root_public_key") is None
        assert not list((data / "keys").glob("demo-*"))
        assert not (data / "demo-stamps").exists()
        # Demo stamps, their print job and print records and the demo scan are gone; the
        # real stamp, its job and record and the forged-stamp scan are kept.
        assert [r[0] for r in store.query("SELECT serial FROM stamps")] == [999999]
        assert [r[0] for r in store.query("SELECT source FROM stamp_blocks")] == ["registry"]
        assert _count(store, "print_jobs") == 1
        assert sorted(r[0] for r in store.query("SELECT verdict FROM scans")) == ["forged"]
        kept = sorted(
            (r[0], json.loads(r[1]).get("verdict") or json.loads(r[1])["status"])
            for r in store.query("SELECT kind, payload_json FROM outbox")
        )
        assert kept == [("print", "printed"), ("scan", "forged")]
        # The demo PIN no longer opens staff mode, with or without a configured PIN.
        assert PinGate(store, "", 5, 60).check("2468").check is PinCheck.DISABLED
        gate = PinGate(store, hash_pin("1357", log2_n=10), 5, 60)
        assert gate.check("2468").check is PinCheck.WRONG and gate.check("1357").ok
    finally:
        store.close()

    synced = run_cli("--config", str(config), "sync", "--once", "--json")
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout)
    assert report["ok"] and report["pull"]["products"] > 0
    store = Store.in_dir(data)
    try:
        assert _count(store, "products") > 0 and _count(store, "trust_lists") == 1
        # `serve --demo` serves the same demo catalog, its invented rows included
        demo = load_demo_catalog()
        producer = demo["producers"][0]
        row = store.query_one(
            "SELECT address, phone FROM producers WHERE id = ?", (producer["id"],)
        )
        assert tuple(row) == (producer["address"], producer["phone"])
        first = demo["products"][0]
        decisions = [
            r[0]
            for r in store.query(
                "SELECT decision_no FROM ratings WHERE product_id = ? ORDER BY recognised_on",
                (first["id"],),
            )
        ]
        assert decisions == [r["decision_no"] for r in first["ratings"]]
    finally:
        store.close()
    # Only the real kiosk's forged-stamp scan was sent (no demo scan): the registry verifies
    # it, refuses it as not genuine and counts it against the station, storing no scan.
    assert registry.report()["total_scans"] == scans_before
    assert _refused_forged(registry) == refused_before + 1


def _refused_forged(registry) -> int:
    return sum(
        a["count"]
        for a in registry.report()["anomalies"]
        if a["reason"] == Refusal.SCAN_NOT_GENUINE.value
    )


def test_init_force_and_demo_edge_cases(tmp_path, registry):
    config = write_kiosk_config(
        tmp_path / "k.toml", registry.url, registry.token, registry.root_key, tmp_path / "real"
    )
    # No demo data next to a configured registry.
    refused = run_cli("--config", str(config), "init", "--demo")
    assert refused.returncode == 2 and "registry is configured" in refused.stderr
    assert not (tmp_path / "real" / "kiosk.sqlite").exists()
    assert run_cli("--data-dir", str(tmp_path / "x"), "init", "--demo", "--force").returncode == 2
    # A real folder: --force has nothing to convert and changes nothing.
    assert run_cli("--config", str(config), "init").returncode == 0
    again = run_cli("--config", str(config), "init", "--force")
    assert again.returncode == 0 and "nothing to convert" in again.stdout
    # A demo folder alone (no registry) runs as before; plain `init` names the way out.
    demo = tmp_path / "demo"
    assert run_cli("--data-dir", str(demo), "init", "--demo").returncode == 0
    hint = run_cli("--data-dir", str(demo), "init")
    assert hint.returncode == 0 and "init --force" in hint.stdout


def test_demo_pin_is_never_a_real_pin(tmp_path, store):
    made = run_cli("staff", "hash-pin", "--stdin", input_text="2468\n", timeout_s=60)
    assert made.returncode == 2 and "demo PIN" in made.stderr
    # A hash of 2468 made some other way still opens nothing on a real kiosk.
    from kiosk.staff_pin import DEMO_PIN

    demo_hash = hash_pin(DEMO_PIN, log2_n=10, _demo=True)
    assert PinGate(store, demo_hash, 5, 60).check(DEMO_PIN).check is PinCheck.WRONG


def test_first_start_with_a_registry_is_not_demo(tmp_path, registry):
    from kiosk.cli.context import CliContext
    from kiosk.cli.run_cmd import ensure_demo_data

    config = write_kiosk_config(
        tmp_path / "k.toml", registry.url, registry.token, registry.root_key, tmp_path / "fresh"
    )
    ctx = CliContext(str(config))
    try:
        ensure_demo_data(ctx)
        assert ctx.store().get_meta("demo") == "0"
        assert _count(ctx.store(), "products") == 0
        assert not (tmp_path / "fresh" / "keys").exists()
    finally:
        ctx.close()
    ctx = CliContext(None, str(tmp_path / "unconfigured"))
    try:
        ensure_demo_data(ctx)  # no registry: the demo catalog, as before
        assert ctx.store().get_meta("demo") == "1" and _count(ctx.store(), "products") > 0
    finally:
        ctx.close()
