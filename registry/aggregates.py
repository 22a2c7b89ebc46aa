"""Daily report aggregates: counts of the stored events per day, kept exactly once in the
transaction that stores them, so the office's report reads a few hundred rows per day of
the period and never the raw `events` (registry/dal/reports.py).

    event_counts_daily          day x kind x verdict       scans per day, per verdict; prints
    scan_counts_product_daily   day x product              scans per product
    scan_counts_station_daily   day x station              scans per district (the station's
                                                           district at report time)
    scan_counts_*_monthly       month x product / station  the same for whole months: a year
                                                           reads 12 months, not 365 days

Exactly once: `add_scans` is given only the rows the INSERT actually stored (events.add_events
returns them: ON CONFLICT DO NOTHING skips a concurrent resend's rows, and a duplicate
answered `duplicate` never reaches the INSERT), and adds their counts with one upsert per
table (INSERT ... ON CONFLICT DO UPDATE SET count = count + excluded.count) in the same
transaction: the counts commit or roll back with the rows.

Why narrow tables and not one day x product x station x verdict grain: at 10 M scans a year
from 500 stations and 2,000 products such a grain has nearly one row per scan (the report
would again read millions of rows); each report query needs one dimension only. Tables
(TABLES) and the keys in each are upserted in one fixed order, so two concurrent uploads
lock shared rows (today's 'scan'/'genuine' row) in the same order and never deadlock.

`recount` is the definition of every table as a GROUP BY over `events`: what the tests
compare with and what `rebuild` writes. Migration 0011 backfills with the same SQL, frozen
there. Once raw events are archived or deleted (retention), the aggregates are the only
record of those days: never rebuild them after that, and never delete them with the events.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

e = db.events
NO_VERDICT = ""  # stands for a NULL verdict in event_counts_daily's key
MONTH_CHARS = 7  # YYYY-MM of a YYYY-MM-DD day
TABLES = (
    db.event_counts_daily,
    db.scan_counts_product_daily,
    db.scan_counts_product_monthly,
    db.scan_counts_station_daily,
    db.scan_counts_station_monthly,
)


def _keys(row: Mapping[str, Any]) -> Iterable[tuple[sa.Table, tuple]]:
    """The aggregate rows (table, key) one stored event row counts towards."""
    day, kind = row["day"], row["kind"]
    verdict = row["verdict"] if row["verdict"] is not None else NO_VERDICT
    yield db.event_counts_daily, (day, kind, verdict)
    if kind == "scan":
        month = day[:MONTH_CHARS]
        if row["product_id"] is not None:
            yield db.scan_counts_product_daily, (day, row["product_id"])
            yield db.scan_counts_product_monthly, (month, row["product_id"])
        yield db.scan_counts_station_daily, (day, row["station_id"])
        yield db.scan_counts_station_monthly, (month, row["station_id"])


def _key_columns(table: sa.Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def add_scans(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Count event rows (scans and print records) this transaction stored, as inserted
    into `events`: only rows the INSERT really stored (see the module's docstring)."""
    counts: dict[sa.Table, Counter] = {}
    for row in rows:
        for table, key in _keys(row):
            counts.setdefault(table, Counter())[key] += 1
    for table in TABLES:  # one order of tables and of keys in each: no deadlock
        counter = counts.get(table)
        if not counter:
            continue
        names = _key_columns(table)
        insert = db.dialect_insert(conn, table)
        statement = insert.on_conflict_do_update(
            index_elements=names, set_={"count": table.c.count + insert.excluded["count"]}
        )
        conn.execute(
            statement,
            [
                {**dict(zip(names, key, strict=True)), "count": n}
                for key, n in sorted(counter.items())
            ],
        )


def recount() -> dict[sa.Table, sa.Select]:
    """Each aggregate table as a SELECT over the raw events (columns as the table's)."""
    scans = e.c.kind == "scan"
    n = sa.func.count().label("count")
    verdict = sa.func.coalesce(e.c.verdict, NO_VERDICT).label("verdict")
    month = sa.func.substr(e.c.day, 1, MONTH_CHARS).label("month")
    return {
        db.event_counts_daily: sa.select(e.c.day, e.c.kind, verdict, n).group_by(
            e.c.day, e.c.kind, verdict
        ),
        db.scan_counts_product_daily: sa.select(e.c.day, e.c.product_id, n)
        .where(scans, e.c.product_id.is_not(None))
        .group_by(e.c.day, e.c.product_id),
        db.scan_counts_station_daily: sa.select(e.c.day, e.c.station_id, n)
        .where(scans)
        .group_by(e.c.day, e.c.station_id),
        db.scan_counts_product_monthly: sa.select(month, e.c.product_id, n)
        .where(scans, e.c.product_id.is_not(None))
        .group_by(month, e.c.product_id),
        db.scan_counts_station_monthly: sa.select(month, e.c.station_id, n)
        .where(scans)
        .group_by(month, e.c.station_id),
    }


def period_parts(first_day: str, last_day: str) -> tuple[list[str], list[tuple[str, str]]]:
    """A period of days as (whole months inside it, the day ranges left at its ends): what
    a per-product or per-station count reads from the monthly and the daily tables."""
    first, last = dt.date.fromisoformat(first_day), dt.date.fromisoformat(last_day)
    months: list[str] = []
    start = first if first.day == 1 else _next_month(first)
    while _next_month(start) - dt.timedelta(days=1) <= last:
        months.append(start.isoformat()[:MONTH_CHARS])
        start = _next_month(start)
    if not months:
        return [], [(first_day, last_day)]
    head_end = dt.date.fromisoformat(months[0] + "-01") - dt.timedelta(days=1)
    ranges = [(first_day, head_end.isoformat())] if head_end >= first else []
    if start <= last:
        ranges.append((start.isoformat(), last_day))
    return months, ranges


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def rebuild(conn: Connection) -> None:
    """Recount every aggregate table from the raw events (in the caller's transaction)."""
    for table, select in recount().items():
        conn.execute(table.delete())
        conn.execute(table.insert().from_select([c.name for c in table.columns], select))
