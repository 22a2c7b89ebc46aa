"""What one rate-limit check costs (issue 17, registry/ratelimit.py), in-process: the
in-memory limiter (SQLite registries), the same counter as an UPSERT on a SQLite file
(what sharing it there would cost: a write transaction, which takes SQLite's one write
lock), and the shared limiter on PostgreSQL (the lockout check every authenticated request
pays: one read; a failure or a counted page request: one UPSERT).

    .venv/bin/python bench/rate_limits.py [--n 2000]

PostgreSQL: $OCOP_TEST_POSTGRES_URL (eval "$(bash scripts/start-test-postgres.sh --export)").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from registry import db  # noqa: E402
from registry.config import AuthLimits  # noqa: E402
from registry.ratelimit import (  # noqa: E402
    FailedAuthLimiter,
    RequestLimiter,
    Scope,
    SharedFailedAuthLimiter,
    SharedRequestLimiter,
)

LIMITS = AuthLimits(10**9, 300.0)  # never locks: every call does the full work


def _us(fn, n: int) -> float:
    fn(0)  # warm up (connection, statement cache)
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - t0) / n * 1e6


def _sqlite_upsert(database: db.Database):
    sql = sa.text(
        "INSERT INTO rate_limits (scope, client, window_start, hits, expires_at) "
        "VALUES ('lookup', :c, :t, 1, :t) ON CONFLICT (scope, client) DO UPDATE SET "
        "hits = hits + 1 RETURNING hits"
    )

    def upsert(i: int) -> None:
        with database.write(raises_mark=False) as conn:
            conn.execute(sql, {"c": f"10.0.{i % 200}.1", "t": "2026-12-03 00:00:00"})

    return upsert


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    rows = []
    memory, requests = FailedAuthLimiter(LIMITS), RequestLimiter(10**9, 60.0)
    rows.append(("memory", "lockout check", _us(lambda i: memory.retry_after_s("10.0.0.1"), n)))
    rows.append(("memory", "failure", _us(lambda i: memory.failed(f"10.0.{i % 200}.1"), n)))
    rows.append(("memory", "page request", _us(lambda i: requests.allow(f"10.0.{i % 200}.1"), n)))
    tmp = Path(tempfile.mkdtemp(prefix="bench-limits-"))
    sqlite = db.Database(f"sqlite:///{tmp / 'r.sqlite'}")
    sqlite.migrate()
    rows.append(("SQLite file", "UPSERT (write txn)", _us(_sqlite_upsert(sqlite), n)))
    sqlite.dispose()
    if os.environ.get("OCOP_TEST_POSTGRES_URL"):
        from tests.registry.server import fresh_postgres_db

        url, drop = fresh_postgres_db()
        pg = db.Database(url)
        try:
            pg.migrate()
            shared = SharedFailedAuthLimiter(pg, Scope.TOKEN, LIMITS, 10**6)
            budget = SharedRequestLimiter(pg, Scope.LOOKUP, 10**9, 60.0, 10**6)
            check = _us(lambda i: shared.retry_after_s("10.0.0.1"), n)
            rows.append(("PostgreSQL", "lockout check (own connection)", check))
            with pg.read() as conn:  # as a request does it: in its open transaction
                inside = _us(lambda i: shared.retry_after_s("10.0.0.1", conn), n)
            rows.append(("PostgreSQL", "lockout check (request's transaction)", inside))
            rows.append(
                (
                    "PostgreSQL",
                    "failure (UPSERT)",
                    _us(lambda i: shared.failed(f"10.0.{i % 200}.1"), n),
                )
            )
            rows.append(
                (
                    "PostgreSQL",
                    "page request (UPSERT)",
                    _us(lambda i: budget.allow(f"10.0.{i % 200}.1"), n),
                )
            )
        finally:
            pg.dispose()
            drop()
    else:
        print("(no $OCOP_TEST_POSTGRES_URL: PostgreSQL skipped)")
    print("| where | operation | us per call |")
    print("|---|---|---:|")
    for where, what, us in rows:
        print(f"| {where} | {what} | {us:.1f} |")


if __name__ == "__main__":
    main()
