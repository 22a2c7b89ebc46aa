"""Bytes a stamp costs the registry while its block's reply is kept, and after the prune
(issue 17, registry/retention.py). In-process: blocks issued as the route does
(KeyRing.claim_block + finish_block), then retention.prune_block_replies with the clock
31 days ahead.

    .venv/bin/python bench/block_reply_retention.py [--backend sqlite|postgres|both]
        [--blocks 20] [--stamps 5000]

PostgreSQL: $OCOP_TEST_POSTGRES_URL (eval "$(bash scripts/start-test-postgres.sh --export)").
Table bytes: SQLite, the file's pages in use (freed pages go on the free list, which new rows
reuse); PostgreSQL, pg_total_relation_size('stamp_blocks') (heap, TOAST, indexes) after VACUUM.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from registry import db, retention  # noqa: E402
from registry import stations as station_rules  # noqa: E402
from registry.cli import open_registry  # noqa: E402
from registry.config import RegistryConfig  # noqa: E402
from registry.dal import stations as station_rows  # noqa: E402


def _table_bytes(database: db.Database) -> int:
    if database.is_sqlite:
        with database.read() as conn:
            used = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            used -= conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
            return used * conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    with database.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM stamp_blocks")
        return conn.exec_driver_sql("SELECT pg_total_relation_size('stamp_blocks')").scalar_one()


def _reply_bytes(database: db.Database) -> int:
    sb = db.stamp_blocks
    with database.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(sb.c.reply_body)), 0))
            ).scalar_one()
        )


def run(backend: str, blocks: int, stamps: int) -> list[tuple]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-retention-"))
    drop = None
    if backend == "postgres":
        from tests.registry.server import fresh_postgres_db

        url, drop = fresh_postgres_db()
    else:
        url = f"sqlite:///{tmp / 'r.sqlite'}"
    database, keyring = open_registry(RegistryConfig(db_url=url, data_dir=tmp))
    try:
        with database.write() as conn:
            station_rules.add(conn, "bench", "test", "local")
            station = station_rows.row_by_name(conn, "bench")
        base = _table_bytes(database)
        for n in range(blocks):
            with database.write() as conn:
                claim = keyring.claim_block(conn, station.id, f"bench-{n}", 101, stamps)
            keyring.finish_block(database, claim)
        total = blocks * stamps
        kept, replies = _table_bytes(database) - base, _reply_bytes(database)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
        dropped = retention.prune_block_replies(database, 30, "bench", now=later)
        assert dropped == blocks
        after, replies_after = _table_bytes(database) - base, _reply_bytes(database)
        return [
            (backend, "kept (within 30 days)", total, replies / total, kept / total),
            (backend, "after prune", total, replies_after / total, after / total),
        ]
    finally:
        database.dispose()
        if drop:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--stamps", type=int, default=5000)
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and not os.environ.get("OCOP_TEST_POSTGRES_URL"):
        backends.remove("postgres")
        print("(no $OCOP_TEST_POSTGRES_URL: PostgreSQL skipped)")
    print("| backend | state | stamps | reply bytes/stamp | table bytes/stamp |")
    print("|---|---|---:|---:|---:|")
    for backend in backends:
        for row in run(backend, args.blocks, args.stamps):
            print(f"| {row[0]} | {row[1]} | {row[2]:,} | {row[3]:.1f} | {row[4]:.1f} |")


if __name__ == "__main__":
    main()
