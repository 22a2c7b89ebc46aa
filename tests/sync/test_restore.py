"""Restore safety (issue 14 item 8) against a real registry process and a real kiosk store:
backup, more blocks / revocations / catalog changes / delivered scans, restore, start,
sync. No serial is issued twice, no catalog change is skipped, the revocation re-made after
the restore is in force, the kiosk takes the continued trust-list sequence and re-sends
what the restored registry lost."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kiosk.catalog import Catalog
from kiosk.stamps.service import verifier_from_store
from kiosk.sync import SyncState, read_sync_status
from ocop.stamps.verdicts import Verdict
from registry import highwater
from tests.registry.server import REPO_ROOT, Registry, start_registry

API = "/api/v1"


def _ok(kiosk):
    report, status = kiosk.engine.sync_once()
    assert report.ok, report.error
    assert status.state is SyncState.IDLE
    return report


def _start_again(reg: Registry, base: Path) -> Registry:
    """The stopped registry started again on its data folder, database and port."""
    (base / "url.txt").unlink()
    port = reg.url.rsplit(":", 1)[1]
    return start_registry(base, extra_args=("--port", port))


def _texts(kiosk, block_id: int) -> list[str]:
    rows = kiosk.store.query(
        "SELECT text FROM stamps WHERE block_id = ? ORDER BY serial", (block_id,)
    )
    return [r[0] for r in rows]


def _serials(kiosk, block_id: int) -> list[int]:
    rows = kiosk.store.query("SELECT serial FROM stamps WHERE block_id = ?", (block_id,))
    return sorted(r[0] for r in rows)


def _add_product(reg: Registry) -> int:
    product_id = 800_000 + uuid.uuid4().int % 100_000
    reply = reg.admin(
        "PUT",
        f"{API}/admin/products/{product_id}",
        json={
            "name_vi": "Sản phẩm sau khi khôi phục",
            "group": 1,
            "producer": "htx-bich-thao",
            "ratings": [{"stars": 3, "recognised_on": "2025-01-10"}],
        },
    )
    assert reply.ok, reply.text
    return product_id


def _registry_event_keys(reg: Registry) -> set[str]:
    path = reg.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT idempotency_key FROM events")}


def _registry_id(reg: Registry) -> str:
    reply = reg.admin("GET", f"{API}/catalog/changes", params={"since": 0, "limit": 1})
    return reply.json()["registry_id"]


def test_restore_begins_a_new_epoch_and_kiosks_lose_nothing(tmp_path, make_kiosk):
    base = tmp_path / "reg"
    reg = start_registry(base)
    try:
        token = reg.add_station(
            "restore-kiosk", role="station", products=[101]
        )  # before the backup: the restore keeps it
        kiosk = make_kiosk(reg, token=token)
        _ok(kiosk)
        before = kiosk.engine.request_stamp_block(101, 5)
        backup_file = tmp_path / "backup.sqlite"
        out = reg.cli("backup", str(backup_file)).stdout  # online, while serving
        assert "backed up" in out and backup_file.is_file()
        first_id = _registry_id(reg)

        # After the backup: a block, a revocation of it, a catalog change, scans delivered.
        lost = kiosk.engine.request_stamp_block(101, 5)
        lost_serials = _serials(kiosk, lost)
        reg.cli("revoke", "serials", str(lost_serials[0]), str(lost_serials[-1]))
        _add_product(reg)
        scan_keys = kiosk.add_scans(3, serial=lost_serials[0])
        _ok(kiosk)
        seen_sequence = read_sync_status(kiosk.store).trust_list_sequence
        cursor_before = read_sync_status(kiosk.store).catalog_cursor
        assert scan_keys[0] in _registry_event_keys(reg)

        reg.stop()
        restored = reg.cli("restore", str(backup_file))
        assert "restored: epoch 2" in restored.stdout, restored.stdout + restored.stderr
        reg = _start_again(reg, base)
        assert _registry_id(reg) != first_id
        # The restored registry lost the revocation and the scans; the office re-makes
        # the revocation, adds a product; a new block comes from a fresh range.
        assert scan_keys[0] not in _registry_event_keys(reg)
        reg.cli("revoke", "serials", str(lost_serials[0]), str(lost_serials[-1]))
        new_product = _add_product(reg)

        report = _ok(kiosk)
        status = read_sync_status(kiosk.store)
        assert status.trust_list_sequence > seen_sequence  # the continued sequence is taken
        assert report.pull.resent >= 3
        assert Catalog(kiosk.store).product(new_product) is not None  # no change skipped
        assert status.catalog_cursor != cursor_before or report.pull.products > 0
        verifier = verifier_from_store(kiosk.store, kiosk.settings)
        assert verifier.verify(_texts(kiosk, lost)[0]).verdict is Verdict.REVOKED
        assert verifier.verify(_texts(kiosk, before)[0]).verdict is Verdict.GENUINE
        assert set(scan_keys) <= _registry_event_keys(reg)  # re-sent, stored once each

        after = kiosk.engine.request_stamp_block(101, 5)
        issued_before = _serials(kiosk, before) + lost_serials
        assert min(_serials(kiosk, after)) > max(issued_before) + 1000  # above, with the gap
        assert not set(_serials(kiosk, after)) & set(issued_before)
    finally:
        reg.stop()


def test_an_old_database_copied_over_is_detected_at_start(tmp_path):
    """No `restore`: the file is copied over by hand. The start notices all the same."""
    base = tmp_path / "reg"
    reg = start_registry(base)
    try:
        live = Path(reg.db_url.removeprefix("sqlite:///"))
        old = tmp_path / "old.sqlite"
        reg.cli("backup", str(old))
        first_id = _registry_id(reg)
        block = reg.station(
            "POST", f"{API}/stamp-blocks", json={"request_id": "r1", "product_id": 101, "count": 5}
        ).json()
        reg.stop()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        shutil.copy(old, live)
        reg = _start_again(reg, base)
        assert "new registry epoch" in reg.log()
        assert _registry_id(reg) != first_id
        again = reg.station(
            "POST", f"{API}/stamp-blocks", json={"request_id": "r2", "product_id": 101, "count": 5}
        ).json()
        assert again["first_serial"] > block["last_serial"] + 1000
        # The mark follows the commits of the running server (no restart needed).
        mark = highwater.read(reg.data_dir)
        assert mark is not None and mark.serial == again["last_serial"]
        assert mark.registry_id == _registry_id(reg)
    finally:
        reg.stop()


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )


def test_a_lagging_mark_is_raised_and_a_damaged_one_begins_an_epoch(tmp_path):
    """kill -9 between the database commit and the mark's write leaves the mark BEHIND:
    the next start raises it and begins no epoch. A damaged mark never lets the registry
    start as if nothing happened: it begins a new epoch."""
    data = tmp_path / "d"
    assert _cli(data, "init-db").returncode == 0
    assert _cli(data, "revoke", "serials", "1", "2").returncode == 0
    mark = highwater.read(data)
    assert mark is not None and mark.trust_sequence == 2
    lagging = highwater.Mark(registry_id=mark.registry_id, trust_sequence=1)
    highwater.write(data, lagging)
    result = _cli(data, "root-key")
    assert result.returncode == 0 and "new epoch" not in result.stderr
    raised = highwater.read(data)
    assert raised is not None and raised.trust_sequence == 2 and raised.epoch == 1

    text = highwater.path_in(data).read_text()
    highwater.path_in(data).write_text(text[: len(text) // 2])  # a torn file (disk fault)
    result = _cli(data, "root-key")
    assert result.returncode == 0 and "new epoch 2" in result.stderr, result.stderr
    assert "damaged" in result.stderr
    after = highwater.read(data)
    assert after is not None and after.epoch == 2


_WRITER = """
import sys
from pathlib import Path

