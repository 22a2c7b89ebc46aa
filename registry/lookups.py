"""A serial typed by hand from a damaged label (the phone pages' GET form): what the
registry knows of it. A typed number carries no signature, so the answer never says
"genuine"; it says what was issued, printed, revoked or suspected, and how often checked.

Lookups are limited per client and minute (registry/ratelimit.py request_limiter: shared
by every process on PostgreSQL, LookupLimiter in memory on SQLite): the form would
otherwise list the province's serials for anyone who loops over numbers."""

from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from ocop.stamps.serials import serial_digits
from registry.dal import keys
from registry.dal import phone as rows
from registry.ratelimit import RequestLimiter

MAX_SERIAL = 2**40 - 1  # ocop/stamps/serials.py: 13 digits at most
MAX_SERIAL_DIGITS = len(str(MAX_SERIAL))
WINDOW_S = 60.0


class SerialProblem(enum.Enum):
    """Why a typed serial was not looked up; each has its own message on the page."""

    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    TOO_LONG = "too_long"
    ZERO = "zero"
    UNKNOWN = "unknown"  # well-formed, never issued


class SerialState(enum.Enum):
    ISSUED = "issued"  # in a stamp block, no print record yet
    PRINTED = "printed"
    REVOKED = "revoked"
    SUSPECT = "suspect"  # on the suspect (possibly copied) list


@dataclass(frozen=True)
class SerialInfo:
    serial: int
    product_id: int
    state: SerialState
    checks: int
    first_check_at: str | None

    @property
    def digits(self) -> str:
        return serial_digits(self.serial)


def parse_serial(text: str) -> int | SerialProblem:
    """'0000 0012 3456' (as the label prints it), '123456', '0000-0012-3456' -> 123456."""
    compact = re.sub(r"[\s.\-]", "", text or "")
    if not compact:
        return SerialProblem.EMPTY
    if not compact.isascii() or not compact.isdigit():
        return SerialProblem.NOT_DIGITS
    if len(compact.lstrip("0")) > MAX_SERIAL_DIGITS or int(compact) > MAX_SERIAL:
        return SerialProblem.TOO_LONG
    if int(compact) == 0:
        return SerialProblem.ZERO
    return int(compact)


def look_up(conn: Connection, serial: int) -> SerialInfo | SerialProblem:
    block = keys.block_of_serial(conn, serial)
    if block is None:
        return SerialProblem.UNKNOWN
    checks, first = rows.checks_of_serial(conn, serial)
    return SerialInfo(serial, block.product_id, _state(conn, serial), checks, first)


def _state(conn: Connection, serial: int) -> SerialState:
    key_id = rows.key_of_serial(conn, serial)
    revoked_range = any(
        r.first_serial <= serial <= r.last_serial for r in keys.revoked_ranges(conn)
    )
    if revoked_range or (key_id is not None and _key_revoked_for(conn, key_id, serial)):
        return SerialState.REVOKED
    if serial in set(keys.suspect_serials(conn)):
        return SerialState.SUSPECT
    record = rows.print_record(conn, serial)
    if record is not None and record.get("status") == "printed":
        return SerialState.PRINTED
    return SerialState.ISSUED


def _key_revoked_for(conn: Connection, key_id: int, serial: int) -> bool:
    for row in keys.revoked_keys(conn):
        if row.key_id == key_id:
            return row.last_good_serial is None or serial > row.last_good_serial
    return False


class LookupLimiter(RequestLimiter):
    """At most `per_minute` lookups per client in any 60 s (sync routes run in threads)."""

    def __init__(self, per_minute: int, clock=time.monotonic):
        super().__init__(per_minute, WINDOW_S, clock)
        self.per_minute = per_minute
