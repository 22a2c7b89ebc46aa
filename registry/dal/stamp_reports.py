"""Shoppers' stamp reports (`stamp_reports`, registry/public_reports.py): one row per sent
form; a form token's nonce is unique, so a replayed token stores nothing."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db

r = db.stamp_reports


@dataclass(frozen=True)
class StoredReport:
    id: int
    serial: int | None
    code: str
    verdict: str
    problem: str
    where_bought: str
    phone: str | None
    callback_consent: bool
    lang: str
    client_network: str
    client_agent: str
    reported_at: str


def nonce_used(conn: Connection, nonce: str) -> bool:
    return conn.execute(sa.select(r.c.id).where(r.c.token_nonce == nonce)).first() is not None


def add(conn: Connection, token_nonce: str, **values) -> int | None:
    """The new report's id; None when the token's nonce was used already (a concurrent
    replay loses on the unique constraint)."""
    now = db.utc_now()
    inserted = conn.execute(
        db.insert_ignore(conn, r)
        .values(token_nonce=token_nonce, reported_at=now, day=now[:10], **values)
        .returning(r.c.id)
    ).first()
    return inserted.id if inserted is not None else None


def recent(conn: Connection, limit: int = 100, serial: int | None = None) -> list[StoredReport]:
    """The newest first."""
    query = sa.select(r).order_by(r.c.id.desc()).limit(limit)
    if serial is not None:
        query = query.where(r.c.serial == serial)
    return [
        StoredReport(
            row.id,
            row.serial,
            row.code,
            row.verdict,
            row.problem,
            row.where_bought,
            row.phone,
            bool(row.callback_consent),
            row.lang,
            row.client_network,
            row.client_agent,
            row.reported_at,
        )
        for row in conn.execute(query)
    ]


def count(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(r)).scalar_one()
