"""Retention of raw scans: `ocop-registry archive --before YYYY-MM [--out DIR]`.

For every month before YYYY-MM that still holds scans (events of kind 'scan', by `day`):
    1. export its rows to DIR/scans-YYYY-MM.jsonl.gz (one JSON object per row, every column;
       written to a temporary name, fsynced, then renamed) and DIR/scans-YYYY-MM.jsonl.gz.sha256
       (`sha256sum -c` format);
    2. delete them: on PostgreSQL the month's partition is detached and dropped when it holds
       nothing but the exported rows (registry/partitions.py), else (SQLite, the default
       partition, rows that arrived during the export) the exported rows are deleted by id.
A month whose file exists already (an earlier run) gets a second file, scans-YYYY-MM.2...,
for rows that arrived since: nothing is ever overwritten. Print records are never archived
(the lots feed and the phone page need them). The current month cannot be archived.

Exactly-once: the idempotency keys (event_keys) are kept, all of them, forever (about 60
bytes a scan against about 500 for the row): a kiosk that resends a scan of an archived
month, however late, is answered `duplicate` and nothing is stored twice. Dropping keys
would make such a resend count again; this command never does.

What else reads raw scans: reports count from them (until daily aggregates), clone
detection looks at a serial's earlier scans: archived months no longer count there.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from registry import db, partitions

e = db.events
MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
FETCH_ROWS = 5_000


class ArchiveError(ValueError):
    """A month that cannot be archived (said to the operator as is)."""


@dataclass(frozen=True)
class ArchivedMonth:
    month: str
    rows: int
    path: Path
    sha256: str
    dropped_partition: bool


def check_before(before: str, today: dt.date | None = None) -> str:
    """`before` as given ('YYYY-MM'), no later than the current month."""
    if not MONTH_RE.fullmatch(before):
        raise ArchiveError(f"--before {before!r}: expected YYYY-MM, e.g. 2026-01")
    today = today or dt.datetime.now(dt.UTC).date()
    current = f"{today.year:04d}-{today.month:02d}"
    if before > current:
        raise ArchiveError(
            f"--before {before}: the current month ({current}) and later cannot be archived"
        )
    return before


def months_before(conn: sa.Connection, before: str) -> list[str]:
    """Months before `before` that hold scans, oldest first."""
    days = conn.execute(
        sa.select(sa.distinct(sa.func.substr(e.c.day, 1, 7))).where(
            e.c.kind == "scan", e.c.day < f"{before}-01"
        )
    ).scalars()
    return sorted(m for m in days if MONTH_RE.fullmatch(m))


def _month_scans(month: str):
    return sa.and_(
        e.c.kind == "scan",
        e.c.day >= f"{month}-01",
        e.c.day < f"{partitions.next_month(month)}-01",
    )


def _free_path(out: Path, month: str) -> Path:
    path, n = out / f"scans-{month}.jsonl.gz", 1
    while path.exists():
        n += 1
        path = out / f"scans-{month}.{n}.jsonl.gz"
    return path


def _export(database: db.Database, month: str, out: Path) -> tuple[int, int, Path, str]:
    """(rows, highest id, file, sha256) of the month's scans, written from one snapshot."""
    path = _free_path(out, month)
    tmp = path.with_name(path.name + ".part")
    digest, rows, highest = hashlib.sha256(), 0, 0
    with database.read() as conn, open(tmp, "wb") as raw:
        with gzip.GzipFile(filename=path.name[:-3], mode="wb", fileobj=raw, mtime=0) as gz:
            result = conn.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(
                sa.select(e).where(_month_scans(month)).order_by(e.c.id)
            )
            for row in result.mappings():
                gz.write(json.dumps(dict(row), ensure_ascii=False).encode("utf-8") + b"\n")
                rows += 1
                highest = max(highest, row["id"])
        raw.flush()
        os.fsync(raw.fileno())
    with open(tmp, "rb") as done:
        for block in iter(lambda: done.read(1 << 20), b""):
            digest.update(block)
    os.replace(tmp, path)
    sha = digest.hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{sha}  {path.name}\n", "utf-8")
    return rows, highest, path, sha


def _delete(database: db.Database, month: str, highest: int) -> bool:
    """Delete the exported rows (ids up to `highest`); True when the month's partition was
    dropped (it held no row newer than the export)."""
    dropped = False
    with database.write(raises_mark=False) as conn:
        name = (
            partitions.month_partitions(conn).get(month)
            if partitions.is_partitioned(conn)
            else None
        )
        if name is not None:
            # Uploads into this month wait until the commit, then go to the default partition.
            conn.execute(sa.text(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE"))
            newer = conn.execute(
                sa.text(f"SELECT EXISTS (SELECT 1 FROM {name} WHERE id > :h)"), {"h": highest}
            ).scalar()
            if not newer:
                dropped = partitions.drop_month(conn, month)
        # What is left of the export: SQLite's rows, the default partition's, or the rows of
        # a partition that took new ones during the export.
        conn.execute(e.delete().where(_month_scans(month), e.c.id <= highest))
    return dropped


def archive_before(database: db.Database, before: str, out: Path) -> list[ArchivedMonth]:
    """Export, then delete, every month of scans before `before` (module docstring)."""
    check_before(before)
    out.mkdir(parents=True, exist_ok=True)
    with database.write(raises_mark=False) as conn:
        partitions.ensure_partitions(conn)
    with database.read() as conn:
        months = months_before(conn, before)
    done = []
    for month in months:
        rows, highest, path, sha = _export(database, month, out)
        dropped = _delete(database, month, highest) if rows else False
        done.append(ArchivedMonth(month, rows, path, sha, dropped))
    if database.engine.dialect.name == "postgresql":
        # Months before `before` whose partitions are empty now (or always were).
        with database.write(raises_mark=False) as conn:
            for month in sorted(partitions.month_partitions(conn)):
                if (
                    month < before
                    and not conn.execute(
                        sa.text(f"SELECT EXISTS (SELECT 1 FROM {partitions.partition_name(month)})")
                    ).scalar()
                ):
                    partitions.drop_month(conn, month)
    return done


def verify_file(path: Path) -> bool:
    """The archive file still has the sha256 written next to it."""
    want = path.with_name(path.name + ".sha256").read_text("utf-8").split()[0]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == want
