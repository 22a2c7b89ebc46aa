"""Issue 17 items 3 and 5 on SQLite and PostgreSQL: an upload is one transaction and a bounded
number of SQL statements (counted in-process with SQLAlchemy's before_cursor_execute), the
idempotency keys in their own table keep exactly-once, heartbeats are summed up per day,
and `ocop-registry archive` exports a month of raw scans (JSONL.gz + sha256) and drops it,
after which a resend of an archived scan is still a duplicate."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from registry import db, partitions
from registry.api import create_app
from registry.config import RegistryConfig
from registry.dal import events as event_rows
from tests.registry.server import REPO_ROOT, fresh_postgres_db

API = "/api/v1"
# A 50-scan upload with a heartbeat (a SyncEngine round's batch): statements per upload.
# SQLite: a read transaction (token check, verification) then the write transaction, each
# BEGIN a statement of its own; PostgreSQL: one transaction, its BEGIN sent with the first.
# Both: + 5 upserts of the report aggregates (registry/aggregates.py, one per table).
# PostgreSQL: + 1, the shared lockout's read (registry/ratelimit.py), in that transaction.
MAX_STATEMENTS = {"sqlite": 16 + 5, "postgresql": 14 + 5 + 1}
TRANSACTIONS = {"sqlite": 2, "postgresql": 1}


def _scan(text: str, day: str = "2026-11-29", key: str | None = None) -> dict:
    return {
        "kind": "scan",
        "idempotency_key": key or f"s-{uuid.uuid4().hex}",
        "payload": {"scanned_at": f"{day}T10:00:00Z", "text": text, "verdict": "genuine"},
    }


def _heartbeat(**fields) -> dict:
    return {
        "kind": "heartbeat",
        "idempotency_key": f"hb-{uuid.uuid4().hex}",
        "payload": {"at": "2026-11-29T10:00:00Z", **fields},
    }


class Counted:
    """Statements and transactions on an engine while it is open."""

    def __init__(self, engine: sa.Engine):
        self.engine, self.statements, self.transactions = engine, [], 0

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def _begin(self, conn):
        self.transactions += 1

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._statement)
        sa.event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "begin", self._begin)

    def reset(self):
        self.statements, self.transactions = [], 0


@pytest.fixture(scope="module")
def app(registry):
    """The registry app in this process, on the same database and keys as `registry`."""
    database = db.Database(registry.db_url)
    app = create_app(RegistryConfig(db_url=registry.db_url, data_dir=registry.data_dir), database)
    with TestClient(app) as client:
        yield client, database
    database.dispose()


def _post(client, token, items):
    reply = client.post(
        f"{API}/uploads", json={"items": items}, headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_an_upload_is_one_transaction_of_a_bounded_number_of_statements(registry, app):
    client, database = app
    stamps = registry.issue_block(count=100)["stamps"]
    _post(client, registry.token, [_scan(stamps[0])])  # warm: trust list cached, pool open
    with Counted(database.engine) as counted:
        items = [_scan(text) for text in stamps[:50]] + [_heartbeat(disk_free_bytes=10)]
        reply = _post(client, registry.token, items)
        first = list(counted.statements)
        dialect = database.engine.dialect.name
        assert reply["accepted"] == 51 and counted.transactions == TRANSACTIONS[dialect]
        inserts = [s for s in first if s.lstrip().upper().startswith("INSERT INTO EVENTS")]
        assert len(inserts) == 1, inserts  # one multi-row INSERT, not 50
        bound = MAX_STATEMENTS[dialect]
        assert len(first) <= bound, "\n".join(first)
        # The same batch again (a lost acknowledgement): duplicates, and still one transaction.
        counted.reset()
        again = _post(client, registry.token, items)
        assert again["duplicate"] == 51 and counted.transactions == TRANSACTIONS[dialect]
        assert len(counted.statements) <= bound
        assert not any("INSERT INTO events" in s for s in counted.statements)


def test_scan_keys_are_claimed_once_even_by_rows_stored_in_one_batch(registry, app):
    client, database = app
    text = registry.issue_block()["stamps"][0]
    key = f"s-{uuid.uuid4().hex}"
    reply = _post(client, registry.token, [_scan(text, key=key), _scan(text, key=key)])
    assert [r["status"] for r in reply["results"]] == ["accepted", "duplicate"]
    with database.read() as conn:
        assert event_rows.prior_outcomes(conn, _station_id(conn), [key]).accepted == {key}
        stored = conn.execute(
            sa.select(sa.func.count()).where(db.events.c.idempotency_key == key)
        ).scalar_one()
    assert stored == 1


def _station_id(conn, name: str = "demo-station") -> int:
    return conn.execute(sa.select(db.stations.c.id).where(db.stations.c.name == name)).scalar_one()


def test_heartbeats_keep_the_newest_and_a_summary_of_each_day(registry, app):
    client, database = app
    name = f"hb-sum-{uuid.uuid4().hex[:6]}"
    token = registry.add_station(name)
    beats = [
        _heartbeat(disk_free_bytes=500, pending_outbox=3, uptime_s=100, camera="scanning"),
        _heartbeat(disk_free_bytes=200, pending_outbox=9, uptime_s=5, camera="no_camera"),
        _heartbeat(disk_free_bytes=900, pending_outbox=None, uptime_s=400, printer="ready"),
    ]
    for beat in beats:
        assert _post(client, token, [beat])["accepted"] == 1
    assert _post(client, token, [beats[-1]])["duplicate"] == 1  # a resend counts once
    with database.read() as conn:
        station = _station_id(conn, name)
        (day,) = event_rows.heartbeat_days(conn, station, "2000-01-01")
        newest = conn.execute(
            sa.select(db.station_heartbeats).where(db.station_heartbeats.c.station_id == station)
        ).one()
    assert day.heartbeats == 3
    assert day.min_disk_free_bytes == 200 and day.max_pending_outbox == 9
    assert day.min_uptime_s == 5
    assert day.last_camera == "no_camera" and day.last_printer == "ready"
    assert json.loads(newest.payload_json)["disk_free_bytes"] == 900
    # The reports (page and JSON) read both through dal.reports.stations_with_heartbeat.
    health = {s["name"]: s for s in registry.report()["stations"]}[name]
    assert health["heartbeat"]["disk_free_bytes"] == 900 and health["contact"] == "ok"
    assert health["today"]["heartbeats"] == 3 and health["today"]["max_pending_outbox"] == 9


def _cli(registry, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli",
            *args,
            "--db",
            registry.db_url,
            "--data-dir",
            str(registry.data_dir),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )


def test_archive_exports_a_month_drops_it_and_resends_stay_duplicates(registry, app, tmp_path):
    client, database = app
    stamps = registry.issue_block(count=30)["stamps"]
    old = [_scan(t, day="2025-03-14") for t in stamps[:20]]
    kept = [_scan(t, day="2025-04-02") for t in stamps[20:]]
    assert _post(client, registry.token, old + kept)["accepted"] == 30
    with database.read() as conn:
        if partitions.is_partitioned(conn):  # a month far from now: a partition of its own
            assert "2025-03" not in partitions.month_partitions(conn)

    assert _cli(registry, "archive", "--before", "2099-01").returncode != 0  # not the future
    done = _cli(registry, "archive", "--before", "2025-04", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    files = sorted(tmp_path.glob("scans-*.jsonl.gz"))
    march = [f for f in files if f.name.startswith("scans-2025-03")]
    assert len(march) == 1, files
    want = (march[0].parent / (march[0].name + ".sha256")).read_text().split()
    assert want == [hashlib.sha256(march[0].read_bytes()).hexdigest(), march[0].name]
    rows = [json.loads(line) for line in gzip.decompress(march[0].read_bytes()).splitlines()]
    assert {r["idempotency_key"] for r in rows} >= {s["idempotency_key"] for s in old}
    assert all(r["kind"] == "scan" and r["day"].startswith("2025-03") for r in rows)

    with database.read() as conn:
        left = set(
            conn.execute(
                sa.select(db.events.c.idempotency_key).where(db.events.c.day.like("2025-0%"))
            ).scalars()
        )
    assert left == {s["idempotency_key"] for s in kept}
    # The archived scans resent (a kiosk that had lost the acknowledgement): duplicates.
    assert _post(client, registry.token, old)["duplicate"] == 20
    with database.read() as conn:
        assert not conn.execute(
            sa.select(sa.func.count()).where(db.events.c.day.like("2025-03%"))
        ).scalar_one()
    again = _cli(registry, "archive", "--before", "2025-04", "--out", str(tmp_path))
    assert again.returncode == 0 and "nothing to archive" in again.stdout
    audit = registry.admin("GET", f"{API}/admin/audit").json()
    assert any(a["action"] == "scans.archive" for a in audit.get("entries", audit))


def test_partitions_are_created_ahead_and_take_rows_from_the_default_one(registry, app):
    client, database = app
    with database.read() as conn:
        if not partitions.is_partitioned(conn):
            pytest.skip("SQLite keeps one events table")
        months = partitions.month_partitions(conn)
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    assert f"{today.year:04d}-{today.month:02d}" in months
    text = registry.issue_block()["stamps"][0]
    assert _post(client, registry.token, [_scan(text, day="2031-07-09")])["accepted"] == 1
    with database.write() as conn:
        assert partitions.create_month(conn, "2031-07")
        n = conn.execute(sa.text("SELECT count(*) FROM events_scan_2031_07")).scalar_one()
        in_default = conn.execute(
            sa.text("SELECT count(*) FROM events_scan_default WHERE day LIKE '2031-07%'")
        ).scalar_one()
    assert (n, in_default) == (1, 0)


def test_archive_refuses_bad_months(registry):
    for bad in ("2026-13", "26-01", "2026-1"):
        done = _cli(registry, "archive", "--before", bad)
        assert done.returncode != 0 and "YYYY-MM" in (done.stderr + done.stdout)


def _changes(client, token, since=0, limit=2000, encoding="identity"):
    reply = client.get(
        f"{API}/catalog/changes?since={since}&limit={limit}",
        headers={"Authorization": f"Bearer {token}", "Accept-Encoding": encoding},
    )
    assert reply.status_code == 200, reply.text
    return reply


def test_a_catalog_of_exactly_one_page_has_no_empty_page_after_it(registry, app):
    client, _ = app
    whole = _changes(client, registry.token).json()
    kinds = ("producers", "media", "products", "tombstones")
    page = max(len(whole[k]) for k in kinds)
    assert not whole["more"] and page > 1
    exact = _changes(client, registry.token, limit=page).json()
    assert not exact["more"] and exact["cursor"] == whole["cursor"]  # no second, empty page
    assert all(len(exact[k]) == len(whole[k]) for k in kinds)
    first = _changes(client, registry.token, limit=page - 1).json()
    assert first["more"] and first["cursor"] < whole["cursor"]
    rest = _changes(client, registry.token, since=first["cursor"], limit=page - 1).json()
    assert not rest["more"] and rest["cursor"] == whole["cursor"]


def test_replies_are_gzipped_at_the_measured_level(registry, app):
    from registry.api import GZIP_LEVEL

    client, _ = app
    plain = _changes(client, registry.token).content
    zipped = _changes(client, registry.token, encoding="gzip")
    assert zipped.headers["content-encoding"] == "gzip"
    sizes = {level: len(gzip.compress(plain, compresslevel=level)) for level in (1, 9)}
    wire = int(zipped.headers["content-length"])
    assert abs(wire - len(gzip.compress(plain, compresslevel=GZIP_LEVEL))) < 64
    assert GZIP_LEVEL < 9 and sizes[9] <= wire < sizes[1]


def test_two_registries_creating_next_months_partitions_at_once_both_succeed(tmp_path):
    """A month rolls over while two registry processes start (or archive): both create the
    same new partitions; the advisory lock makes the second find them instead of failing on
    a duplicate table."""
    if not os.environ.get("OCOP_TEST_POSTGRES_URL"):
        pytest.skip("$OCOP_TEST_POSTGRES_URL not set (scripts/start-test-postgres.sh)")
    import datetime as dt
    import threading

    url, drop = fresh_postgres_db()
    database = db.Database(url)
    try:
        database.migrate()
        later = dt.date(2031, 3, 15)
        created, errors, first_in = [], [], threading.Event()

        def start(delay_s: float) -> None:
            try:
                with database.write() as conn:
                    created.append(partitions.ensure_partitions(conn, later))
                    first_in.set()
                    time.sleep(delay_s)  # hold the transaction open: the other one runs
            except Exception as exc:  # noqa: BLE001 - the assertion below shows it
                errors.append(exc)

        a = threading.Thread(target=start, args=(1.0,))
        a.start()
        first_in.wait(30)
        b = threading.Thread(target=start, args=(0.0,))
        b.start()
        a.join(60)
        b.join(60)
        assert not errors, errors
        assert sorted(map(len, created)) == [0, partitions.MONTHS_AHEAD + 2]
        with database.read() as conn:
            assert {"2031-02", "2031-06"} <= set(partitions.month_partitions(conn))
    finally:
        database.dispose()
        drop()


def test_an_upload_on_a_connection_the_database_closed_is_retried_not_failed(registry, app):
    """No pre-ping: a pooled connection PostgreSQL closed (a restart, an idle timeout) fails
    its first statement; the upload runs again on a new connection instead of answering 500."""
    client, database = app
    if database.is_sqlite:
        pytest.skip("PostgreSQL connections only")
    text = registry.issue_block()["stamps"][0]
    database.engine.dispose()  # the pool holds exactly the one connection made below
    assert _post(client, registry.token, [_scan(text)])["accepted"] == 1
    with database.engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    killer = db.make_engine(registry.db_url)
    try:
        with killer.connect() as conn:
            assert conn.execute(sa.select(sa.func.pg_terminate_backend(pid))).scalar_one()
    finally:
        killer.dispose()
    reply = _post(client, registry.token, [_scan(text), _heartbeat()])
    assert reply["accepted"] == 2
