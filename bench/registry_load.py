"""Load bench of the registry (issue 17 item 6): a real `ocop-registry serve` process on
SQLite and on PostgreSQL, side by side with a plain FastAPI "hello" under the same uvicorn
settings, in the same run on the same machine.

    .venv/bin/python bench/registry_load.py stamp-page [--seconds 15] [--rate 300]
        [--concurrency 16] [--stamps 20000] [--backends sqlite,postgres]

Subcommands are functions registered in SUBCOMMANDS (`@subcommand("name")`); other
modules add theirs the same way (bench/registry_load_reports.py, bench/registry_load_sync.py,
bench/registry_load_replica.py import this module: its server, hello, PostgreSQL,
load-generator, percentile and CPU helpers are the one copy they use) and are imported by
main() when present.

Load generators (raw HTTP/1.1 over asyncio streams, keep-alive, one connection per worker:
a client costs tens of microseconds per request, so it is not what is measured):
  closed loop  N connections each sending the next request when the reply is in: the
               server's maximum rate at that concurrency.
  open loop    a fixed arrival rate whatever the server does; a request's latency is from
               its scheduled time (so a server that falls behind shows it: no coordinated
               omission), on a pool of connections.
CPU per request is the server process's utime+stime (/proc/<pid>/stat, every thread: the
view log's flusher included) over the phase, divided by the requests answered; `db CPU` the
same for every `postgres` process. The load generator and the servers share the machine's
cores: say how many when quoting a table (os.cpu_count() is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

# At module level: FastAPI resolves the hello routes' annotations (strings, from __future__)
# in this module's globals, and a Request parameter must be found there to be injected.
from fastapi import Request as HttpRequest  # (Request is the load generators' below)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The registry is started as the tests start it (one `ocop-registry serve --demo` command).
from tests.registry.server import serve_command, serve_files  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
STARTUP_TIMEOUT_S = 90.0  # generous: the machine may be busy with a test run besides
# name -> (fn(args) -> exit code, its options: fn(parser) or None)
SUBCOMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], Callable | None]] = {}
# Modules that register more subcommands (imported when they exist).
EXTENSIONS = (
    "bench.registry_load_reports",
    "bench.registry_load_sync",
    "bench.registry_load_replica",
)


def subcommand(name: str, add_arguments: Callable[[argparse.ArgumentParser], None] | None = None):
    """Register `fn(args) -> exit code` as `registry_load.py NAME [its options]`."""

    def register(fn):
        SUBCOMMANDS[name] = (fn, add_arguments)
        return fn

    return register


# --- measurements -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (so [1] is field 4, the ppid)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (/proc/<pid>/stat)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def postgres_cpu_s(database: str = "", exited: bool = False) -> float:
    """CPU seconds of the PostgreSQL backends serving `database` (their process title names
    it: other clients of a shared cluster are not counted); every postgres process when
    `database` is empty. With `exited`, plus what the postmaster collected from backends
    that exited (a backend's time moves there when it ends: a pool that opens and closes
    overflow connections under load): cluster-wide, it cannot be told apart by database."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() != "postgres":
                    continue
            if database:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f" {database} ".encode() not in f.read().replace(b"\0", b" "):
                        continue
            fields = _stat(int(entry))
        except OSError:  # gone meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
        if exited:
            with contextlib.suppress(OSError), open(f"/proc/{fields[1]}/comm") as f:
                if f.read().strip() != "postgres":  # its parent is not postgres: the postmaster
                    total += (int(fields[13]) + int(fields[14])) / CLK_TCK  # cutime, cstime
    return total


@dataclasses.dataclass
class Result:
    latencies_s: list[float]
    errors: int
    elapsed_s: float
    offered_rate: float | None = None  # open loop only

    @property
    def answered(self) -> int:
        return len(self.latencies_s)

    @property
    def rate(self) -> float:
        return self.answered / self.elapsed_s if self.elapsed_s else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies_s, q) * 1000


