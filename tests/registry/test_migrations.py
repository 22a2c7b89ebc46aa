"""Registry schema migrations (registry/migrations) on real SQLite files and PostgreSQL
databases: an empty database, one created before migrations existed (the frozen schema 1
SQL in fixtures/, as metadata.create_all emitted it at commit 543809e), one migrated by a
newer registry, and one that is not a registry's at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from registry import db
from registry.migrations import (
    BASELINE,
    MigrationError,
    alembic_config,
    compare_server_default,
    current_revisions,
    head_revision,
    include_name,
    upgrade,
)
from tests.registry.server import REPO_ROOT, backends, fresh_postgres_db

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LEGACY_REGISTRY_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(params=backends())
def empty_url(request, tmp_path):
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    url, drop = fresh_postgres_db()
    yield url
    drop()


def engine_for(url: str) -> sa.Engine:
    return db.make_engine(url)


def schema_diffs(url: str) -> list:
    """What alembic autogenerate would change to make the database match registry.db."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": compare_server_default,
                    "include_name": include_name,
                },
            )
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def revisions(url: str) -> tuple[str, ...]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return current_revisions(conn)
    finally:
        engine.dispose()


def load_schema_1(url: str) -> None:
    """A registry database as the code before migrations left it: create_all's tables,
    meta schema_version 1 and registry_id, the counters, a producer and a product."""
    engine = engine_for(url)
    sql = (FIXTURES / f"schema1_{engine.dialect.name}.sql").read_text("utf-8")
    statements = [s.strip() for s in sql.split(";\n")]
    with engine.begin() as conn:
        for statement in statements:
            lines = [line for line in statement.splitlines() if not line.startswith("--")]
            if "".join(lines).strip():
                conn.exec_driver_sql("\n".join(lines))
        conn.execute(
            sa.text(
                "INSERT INTO meta (key, value) VALUES ('schema_version', '1'), "
                "('registry_id', :rid)"
            ),
            {"rid": LEGACY_REGISTRY_ID},
        )
        conn.execute(
            sa.text("INSERT INTO counters (name, value) VALUES ('change_seq', 2), ('serial', 500)")
        )
        conn.execute(
            sa.text(
                "INSERT INTO producers (id, name, updated_at, seq) VALUES "
                "('htx-legacy', 'HTX cũ', '2025-01-01T00:00:00Z', 1)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO products (id, name_vi, group_code, producer_id, "
                "updated_at, seq) VALUES (77, 'Chè cũ', 1, 'htx-legacy', "
                "'2025-01-01T00:00:00Z', 2)"
            )
        )
    engine.dispose()


def registry_cli(*args: str, url: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args, "--db", url, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )


def reflect(url: str) -> dict:
    """Every table's columns, keys, indexes and constraints as plain, comparable data."""
    engine = engine_for(url)
    try:
        inspector = sa.inspect(engine)
        out = {}
        for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
            out[table] = {
                "columns": [
                    (
                        c["name"],
                        str(c["type"]),
                        c["nullable"],
                        c.get("default"),
                        c.get("autoincrement"),
                    )
                    for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table)["constrained_columns"],
                "fks": sorted(
                    (
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                        tuple(sorted((f.get("options") or {}).items())),
                    )
                    for f in inspector.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in inspector.get_unique_constraints(table)
                ),
            }
        return out
    finally:
        engine.dispose()


def test_an_empty_database_is_created_at_head_and_equals_the_metadata(empty_url):
    database = db.Database(empty_url)
    database.migrate()
    with database.read() as conn:
        registry_id = db.get_meta(conn, "registry_id")
        assert db.counter_value(conn, "change_seq") == 0
        assert db.counter_value(conn, "serial") == 0
    database.migrate()  # idempotent: nothing re-created
    with database.read() as conn:
        assert db.get_meta(conn, "registry_id") == registry_id
    database.dispose()
    assert revisions(empty_url) == (head_revision(),)
    assert schema_diffs(empty_url) == []


def test_the_first_revision_is_exactly_the_schema_create_all_made(empty_url, tmp_path):
    """Revision 0001 against the frozen schema 1 SQL: same tables, columns, types,
    defaults, keys, indexes and constraint names."""
    if empty_url.startswith("sqlite"):
        legacy_url = f"sqlite:///{tmp_path / 'legacy.sqlite'}"
        drop = None
    else:
        legacy_url, drop = fresh_postgres_db()
    try:
        load_schema_1(legacy_url)
        engine = engine_for(empty_url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), BASELINE)
        engine.dispose()
        migrated, frozen = reflect(empty_url), reflect(legacy_url)
        assert sorted(migrated) == sorted(frozen)
        for table in frozen:
            assert migrated[table] == frozen[table], table
    finally:
        if drop:
            drop()


