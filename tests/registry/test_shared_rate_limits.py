"""Issue 17: the rate limits hold across worker processes (registry/ratelimit.py: the
rate_limits table on PostgreSQL). Written as the attacker: a real registry with
`serve --workers 2` on a real PostgreSQL, requests on many keep-alive connections, each
connection's serving worker found from /proc (so both workers are seen to take part). The
lockout engages after exactly max_failures failures in total, not per worker, then holds on
every connection, even with a correct token; the same for the phone pages' look-ups and
reports and for console sign-ins. A client spraying addresses does not grow the table
without bound, nor lift a lockout."""

from __future__ import annotations

import http.client
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa

from registry import db
from registry.ratelimit import PRUNE_EVERY_WRITES
from tests.registry.server import start_registry

pytestmark = pytest.mark.postgres
MAX_FAILURES = 10
LOOKUPS = 5
REPORTS = 3


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = start_registry(
        tmp_path_factory.mktemp("limits"),
        "postgres",
        (
            "--workers",
            "2",
            "--auth-failures",
            str(MAX_FAILURES),
            "--auth-failure-window-s",
            "120",
            "--trusted-proxy",
            "127.0.0.1",
        ),
        env={
            "OCOP_REGISTRY_LOOKUPS_PER_MINUTE": str(LOOKUPS),
            "OCOP_REGISTRY_REPORTS_PER_HOUR": str(REPORTS),
            "OCOP_REGISTRY_RATE_LIMIT_MAX_CLIENTS": "300",
        },
    )
    yield reg
    reg.stop()


# --- connections and the worker serving each ------------------------------------------------


def _workers(reg) -> list[int]:
    pid = reg.proc.pid
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            found.add(link[8:-1])
    return found


def _server_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the registry's end of the TCP connection from client_port."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and (
            int(remote.split(":")[1], 16) == client_port
        ):
            return inode
    return None


class Conn:
    """One keep-alive connection to the registry, and the worker process serving it."""

    def __init__(self, reg):
        url = urlsplit(reg.url)
        self.http = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.request("GET", "/api/v1/health")  # opens it; counts for no limit
        inode = _server_inode(url.port, self.http.sock.getsockname()[1])
        self.worker = next(w for w in _workers(reg) if inode in _socket_inodes(w))

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str):
        self.http.request(method, path, body=body, headers=headers)
        reply = self.http.getresponse()
        reply.text = reply.read().decode("utf-8", "replace")
        return reply

    def close(self) -> None:
        self.http.close()


def _connections(reg, per_worker: int) -> list[Conn]:
    """At least `per_worker` open connections served by each worker, interleaved."""
    by_worker: dict[int, list[Conn]] = {w: [] for w in _workers(reg)}
    assert len(by_worker) == 2
    spare = []
    for _ in range(200):
        if all(len(c) >= per_worker for c in by_worker.values()):
            break
        with ThreadPoolExecutor(8) as pool:  # opened concurrently: both workers accept
            for conn in pool.map(lambda _: Conn(reg), range(8)):
                mine = by_worker[conn.worker]
                (mine if len(mine) < per_worker else spare).append(conn)
    for conn in spare:
        conn.close()
    assert all(len(c) >= per_worker for c in by_worker.values()), "one worker took them all"
    pairs = zip(*(c[:per_worker] for c in by_worker.values()), strict=True)
    return [conn for pair in pairs for conn in pair]


def _client() -> dict[str, str]:
    """A fresh attacker address (X-Forwarded-For from the trusted proxy 127.0.0.1)."""
    n = uuid.uuid4().int
    return {"X-Forwarded-For": f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250 + 1}"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- failed token checks ----------------------------------------------------------------------


