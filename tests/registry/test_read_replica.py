"""The read replica (serve --read-db) on real parts: the test PostgreSQL cluster as the
primary, a streaming standby made from it with pg_basebackup -R (tests/registry/replica.py)
and a real `ocop-registry serve` process.

The proof of routing is PostgreSQL's own: the standby is read-only (a write sent there
fails), its replay can be paused (a page read from it shows the standby's older state) and
its pg_stat_database counts the transactions it served."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import psycopg
import pytest
import requests

from registry import db
from tests.registry import console_helpers
from tests.registry.replica import Replica, dsn, primary_url
from tests.registry.server import REPO_ROOT, fresh_postgres_db, start_registry

pytestmark = pytest.mark.postgres
API = "/api/v1"
VERDICT = re.compile(r'data-verdict="([a-z_]+)"')
STAMP_STATE_SQL = "AS catalog_seq"  # registry/dal/phone.py stamp_state's one statement


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    primary = primary_url()
    replica = Replica.create(primary)
    try:
        db_url, drop = fresh_postgres_db(primary)
        name = db_url.rsplit("/", 1)[1]
        replica.wait_replayed(db_url)  # the CREATE DATABASE
        reg = start_registry(
            tmp_path_factory.mktemp("replica"),
            db_url=db_url,
            extra_args=("--read-db", replica.url_for(name)),
        )
        reg.cleanups.append(drop)
        console_helpers.add_accounts(reg)
        try:
            yield reg, replica, name
        finally:
            reg.stop()
    finally:
        replica.destroy()


def _page(reg, code: str, agent: str = "phone") -> requests.Response:
    reply = requests.get(f"{reg.url}/S/{code}", headers={"User-Agent": agent}, timeout=10)
    assert reply.status_code == 200, reply.text[:300]
    return reply


def _verdict(reply: requests.Response) -> str:
    found = VERDICT.search(reply.text)
    assert found, reply.text[:300]
    return found.group(1)


def _primary_views(db_url: str, serial: int) -> int:
    with psycopg.connect(dsn(db_url), autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM stamp_views WHERE serial = %s", (serial,)
        ).fetchone()[0]


def _served(replica: Replica, name: str) -> int:
    """Transactions the standby has run in the registry's database (read from another
    database, so these look-ups do not count themselves)."""
    ((n,),) = replica.query(
        "postgres", "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", name
    )
    return n


def _until(check, timeout_s: float = 20.0, what: str = ""):
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what}")
        time.sleep(0.1)


def _standby_queries(replica: Replica, name: str) -> list[str]:
    """The last statement of every registry connection to the standby."""
    rows = replica.query(
        "postgres",
        "SELECT query FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
        name,
    )
    return [q for (q,) in rows]


def test_stamp_page_reads_the_replica_and_views_are_written_on_the_primary(setup):
    reg, replica, name = setup
    block = reg.issue_block(101, 1)  # written on the primary
    code, serial = block["stamps"][0].rsplit("/", 1)[1], block["first_serial"]
    replica.wait_replayed(reg.db_url)
    before = _served(replica, name)
    for i in range(5):
        assert _verdict(_page(reg, code, agent=f"phone {i}")) == "genuine"
    assert requests.get(f"{reg.url}/v/{code}", timeout=10).status_code == 200  # the beacon
    # The views (a write) reached the primary: the standby would have refused them.
    _until(lambda: _primary_views(reg.db_url, serial) == 6, what="views on the primary")
    assert any(STAMP_STATE_SQL in q for q in _standby_queries(replica, name))
    # Six statements on the standby (its statistics are flushed within seconds).
    _until(lambda: _served(replica, name) - before >= 6, what="standby transactions")
    assert "unreachable" not in reg.log()


def test_a_change_shows_when_the_replica_has_replayed_it(setup):
    """Replica lag: a revocation is on the page once the standby has it, not before."""
    reg, replica, _ = setup
    block = reg.issue_block(101, 1)
    code, serial = block["stamps"][0].rsplit("/", 1)[1], block["first_serial"]
    replica.wait_replayed(reg.db_url)
    assert _verdict(_page(reg, code)) == "genuine"
    replica.pause_replay()
    try:
        revoked = reg.admin(
            "POST",
            f"{API}/admin/revocations/serials",
            json={"first": serial, "last": serial, "reason": "replica test"},
        )
        assert revoked.status_code == 200, revoked.text
        # The primary has the new trust list; the paused standby does not.
        assert _verdict(_page(reg, code, agent="lagging")) == "genuine"
    finally:
        replica.resume_replay()
    replica.wait_replayed(reg.db_url)
    assert _verdict(_page(reg, code, agent="caught up")) == "revoked"


def test_reports_read_the_replica(setup):
    reg, replica, name = setup
    session, reply = console_helpers.sign_in(reg, "victor")  # sessions: the primary
    assert reply.status_code == 303, reply.text[:300]
    replica.wait_replayed(reg.db_url)
    replica.pause_replay()
    try:
        reg.add_station("replica-test-kiosk", "Mộc Châu")  # a write, on the primary
        stations = [s["name"] for s in reg.report()["stations"]]
        assert "demo-station" in stations and "replica-test-kiosk" not in stations
    finally:
        replica.resume_replay()
    replica.wait_replayed(reg.db_url)
    assert "replica-test-kiosk" in [s["name"] for s in reg.report()["stations"]]
    # The console's and the office page's reports and the exports: statements on the standby.
    before = _served(replica, name)
    paths = [
        "/console/reports",
        "/console/reports/export?format=csv&table=per_district",
        "/console/catalog/export/report?format=csv&table=per_product",
    ]
    for path in paths:
        got = session.get(reg.url + path, timeout=30, allow_redirects=False)
        assert got.status_code == 200, (path, got.status_code, got.text[:300])
    for path in ("/reports", f"{API}/admin/reports/export?format=csv&table=per_verdict"):
        got = reg.admin("GET", path)  # the office page and the API: an admin token
        assert got.status_code == 200, (path, got.status_code, got.text[:300])
    _until(lambda: _served(replica, name) - before >= len(paths) + 2, what="report reads")


def test_replica_down_reads_the_primary_and_comes_back(setup):
    reg, replica, name = setup
    block = reg.issue_block(101, 1)
    code = block["stamps"][0].rsplit("/", 1)[1]
    replica.wait_replayed(reg.db_url)
    assert _verdict(_page(reg, code)) == "genuine"  # a pooled standby connection now
    replica.stop()
    try:
        # Every request still answers, from the primary: the pooled connection is found
        # dead at checkout, new ones are refused and the standby is left for a while.
        deadline = time.monotonic() + db.REPLICA_RETRY_S + 1.5  # across one retry
        while time.monotonic() < deadline:
            assert _verdict(_page(reg, code, agent="replica down")) == "genuine"
            assert reg.admin("GET", f"{API}/admin/reports").status_code == 200
            time.sleep(0.2)
        log = reg.log()
        assert log.count("read replica unreachable, reading from the primary") == 1, log
    finally:
        replica.start()
    replica.wait_replayed(reg.db_url)

    def back() -> bool:
        _page(reg, code, agent="replica back")
        return any(STAMP_STATE_SQL in q for q in _standby_queries(replica, name))

    _until(back, timeout_s=db.REPLICA_RETRY_S + 10, what="reads back on the replica")
    assert "read replica reachable again" in reg.log()


def test_a_replica_that_never_answers_holds_no_request(setup, tmp_path):
    """A standby host that takes the connection and never answers (a hung server, packets
    dropped): the connect times out once, then requests read the primary without waiting
    while the retries run in the background."""
    reg, _, name = setup
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # the kernel completes the handshake; nobody ever reads or answers
    try:
        port = silent.getsockname()[1]
        host = start_registry(
            tmp_path / "second-host",
            db_url=reg.db_url,
            extra_args=("--read-db", f"postgresql://postgres@127.0.0.1:{port}/{name}"),
        )
        try:
            # Signed by the first host (this one has no key files: no KEK), with the token
            # this host's --demo start gave demo-station.
            block = reg.issue_block(101, 1, token=host.token)
            code = block["stamps"][0].rsplit("/", 1)[1]
            slow = []
            deadline = time.monotonic() + 2.5 * db.REPLICA_RETRY_S  # two retries
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                reply = requests.get(f"{host.url}/S/{code}", timeout=30)
                assert reply.status_code == 200 and _verdict(reply) == "genuine"
                if time.monotonic() - t0 > 1.0:
                    slow.append(round(time.monotonic() - t0, 2))
            assert slow == [], slow  # the start's check already found it down
            log = host.log()
            assert log.count("read replica unreachable, reading from the primary") == 1, log
            assert "timeout expired" in log, log
        finally:
            host.stop()
    finally:
        silent.close()


def _serve(*args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", "serve", "--port", "0"]
        + ["--data-dir", str(tmp_path / "data"), *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )


def test_config_errors_are_refused_with_a_clear_message(setup, tmp_path):
    reg, replica, name = setup
    sqlite = f"sqlite:///{tmp_path / 'r.sqlite'}"
    result = _serve("--db", sqlite, "--read-db", replica.url_for(name), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "a read replica needs a PostgreSQL primary" in result.stderr
    assert "SQLite has no replicas" in result.stderr
    # The replica on SQLite, and another wrong setting: both named in one refusal.
    result = _serve(
        "--db", reg.db_url, "--read-db", sqlite, "--public-base-url", "ftp://x",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "read replica URL must be PostgreSQL" in result.stderr
    assert "public base URL must be" in result.stderr
    result = _serve("--db", reg.db_url, "--read-db", reg.db_url, tmp_path=tmp_path)
    assert result.returncode == 2 and "the read replica URL is the primary's" in result.stderr
    # The environment variable, the same checks.
    env = subprocess.run(
        [sys.executable, "-m", "registry.cli", "serve", "--port", "0", "--db", sqlite],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        env={**os.environ, "OCOP_REGISTRY_READ_DB": "mysql://h/d"},
    )
    assert env.returncode == 2 and "read replica URL must be PostgreSQL" in env.stderr
    # A writable database (the primary under another spelling) is not a replica.
    other_spelling = reg.db_url.replace("127.0.0.1", "localhost")
    result = _serve("--db", reg.db_url, "--read-db", other_spelling, tmp_path=tmp_path)
    assert result.returncode == 2 and "is not a standby" in result.stderr, result.stderr
    # A standby of another registry's database.
    result = _serve("--db", reg.db_url, "--read-db", replica.url_for("postgres"), tmp_path=tmp_path)
    assert result.returncode == 2 and "holds another database" in result.stderr, result.stderr


def test_read_db_problems_without_a_server():
    """The static checks (registry/config.py), each wrong setting named once."""
    from ocop.errors import UserError
    from registry.config import RegistryConfig

    pg = "postgresql://ocop@db.example/ocop"
    good = RegistryConfig(db_url=pg, data_dir="d", read_db_url=" postgres://ocop@standby/ocop ")
    assert good.read_db_url == "postgres://ocop@standby/ocop"
    assert RegistryConfig(db_url="sqlite:///r.sqlite", data_dir="d").read_db_url == ""
    cases = {
        ("sqlite:///r.sqlite", pg): "a read replica needs a PostgreSQL primary",
        (pg, "sqlite:///r.sqlite"): "read replica URL must be PostgreSQL",
        (pg, "mysql://db.example/ocop"): "got a mysql URL",
        (pg, "postgresql://ocop@db.example:5432/ocop"): "the read replica URL is the primary's",
        (pg, "not a url"): "is not a database URL",
    }
    for (primary, read), message in cases.items():
        with pytest.raises(UserError, match=re.escape(message)):
            RegistryConfig(db_url=primary, data_dir="d", read_db_url=read)
    with pytest.raises(UserError) as refused:
        RegistryConfig(
            db_url="sqlite:///r.sqlite",
            data_dir="d",
            read_db_url=pg,
            hotline="call us",
            view_batch=0,
            trusted_proxies=("nowhere",),
        )
    problems = str(refused.value).split("; ")
    assert len(problems) == 4, problems
