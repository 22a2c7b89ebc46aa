"""A kiosk whose block reply was lost, and that asks again only after the registry dropped
the stored reply (registry/retention.py, 30 days; the registry's clock moved with faketime):
the 410 is a clear, final answer for staff; the kiosk forgets the request instead of asking
every round, prints none of those serials, and the registry allocated nothing new."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from kiosk.i18n import translator
from kiosk.sync import SyncError, SyncState
from kiosk.sync.errors import BlockRefused
from ocop.stations import BlockRefusal
from tests.registry.server import REPO_ROOT

pytestmark = pytest.mark.skipif(shutil.which("faketime") is None, reason="needs faketime")


def _prune_31_days_later(reg) -> None:
    out = subprocess.run(
        ["faketime", "-f", "+31d", sys.executable, "-m", "registry.cli", "prune"]
        + ["--db", reg.db_url, "--data-dir", str(reg.data_dir)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert out.returncode == 0 and "replies dropped: 0" not in out.stdout, out


def _pending(kiosk) -> list:
    return kiosk.store.query("SELECT key FROM sync_state WHERE key LIKE 'pending_block:%'")


def test_a_block_retried_after_its_reply_was_dropped_is_given_up_once(registry, faults, make_kiosk):
    kiosk = make_kiosk(registry, url=faults.url)
    report, _ = kiosk.engine.sync_once()
    assert report.ok, report.error
    faults.mode = "truncated"  # the reply is lost on the way: the request stays pending
    with pytest.raises(SyncError):
        kiosk.engine.request_stamp_block(101, 5)
    assert len(_pending(kiosk)) == 1
    faults.mode = "proxy"
    highest = _serial_counter(registry)
    _prune_31_days_later(registry)
    served = len(faults.requests)

    report, status = kiosk.engine.sync_once()
    assert not report.ok and status.state is SyncState.ERROR
    label = BlockRefusal.REPLY_GONE.label_msgid
    assert label in report.error and "410" in report.error
    assert "Máy chủ không còn lưu khối tem cũ này" in translator("vi")(label)
    assert _pending(kiosk) == []  # given up: never asked again
    assert kiosk.store.query_one("SELECT count(*) FROM stamps")[0] == 0
    asked = [p for _, p in faults.requests[served:] if p.endswith("/stamp-blocks")]
    assert len(asked) == 1 and _serial_counter(registry) == highest

    served = len(faults.requests)
    report, status = kiosk.engine.sync_once()  # the next round is clean
    assert report.ok, report.error
    assert status.state is SyncState.IDLE
    assert not [p for _, p in faults.requests[served:] if p.endswith("/stamp-blocks")]
    # A new request works, right after the lost block's range: nothing was re-allocated.
    highest = _serial_counter(registry)
    block_id = kiosk.engine.request_stamp_block(101, 2)
    first = kiosk.store.query_one(
        "SELECT first_serial FROM stamp_blocks WHERE id = ?", (block_id,)
    )[0]
    assert first == highest + 1


def _serial_counter(reg) -> int:
    from registry import db

    database = db.Database(reg.db_url)
    try:
        with database.read() as conn:
            return db.counter_value(conn, "serial")
    finally:
        database.dispose()


def test_the_cli_names_the_outcome_for_staff(registry, make_kiosk):
    """`ocop-kiosk sync block` (a staff member at the station): BlockRefused for a 410 too."""
    kiosk = make_kiosk(registry)
    kiosk.engine.sync_once()
    from kiosk.sync import status as st

    request_id = "blk-lost-long-ago"
    reply = registry.station(
        "POST",
        "/api/v1/stamp-blocks",
        json={"request_id": request_id, "product_id": 101, "count": 3},
    )
    assert reply.status_code == 200
    with kiosk.store.transaction() as tx:
        st.set_state(tx, st.PENDING_BLOCK_PREFIX + request_id, '{"product_id": 101, "count": 3}')
    _prune_31_days_later(registry)
    # Another block was pending too (asked for after the prune): the old one's 410 does
    # not keep it waiting (asked after it: its key sorts after the old one).
    with kiosk.store.transaction() as tx:
        st.set_state(
            tx, st.PENDING_BLOCK_PREFIX + "blk-zz-fresh", '{"product_id": 101, "count": 2}'
        )
    with pytest.raises(BlockRefused) as refused:
        kiosk.engine.complete_pending_blocks()
    assert refused.value.refusal is BlockRefusal.REPLY_GONE and refused.value.status == 410
    assert _pending(kiosk) == []
    counts = [r[0] for r in kiosk.store.query("SELECT count(*) FROM stamps GROUP BY block_id")]
    assert counts == [2]  # the fresh block, stored; none of the old one's serials
