"""Upload latency while stamp blocks are signed (issue 17): a real registry process; a
thread asks for 10,000-stamp blocks back to back while the main thread uploads batches of
10 scans, one after another. Measured idle first, then during the blocks; then a retried
block request (answered from the stored reply).

    .venv/bin/python bench/registry_blocks.py [--backend sqlite|postgres] [--blocks 5]
        [--repo DIR]    (the registry code to run, e.g. /work/main for the code before)

PostgreSQL: $OCOP_TEST_POSTGRES_URL (eval "$(bash scripts/start-test-postgres.sh --export)").
Before issue 17 a block was signed inside its write transaction: on SQLite every upload
meanwhile waited for the whole signing (~0.5 s per 10,000 stamps).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.registry import server  # noqa: E402

API = "/api/v1"
BLOCK_STAMPS = 10_000
IDLE_UPLOADS = 100
SLOW_S = 0.25  # an upload this slow waited for something (idle p50 is ~10-30 ms)


def _scan() -> dict:
    return {
        "kind": "scan",
        "idempotency_key": f"scan-{uuid.uuid4().hex}",
        "payload": {
            "scanned_at": "2026-12-03T10:00:00Z",
            "text": "HTTPS://EXAMPLE.COM/X",
            "serial": None,
            "product_id": None,
            "verdict": "not_ocop",
        },
    }


def _upload(reg) -> float:
    t0 = time.perf_counter()
    reply = reg.station("POST", f"{API}/uploads", json={"items": [_scan() for _ in range(10)]})
    elapsed = time.perf_counter() - t0
    assert reply.status_code == 200, reply.text
    return elapsed


def _block(reg, request_id: str) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    reply = reg.station(
        "POST",
        f"{API}/stamp-blocks",
        json={"request_id": request_id, "product_id": 101, "count": BLOCK_STAMPS},
    )
    elapsed = time.perf_counter() - t0
    assert reply.status_code == 200, reply.text
    return elapsed, reply.content


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(repo: Path, backend: str, blocks: int) -> list[tuple]:
    server.REPO_ROOT = repo  # the registry processes run this checkout's code
    with tempfile.TemporaryDirectory(prefix="ocop-bench-blocks-") as tmp:
        reg = server.start_registry(Path(tmp) / "reg", backend)
        try:
            reg.cli("station", "set", "demo-station", "--per-day", "none", "--total", "none")
            for _ in range(10):
                _upload(reg)  # warm up
            t0 = time.perf_counter()
            idle = [_upload(reg) for _ in range(IDLE_UPLOADS)]
            idle_s = time.perf_counter() - t0
            block_s: list[float] = []
            ids: list[str] = []
            done = threading.Event()

            def sign_blocks():
                try:
                    for _ in range(blocks):
                        ids.append(f"bench-{uuid.uuid4().hex}")
                        block_s.append(_block(reg, ids[-1])[0])
                finally:
                    done.set()

            worker = threading.Thread(target=sign_blocks)
            t0 = time.perf_counter()
            worker.start()
            during = []
            while not done.is_set():
                during.append(_upload(reg))
            worker.join()
            during_s = time.perf_counter() - t0
            assert len(block_s) == blocks, "a block request failed"
            retry_s = [_block(reg, ids[0])[0] for _ in range(3)]
        finally:
            reg.stop()
    rows = []
    for phase, values, wall_s in (
        ("uploads, idle", idle, idle_s),
        (f"uploads, {blocks} blocks signed", during, during_s),
    ):
        rows.append(_row(phase, values, len(values) / wall_s))
    rows.append(_row("block of 10,000 (first)", block_s, None))
    rows.append(_row("block retried (stored)", retry_s, None))
    return rows


def _row(what: str, values: list[float], rate: float | None) -> tuple:
    slow = sum(1 for v in values if v > SLOW_S)
    return (
        what,
        len(values),
        "" if rate is None else f"{rate:.1f}",
        statistics.median(values) * 1000,
        _ms(values, 0.95),
        max(values) * 1000,
        slow,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--repo", type=Path, default=ROOT)
    args = parser.parse_args()
    rows = run(args.repo.resolve(), args.backend, args.blocks)
    print(f"registry code: {args.repo.resolve()}  backend: {args.backend}")
    print(
        f"{'what':<28} {'n':>5} {'per s':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'>' + str(int(SLOW_S * 1000)) + ' ms':>8}"
    )
    for what, n, rate, p50, p95, top, slow in rows:
        print(f"{what:<28} {n:>5} {rate:>6} {p50:>8.1f} {p95:>8.1f} {top:>8.1f} {slow:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
