import sqlite3

import pytest

from kiosk.store import Store, StoreError, apply_migrations, schema_version
from kiosk.store.migrations import LATEST_VERSION, MIGRATIONS, Migration


def test_fresh_database_is_at_latest_version(store):
    assert schema_version(store.conn) == LATEST_VERSION
    assert store.query_one("PRAGMA journal_mode")[0] == "wal"
    assert store.query_one("PRAGMA foreign_keys")[0] == 1
    assert store.query_one("PRAGMA synchronous")[0] == 2  # FULL
    assert store.integrity_check() == "ok"


def test_migration_from_previous_schema(data_dir):
    path = data_dir / "kiosk.sqlite"
    Store(path).close()  # a database at today's schema, with data
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
    future = MIGRATIONS + (
        Migration(
            LATEST_VERSION + 1, "add a column", "ALTER TABLE meta ADD COLUMN note TEXT DEFAULT 'n';"
        ),
    )
    store = Store(path, migrations=future)
    assert schema_version(store.conn) == LATEST_VERSION + 1
    assert store.query_one("SELECT value, note FROM meta WHERE key='k'")[:] == ("v", "n")
    store.close()


def test_failed_migration_leaves_database_intact(data_dir):
    path = data_dir / "kiosk.sqlite"
    Store(path).close()
    broken = MIGRATIONS + (
        Migration(
            LATEST_VERSION + 1,
            "broken",
            "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
        ),
    )
    with pytest.raises(StoreError, match="left at version"):
        Store(path, migrations=broken)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert (
        conn.execute("SELECT count(*) FROM sqlite_master WHERE name='half_done'").fetchone()[0] == 0
    )


def test_newer_database_is_refused(data_dir):
    path = data_dir / "kiosk.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this program"):
        Store(path)


def test_corrupt_file_is_a_clear_error(data_dir):
    path = data_dir / "kiosk.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        Store(path)


def test_transaction_rolls_back(store):
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.set_meta("a", "1", conn)
        raise RuntimeError("boom")
    assert store.get_meta("a") is None


def test_apply_migrations_is_idempotent(store):
    assert apply_migrations(store.conn) == []


def test_threads_get_their_own_connection(store):
    import threading

    seen = []
    t = threading.Thread(target=lambda: seen.append(store.conn))
    t.start()
    t.join()
    assert seen[0] is not store.conn


def test_full_disk_is_a_clear_error_and_changes_nothing(store):
    """SQLITE_FULL, produced for real by capping the database at its current size."""
    from kiosk.store import StoreFull

    with store.transaction() as conn:
        store.set_meta("before", "1", conn)
    pages = store.query_one("PRAGMA page_count")[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFull, match="no space left to save"), store.transaction() as conn:
        for i in range(2000):
            conn.execute(
                "INSERT INTO outbox(kind, idempotency_key, payload_json, "
                "created_at) VALUES ('scan', ?, ?, 'now')",
                (f"k{i}", "x" * 500),
            )
    assert store.query_one("SELECT count(*) FROM outbox")[0] == 0
    assert store.get_meta("before") == "1"
    assert store.integrity_check() == "ok"