@dataclasses.dataclass
class Row:
    target: str
    backend: str
    mode: str
    result: Result
    server_cpu_s: float
    db_cpu_s: float | None = None
    note: str = ""

    def cells(self) -> list[str]:
        r = self.result
        per = lambda s: f"{s * 1000 / r.answered:.2f}" if r.answered else "–"  # noqa: E731
        return [
            self.target,
            self.backend,
            self.mode,
            f"{r.offered_rate:.0f}" if r.offered_rate else "max",
            f"{r.rate:.0f}",
            f"{r.ms(50):.1f}",
            f"{r.ms(95):.1f}",
            f"{r.ms(99):.1f}",
            per(self.server_cpu_s),
            per(self.db_cpu_s) if self.db_cpu_s is not None else "–",
            str(r.errors),
            self.note,
        ]


HEADER = [
    "target",
    "backend",
    "loop",
    "offered req/s",
    "achieved req/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "server CPU ms/req",
    "db CPU ms/req",
    "errors",
    "note",
]


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def measure(
    target: str,
    backend: str,
    pid: int,
    run: Callable[[], Result],
    mode: str,
    db_name: str = "",
    note: str = "",
) -> Row:
    """Run one phase and take the server's (and, with `db_name`, its PostgreSQL backends')
    CPU around it. A backend that exits during the phase takes its CPU with it: the
    registry's pool keeps its connections, so that does not happen to it."""
    cpu0, db0 = cpu_s(pid), postgres_cpu_s(db_name) if db_name else 0.0
    result = run()
    cpu1, db1 = cpu_s(pid), postgres_cpu_s(db_name) if db_name else 0.0
    return Row(target, backend, mode, result, cpu1 - cpu0, (db1 - db0) if db_name else None, note)


# --- the load generators (raw HTTP/1.1) ----------------------------------------------------------

Request = Callable[[int], tuple[str, dict[str, str]]]  # i -> (path, headers)


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def get(self, path: str, headers: dict[str, str]) -> int:
        """Send a GET, read the whole reply; its status."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        self.writer.write((head + "\r\n").encode("latin-1"))
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.strip()
        if "content-length" in fields:
            await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        if fields.get("connection") == "close":
            self.close()
        return status


async def _closed(
    host: str, port: int, request: Request, ok: set[int], concurrency: int, seconds: float
) -> Result:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**12))
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        conn = Connection(host, port)
        while time.perf_counter() < end:
            path, headers = request(next(counter))
            t0 = time.perf_counter()
            try:
                status = await conn.get(path, headers)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                conn.close()
                errors += 1
                continue
            if status in ok:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1
        conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(latencies, errors, time.perf_counter() - t0)


def closed_loop(
    url: str, request: Request, concurrency: int, seconds: float, ok=frozenset({200})
) -> Result:
    host, port = _host_port(url)
    return asyncio.run(_closed(host, port, request, set(ok), concurrency, seconds))


async def _open(
    host: str,
    port: int,
    request: Request,
    ok: set[int],
    rate: float,
    seconds: float,
    connections: int,
) -> Result:
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(host, port))
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)

    async def one(i: int, scheduled: float) -> None:
        nonlocal errors
        conn = await pool.get()
        path, headers = request(i)
        try:
            status = await conn.get(path, headers)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            conn.close()
            errors += 1
            return
        finally:
            pool.put_nowait(conn)
        if status in ok:
            latencies.append(time.perf_counter() - scheduled)
        else:
            errors += 1

    tasks = []
    t0 = time.perf_counter()
    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    while not pool.empty():
        pool.get_nowait().close()
    return Result(latencies, errors, elapsed, offered_rate=rate)


def open_loop(
    url: str,
    request: Request,
    rate: float,
    seconds: float,
    connections: int = 64,
    ok=frozenset({200}),
) -> Result:
    """`rate` requests a second for `seconds`, each at its scheduled time."""
    host, port = _host_port(url)
    return asyncio.run(_open(host, port, request, set(ok), rate, seconds, connections))


def _host_port(url: str) -> tuple[str, int]:
    hostport = url.split("://", 1)[1].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    return host, int(port)


# --- servers ----------------------------------------------------------------------------------


def start_postgres() -> str:
    """The throwaway cluster of scripts/start-test-postgres.sh (started if not running);
    its base URL ($OCOP_TEST_POSTGRES_URL when set: that script's cluster, exported)."""
    if os.environ.get("OCOP_TEST_POSTGRES_URL"):
        return os.environ["OCOP_TEST_POSTGRES_URL"]
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "start-test-postgres.sh")],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def fresh_postgres_database(base_url: str) -> tuple[str, Callable[[], None]]:
    """CREATE DATABASE on the cluster; (its URL, a dropper)."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    name = f"ocop_bench_{uuid.uuid4().hex[:10]}"
    # psycopg takes a libpq URL: no SQLAlchemy driver name (postgresql+psycopg://).
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with contextlib.suppress(Exception), psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.set(database=name).render_as_string(hide_password=False), drop


@dataclasses.dataclass
class Server:
    url: str
    proc: subprocess.Popen
    folder: Path
    db_url: str = ""
    token: str = ""
    admin_token: str = ""
    cleanups: list = dataclasses.field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> int:
        """SIGTERM (a clean shutdown: the view log is written) and wait."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for cleanup in self.cleanups:
            cleanup()
        return self.proc.returncode


