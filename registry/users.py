"""The office console's accounts (the `users` table): people who sign in with a password.

A user has a name (what the audit log records), a display name, a role (AdminRole: the same
roles, and the same meaning, as the bearer-token admins of registry/admins.py) and an
argon2id password hash (argon2-cffi, its RFC 9106 low-memory profile). Bearer tokens stay
for machines; passwords are for people in a browser.

Sign-in: after MAX_FAILED_SIGN_INS wrong passwords in a row the account is locked for
LOCK_S (a correct password is refused meanwhile). Every refusal (unknown name, wrong
password, disabled, locked) is the same SignInRefused, and an unknown name is verified
against a dummy hash, so neither the answer nor (much) its time tells which names exist.
`ocop-registry user add|list|disable|reset` manages accounts (registry/cli_user.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from registry import db
from registry.admins import ADMIN_NAME_RE, AdminRole, Principal
from registry.i18n import N_

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256  # argon2 hashes any length; this bounds the work a request can ask
MAX_DISPLAY_NAME_CHARS = 100
MAX_FAILED_SIGN_INS = 5  # wrong passwords in a row that lock the account
LOCK_S = 15 * 60
# Generated passwords: four groups of four from letters and digits that cannot be mistaken
# for each other when read off a screen (no 0/O, 1/l/I); about 78 bits.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789"

u = db.users
_hasher = PasswordHasher()


class UserError(ValueError):
    """Bad name or password, unknown or duplicate user. msgid (marked N_) and values: the
    console shows it in the office's language; str() is the English the CLI prints."""

    def __init__(self, msgid: str, **values: object):
        super().__init__(msgid.format(**values))
        self.msgid, self.values = msgid, values


class SignInRefused(Exception):
    """Unknown name, wrong password, disabled or locked: one answer for all (see above).
    locked_now: this failure locked the account (for the audit log, never the page)."""

    def __init__(self, locked_now: bool = False):
        super().__init__("sign-in refused")
        self.locked_now = locked_now


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    display_name: str
    role: AdminRole
    disabled: bool
    locked_until: str | None
    created_at: str
    last_sign_in_at: str | None


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    principal: Principal
    display_name: str


def check_name(name: str) -> None:
    if not ADMIN_NAME_RE.fullmatch(name):
        raise UserError(
            N_("user name '{name}': use 1-64 lowercase letters, digits, '.', '_' or '-'"),
            name=name,
        )


def check_password(name: str, password: str, display_name: str = "") -> None:
    """The password rules: at least MIN_PASSWORD_CHARS, not the user's name."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(N_("the password needs at least {n} characters"), n=MIN_PASSWORD_CHARS)
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserError(N_("the password may have at most {n} characters"), n=MAX_PASSWORD_CHARS)
    folded = password.strip().casefold()
    if folded in {name.casefold(), display_name.strip().casefold()}:
        raise UserError(N_("the password must not be the user's name"))


def generate_password() -> str:
    groups = ["".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


@functools.cache
def _dummy_hash() -> str:
    """What an unknown name's password is verified against (about the same time as a
    real check)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def warm_up() -> None:
    _dummy_hash()


def _row(r) -> UserRow:
    return UserRow(
        r.id,
        r.name,
        r.display_name,
        AdminRole(r.role),
        bool(r.disabled),
        r.locked_until,
        r.created_at,
        r.last_sign_in_at,
    )


def _by_name(conn: Connection, name: str):
    return conn.execute(sa.select(u).where(u.c.name == name)).first()


def _existing(conn: Connection, name: str):
    row = _by_name(conn, name)
    if row is None:
        raise UserError(N_("no user '{name}'"), name=name)
    return row


