"""Issue 17: stored stamp-block replies are dropped after block_reply_keep_days
(registry/retention.py), by `ocop-registry prune` (and serve's own beat). A real registry
process on a real SQLite file and a real PostgreSQL; the registry's clock is moved with
faketime (a clock that jumps is a field and an attacker case). A retry within the period
gets the stored bytes; after the prune it gets 410 with the block's range, and nothing is
allocated or signed again; the reply's bytes are actually gone."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest
import sqlalchemy as sa

from ocop.errors import UserError
from registry import db
from registry.config import RegistryConfig
from tests.registry.server import REPO_ROOT, backends, start_registry

API = "/api/v1"
pytestmark = pytest.mark.skipif(shutil.which("faketime") is None, reason="needs faketime")


@pytest.fixture(params=backends())
def registry(request, tmp_path):
    reg = start_registry(tmp_path / "reg", request.param)
    yield reg
    reg.stop()


def _block(reg, request_id: str, count: int = 50):
    return reg.station(
        "POST",
        f"{API}/stamp-blocks",
        json={"request_id": request_id, "product_id": 101, "count": count},
    )


def _prune(reg, days_ahead: int = 0, *args: str) -> subprocess.CompletedProcess:
    """`ocop-registry prune` on the registry's database, its clock `days_ahead` days off."""
    return subprocess.run(
        [
            "faketime",
            "-f",
            f"{days_ahead:+d}d",
            sys.executable,
            "-m",
            "registry.cli",
            "prune",
            *args,
            "--db",
            reg.db_url,
            "--data-dir",
            str(reg.data_dir),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )


def _dropped(result: subprocess.CompletedProcess) -> int:
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split("stamp-block replies dropped: ")[1].split()[0])


def _allocation(reg) -> tuple[int, int, int]:
    """(blocks, serial counter, stored reply bytes): what is allocated and kept."""
    database = db.Database(reg.db_url)
    try:
        sb = db.stamp_blocks
        with database.read() as conn:
            blocks = conn.execute(sa.select(sa.func.count()).select_from(sb)).scalar_one()
            stored = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(sb.c.reply_body)), 0))
            ).scalar_one()
            return blocks, db.counter_value(conn, "serial"), int(stored)
    finally:
        database.dispose()


def test_a_retry_is_answered_from_storage_until_the_prune_then_410_and_nothing_new(registry):
    request_id = f"r-{uuid.uuid4().hex}"
    first = _block(registry, request_id)
    assert first.status_code == 200, first.text
    block = first.json()
    # Within the period: byte-identical, also after prunes that find nothing to drop, a
    # clock 29 days ahead or one a year behind included.
    assert _dropped(_prune(registry)) == 0
    assert _dropped(_prune(registry, 29)) == 0
    assert _dropped(_prune(registry, -365)) == 0
    again = _block(registry, request_id)
    assert again.status_code == 200 and again.content == first.content
    before = _allocation(registry)
    assert before[2] > 0

    assert _dropped(_prune(registry, 31)) >= 1  # the demo's own blocks go too
    blocks, serial, stored = _allocation(registry)
    assert (blocks, serial) == before[:2]  # no block, no serial added or taken back
    assert stored == 0  # every reply older than 30 days is gone
    for _ in range(3):  # asked again and again: the same clear answer, nothing allocated
        gone = _block(registry, request_id)
        assert gone.status_code == 410, gone.text
        assert gone.headers["content-type"].startswith("application/problem+json")
        problem = gone.json()
        assert problem["reason"] == "reply_gone"
        assert (problem["first_serial"], problem["last_serial"]) == (
            block["first_serial"],
            block["last_serial"],
        )
        assert (
            problem["issued_on"] == block["issued_on"] and problem["block_id"] == block["block_id"]
        )
        assert problem["request_id"] == request_id
        assert block["issued_on"] in problem["detail"] and "kept for 30 days" in problem["detail"]
        assert _allocation(registry)[:2] == before[:2]
    # A changed count under the same id is still a conflict, not a new block.
    assert _block(registry, request_id, count=51).status_code == 409
    # A new request id is a new block, right after the old range.
    nxt = _block(registry, f"r-{uuid.uuid4().hex}", count=1).json()
    assert serial == block["last_serial"] and nxt["first_serial"] == serial + 1
    audit = registry.admin("GET", f"{API}/admin/audit").json()
    entries = audit.get("entries", audit)
    assert any(e["action"] == "block_replies.prune" for e in entries)


