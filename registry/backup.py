"""`ocop-registry backup` / `restore` for a SQLite registry (PostgreSQL: pg_dump and
pg_restore, then `restore --after-external-restore`; docs/operations.md "Backups").

Backup: SQLite's online backup API copies the live database in one step (a consistent
snapshot, taken while the registry serves) into a temporary file next to the target, which
is switched to a single-file journal mode, checked, fsynced and renamed over the target: a
crash leaves the old backup or the new one, never half a file.

Restore: the backup is checked first (integrity, a registry database); then the backup API
copies it INTO the live database in one destination transaction (SQLite's own journal makes
that all or nothing, and it handles the live file's WAL, which copying files over would
corrupt). The caller (cli) announces the restore in the high-water mark before and opens the
registry after, which begins the new epoch (registry/epoch.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

SERVE_LOCK_FILENAME = "registry.lock"


class BackupError(Exception):
    """Bad input or state for backup/restore: one line for the operator."""


def sqlite_path(db_url: str) -> Path | None:
    """The file of a sqlite:/// URL; None for any other database."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_registry_file(conn: sqlite3.Connection, what: str) -> None:
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"{what} is damaged: {result}")
        conn.execute("SELECT value FROM meta WHERE key = 'registry_id'").fetchone()
        conn.execute("SELECT value FROM counters WHERE name = 'serial'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is not a registry database: {exc}") from None


def backup_sqlite(live: Path, target: Path) -> None:
    target = Path(target).absolute()
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    if target.resolve() == Path(live).resolve():
        raise BackupError("the backup file cannot be the live database")
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    src = sqlite3.connect(live, timeout=30)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # pages=-1: every page in one step, one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check_registry_file(dst, "the new backup")
        finally:
            dst.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        src.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def check_backup_file(backup: Path) -> None:
    if not Path(backup).is_file():
        raise BackupError(f"{backup}: no such file")
    conn = sqlite3.connect(f"file:{Path(backup).absolute()}?mode=ro", uri=True)
    try:
        _check_registry_file(conn, str(backup))
    finally:
        conn.close()


def restore_sqlite(backup: Path, live: Path) -> None:
    """Copy a checked backup into the live database, all or nothing."""
    live.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{Path(backup).absolute()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(live, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


@contextlib.contextmanager
def serving(data_dir: Path) -> Iterator[None]:
    """Held (shared) by `serve` while it runs: `restore` refuses while anyone holds it."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(data_dir) / SERVE_LOCK_FILENAME, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)
        yield


@contextlib.contextmanager
def nobody_serving(data_dir: Path) -> Iterator[None]:
    """Exclusive for the restore; BackupError when a registry serves this data folder."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(data_dir) / SERVE_LOCK_FILENAME, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"a registry is serving from {data_dir}: stop it before restoring"
            ) from None
        yield
