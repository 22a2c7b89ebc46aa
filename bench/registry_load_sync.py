"""Sync load bench (issue 17 item 6, the sync part): N simulated kiosks against a real
`ocop-registry serve` process on SQLite and on PostgreSQL, and the same load against a plain
FastAPI "hello" in the same run.

    .venv/bin/python bench/registry_load_sync.py [--kiosks 500] [--rounds 3]
        [--backends sqlite,postgres]
    .venv/bin/python bench/registry_load.py sync ...   (when that module is present)

Each kiosk runs rounds shaped exactly like kiosk.sync.SyncEngine.sync_once: a heartbeat is
queued (replacing an unsent one), then on a NEW connection (the kiosk's requests session
does not outlive a round) GET /catalog/changes?since=<cursor>&trust_sequence=<n>, GET
/lots/changes?since=<cursor>, POST /uploads of the outbox (up to 1,000 items: this round's
50 scans and heartbeat, plus whatever an earlier round did not get acknowledged), gzipped
at the kiosk client's level. 2 % of upload acknowledgements are dropped on purpose (the
connection is closed before the reply is read), so that batch stays unsent and goes again
next round. The scans carry genuine stamps (each kiosk its own ten, scanned again and
again: no clone rule fires). All kiosks start together and run their rounds back to back:
the registry's throughput at N concurrent kiosks, not a realistic 5-minute interval.

Printed per target: rounds/s and requests/s, p50/p95/p99 of each request kind and of whole
rounds, server CPU ms per request (its process, every thread; `db CPU` every postgres
process), errors; at the end a last round without drops, then per backend: scan keys sent,
rows stored, missing and duplicates (0/0 required: exit status 1 otherwise).

Its registry, hello, PostgreSQL, percentile and CPU helpers are bench/registry_load.py's
(that module registers this one as its `sync` subcommand); `run(args)` is the entry point
either way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.registry_load import (  # noqa: E402
    Server,
    api,
    cpu_s,
    issue_stamps,
    percentile,
    postgres_cpu_s,
    registry_on,
    start_hello,
    subcommand,
)

API = "/api/v1"
SCANS_PER_ROUND = 50
DROP_ACK_FRACTION = 0.02
PUSH_BATCH_ITEMS = 1000  # kiosk.sync.engine.PUSH_BATCH_ITEMS
KIOSK_GZIP_LEVEL = 5  # kiosk.sync.client.GZIP_LEVEL
STAMPS_PER_KIOSK = 10
REQUEST_TIMEOUT_S = 120.0


# --- the kiosks -----------------------------------------------------------------------------


@dataclass
class Kiosk:
    name: str
    token: str
    stamps: list[str]
    cursor: int = 0
    lots_cursor: int = 0
    trust_sequence: int = 0
    outbox: list[dict] = field(default_factory=list)  # unsent, oldest first
    sent_keys: set[str] = field(default_factory=set)  # acknowledged
    queued_keys: set[str] = field(default_factory=set)  # every scan key it made
    n: int = 0

    def queue_round(self, rng: random.Random) -> None:
        """A round's new outbox rows: 50 scans, and the heartbeat (replacing an unsent one)."""
        self.outbox = [i for i in self.outbox if i["kind"] != "heartbeat"]
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for _ in range(SCANS_PER_ROUND):
            self.n += 1
            self.queued_keys.add(f"{self.name}-scan-{self.n}")
            self.outbox.append(
                {
                    "kind": "scan",
                    "idempotency_key": f"{self.name}-scan-{self.n}",
                    "payload": {
                        "scanned_at": now,
                        "text": rng.choice(self.stamps),
                        "verdict": "genuine",
                    },
                }
            )
        self.n += 1
        self.outbox.append(
            {
                "kind": "heartbeat",
                "idempotency_key": f"{self.name}-hb-{self.n}",
                "payload": {
                    "at": now,
                    "pending_outbox": len(self.outbox),
                    "disk_free_bytes": 10**9,
                    "uptime_s": self.n,
                    "camera": "scanning",
                    "trust_list_sequence": self.trust_sequence,
                },
            }
        )


class DroppedAck(Exception):
    pass


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"pull": [], "lots": [], "upload": [], "round": []}
    )
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    requests: int = 0
    dropped: int = 0
    rounds: int = 0


async def _http(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    method: str,
    path: str,
    token: str,
    body: bytes | None = None,
    drop_reply: bool = False,
) -> tuple[int, bytes]:
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        f"Authorization: Bearer {token}",
        "Accept-Encoding: gzip",
        "User-Agent: ocop-kiosk-bench",
    ]
    if body is not None:
        head += [
            "Content-Type: application/json",
            "Content-Encoding: gzip",
            f"Content-Length: {len(body)}",
        ]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
    await writer.drain()
    if drop_reply:
        # The kiosk dies (or the link drops) after sending: the registry stores the batch,
        # the kiosk never learns it. Wait for the reply so it is surely processed.
        await reader.readuntil(b"\r\n\r\n")
        raise DroppedAck
    status_line = await reader.readuntil(b"\r\n")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        content = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            content += chunk[:-2]
    else:
        content = await reader.readexactly(int(headers.get("content-length", "0")))
    if headers.get("content-encoding") == "gzip":
        content = gzip.decompress(content)
    return status, content


