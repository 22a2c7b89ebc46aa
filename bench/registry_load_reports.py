"""Reports at scale (issue 17 item 2): a registry database filled quickly with N scan rows,
then the 30- and 365-day report and the suspect rules, old query against new, on SQLite and
PostgreSQL, printed as a markdown table.

    .venv/bin/python -m bench.registry_load_reports --rows 1000000 [--backends sqlite,postgres]

The generator: `--stations` stations in Sơn La's districts, `--products` products, scans
spread over `--days` days up to today (5% of them print records), serials drawn so a few
are seen at several stations, written in one transaction (SQLite: executemany; PostgreSQL:
COPY), then the aggregates built by registry/aggregates.rebuild, the same GROUP BY as
migration 0011's backfill (the upload path adds to the same tables; the tests check both
agree). PostgreSQL is the throwaway cluster of scripts/start-test-postgres.sh (fsync off:
only the reads are measured here), in a fresh database dropped at the end.

Columns: old = the report's queries over raw `events` as they were before the aggregates
(copied below, unchanged), and find_suspects as it was before issue 14 (a GROUP BY serial
over all history); new = the whole registry.reports.build_report (every section, aggregates
for the counts), and the clone rules for the 50 serials of one upload (registry/clones.py,
what record_batch runs). Each new query is run 3 times (best shown), each old one once.

`run(args)` is what bench/registry_load.py registers as a subcommand (add_arguments(parser)
declares the options); the PostgreSQL helpers are that module's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.registry_load import fresh_postgres_database, start_postgres, subcommand  # noqa: E402
from registry import aggregates, clones, db, reports  # noqa: E402
from registry.config import CloneRules, RegistryConfig  # noqa: E402
from registry.geo import CENTROIDS  # noqa: E402

TARGET_S = 1.0
CHUNK = 50_000
VERDICTS = ["genuine"] * 90 + ["genuine_rating_expired"] * 4 + ["not_a_stamp"] * 6
e, s, p = db.events, db.stations, db.products


# --- the queries before the aggregates (registry/dal/reports.py at 8104865) ----------------


def _between(first_day: str, last_day: str):
    return sa.and_(e.c.kind == "scan", e.c.day >= first_day, e.c.day <= last_day)


def old_report(conn, first_day: str, last_day: str) -> int:
    conn.execute(
        sa.select(e.c.day, sa.func.count()).where(_between(first_day, last_day)).group_by(e.c.day)
    ).all()
    conn.execute(
        sa.select(e.c.product_id, p.c.name_vi, sa.func.count().label("n"))
        .select_from(e.outerjoin(p, p.c.id == e.c.product_id))
        .where(_between(first_day, last_day), e.c.product_id.is_not(None))
        .group_by(e.c.product_id, p.c.name_vi)
        .order_by(sa.desc("n"), e.c.product_id)
    ).all()
    conn.execute(
        sa.select(s.c.district, sa.func.count().label("n"))
        .select_from(e.join(s, s.c.id == e.c.station_id))
        .where(_between(first_day, last_day))
        .group_by(s.c.district)
        .order_by(sa.desc("n"), s.c.district)
    ).all()
    conn.execute(
        sa.select(e.c.verdict, sa.func.count().label("n"))
        .where(_between(first_day, last_day))
        .group_by(e.c.verdict)
        .order_by(sa.desc("n"))
    ).all()
    return conn.execute(
        sa.select(sa.func.count()).where(
            e.c.kind == "print",
            e.c.day >= first_day,
            sa.or_(e.c.verdict.is_(None), e.c.verdict == "printed"),
        )
    ).scalar_one()


def old_find_suspects(conn, rules: CloneRules, limit: int = 200) -> int:
    """registry/reports.find_suspects at ac68c1a: every signed scan ever, grouped by serial."""
    signed = sa.and_(
        e.c.kind == "scan",
        e.c.serial.is_not(None),
        sa.or_(e.c.verdict.is_(None), e.c.verdict.in_(reports.SIGNED_VERDICTS)),
    )
    stations = sa.func.count(sa.distinct(e.c.station_id))
    rows = conn.execute(
        sa.select(e.c.serial, sa.func.max(e.c.product_id), sa.func.count(), stations.label("st"))
        .where(signed)
        .group_by(e.c.serial)
        .having(sa.or_(sa.func.count() > rules.max_scans, stations > rules.max_stations))
        .order_by(sa.desc("st"), e.c.serial)
        .limit(limit)
    ).all()
    return len(rows)


def new_suspects(conn, rules: CloneRules, serials: list[int]) -> int:
    """The clone rules for one upload's serials, as clones.check runs them (storing nothing)."""
    return sum(
        len(clones.findings(conn, s, rules)) for s in clones.candidates(conn, rules, serials)
    )