def add(conn: Connection, name: str, role: AdminRole, password: str, display_name: str = "") -> int:
    """A new user; returns its id."""
    check_name(name)
    display_name = display_name.strip()
    if len(display_name) > MAX_DISPLAY_NAME_CHARS:
        raise UserError(
            N_("the display name may have at most {n} characters"), n=MAX_DISPLAY_NAME_CHARS
        )
    check_password(name, password, display_name)
    if _by_name(conn, name) is not None:
        raise UserError(N_("user '{name}' already exists"), name=name)
    now = db.utc_now()
    key = conn.execute(
        u.insert().values(
            name=name,
            display_name=display_name,
            role=role.value,
            password_hash=_hasher.hash(password),
            password_changed_at=now,
            created_at=now,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def disable(conn: Connection, name: str) -> int:
    """Refuse `name`'s sign-ins; returns its id (the caller ends its sessions)."""
    row = _existing(conn, name)
    conn.execute(u.update().where(u.c.id == row.id).values(disabled=True))
    return row.id


def reset(conn: Connection, name: str, password: str) -> int:
    """A new password for `name`: re-enables and unlocks it; returns its id (the caller
    ends its sessions: whoever knew the old password is signed out)."""
    row = _existing(conn, name)
    check_password(name, password, row.display_name)
    conn.execute(
        u.update()
        .where(u.c.id == row.id)
        .values(
            password_hash=_hasher.hash(password),
            password_changed_at=db.utc_now(),
            disabled=False,
            failed_sign_ins=0,
            locked_until=None,
        )
    )
    return row.id


def all_by_name(conn: Connection) -> list[UserRow]:
    return [_row(r) for r in conn.execute(sa.select(u).order_by(u.c.name))]


def principal_of(conn: Connection, user_id: int) -> SignedIn | None:
    """The enabled user `user_id`, or None."""
    row = conn.execute(sa.select(u).where(u.c.id == user_id, u.c.disabled == sa.false())).first()
    if row is None:
        return None
    return SignedIn(row.id, Principal(row.name, AdminRole(row.role)), row.display_name)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_in(conn: Connection, name: str, password: str, now: dt.datetime) -> SignedIn:
    """The user whose name and password these are, or SignInRefused (in a write
    transaction: a failure counts, MAX_FAILED_SIGN_INS of them lock the account)."""
    row = _by_name(conn, name) if ADMIN_NAME_RE.fullmatch(name) else None
    password = password[:MAX_PASSWORD_CHARS]
    if row is None:
        _verify(_dummy_hash(), password)
        raise SignInRefused
    locked = row.locked_until is not None and db.parse_time(row.locked_until) > now
    good = _verify(row.password_hash, password)
    if row.disabled or locked:
        raise SignInRefused
    if not good:
        failures = row.failed_sign_ins + 1
        values: dict = {"failed_sign_ins": failures}
        if failures >= MAX_FAILED_SIGN_INS:
            until = now + dt.timedelta(seconds=LOCK_S)
            values = {"failed_sign_ins": 0, "locked_until": until.strftime(db.TIME_FORMAT)}
        conn.execute(u.update().where(u.c.id == row.id).values(**values))
        raise SignInRefused(locked_now=failures >= MAX_FAILED_SIGN_INS)
    values = {
        "failed_sign_ins": 0,
        "locked_until": None,
        "last_sign_in_at": now.strftime(db.TIME_FORMAT),
    }
    if _hasher.check_needs_rehash(row.password_hash):  # parameters raised since it was set
        values["password_hash"] = _hasher.hash(password)
    conn.execute(u.update().where(u.c.id == row.id).values(**values))
    return SignedIn(row.id, Principal(row.name, AdminRole(row.role)), row.display_name)


__all__ = [
    "LOCK_S",
    "MAX_FAILED_SIGN_INS",
    "MIN_PASSWORD_CHARS",
    "SignInRefused",
    "SignedIn",
    "UserError",
    "UserRow",
    "add",
    "all_by_name",
    "check_password",
    "disable",
    "generate_password",
    "principal_of",
    "reset",
    "sign_in",
]