async def kiosk_round(
    kiosk: Kiosk, host: str, port: int, stats: Stats, rng: random.Random, drop: bool, hello: bool
) -> None:
    kiosk.queue_round(rng)
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)  # a new connection per round
    hostport = f"{host}:{port}"
    try:

        async def call(kind, method, path, body=None, drop_reply=False):
            t = time.perf_counter()
            stats.requests += 1
            status, content = await _http(
                reader, writer, hostport, method, path, kiosk.token, body, drop_reply
            )
            stats.latencies[kind].append(time.perf_counter() - t)
            if status != 200:
                raise RuntimeError(f"{method} {path.split('?')[0]}: {status} {content[:200]!r}")
            return json.loads(content)

        reply = await call(
            "pull",
            "GET",
            f"{API}/catalog/changes?since={kiosk.cursor}&trust_sequence={kiosk.trust_sequence}",
        )
        if not hello:
            kiosk.cursor = reply["cursor"]
            kiosk.trust_sequence = max(kiosk.trust_sequence, reply["trust_list_sequence"])
        reply = await call("lots", "GET", f"{API}/lots/changes?since={kiosk.lots_cursor}")
        if not hello:
            kiosk.lots_cursor = reply["cursor"]
        batch = kiosk.outbox[:PUSH_BATCH_ITEMS]
        raw = json.dumps({"items": batch}, ensure_ascii=False, separators=(",", ":")).encode()
        body = gzip.compress(raw, KIOSK_GZIP_LEVEL)
        try:
            reply = await call("upload", "POST", f"{API}/uploads", body, drop_reply=drop)
        except DroppedAck:
            stats.dropped += 1
            return  # the batch stays in the outbox: sent again next round
        if not hello:
            answered = {r["idempotency_key"]: r["status"] for r in reply["results"]}
            assert set(answered) == {i["idempotency_key"] for i in batch}
            bad = [s for s in answered.values() if s not in ("accepted", "duplicate")]
            if bad:
                raise RuntimeError(f"upload items {bad[:3]}")
        kiosk.sent_keys.update(i["idempotency_key"] for i in batch if i["kind"] == "scan")
        kiosk.outbox = kiosk.outbox[len(batch) :]
        stats.latencies["round"].append(time.perf_counter() - started)
        stats.rounds += 1
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def run_kiosks(
    kiosks: list[Kiosk], url: str, rounds: int, drop_fraction: float, hello: bool, seed: int
) -> tuple[Stats, float]:
    host, port = url.split("://", 1)[1].split(":")
    stats = Stats()
    rng = random.Random(seed)

    async def one(kiosk: Kiosk) -> None:
        for _ in range(rounds):
            try:
                await asyncio.wait_for(
                    kiosk_round(
                        kiosk, host, int(port), stats, rng, rng.random() < drop_fraction, hello
                    ),
                    REQUEST_TIMEOUT_S,
                )
            except (OSError, EOFError, RuntimeError, AssertionError, ValueError, KeyError) as exc:
                # counted; the kiosk goes on like SyncEngine does (TimeoutError: an OSError)
                stats.errors += 1
                if len(stats.error_samples) < 5:
                    stats.error_samples.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(one(k) for k in kiosks))
    return stats, time.perf_counter() - started


# --- setup and report -----------------------------------------------------------------------


def make_kiosks(server: Server, count: int, run_id: str) -> list[Kiosk]:
    """`count` kiosk stations with ten genuine stamps each (from demo-station)."""
    stamps = issue_stamps(server, count * STAMPS_PER_KIOSK, urls=True)
    kiosks = []
    for i in range(count):
        name = f"k{run_id}-{i:04d}"
        token = api(
            server,
            "POST",
            f"{API}/admin/stations",
            server.admin_token,
            json={"name": name, "district": "Mộc Châu"},
        )["token"]
        kiosks.append(Kiosk(name, token, stamps[i * STAMPS_PER_KIOSK : (i + 1) * STAMPS_PER_KIOSK]))
    return kiosks


def stored_counts(db_url: str, prefix: str) -> tuple[int, int]:
    """(scan rows, distinct (station, key)) of the bench's kiosks."""
    import sqlalchemy as sa

    from registry import db

    engine = db.make_engine(db_url)
    e, s = db.events, db.stations
    with engine.connect() as conn:
        rows, distinct = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(
                    sa.distinct(e.c.station_id.cast(sa.String) + ":" + e.c.idempotency_key)
                ),
            )
            .select_from(e.join(s, s.c.id == e.c.station_id))
            .where(e.c.kind == "scan", s.c.name.like(f"{prefix}%"))
        ).one()
    engine.dispose()
    return int(rows), int(distinct)


@dataclass
class Row:
    target: str
    backend: str
    stats: Stats
    elapsed_s: float
    cpu_s: float
    db_cpu_s: float | None