def test_the_prune_frees_the_space(registry):
    """A 5,000-stamp block's reply (~400 kB): the bytes the database holds for the table
    shrink by about that much once pruned and vacuumed (the row itself stays: the serials
    remain issued)."""
    registry.cli("station", "set", "demo-station", "--per-day", "none", "--total", "none")
    reply = _block(registry, f"r-{uuid.uuid4().hex}", count=5000)
    assert reply.status_code == 200
    stored = _allocation(registry)[2]
    assert stored > 5000 * 60
    held = _table_bytes(registry)
    assert _dropped(_prune(registry, 31)) >= 1
    freed = held - _table_bytes(registry)
    assert freed > 0.9 * stored, (held, freed, stored)


def _table_bytes(reg) -> int:
    """Bytes the database holds in use (SQLite: the file's pages not on the free list,
    which new rows reuse; PostgreSQL: stamp_blocks with its TOAST and indexes, after
    VACUUM)."""
    if db.is_sqlite_url(reg.db_url):
        with sqlite3.connect(reg.db_url.removeprefix("sqlite:///")) as conn:
            used = conn.execute("PRAGMA page_count").fetchone()[0]
            used -= conn.execute("PRAGMA freelist_count").fetchone()[0]
            return used * conn.execute("PRAGMA page_size").fetchone()[0]
    engine = db.make_engine(reg.db_url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM stamp_blocks")
            return conn.exec_driver_sql(
                "SELECT pg_total_relation_size('stamp_blocks')"
            ).scalar_one()
    finally:
        engine.dispose()


def test_the_keep_period_is_a_validated_setting(tmp_path):
    for bad in (0, -1, 3651):
        with pytest.raises(UserError, match=r"block_reply_keep_days must be 1\.\.3650"):
            RegistryConfig(db_url="sqlite://", data_dir=tmp_path, block_reply_keep_days=bad)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli",
            "prune",
            "--block-reply-keep-days",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert out.returncode == 2 and "block_reply_keep_days must be 1..3650" in out.stderr


def test_a_late_signer_stores_nothing_on_a_pruned_block(tmp_path):
    """The first request reserved the range and stalled past its lease; the prune (the
    clock far ahead) marks the block; neither a retry nor the stalled signer gets stamps
    of it, and no reply is stored."""
    from registry import retention
    from registry import stations as station_rules
    from registry.cli import open_registry
    from registry.dal import keys as key_rows
    from registry.dal import stations as station_rows
    from registry.signing import BlockReplyGone

    config = RegistryConfig(db_url=f"sqlite:///{tmp_path / 'r.sqlite'}", data_dir=tmp_path)
    database, keyring = open_registry(config)
    with database.write() as conn:
        station_rules.add(conn, "s1", "test", "local")
        station = station_rows.row_by_name(conn, "s1")
        stalled = keyring.claim_block(conn, station.id, "req-1", 101, 30)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    assert retention.prune_block_replies(database, 30, "test", now=later) == 1
    with database.write() as conn, pytest.raises(BlockReplyGone):
        keyring.claim_block(conn, station.id, "req-1", 101, 30)
    with pytest.raises(BlockReplyGone):
        keyring.finish_block(database, stalled)
    with database.read() as conn:
        assert key_rows.block_reply(conn, stalled.row.id) is None
        assert db.counter_value(conn, "serial") == stalled.row.last_serial


def test_serve_prunes_on_its_own_beat(tmp_path):
    """No cron job: `serve` drops a reply that has aged past the period (its created_at moved
    two days back in the database, the period one day) within a beat, and audits it."""
    reg = start_registry(
        tmp_path,
        env={
            "OCOP_REGISTRY_TRUST_REFRESH_CHECK_S": "0.2",
            "OCOP_REGISTRY_BLOCK_REPLY_KEEP_DAYS": "1",
        },
    )
    try:
        request_id = f"r-{uuid.uuid4().hex}"
        assert _block(reg, request_id).status_code == 200
        assert _block(reg, request_id).status_code == 200  # kept: a day has not passed
        aged = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).strftime(db.TIME_FORMAT)
        database = db.Database(reg.db_url)
        try:
            with database.write() as conn:
                conn.execute(
                    db.stamp_blocks.update()
                    .where(db.stamp_blocks.c.request_id == request_id)
                    .values(created_at=aged)
                )
        finally:
            database.dispose()
        deadline = time.monotonic() + 10
        while _block(reg, request_id).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        gone = _block(reg, request_id)
        assert gone.status_code == 410 and "kept for 1 day and" in gone.json()["detail"]
        entries = reg.admin("GET", f"{API}/admin/audit").json()
        entries = entries.get("entries", entries)
        assert any(e["action"] == "block_replies.prune" and e["actor"] == "system" for e in entries)
    finally:
        reg.stop()