def test_a_database_from_before_migrations_is_adopted_not_recreated(empty_url, tmp_path):
    load_schema_1(empty_url)
    result = registry_cli("init-db", url=empty_url, data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "adopting a registry database created before migrations" in result.stderr
    assert revisions(empty_url) == (head_revision(),)
    assert schema_diffs(empty_url) == []
    engine = engine_for(empty_url)
    with engine.connect() as conn:
        assert db.get_meta(conn, "registry_id") == LEGACY_REGISTRY_ID  # kiosk cursors hold
        assert db.counter_value(conn, "serial") == 500  # no serial reused
        assert db.counter_value(conn, "change_seq") == 2
        assert conn.execute(sa.select(db.products.c.name_vi)).scalars().all() == ["Chè cũ"]
    engine.dispose()
    # Once adopted it is an ordinary migrated database: the next start changes nothing.
    again = registry_cli("station", "list", url=empty_url, data_dir=tmp_path / "data")
    assert again.returncode == 0, again.stderr
    assert "adopting" not in again.stderr
    assert revisions(empty_url) == (head_revision(),)


@pytest.mark.parametrize("command_args", [("init-db",), ("serve", "--port", "0")])
def test_a_database_migrated_by_a_newer_registry_is_refused(empty_url, tmp_path, command_args):
    database = db.Database(empty_url)
    database.migrate()
    with database.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_2030'"))
    database.dispose()
    result = registry_cli(*command_args, url=empty_url, data_dir=tmp_path / "data")
    assert result.returncode == 2, result.stderr
    assert "'9999_from_2030'" in result.stderr
    assert "newer ocop-registry" in result.stderr
    assert revisions(empty_url) == ("9999_from_2030",)  # left as it was
    assert not (tmp_path / "data" / "keys").exists()  # nothing else done either


def test_tables_that_are_not_a_registry_are_refused_and_left_alone(empty_url):
    engine = engine_for(empty_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(MigrationError, match="not an OCOP registry database"):
        upgrade(engine)
    assert sa.inspect(engine).get_table_names() == ["invoices"]
    engine.dispose()


def test_a_pre_migration_database_of_another_schema_version_is_refused(empty_url):
    load_schema_1(empty_url)
    engine = engine_for(empty_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta SET value = '7' WHERE key = 'schema_version'"))
    with pytest.raises(MigrationError, match="schema_version '7'"):
        upgrade(engine)
    assert "alembic_version" not in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_the_migrations_ship_in_the_installed_package():
    """pyproject's package discovery must include the migration packages (env.py and
    versions/ are loaded from the installed package at every start)."""
    import tomllib

    from setuptools import find_packages

    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    found = find_packages(
        str(REPO_ROOT), include=config["tool"]["setuptools"]["packages"]["find"]["include"]
    )
    assert {"registry.migrations", "registry.migrations.versions"} <= set(found)
    versions = REPO_ROOT / "registry" / "migrations" / "versions"
    assert (versions / "__init__.py").exists() and list(versions.glob("0001_*.py"))


def test_print_records_from_before_the_lots_feed_get_their_place_in_it(empty_url):
    """Revision 0007 on a database holding print records (and a scan): each print record
    gets its id as its lot_seq, the counter starts above them, so the feed serves them and
    a new record comes after them."""
    from registry.dal import lots

    engine = engine_for(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0006")
        conn.execute(
            sa.text("INSERT INTO stations(name, token_hash, created_at) VALUES ('s', 'h', 'now')")
        )
        for i, (kind, serial, lot) in enumerate(
            [("print", 41, "A1"), ("scan", 41, ""), ("print", 42, "A1")], start=1
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO events(station_id, idempotency_key, kind, occurred_at, day, "
                    "received_at, serial, product_id, payload_json) VALUES ((SELECT id FROM "
                    "stations), :k, :kind, 'x', 'x', 'x', :serial, 101, :p)"
                ),
                {
                    "k": f"k{i}",
                    "kind": kind,
                    "serial": serial,
                    "p": f'{{"status": "printed", "lot": "{lot}"}}',
                },
            )
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with engine.begin() as conn:
        seqs = conn.execute(sa.text("SELECT kind, lot_seq FROM events ORDER BY id")).all()
        assert [tuple(r) for r in seqs] == [("print", 1), ("scan", None), ("print", 3)]
        assert db.take_sequence(conn, "lot_seq", 1) == 4
        page = lots.lot_ranges_since(conn, 0, 10)
    engine.dispose()
    assert page["cursor"] == 3 and not page["more"]
    assert page["lots"] == [
        {
            "first_serial": 41,
            "last_serial": 42,
            "product_id": 101,
            "lot": "A1",
            "produced_on": None,
            "best_before": None,
        }
    ]


def test_report_aggregates_are_backfilled_from_the_existing_events(empty_url):
    """Revision 0011 on a database holding scans and print records of two stations (NULL
    verdicts and products among them): the aggregate tables hold exactly their counts, the
    same as registry/aggregates.recount, so the report reads the same numbers as before."""
    from registry import aggregates

    engine = engine_for(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0009")
        for name, district in (("a", "Mộc Châu"), ("b", "")):
            conn.execute(
                sa.text(
                    "INSERT INTO stations(name, token_hash, district, created_at) "
                    "VALUES (:n, :h, :d, 'now')"
                ),
                {"n": name, "h": f"h-{name}", "d": district},
            )
        events = [  # station, kind, day, product, verdict
            ("a", "scan", "2026-11-01", 101, "genuine"),
            ("a", "scan", "2026-11-01", 101, "genuine"),
            ("b", "scan", "2026-11-01", 101, "genuine"),
            ("b", "scan", "2026-11-01", None, "not_a_stamp"),
            ("a", "scan", "2026-11-02", 102, None),
            ("a", "print", "2026-11-02", 102, "printed"),
            ("a", "print", "2026-11-02", 102, None),
            ("a", "print", "2026-11-02", 102, "void"),
        ]
        for i, (station, kind, day, product, verdict) in enumerate(events):
            conn.execute(
                sa.text(
                    "INSERT INTO events(station_id, idempotency_key, kind, occurred_at, day, "
                    "received_at, serial, product_id, verdict, payload_json) VALUES ((SELECT id "
                    "FROM stations WHERE name = :s), :k, :kind, :day, :day, 'x', 7, :p, :v, '{}')"
                ),
                {"s": station, "k": f"k{i}", "kind": kind, "day": day, "p": product, "v": verdict},
            )
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with engine.begin() as conn:
        got = {t.name: {tuple(r) for r in conn.execute(sa.select(t))} for t in aggregates.recount()}
        recounted = {
            t.name: {tuple(r) for r in conn.execute(q)} for t, q in aggregates.recount().items()
        }
        ids = dict(conn.execute(sa.text("SELECT name, id FROM stations")).all())
    engine.dispose()
    assert got == recounted
    assert got == {
        "event_counts_daily": {
            ("2026-11-01", "scan", "genuine", 3),
            ("2026-11-01", "scan", "not_a_stamp", 1),
            ("2026-11-02", "scan", "", 1),
            ("2026-11-02", "print", "printed", 1),
            ("2026-11-02", "print", "", 1),
            ("2026-11-02", "print", "void", 1),
        },
        "scan_counts_product_daily": {("2026-11-01", 101, 3), ("2026-11-02", 102, 1)},
        "scan_counts_station_daily": {
            ("2026-11-01", ids["a"], 2),
            ("2026-11-01", ids["b"], 2),
            ("2026-11-02", ids["a"], 1),
        },
        "scan_counts_product_monthly": {("2026-11", 101, 3), ("2026-11", 102, 1)},
        "scan_counts_station_monthly": {("2026-11", ids["a"], 3), ("2026-11", ids["b"], 2)},
    }


def test_heartbeat_events_become_summaries_and_scans_move_into_partitions(empty_url):
    """0013 on a database with rows: heartbeat events (two stations, two days) become
    station_heartbeat_days plus the newest one per station, scans and print records keep
    their ids and get their keys in event_keys (on PostgreSQL: in their month's partition),
    and a resend of a migrated scan is still found."""
    from registry import partitions
    from registry.dal import events as event_rows

    engine = engine_for(empty_url)
    rows = [  # (station, key, kind, day, received_at, payload)
        (1, "s1", "scan", "2026-01-05", "2026-01-05T01:00:00Z", {"text": "x"}),
        (1, "s2", "scan", "2026-02-07", "2026-02-07T01:00:00Z", {"text": "y"}),
        (2, "s1", "scan", "2026-02-08", "2026-02-08T01:00:00Z", {"text": "z"}),
        (1, "p1", "print", "2026-01-05", "2026-01-05T02:00:00Z", {"status": "printed"}),
        (1, "h1", "heartbeat", "2026-01-05", "2026-01-05T03:00:00Z", {"disk_free_bytes": 50}),
        (1, "h2", "heartbeat", "2026-01-05", "2026-01-05T04:00:00Z", {"disk_free_bytes": 20}),
        (1, "h3", "heartbeat", "2026-01-06", "2026-01-06T04:00:00Z", {"camera": "scanning"}),
        (2, "h1", "heartbeat", "2026-02-08", "2026-02-08T05:00:00Z", {"pending_outbox": 4}),
    ]
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0009")
        for name in ("a", "b"):
            conn.execute(
                sa.text(
                    "INSERT INTO stations(name, token_hash, created_at) VALUES (:n, :n, 'now')"
                ),
                {"n": name},
            )
        # station b already has a newer heartbeat than its event: that one stays.
        conn.execute(
            sa.text(
                "INSERT INTO station_heartbeats VALUES (2, 'h9', 'x', '2026-03-01T00:00:00Z', "
                "'{\"newest\": true}')"
            )
        )
        for station, key, kind, day, received, payload in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO events(station_id, idempotency_key, kind, occurred_at, day, "
                    "received_at, payload_json) VALUES (:s, :k, :kind, :at, :day, :at, :p)"
                ),
                {
                    "s": station,
                    "k": key,
                    "kind": kind,
                    "at": received,
                    "day": day,
                    "p": json.dumps(payload),
                },
            )
        ids = dict(
            conn.execute(
                sa.text(
                    "SELECT station_id || idempotency_key, id FROM events WHERE kind != 'heartbeat'"
                )
            ).all()
        )
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with engine.begin() as conn:
        kept = dict(
            conn.execute(sa.text("SELECT station_id || idempotency_key, id FROM events")).all()
        )
        assert kept == ids  # heartbeats gone, the rest with their ids
        keys = {
            tuple(r)
            for r in conn.execute(sa.text("SELECT station_id, idempotency_key FROM event_keys"))
        }
        assert keys == {(1, "s1"), (1, "s2"), (2, "s1"), (1, "p1")}
        assert event_rows.prior_outcomes(conn, 1, ["s1", "h1", "p1"]).accepted == {"s1", "p1"}
        days = {(d.station_id, d.day): d for d in event_rows.heartbeat_days(conn, 1, "2000")}
        assert days[(1, "2026-01-05")].heartbeats == 2
        assert days[(1, "2026-01-05")].min_disk_free_bytes == 20
        assert days[(1, "2026-01-06")].last_camera == "scanning"
        (b_day,) = event_rows.heartbeat_days(conn, 2, "2000")
        assert b_day.heartbeats == 1 and b_day.max_pending_outbox == 4
        newest = dict(
            conn.execute(
                sa.text("SELECT station_id, idempotency_key FROM station_heartbeats")
            ).all()
        )
        assert newest == {1: "h3", 2: "h9"}
        if conn.dialect.name == "postgresql":
            months = partitions.month_partitions(conn)
            assert {"2026-01", "2026-02"} <= set(months)
            in_feb = conn.execute(sa.text(f"SELECT count(*) FROM {months['2026-02']}")).scalar()
            assert in_feb == 2
            others = conn.execute(sa.text("SELECT count(*) FROM events_other")).scalar()
            assert others == 1
        # The id sequence goes on above the migrated rows.
        conn.execute(
            sa.text(
                "INSERT INTO events(station_id, idempotency_key, kind, occurred_at, day, "
                "received_at, payload_json) VALUES (1, 'new', 'scan', 'x', '2026-02-09', 'x', '{}')"
            )
        )
        new_id = conn.execute(sa.text("SELECT id FROM events WHERE idempotency_key = 'new'"))
        assert new_id.scalar_one() > max(ids.values())
    engine.dispose()
    assert schema_diffs(empty_url) == []