def _wait_for(proc: subprocess.Popen, url_file: Path, health: str, log: Path) -> str:
    import requests

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"server exited {proc.returncode}: {tail}")
        if url_file.exists() and url_file.read_text().strip():
            url = url_file.read_text().strip()
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + health, timeout=2).status_code == 200:
                    return url
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"server did not start: {log.read_text(errors='replace')[-3000:]}")


def start_registry(
    folder: Path,
    db_url: str = "",
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    cleanups: list | None = None,
) -> Server:
    """`ocop-registry serve --demo` on 127.0.0.1 (SQLite in `folder` unless db_url)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "registry-data"
    db_url = db_url or f"sqlite:///{data / 'registry.sqlite'}"
    files = serve_files(folder)
    log = folder / "registry.log"
    cmd = serve_command(db_url, data, files, ("--log-level", "warning", *extra_args))
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=environ)
    url = _wait_for(proc, files["url"], "/api/v1/health", log)
    return Server(
        url,
        proc,
        folder,
        db_url,
        files["token"].read_text().strip(),
        files["admin"].read_text().strip(),
        cleanups or [],
    )


def start_hello(folder: Path, asynchronous: bool = False, kiosk_api: bool = False) -> Server:
    """A plain FastAPI app answering GET /hello, under the registry's own uvicorn settings
    (registry/httpserver.py uvicorn_config: h11, the same protocol class, no access log).
    `asynchronous`: its GET route an async def (else a def, run in the thread pool).
    `kiosk_api` instead: GET of any path answers {"hello": "world"} in a def route (JSON: a
    kiosk's client parses the reply), POST of any path reads its body in an async def route
    (as the registry's upload does): a sync round's pull, lots and upload without the work
    behind them."""
    folder.mkdir(parents=True, exist_ok=True)
    url_file, log = folder / "hello-url.txt", folder / "hello.log"
    cmd = [sys.executable, str(Path(__file__).resolve()), "_hello", str(url_file)]
    if asynchronous:
        cmd.append("--async")
    if kiosk_api:
        cmd.append("--kiosk-api")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    return Server(_wait_for(proc, url_file, "/hello", log), proc, folder)


def _serve_hello(url_file: str, asynchronous: bool, kiosk_api: bool = False) -> int:
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    from registry.config import HttpTimeouts
    from registry.httpserver import uvicorn_config

    app = FastAPI()
    if kiosk_api:

        @app.get("/{path:path}")
        def any_get(path: str) -> dict:
            return {"hello": "world"}

        @app.post("/{path:path}")
        async def any_post(path: str, request: HttpRequest) -> dict:
            await request.body()
            return {"hello": "world"}
    elif asynchronous:

        @app.get("/hello")
        async def hello_async() -> PlainTextResponse:
            return PlainTextResponse("hello")
    else:

        @app.get("/hello")
        def hello() -> PlainTextResponse:  # a def route, run in the thread pool like the page
            return PlainTextResponse("hello")

    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    Path(url_file).write_text(f"http://127.0.0.1:{sock.getsockname()[1]}")
    uvicorn.Server(uvicorn_config(app, HttpTimeouts(), "warning")).run(sockets=[sock])
    return 0


@contextlib.contextmanager
def registry_on(backend: str, folder: Path, **kwargs) -> Iterator[Server]:
    """A registry on `backend` ('sqlite' or 'postgres': a fresh database on the cluster of
    scripts/start-test-postgres.sh); stopped (and the database dropped) afterwards."""
    cleanups: list = []
    db_url = ""
    if backend == "postgres":
        db_url, drop = fresh_postgres_database(start_postgres())
        cleanups.append(drop)
    server = start_registry(folder / backend, db_url, cleanups=cleanups, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def api(server: Server, method: str, path: str, token: str, **kwargs):
    import requests

    reply = requests.request(
        method,
        server.url + path,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
        **kwargs,
    )
    reply.raise_for_status()
    return reply.json()


def issue_stamps(
    server: Server, count: int, product_id: int = 101, urls: bool = False
) -> list[str]:
    """`count` signed stamps' payloads (blocks of at most 10,000) for the demo station
    (its quotas lifted first: the bench prints more than a day's default); with `urls`
    their whole URLs instead (what a QR code holds, so what a kiosk scans)."""
    api(
        server,
        "PATCH",
        "/api/v1/admin/stations/demo-station",
        server.admin_token,
        json={"quota_per_day": None, "quota_total": None},
    )
    payloads: list[str] = []
    while len(payloads) < count:
        n = min(10_000, count - len(payloads))
        block = api(
            server,
            "POST",
            "/api/v1/stamp-blocks",
            server.token,
            json={"request_id": f"bench-{uuid.uuid4().hex}", "product_id": product_id, "count": n},
        )
        payloads += [s if urls else s.rsplit("/", 1)[1] for s in block["stamps"]]
    return payloads


def count_rows(db_url: str, table: str) -> int:
    import sqlalchemy as sa

    from registry import db

    database = db.Database(db_url)
    try:
        with database.read() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(db.metadata.tables[table])
            ).scalar_one()
    finally:
        database.dispose()


# --- stamp-page -------------------------------------------------------------------------------

PHONE_HEADERS = {
    "Accept": "text/html",
    "Accept-Language": "vi-VN,vi;q=0.9",
    "Accept-Encoding": "gzip",
}


def stamp_requests(payloads: list[str], start: int, run: str) -> Request:
    """Request i: the page of stamp start+i (each its own serial), from a phone of its own
    (User-Agent), so every request is a view the log must count."""

    def request(i: int) -> tuple[str, dict[str, str]]:
        return (
            f"/S/{payloads[(start + i) % len(payloads)]}",
            {**PHONE_HEADERS, "User-Agent": f"bench-phone/{run}-{start + i}"},
        )

    return request


def stamp_page_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--concurrency", type=int, default=16, help="closed loop connections")
    parser.add_argument("--rate", type=float, default=300.0, help="open loop req/s")
    parser.add_argument("--stamps", type=int, default=20_000, help="distinct stamps")
    parser.add_argument("--backends", default="sqlite,postgres")


@subcommand("stamp-page", stamp_page_arguments)
def stamp_page(args: argparse.Namespace) -> int:
    """Closed loop max req/s against hello; open loop at --rate on each backend with views
    recorded; the views counted at the end against the requests answered."""
    rows: list[Row] = []
    checks: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ocop-load-") as tmp:
        folder = Path(tmp)
        for asynchronous in (False, True):
            hello = start_hello(folder / f"hello-{asynchronous}", asynchronous)
            try:
                closed_loop(hello.url, lambda i: ("/hello", {}), args.concurrency, 1.0)  # warm
                rows.append(
                    measure(
                        "hello (async def)" if asynchronous else "hello (def)",
                        "–",
                        hello.pid,
                        lambda h=hello: closed_loop(
                            h.url, lambda i: ("/hello", {}), args.concurrency, args.seconds
                        ),
                        "closed",
                    )
                )
                if not asynchronous:  # the machine's own floor at the open loop's rate
                    rows.append(
                        measure(
                            "hello (def)",
                            "–",
                            hello.pid,
                            lambda h=hello: open_loop(
                                h.url, lambda i: ("/hello", {}), args.rate, args.seconds
                            ),
                            "open",
                        )
                    )
            finally:
                hello.stop()
        for backend in args.backends.split(","):
            found, check = _stamp_page_on(args, backend, folder)
            rows += found
            checks.append(check)
    print(f"\n{os.cpu_count()} CPUs, shared by the load generator and the servers\n")
    print(table(rows))
    print()
    hello = {
        r.target: r.result.rate for r in rows if r.target.startswith("hello") and r.mode == "closed"
    }
    for r in rows:
        if r.target == "stamp page" and r.mode == "closed":
            ratios = ", ".join(f"{r.result.rate / v:.2f}x {k}" for k, v in hello.items() if v)
            print(f"stamp page on {r.backend}, closed loop: {ratios} req/s")
    for line in checks:
        print(line)
    return 0 if all("equal" in c for c in checks) else 1


def _stamp_page_on(args: argparse.Namespace, backend: str, folder: Path) -> tuple[list[Row], str]:
    """The closed and the open loop on one backend; the views check's line."""
    rows = []
    with registry_on(backend, folder) as reg:
        stamps = issue_stamps(reg, args.stamps)
        run = uuid.uuid4().hex[:8]
        pg = reg.db_url.rsplit("/", 1)[1] if backend == "postgres" else ""
        closed_loop(reg.url, stamp_requests(stamps, 0, run + "w"), args.concurrency, 1.0)  # warm
        time.sleep(1.0)  # the warm-up's views written
        before = count_rows(reg.db_url, "stamp_views")
        closed = stamp_requests(stamps, 0, run + "c")
        rows.append(
            measure(
                "stamp page",
                backend,
                reg.pid,
                lambda: closed_loop(reg.url, closed, args.concurrency, args.seconds),
                "closed",
                pg,
            )
        )
        opened = stamp_requests(stamps, len(stamps) // 2, run + "o")
        rows.append(
            measure(
                "stamp page",
                backend,
                reg.pid,
                lambda: open_loop(reg.url, opened, args.rate, args.seconds),
                "open",
                pg,
            )
        )
        sent = sum(r.result.answered for r in rows)
        time.sleep(2.0)  # several flush intervals
        counted = count_rows(reg.db_url, "stamp_views") - before
    rows[-1].note = f"views counted {counted} / answered {sent} (both loops)"
    verdict = "equal" if counted == sent else "DIFFERENT"
    return rows, f"{backend}: {sent} page views answered, {counted} views counted ({verdict})"


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_hello"]:  # internal: the hello server process
        return _serve_hello(argv[1], "--async" in argv, "--kiosk-api" in argv)
    # One registry of subcommands whether run as a script or imported: the module's.
    this = importlib.import_module("bench.registry_load")
    for name in EXTENSIONS:
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(name)
    commands = this.SUBCOMMANDS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, add_arguments) in sorted(commands.items()):
        command = sub.add_parser(name)
        if add_arguments is not None:
            add_arguments(command)
    args = parser.parse_args(argv)
    return commands[args.command][0](args)


if __name__ == "__main__":
    sys.exit(main())