def test_the_lockout_counts_failures_of_every_worker_and_holds_on_every_connection(registry):
    conns = _connections(registry, per_worker=6)
    me = _client()
    wrong = _bearer("guess" * 8)

    def fail(conn: Conn) -> int:
        return conn.request("GET", "/api/v1/stations/me", **me, **wrong).status

    # One failure short of the limit, sent at once over connections of both workers: no
    # count lost between them, and not yet locked.
    with ThreadPoolExecutor(len(conns)) as pool:
        codes = list(pool.map(fail, conns[: MAX_FAILURES - 1]))
    assert codes == [401] * (MAX_FAILURES - 1)
    for conn in conns[:2]:  # one of each worker
        ok = conn.request("GET", "/api/v1/stations/me", **me, **_bearer(registry.token))
        assert ok.status == 200, ok.text
    # The max_failures-th failure, on either worker, locks the client out on both.
    assert fail(conns[-1]) == 401
    for conn in conns:
        for token in (registry.token, registry.admin_token):
            path = "/api/v1/stations/me" if token == registry.token else "/api/v1/admin/reports"
            locked = conn.request("GET", path, **me, **_bearer(token))
            assert locked.status == 429, (conn.worker, locked.text)
            assert 100 <= int(locked.getheader("Retry-After")) <= 120
    # Another client is not concerned.
    assert conns[0].request("GET", "/api/v1/stations/me", **_bearer(registry.token)).status == 200
    for conn in conns:
        conn.close()


def test_a_concurrent_burst_of_failures_locks_out_exactly_once(registry):
    """Forty-eight wrong tokens at once, four on each of twelve connections: the count
    never loses an update (each failure is one UPSERT), so the client is locked out after
    the tenth, and its correct token is refused on every connection."""
    conns = _connections(registry, per_worker=6)
    me = _client()

    def fail(conn: Conn) -> list[int]:
        return [
            conn.request("GET", "/api/v1/stations/me", **me, **_bearer("x" * 40)).status
            for _ in range(4)
        ]

    with ThreadPoolExecutor(len(conns)) as pool:
        codes = [code for codes in pool.map(fail, conns) for code in codes]
    # Every failure that passed the lockout check is counted; those that passed it in the
    # instant before the lock (in flight on the other worker) are the only extra 401s.
    assert MAX_FAILURES <= codes.count(401) < MAX_FAILURES + len(conns), codes
    assert set(codes) <= {401, 429}
    for conn in conns:
        refused = conn.request("GET", "/api/v1/stations/me", **me, **_bearer(registry.token))
        assert refused.status == 429
        conn.close()


# --- the phone pages: typed-serial look-ups and reports ----------------------------------------


def test_lookups_are_counted_across_workers(registry):
    conns = _connections(registry, per_worker=4)
    me = _client()
    codes = [conn.request("GET", "/check?serial=5", **me).status for conn in conns[:LOOKUPS]]
    assert 429 not in codes
    for conn in conns:  # the budget is spent on every worker
        refused = conn.request("GET", "/check?serial=5", **me)
        assert refused.status == 429 and refused.getheader("Retry-After") == "60"
    assert conns[0].request("GET", "/check?serial=5", **_client()).status != 429
    for conn in conns:
        conn.close()


def test_reports_are_counted_across_workers(registry):
    from tests.registry.test_stamp_reports import FORM, PHONE_UA, _form_of, _good, _revoked_stamp

    code, serial = _revoked_stamp(registry)
    conns = _connections(registry, per_worker=3)
    me = _client()

    def report(conn: Conn):
        body = urlencode(_good(_form_of(registry, code))).encode()
        return conn.request(
            "POST", "/report", body, **me, **{"Content-Type": FORM, "User-Agent": PHONE_UA}
        )

    codes = [report(conn).status for conn in conns]
    assert codes == [200] * REPORTS + [429] * (len(conns) - REPORTS)
    for conn in conns:
        conn.close()


# --- bounded: a client spraying addresses -------------------------------------------------------


def _rows(reg) -> int:
    database = db.Database(reg.db_url)
    try:
        with database.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(db.rate_limits)).scalar_one()
    finally:
        database.dispose()