def _fmt(row: Row) -> str:
    s, lat = row.stats, row.stats.latencies
    per = lambda k, q: f"{percentile(lat[k], q) * 1000:.0f}"  # noqa: E731
    cpu_ms = row.cpu_s * 1000 / max(s.requests, 1)
    round_ms = row.cpu_s * 1000 / max(s.rounds + s.dropped, 1)
    db_ms = "" if row.db_cpu_s is None else f"{row.db_cpu_s * 1000 / max(s.requests, 1):.2f}"
    return (
        f"| {row.target} | {row.backend} | {s.rounds / row.elapsed_s:.1f} | "
        f"{s.requests / row.elapsed_s:.0f} | "
        + " | ".join(f"{per(k, 50)}/{per(k, 95)}/{per(k, 99)}" for k in ("pull", "upload", "round"))
        + f" | {cpu_ms:.2f} | {round_ms:.1f} | {db_ms} | {s.errors} | {s.dropped} |"
    )


HEADER = (
    "| target | db | rounds/s | req/s | pull ms p50/p95/p99 | upload ms p50/p95/p99 | "
    "round ms p50/p95/p99 | server CPU ms/req | server CPU ms/round | db CPU ms/req | errors | "
    "acks dropped |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def measure(server: Server, kiosks, rounds, drop, hello, seed, postgres) -> Row:
    # db CPU: the whole cluster, exited backends included (the registry's pool opens and
    # closes overflow connections at hundreds of kiosks).
    before = cpu_s(server.pid)
    db_before = postgres_cpu_s(exited=True) if postgres else None
    stats, elapsed = asyncio.run(run_kiosks(kiosks, server.url, rounds, drop, hello, seed))
    used = cpu_s(server.pid) - before
    db_used = None if db_before is None else postgres_cpu_s(exited=True) - db_before
    return Row("hello" if hello else "registry", "", stats, elapsed, used, db_used)


def run(args: argparse.Namespace) -> int:
    kiosks_n = getattr(args, "kiosks", 500)
    rounds = getattr(args, "rounds", 3)
    backends = [b for b in getattr(args, "backends", "sqlite,postgres").split(",") if b]
    print(
        f"sync load: {kiosks_n} kiosks x {rounds} rounds (pull + lots + {SCANS_PER_ROUND}-scan "
        f"upload with heartbeat, new connection per round, {DROP_ACK_FRACTION:.0%} of acks "
        f"dropped), {os.cpu_count()} CPUs shared by load generator, servers and database",
        flush=True,
    )
    rows: list[Row] = []
    checks: list[tuple[str, int, int, int]] = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="ocop-bench-load-sync-") as tmp:
        base = Path(tmp)
        for backend in backends:
            run_id = uuid.uuid4().hex[:6]
            with registry_on(backend, base) as server:
                kiosks = make_kiosks(server, kiosks_n, run_id)
                hello = start_hello(base / f"hello-{backend}", kiosk_api=True)
                try:
                    hello_kiosks = [Kiosk(k.name, k.token, k.stamps) for k in kiosks]
                    # hello first, while the registry idles (same machine, same kiosks)
                    row = measure(hello, hello_kiosks, rounds, DROP_ACK_FRACTION, True, 1, False)
                    row.backend = "-"
                    rows.append(row)
                finally:
                    hello.stop()
                row = measure(
                    server, kiosks, rounds, DROP_ACK_FRACTION, False, 2, backend == "postgres"
                )
                row.backend = backend
                rows.append(row)
                # A last round without drops: every outbox empties (as the next real
                # round would), then what the registry holds is compared with what was sent.
                final = measure(server, kiosks, 1, 0.0, False, 3, False)
                leftover = sum(len(k.outbox) for k in kiosks)
                queued = set().union(*(k.queued_keys for k in kiosks))
                acked = set().union(*(k.sent_keys for k in kiosks))
                stored, distinct = stored_counts(server.db_url, f"k{run_id}-")
                # Every key a kiosk made must be stored once: the last round emptied the
                # outboxes (unless requests failed: then they are missing here).
                missing, duplicates = len(queued) - distinct, stored - distinct
                checks.append((backend, len(queued), len(acked), stored, missing, duplicates))
                if missing or duplicates or leftover or final.stats.errors:
                    ok = False
                print(f"{backend}: done ({row.stats.errors} errors)", flush=True)
                for sample in row.stats.error_samples:
                    print(f"  error: {sample}")
    print(HEADER)
    for row in rows:
        print(_fmt(row))
    print(
        "\n| db | scan keys made | acknowledged | rows stored | missing | duplicates |\n"
        "|---|---|---|---|---|---|"
    )
    for backend, queued_n, acked_n, stored, missing, duplicates in checks:
        print(f"| {backend} | {queued_n:,} | {acked_n:,} | {stored:,} | {missing} | {duplicates} |")
    return 0 if ok else 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kiosks", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="per kiosk, back to back")
    parser.add_argument("--backends", default="sqlite,postgres")


subcommand("sync", add_arguments)(run)  # `bench/registry_load.py sync ...`


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