# --- the generator --------------------------------------------------------------------------


def _event_rows(args, station_ids: list[int], rng: random.Random) -> Iterator[tuple]:
    today = dt.datetime.now(dt.UTC).date()
    now = dt.datetime.now(dt.UTC).strftime(db.TIME_FORMAT)
    serials = max(1, args.rows // 2)
    for i in range(args.rows):
        day = (today - dt.timedelta(days=int(rng.random() ** 1.5 * args.days))).isoformat()
        at = f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        station = rng.choice(station_ids)
        if rng.random() < 0.05:
            verdict = "printed" if rng.random() < 0.95 else "void"
            yield (
                station,
                f"b{i}",
                "print",
                at,
                day,
                now,
                i + 1,
                rng.randrange(1, args.products + 1),
                verdict,
                "{}",
                1,
                i,
            )
            continue
        verdict = rng.choice(VERDICTS)
        serial = rng.randrange(1, serials + 1) if verdict != "not_a_stamp" else None
        product = rng.randrange(1, args.products + 1)
        yield (station, f"b{i}", "scan", at, day, now, serial, product, verdict, "{}", 1, None)


COLUMNS = (
    "station_id, idempotency_key, kind, occurred_at, day, received_at, serial, product_id, "
    "verdict, payload_json, key_id, lot_seq"
)


def _chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _catalog(database: db.Database, args) -> list[int]:
    """Stations and products (names for the per-product table); returns the station ids."""
    districts = sorted(CENTROIDS)
    now = db.utc_now()
    with database.write() as conn:
        conn.execute(db.producers.insert().values(id="bench", name="bench", updated_at=now, seq=1))
        conn.execute(
            db.products.insert(),
            [
                {
                    "id": i,
                    "name_vi": f"Sản phẩm {i}",
                    "group_code": 1,
                    "producer_id": "bench",
                    "updated_at": now,
                    "seq": 1,
                }
                for i in range(1, args.products + 1)
            ],
        )
        conn.execute(
            db.stations.insert(),
            [
                {
                    "name": f"bench-{i}",
                    "token_hash": uuid.uuid4().hex,
                    "district": districts[i % len(districts)],
                    "created_at": now,
                }
                for i in range(args.stations)
            ],
        )
        return sorted(conn.execute(sa.select(s.c.id)).scalars())


def _hash(i: str, k: int) -> str:
    """A pseudo-random 0..2^31-1 of the row number (deterministic, so an expression may be
    evaluated twice: SQLite re-evaluates random() in a flattened subquery)."""
    return f"(({i} * {1103515245 + 2 * k}) + {12345 + 977 * k}) % 2147483648"


def _sql_rows(database: db.Database, args) -> str:
    """One INSERT ... SELECT over a row-number series: the rows are made by the database
    (10 M in about a minute), shaped as _event_rows's."""
    r = [
        _hash("i", k) for k in range(7)
    ]  # 0 day, 1 station, 2 kind, 3 verdict, 4 serial, 5 product, 6 hour
    square = f"({r[0]} % 1000) * ({r[0]} % 1000)"  # skewed towards today, like _event_rows
    ago = f"({square} * {args.days} / 1000000)"
    if database.is_sqlite:
        series = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            f"WHERE i < {args.rows}) "
        )
        day = f"date('now', '-' || {ago} || ' days')"
        at = f"{day} || 'T' || printf('%02d:%02d:00Z', ({r[6]} % 24), ({r[6]} % 60))"
        now, key, tail = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", "'g' || i", "FROM n"
    else:
        series = ""
        day = f"to_char(current_date - ({ago})::int, 'YYYY-MM-DD')"
        at = f"{day} || 'T' || lpad(({r[6]} % 24)::text, 2, '0') || ':00:00Z'"
        now, key = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", "'g' || i"
        tail = f"FROM generate_series(1, {args.rows}::bigint) AS n(i)"
    is_print = f"({r[2]} % 20 = 0)"
    v = f"({r[3]} % 100)"
    verdict = (
        f"CASE WHEN {is_print} THEN 'printed' WHEN {v} < 90 THEN 'genuine' "
        f"WHEN {v} < 94 THEN 'genuine_rating_expired' "
        "ELSE 'not_a_stamp' END"
    )
    serials = max(1, args.rows // 2)
    serial = (
        f"CASE WHEN {is_print} THEN i WHEN {v} >= 94 THEN NULL ELSE ({r[4]} % {serials}) + 1 END"
    )
    return (
        f"{series}INSERT INTO events ({COLUMNS}) SELECT ({r[1]} % {args.stations}) + 1, {key}, "
        f"CASE WHEN {is_print} THEN 'print' ELSE 'scan' END, {at}, {day}, {now}, {serial}, "
        f"({r[5]} % {args.products}) + 1, {verdict}, '{{}}', 1, CASE WHEN {is_print} THEN i END "
        f"{tail}"
    )


def fill(database: db.Database, args) -> dict[str, float]:
    """N event rows and their aggregates; returns the seconds each step took."""
    rng = random.Random(17)
    station_ids = _catalog(database, args)
    t0 = time.perf_counter()
    rows = _event_rows(args, station_ids, rng)
    if args.generator == "sql":
        assert station_ids == list(range(1, args.stations + 1))  # a fresh database
        with database.write() as conn:
            sql = _sql_rows(database, args)
            conn.exec_driver_sql(sql if database.is_sqlite else sql.replace("%", "%%"))
    elif database.is_sqlite:
        raw = database.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("BEGIN")
            marks = ", ".join("?" * 12)
            for chunk in _chunks(rows, CHUNK):
                cur.executemany(f"INSERT INTO events ({COLUMNS}) VALUES ({marks})", chunk)
            cur.execute("COMMIT")
        finally:
            raw.close()
    else:
        raw = database.engine.raw_connection()
        try:
            with (
                raw.driver_connection.cursor() as cur,
                cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    t1 = time.perf_counter()
    with database.write() as conn:
        aggregates.rebuild(conn)
    t2 = time.perf_counter()
    with database.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("ANALYZE" if database.is_sqlite else "VACUUM ANALYZE")
    t3 = time.perf_counter()
    return {"events": t1 - t0, "aggregates": t2 - t1, "analyze": t3 - t2}


# --- measuring ------------------------------------------------------------------------------


def _timed(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(database: db.Database, args) -> list[tuple[str, float | None, float]]:
    config = RegistryConfig(db_url=database.url, data_dir=Path(tempfile.gettempdir()))
    rules = config.clone_rules
    today = dt.datetime.now(dt.UTC).date()
    rng = random.Random(5)
    with database.read() as conn:
        touched = [rng.randrange(1, max(2, args.rows // 2)) for _ in range(50)]
        out = []
        for days in (30, 365):
            first = (today - dt.timedelta(days=days - 1)).isoformat()
            old = None
            if not args.skip_old:
                old = _timed(lambda first=first: old_report(conn, first, today.isoformat()), 1)
            new = _timed(lambda days=days: reports.build_report(conn, config, days=days), 3)
            out.append((f"report, {days} days", old, new))
        old = None if args.skip_old else _timed(lambda: old_find_suspects(conn, rules), 1)
        new = _timed(lambda: new_suspects(conn, rules, touched), 3)
        out.append(("suspects (old: all history; new: one upload's 50 serials)", old, new))
    return out


def bench_backend(backend: str, args, folder: Path) -> tuple[dict[str, float], list]:
    if backend == "sqlite":
        url, drop = f"sqlite:///{folder / 'reports.sqlite'}", (lambda: None)
    else:
        url, drop = fresh_postgres_database(start_postgres())
    database = db.Database(url)
    try:
        database.migrate()
        filled = fill(database, args)
        return filled, measure(database, args)
    finally:
        database.dispose()
        if not args.keep:
            drop()


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=1_000_000, help="event rows (default 1 M)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--days", type=int, default=730, help="scans spread over this many days")
    parser.add_argument(
        "--generator",
        choices=("sql", "python"),
        default="sql",
        help="sql: INSERT ... SELECT over a series in the database; python: executemany "
        "(SQLite) or COPY (PostgreSQL) of rows made in Python",
    )
    parser.add_argument("--skip-old", action="store_true", help="measure the new queries only")
    parser.add_argument("--keep", action="store_true", help="keep the databases")


def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="ocop-bench-reports-"))
    results = {}
    for backend in args.backends.split(","):
        results[backend] = bench_backend(backend, args, folder)
        print(f"{backend}: filled {results[backend][0]}", file=sys.stderr, flush=True)
    print(
        f"\n{args.rows:,} event rows, {args.stations} stations, {args.products} products, "
        f"{args.days} days; {os.cpu_count()} CPUs\n"
    )
    print("| database | query | old | new | target < 1 s |")
    print("|---|---|---|---|---|")
    met = True
    for backend, (filled, rows) in results.items():
        for name, old, new in rows:
            ok = new < TARGET_S
            met &= ok
            print(f"| {backend} | {name} | {_s(old)} | {_s(new)} | {'yes' if ok else 'NO'} |")
        print(
            f"| {backend} | generation: events / aggregates (backfill) / analyze | "
            f"{filled['events']:.1f} s | {filled['aggregates']:.1f} s | {filled['analyze']:.1f} s |"
        )
    if args.keep:
        print(f"\nkept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


subcommand("reports", add_arguments)(run)  # `bench/registry_load.py reports ...`


if __name__ == "__main__":
    sys.exit(main())