def test_spraying_addresses_neither_grows_the_table_without_bound_nor_lifts_a_lockout(
    registry, monkeypatch
):
    conns = _connections(registry, per_worker=4)
    locked = _client()
    for _ in range(MAX_FAILURES):
        conns[0].request("GET", "/api/v1/stations/me", **locked, **_bearer("y" * 40))
    assert (
        conns[1].request("GET", "/api/v1/stations/me", **locked, **_bearer(registry.token)).status
        == 429
    )

    def spray(i: int) -> None:
        conn = conns[i % len(conns)]
        for _ in range(150):
            conn.request("GET", "/api/v1/stations/me", **_client(), **_bearer("z" * 40))

    with ThreadPoolExecutor(len(conns)) as pool:
        list(pool.map(spray, range(len(conns))))  # 1,200 addresses
    # At most max_clients, plus what each worker wrote since its last clean-up.
    assert _rows(registry) <= 300 + 2 * PRUNE_EVERY_WRITES
    for conn in conns:
        again = conn.request("GET", "/api/v1/stations/me", **locked, **_bearer(registry.token))
        assert again.status == 429
    monkeypatch.setenv("OCOP_REGISTRY_RATE_LIMIT_MAX_CLIENTS", "300")  # as the registry's
    out = registry.cli("prune")
    assert "rate-limit counters deleted:" in out.stdout
    assert _rows(registry) <= 300
    for conn in conns:
        conn.close()


def test_ended_counters_are_deleted_by_the_database_clock(tmp_path):
    """In-process, a fresh PostgreSQL database: counters of a 0.5 s window are gone from
    the table once it ended (prune_counters, which `prune` and the writes run)."""
    from registry.config import AuthLimits
    from registry.ratelimit import Scope, SharedFailedAuthLimiter, prune_counters
    from tests.registry.server import fresh_postgres_db

    url, drop = fresh_postgres_db()
    database = db.Database(url)
    try:
        database.migrate()
        limiter = SharedFailedAuthLimiter(database, Scope.TOKEN, AuthLimits(2, 0.5), 1000)
        for n in range(5):
            limiter.failed(f"192.0.2.{n}")
        limiter.failed("192.0.2.0")  # its second: locked for 0.5 s
        assert (
            limiter.retry_after_s("192.0.2.0") == 1 and limiter.retry_after_s("192.0.2.1") is None
        )
        assert prune_counters(database) == 0
        time.sleep(0.6)
        assert limiter.retry_after_s("192.0.2.0") is None
        assert prune_counters(database) == 5
    finally:
        database.dispose()
        drop()


# --- console sign-ins --------------------------------------------------------------------------


def _sign_in(conn: Conn, me: dict, name: str, password: str):
    """The console's sign-in over `conn`: the form (its CSRF token and sign-in cookie),
    then the POST with that cookie."""
    from tests.registry.console_helpers import SIGN_IN, csrf

    page = conn.request("GET", SIGN_IN, **me)
    cookie = "; ".join(
        value.split(";", 1)[0] for key, value in page.getheaders() if key.lower() == "set-cookie"
    )
    body = urlencode({"csrf_token": csrf(page.text), "name": name, "password": password})
    return conn.request(
        "POST",
        SIGN_IN,
        body.encode(),
        **me,
        Cookie=cookie,
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_failed_sign_ins_are_counted_across_workers(registry):
    from tests.registry.console_helpers import add_user

    name = f"alice{uuid.uuid4().hex[:6]}"
    password = add_user(registry, name, "admin")
    conns = _connections(registry, per_worker=3)
    me = _client()
    # Different names each time: the accounts' own lock is not involved.
    for i in range(MAX_FAILURES - 1):
        reply = _sign_in(conns[i % len(conns)], me, f"nobody{i}", "x" * 14)
        assert reply.status == 401, reply.text[:300]
    for conn in conns[:2]:  # one of each worker: not locked yet
        assert _sign_in(conn, me, name, password).status == 303
    assert _sign_in(conns[-1], me, f"nobody{MAX_FAILURES}", "x" * 14).status == 401
    for conn in conns:
        limited = _sign_in(conn, me, name, password)
        assert limited.status == 429 and "Có quá nhiều lần đăng nhập sai" in limited.text
    for conn in conns:
        conn.close()