import pytest
from registry import highwater
data = Path(sys.argv[1])
n = 0
print("ready", flush=True)
while True:
    n += 1
    highwater.write(data, highwater.Mark("r", 1, n, n, n, "", "x" * (n % 977)))
"""


def test_kill_9_never_leaves_a_torn_mark(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    last = 0
    for _ in range(15):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(data)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready"
        try:
            proc.wait(0.05 + (last % 7) / 100)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        mark = highwater.read(data)  # never Unreadable
        if mark is not None:
            assert mark.change_seq == mark.serial == mark.trust_sequence
            last = mark.serial
    assert last > 0
    assert json.loads(highwater.path_in(data).read_text())["format"] == highwater.FORMAT


def test_restore_refuses_while_serving_and_bad_files(tmp_path):
    base = tmp_path / "reg"
    reg = start_registry(base)
    try:
        not_a_db = tmp_path / "junk.sqlite"
        not_a_db.write_bytes(b"not sqlite at all" * 100)
        result = reg.cli("restore", str(not_a_db), check=False)
        assert result.returncode == 2 and "serving" in result.stderr
        reg.stop()
        result = reg.cli("restore", str(not_a_db), check=False)
        assert result.returncode == 2 and "not a registry database" in result.stderr
        result = reg.cli("restore", str(tmp_path / "missing.sqlite"), check=False)
        assert result.returncode == 2 and "no such file" in result.stderr
        # Nothing changed: no epoch was requested or begun.
        mark = highwater.read(reg.data_dir)
        assert mark is not None and mark.epoch == 1 and not mark.new_epoch_pending
    finally:
        reg.stop()


@pytest.mark.postgres
def test_postgres_pg_restore_then_after_external_restore(tmp_path, make_kiosk):
    """PostgreSQL: pg_dump, more changes, pg_restore over the live database, then
    `ocop-registry restore --after-external-restore`, start, sync."""
    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("pg_dump / pg_restore not installed")
    base = tmp_path / "reg"
    reg = start_registry(base, "postgres")
    drop, reg.cleanups = reg.cleanups, []  # the database outlives the first process
    try:
        pg_url = reg.db_url
        token = reg.add_station("pg-kiosk", role="station", products=[101])
        kiosk = make_kiosk(reg, token=token)
        _ok(kiosk)
        before = kiosk.engine.request_stamp_block(101, 5)
        dump = tmp_path / "registry.dump"
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), "-d", pg_url], check=True)
        lost = kiosk.engine.request_stamp_block(101, 5)
        lost_serials = _serials(kiosk, lost)
        reg.cli("revoke", "serials", str(lost_serials[0]), str(lost_serials[-1]))
        _ok(kiosk)
        seen_sequence = read_sync_status(kiosk.store).trust_list_sequence
        reg.stop()
        subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "-d", pg_url, str(dump)],
            check=True,
        )
        out = reg.cli("restore", "--after-external-restore").stdout
        assert "restored: epoch 2" in out, out
        (base / "url.txt").unlink()
        port = reg.url.rsplit(":", 1)[1]
        reg = start_registry(base, extra_args=("--db", pg_url, "--port", port))
        reg.db_url = pg_url
        assert "new registry epoch" not in reg.log()  # begun once, by the restore command
        reg.cli("revoke", "serials", str(lost_serials[0]), str(lost_serials[-1]))
        _ok(kiosk)
        assert read_sync_status(kiosk.store).trust_list_sequence > seen_sequence
        verifier = verifier_from_store(kiosk.store, kiosk.settings)
        assert verifier.verify(_texts(kiosk, lost)[0]).verdict is Verdict.REVOKED
        after = kiosk.engine.request_stamp_block(101, 5)
        assert min(_serials(kiosk, after)) > max(_serials(kiosk, before) + lost_serials)
    finally:
        reg.stop()
        for cleanup in drop:
            cleanup()


def test_postgres_urls_point_to_pg_dump_and_pg_restore(tmp_path):
    url = "postgresql://nobody@127.0.0.1:1/none"  # never connected to
    for args, expected in (
        (("backup", str(tmp_path / "b")), "pg_dump"),
        (("restore", str(tmp_path / "b")), "--after-external-restore"),
        (("restore",), "needs a backup FILE"),
    ):
        result = _cli(tmp_path / "d", *args, "--db", url)
        assert result.returncode == 2 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not highwater.path_in(tmp_path / "d").exists()  # nothing was announced
