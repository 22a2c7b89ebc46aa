"""The stamp page with and without a read replica (issue 17 item 4): one PostgreSQL
database on the cluster of scripts/start-test-postgres.sh (the primary), a streaming
standby of it made with pg_basebackup -R (tests/registry/replica.py), and a real registry
process on the same database first without, then with `--read-db`, each given the same
closed loop of stamp page views (each request its own stamp and phone: a view the log
writes, on the primary), alternating --rounds times (the machine's other load varies).

    .venv/bin/python bench/registry_load.py stamp-page-replica [--seconds 15]
        [--concurrency 16] [--stamps 20000] [--rounds 2]

Columns besides bench/registry_load.py's: the CPU of the primary's and of the standby's
backends serving the database, per request (told apart by their postmaster). On one
machine the standby shares the same cores, so the rate does not go up: what moves is
where the reads' CPU is spent.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import registry_load as load  # noqa: E402


def _backends_cpu_s(database: str, postmaster: int) -> float:
    """CPU seconds of the backends of one cluster (children of `postmaster`) serving
    `database` (their process title names it)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = load._stat(int(entry))
            if int(fields[1]) != postmaster:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if f" {database} ".encode() not in f.read().replace(b"\0", b" "):
                    continue
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / load.CLK_TCK
    return total


def _postmaster(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def _repeat_views(stamps: list[str]) -> load.Request:
    """The pages of 100 stamps again and again from one phone: each a view already counted
    this hour (the view log drops it in memory), so the phase is reads only."""
    return lambda i: (
        f"/S/{stamps[i % 100]}",
        {**load.PHONE_HEADERS, "User-Agent": "bench-phone/the-same-one"},
    )


def _phase(args, server, replica, name: str, primary_dir: Path, request, repeat: bool) -> str:
    """One closed loop; its table cells after the first two."""
    if repeat:  # the 100 views seen once, so the phase repeats them
        load.closed_loop(server.url, request, args.concurrency, 1.0)
        time.sleep(1.0)
    p0 = _backends_cpu_s(name, _postmaster(primary_dir))
    r0 = _backends_cpu_s(name, _postmaster(replica.folder / "data"))
    c0 = load.cpu_s(server.pid)
    result = load.closed_loop(server.url, request, args.concurrency, args.seconds)
    c1 = load.cpu_s(server.pid)
    time.sleep(1.0)  # the last views written (their CPU counted on the primary)
    p1 = _backends_cpu_s(name, _postmaster(primary_dir))
    r1 = _backends_cpu_s(name, _postmaster(replica.folder / "data"))
    n = max(result.answered, 1)
    return (
        f"| {result.rate:.0f} | {result.ms(50):.1f} | {result.ms(95):.1f} | "
        f"{result.ms(99):.1f} | {(c1 - c0) * 1000 / n:.2f} | {(p1 - p0) * 1000 / n:.3f} | "
        f"{(r1 - r0) * 1000 / n:.3f} | {result.errors} |"
    )


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--concurrency", type=int, default=16, help="closed loop connections")
    parser.add_argument("--stamps", type=int, default=20_000, help="distinct stamps")
    parser.add_argument(
        "--rounds", type=int, default=2, help="each set-up this many times, alternating"
    )


@load.subcommand("stamp-page-replica", arguments)
def run(args: argparse.Namespace) -> int:
    from tests.registry.replica import Replica

    primary_base = load.start_postgres()
    primary_dir = Path(os.environ.get("OCOP_TEST_PG_DIR", "/tmp/ocop-test-pg")) / "data"
    db_url, drop = load.fresh_postgres_database(primary_base)
    name = db_url.rsplit("/", 1)[1]
    replica = Replica.create(primary_base)
    lines = [
        "| registry | views | req/s | p50 ms | p95 ms | p99 ms | registry CPU ms/req | "
        "primary CPU ms/req | replica CPU ms/req | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    try:
        replica.wait_replayed(db_url)
        stamps: list[str] = []
        with tempfile.TemporaryDirectory(prefix="ocop-load-replica-") as tmp:
            setups = [
                ("primary only", ()),
                ("--read-db replica", ("--read-db", replica.url_for(name))),
            ]
            for i, (label, extra) in enumerate(setups * args.rounds):
                folder = Path(tmp) / f"{i}-{label.replace(' ', '-')}"
                server = load.start_registry(folder, db_url, extra)
                try:
                    if not stamps:
                        stamps = load.issue_stamps(server, args.stamps)
                        replica.wait_replayed(db_url)
                    run_id = uuid.uuid4().hex[:8]
                    warm = load.stamp_requests(stamps, 0, run_id + "w")
                    load.closed_loop(server.url, warm, args.concurrency, 1.0)
                    time.sleep(1.0)
                    for views, request in (
                        ("new", load.stamp_requests(stamps, 0, run_id + "c")),
                        ("repeat", _repeat_views(stamps)),
                    ):
                        cells = _phase(
                            args, server, replica, name, primary_dir, request, views == "repeat"
                        )
                        lines.append(cells)
                        lines[-1] = f"| {label} | {views} " + lines[-1]
                finally:
                    server.stop()
    finally:
        replica.destroy()
        drop()
    print(f"\n{os.cpu_count()} CPUs, shared by the load generator, the registry, both clusters\n")
    print("\n".join(lines))
    return 0
