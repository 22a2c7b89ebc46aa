"""The kiosk's local SQLite store: one file, WAL, foreign keys, versioned schema.

Durability choices (what the kiosk records must survive kill -9 and power loss):
- journal_mode=WAL: readers (UI) never block the writer (scan worker, print worker, sync).
- synchronous=FULL: in WAL mode NORMAL can lose the last committed transactions on power
  loss (only process crashes are safe). A scan or a print record is small and rare (a few a
  minute), so paying one fsync per commit is cheap insurance on an SD card.
- foreign_keys=ON: SQLite's default is off; we want the schema's references enforced.
- busy_timeout: threads have their own connections; a writer waits briefly instead of failing.
- Explicit BEGIN IMMEDIATE transactions: a writer takes the write lock up front, so two
  writers never deadlock on a lock upgrade.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kiosk.store.migrations import LATEST_VERSION, MIGRATIONS, Migration
from ocop.errors import UserError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
# Each thread has its own connection and SQLite's default page cache is 2 MiB per
# connection; the kernel's page cache already holds the file, so 1 MiB is enough
# (bench/catalog.py measures the look-ups, bench/ui.py the kiosk's memory).
PAGE_CACHE_KIB = 1024
DB_FILENAME = "kiosk.sqlite"


class StoreError(UserError):
    """The database cannot be opened or is newer than this program."""


class StoreFull(StoreError):
    """The disk (or the database's size limit) is full: the transaction was rolled back."""


def _is_full(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or "database or disk is full" in str(exc)
    )


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves (see transaction()).
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        log.warning("journal_mode is %s, not WAL (filesystem without shared memory?)", mode)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
    return conn


class Store:
    """Opens (and migrates) the database; hands each thread its own connection."""

    def __init__(
        self,
        path: Path | str,
        *,
        migrate: bool = True,
        migrations: tuple[Migration, ...] = MIGRATIONS,
    ):
        self.path = Path(path)
        self._local = threading.local()
        self._all_conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if not self.path.parent.exists():
            raise StoreError(f"data folder {self.path.parent} does not exist")
        if migrate:
            apply_migrations(self.conn, migrations)
        else:
            version = schema_version(self.conn)
            if version > LATEST_VERSION:
                raise StoreError(self._too_new(version))

    @classmethod
    def in_dir(cls, data_dir: Path | str, **kwargs) -> Store:
        return cls(Path(data_dir) / DB_FILENAME, **kwargs)

    def _too_new(self, version: int) -> str:
        return (
            f"database {self.path} has schema version {version}, newer than this program "
            f"({LATEST_VERSION}); update ocop-kiosk"
        )

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = _connect(self.path)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"cannot open database {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._all_conns.append(conn)
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception. Not re-entrant."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            # SQLite may already have rolled back (e.g. on SQLITE_FULL).
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if _is_full(exc):
                raise StoreFull(self._full_message()) from exc
            raise

    def _full_message(self) -> str:
        try:
            free_mb = shutil.disk_usage(self.path.parent).free // 1_000_000
            where = f"{free_mb} MB free on the disk holding {self.path.parent}"
        except OSError:
            where = f"the disk holding {self.path.parent}"
        return (
            f"no space left to save ({where}): nothing was changed. Free some space "
            "(old logs, media, backups) and try again; 'ocop-kiosk doctor' shows the disk."
        )

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def query_value(self, sql: str, params: tuple | dict = ()) -> Any:
        """The first column of the one row `sql` always gives (count(*), a PRAGMA)."""
        row = self.query_one(sql, params)
        if row is None:
            raise ValueError(f"no row from {sql!r}")
        return row[0]

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_meta(self, key: str, value: str, conn: sqlite3.Connection | None = None) -> None:
        (conn or self.conn).execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def integrity_check(self) -> str:
        return self.query_value("PRAGMA integrity_check")

    def close(self) -> None:
        with self._lock:
            for conn in self._all_conns:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._all_conns.clear()
        self._local = threading.local()


def schema_version(conn: sqlite3.Connection) -> int:
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"not a kiosk database or corrupt: {exc}") from exc


def apply_migrations(
    conn: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS
) -> list[int]:
    """Bring the schema to the newest version; returns the versions applied.

    Each migration runs in its own transaction together with its user_version bump, so a
    failure rolls back to the last good version. DDL is transactional in SQLite.
    """
    current = schema_version(conn)
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise StoreError(
            f"database schema version {current} is newer than this program "
            f"({latest}); update ocop-kiosk"
        )
    applied = []
    for migration in migrations:
        if migration.version <= current:
            continue
        log.info("applying migration %d: %s", migration.version, migration.description)
        conn.execute("BEGIN IMMEDIATE")
        try:
            # executescript() would COMMIT first; run the statements one by one instead.
            for statement in _split_sql(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"migration {migration.version} ({migration.description}) "
                    f"failed, database left at version {current}: {exc}"
                ) from exc
            raise
        conn.execute("COMMIT")
        current = migration.version
        applied.append(migration.version)
    return applied


def _split_sql(script: str) -> list[str]:
    """Split a script into complete statements (triggers contain inner semicolons)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        if not buf and (not line.strip() or line.strip().startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements
