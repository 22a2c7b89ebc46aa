"""PostgreSQL's native partitions of `events` (SQLite keeps one table: nothing here runs).

    events                 PARTITION BY LIST (kind)
      events_scan          FOR VALUES IN ('scan'), PARTITION BY RANGE (day)
        events_scan_YYYY_MM  one month of scans, by `day` ('YYYY-MM-DD', the scan's own day)
        events_scan_default  scans of a month without its partition (a kiosk clock years off)
      events_other         DEFAULT: print records (kept forever: lots feed, phone page)

A month's scans can then be archived by dropping one table (registry/archive.py) instead of
deleting millions of rows. A partitioned table's unique indexes must hold its partition keys,
which is why the idempotency keys live in event_keys. It has no primary key at all, only an
index on id (ID_INDEX; ids come from the events_id_seq sequence): pg_restore --clean, the
documented restore, fails on the inherited primary-key constraints of partitions ("cannot
drop inherited constraint"), and nothing needs one (exactly-once is event_keys' job).

ensure_partitions() creates the months ahead; Database.migrate() (every start of
ocop-registry) and the archive command call it, so the default partition only ever holds
scans dated far from now. When a month's partition is created while the default partition
holds rows of that month, they are moved into it first (PostgreSQL refuses otherwise).
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection

MONTHS_AHEAD = 3  # partitions that exist beyond the current month
# The PostgreSQL advisory lock held while partitions are created or dropped: two registry
# processes starting at once would otherwise both CREATE the same month's table.
LOCK_KEY = 0x0C0B_9A27  # any constant no other lock uses
SCANS, SCANS_DEFAULT, OTHERS = "events_scan", "events_scan_default", "events_other"
ID_INDEX = "events_id"  # PostgreSQL only (SQLite's id is its primary key)
_MONTH_RE = re.compile(r"events_scan_(\d{4})_(\d{2})")


def is_partition(table_name: str) -> bool:
    """One of the partitions (not in registry.db.metadata: schema comparisons skip them)."""
    return table_name in (SCANS, SCANS_DEFAULT, OTHERS) or bool(_MONTH_RE.fullmatch(table_name))


def is_partitioned(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def month_of(day: str) -> str:
    """'YYYY-MM' of a 'YYYY-MM-DD' day."""
    return day[:7]


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def partition_name(month: str) -> str:
    return f"events_scan_{month[:4]}_{month[5:7]}"


def _lock(conn: Connection) -> None:
    """Until the transaction ends (re-entrant)."""
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))


def month_partitions(conn: Connection) -> dict[str, str]:
    """{'YYYY-MM': table name} of the attached monthly scan partitions."""
    names = conn.execute(
        sa.text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :parent"
        ),
        {"parent": SCANS},
    ).scalars()
    found = {}
    for name in names:
        m = _MONTH_RE.fullmatch(name)
        if m:
            found[f"{m.group(1)}-{m.group(2)}"] = name
    return found


def create_month(conn: Connection, month: str) -> bool:
    """The partition of `month` ('YYYY-MM'), moving that month's rows out of the default
    partition into it; False when it exists. Takes the parent's lock (ATTACH), briefly."""
    _lock(conn)
    if month in month_partitions(conn):
        return False
    name, first, after = partition_name(month), f"{month}-01", f"{next_month(month)}-01"
    conn.execute(sa.text(f"CREATE TABLE {name} (LIKE {SCANS} INCLUDING DEFAULTS)"))
    conn.execute(
        sa.text(
            f"WITH moved AS (DELETE FROM {SCANS_DEFAULT} WHERE day >= :first AND day < :after "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ),
        {"first": first, "after": after},
    )
    # The check constraint lets ATTACH skip scanning the new table.
    conn.execute(
        sa.text(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_range CHECK (kind = 'scan' AND "
            f"day IS NOT NULL AND day >= '{first}' AND day < '{after}')"
        )
    )
    conn.execute(
        sa.text(
            f"ALTER TABLE {SCANS} ATTACH PARTITION {name} "
            f"FOR VALUES FROM ('{first}') TO ('{after}')"
        )
    )
    conn.execute(sa.text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range"))
    return True


def ensure_partitions(conn: Connection, today: dt.date | None = None) -> list[str]:
    """Partitions from this month to MONTHS_AHEAD after it (and for last month: a kiosk's
    late upload); returns the months created. Nothing on SQLite."""
    if not is_partitioned(conn):
        return []
    today = today or dt.datetime.now(dt.UTC).date()
    first = today.replace(day=1) - dt.timedelta(days=1)
    month = f"{first.year:04d}-{first.month:02d}"
    created = []
    for _ in range(MONTHS_AHEAD + 2):
        if create_month(conn, month):
            created.append(month)
        month = next_month(month)
    return created


def drop_month(conn: Connection, month: str) -> bool:
    """Detach and drop the month's partition (its rows are gone with it); False when it
    does not exist."""
    _lock(conn)
    name = month_partitions(conn).get(month)
    if name is None:
        return False
    conn.execute(sa.text(f"ALTER TABLE {SCANS} DETACH PARTITION {name}"))
    conn.execute(sa.text(f"DROP TABLE {name}"))
    return True
