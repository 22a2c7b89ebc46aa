"""Server-side sessions of the office console (the `console_sessions` table).

The cookie holds a random 256-bit id (urlsafe base64); the table holds its SHA-256 only,
so a copy of the database signs nobody in. A session ends when
  * its user signs out (the row is deleted),
  * it has been idle for IDLE_TIMEOUT_S or is older than ABSOLUTE_TIMEOUT_S,
  * its user is disabled or gets a new password (every row of the user is deleted; the
    look-up also checks the user is still enabled).
A sign-in always makes a new id (a cookie planted before sign-in is never promoted:
no session fixation). Forms carry a CSRF token bound to the id (registry/csrf.py).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from registry import db, users
from registry.auth import generate_token, hash_token
from registry.users import SignedIn

IDLE_TIMEOUT_S = 30 * 60
ABSOLUTE_TIMEOUT_S = 12 * 3600  # one working day, then sign in again
TOUCH_RESOLUTION_S = 60  # last_seen_at is refreshed at most this often (a write)
MAX_ID_CHARS = 100  # a longer cookie is not one of ours: not even hashed

s = db.console_sessions


def start(conn: Connection, user_id: int, client: str, now: dt.datetime) -> str:
    """A new session for `user_id`; returns its id (for the cookie, never stored)."""
    session_id = generate_token()
    stamp = now.strftime(db.TIME_FORMAT)
    conn.execute(
        s.insert().values(
            id_hash=hash_token(session_id),
            user_id=user_id,
            created_at=stamp,
            last_seen_at=stamp,
            client=client[:100],
        )
    )
    return session_id


def _expired(created_at: str, last_seen_at: str, now: dt.datetime) -> bool:
    idle_s = (now - db.parse_time(last_seen_at)).total_seconds()
    age_s = (now - db.parse_time(created_at)).total_seconds()
    return idle_s > IDLE_TIMEOUT_S or age_s > ABSOLUTE_TIMEOUT_S


def look_up(conn: Connection, session_id: str, now: dt.datetime) -> SignedIn | None:
    """The signed-in user of a live session, or None (unknown, expired, user disabled).
    Read-only: `needs_touch` says whether last_seen_at should be refreshed."""
    if not session_id or len(session_id) > MAX_ID_CHARS:
        return None
    row = conn.execute(sa.select(s).where(s.c.id_hash == hash_token(session_id))).first()
    if row is None or _expired(row.created_at, row.last_seen_at, now):
        return None
    return users.principal_of(conn, row.user_id)


def needs_touch(conn: Connection, session_id: str, now: dt.datetime) -> bool:
    last = conn.execute(
        sa.select(s.c.last_seen_at).where(s.c.id_hash == hash_token(session_id))
    ).scalar()
    return last is not None and (now - db.parse_time(last)).total_seconds() >= TOUCH_RESOLUTION_S


def touch(conn: Connection, session_id: str, now: dt.datetime) -> None:
    conn.execute(
        s.update()
        .where(s.c.id_hash == hash_token(session_id))
        .values(last_seen_at=now.strftime(db.TIME_FORMAT))
    )


def end(conn: Connection, session_id: str) -> None:
    if session_id and len(session_id) <= MAX_ID_CHARS:
        conn.execute(s.delete().where(s.c.id_hash == hash_token(session_id)))


def end_all_of(conn: Connection, user_id: int) -> int:
    """Sign `user_id` out everywhere; returns how many sessions ended."""
    return conn.execute(s.delete().where(s.c.user_id == user_id)).rowcount


def purge_expired(conn: Connection, now: dt.datetime) -> int:
    """Delete sessions past either timeout (done at each sign-in: the table stays small)."""
    idle = (now - dt.timedelta(seconds=IDLE_TIMEOUT_S)).strftime(db.TIME_FORMAT)
    old = (now - dt.timedelta(seconds=ABSOLUTE_TIMEOUT_S)).strftime(db.TIME_FORMAT)
    return conn.execute(
        s.delete().where(sa.or_(s.c.last_seen_at < idle, s.c.created_at < old))
    ).rowcount


__all__ = [
    "ABSOLUTE_TIMEOUT_S",
    "IDLE_TIMEOUT_S",
    "end",
    "end_all_of",
    "look_up",
    "needs_touch",
    "purge_expired",
    "start",
    "touch",
]
