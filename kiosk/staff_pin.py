"""The staff PIN: stored hashed, checked in constant time, locked out after repeated failures.

Format of `staff.pin_hash` (from `ocop-kiosk staff hash-pin`):
    scrypt$<log2 n>$<r>$<p>$<salt base64>$<hash base64>
scrypt (hashlib, OpenSSL) with n=2**14, r=8, p=1: ~50 ms on a Pi 4, 16 MiB of memory. A PIN
has few digits, so the hash alone does not stop an offline guess; the lockout protects the
touchscreen, and the config file should be readable by root and the kiosk user only.

Lockout: after `max_attempts` wrong PINs in a row the gate refuses every PIN for
`lockout_s`. The failure count and the lock's end (UTC epoch seconds) live in the store's meta
table, so restarting the kiosk does not reset them. A lock further in the future than
`lockout_s` (clock moved backwards) is shortened to `lockout_s` from now.

Demo PIN 2468 works only when `pin_hash` is empty AND the data folder holds demo data
(kiosk.demo.state); a real kiosk with no PIN configured has no staff mode. The demo PIN is
public (shown on the demo PIN screen, in the docs): `hash_pin` refuses it as a real PIN, and
on a real kiosk it never opens staff mode, even under a hash made of it elsewhere.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import hmac
import os
import time
from collections.abc import Callable

from kiosk.demo.state import is_demo_data

DEMO_PIN = "2468"
SCHEME = "scrypt"
DEFAULT_LOG2_N, DEFAULT_R, DEFAULT_P = 14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
MIN_PIN_DIGITS, MAX_PIN_DIGITS = 4, 12
META_FAILURES = "staff_pin_failures"
META_LOCKED_UNTIL = "staff_pin_locked_until"


class PinFormatError(ValueError):
    pass


def check_pin_format(pin: str) -> None:
    if not pin.isdigit() or not MIN_PIN_DIGITS <= len(pin) <= MAX_PIN_DIGITS:
        raise PinFormatError(f"a PIN is {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(pin: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        pin.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r + (1 << 20),
        dklen=KEY_BYTES,
    )


def hash_pin(
    pin: str,
    *,
    log2_n: int = DEFAULT_LOG2_N,
    r: int = DEFAULT_R,
    p: int = DEFAULT_P,
    salt: bytes | None = None,
    _demo: bool = False,
) -> str:
    check_pin_format(pin)
    if pin == DEMO_PIN and not _demo:
        raise PinFormatError(f"{DEMO_PIN} is the public demo PIN; choose another")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    key = _scrypt(pin, salt, log2_n, r, p)
    return f"{SCHEME}${log2_n}${r}${p}${_b64(salt)}${_b64(key)}"


def parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    parts = encoded.strip().split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise PinFormatError(
            "staff.pin_hash must look like 'scrypt$14$8$1$<salt>$<hash>' "
            "(make one with 'ocop-kiosk staff hash-pin')"
        )
    try:
        log2_n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError as exc:
        raise PinFormatError(f"staff.pin_hash is malformed: {exc}") from None
    if not (10 <= log2_n <= 20 and 1 <= r <= 32 and 1 <= p <= 16 and salt and key):
        raise PinFormatError("staff.pin_hash parameters are out of range")
    return log2_n, r, p, salt, key


def verify_pin(pin: str, encoded: str) -> bool:
    """True when `pin` matches; constant-time comparison; False for any malformed input."""
    try:
        log2_n, r, p, salt, key = parse_hash(encoded)
    except PinFormatError:
        return False
    candidate = _scrypt(pin, salt, log2_n, r, p) if pin else b""
    return hmac.compare_digest(candidate, key)


class PinCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    DISABLED = "disabled"  # no PIN configured on a real (non-demo) kiosk


@dataclasses.dataclass(frozen=True)
class PinResult:
    check: PinCheck
    attempts_left: int = 0
    locked_for_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.check is PinCheck.OK


class PinGate:
    """Checks PINs against the configured hash, with a lockout persisted in the store."""

    def __init__(
        self,
        store,
        pin_hash: str,
        max_attempts: int,
        lockout_s: float,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.max_attempts = max_attempts
        self.lockout_s = lockout_s
        self.clock = clock
        self.demo = not pin_hash.strip() and is_demo_data(store)
        self._hash = pin_hash.strip() or (_DEMO_HASH() if self.demo else "")

    @classmethod
    def from_settings(cls, store, staff_settings, **kwargs) -> PinGate:
        return cls(
            store,
            staff_settings.pin_hash,
            staff_settings.max_attempts,
            staff_settings.lockout_s,
            **kwargs,
        )

    @property
    def enabled(self) -> bool:
        return bool(self._hash)

    def _failures(self) -> int:
        try:
            return int(self.store.get_meta(META_FAILURES, "0"))
        except ValueError:
            return 0

    def locked_for_s(self) -> float:
        try:
            until = float(self.store.get_meta(META_LOCKED_UNTIL, "0"))
        except ValueError:
            until = 0.0
        now = self.clock()
        if until - now > self.lockout_s:  # wall clock went backwards: cap the lock
            until = now + self.lockout_s
            self._write(self._failures(), until)
        return max(0.0, until - now)

    def attempts_left(self) -> int:
        return max(0, self.max_attempts - self._failures())

    def _write(self, failures: int, locked_until: float) -> None:
        with self.store.transaction() as conn:
            self.store.set_meta(META_FAILURES, str(failures), conn)
            self.store.set_meta(META_LOCKED_UNTIL, f"{locked_until:.3f}", conn)

    def check(self, pin: str) -> PinResult:
        """Slow on purpose (scrypt): call it off the UI thread."""
        if not self.enabled:
            return PinResult(PinCheck.DISABLED)
        remaining = self.locked_for_s()
        if remaining > 0:
            return PinResult(PinCheck.LOCKED, 0, remaining)
        if verify_pin(pin, self._hash) and (self.demo or pin != DEMO_PIN):
            self._write(0, 0.0)
            return PinResult(PinCheck.OK, self.max_attempts)
        failures = self._failures() + 1
        if failures >= self.max_attempts:
            self._write(0, self.clock() + self.lockout_s)
            return PinResult(PinCheck.LOCKED, 0, self.lockout_s)
        self._write(failures, 0.0)
        return PinResult(PinCheck.WRONG, self.max_attempts - failures)


_demo_hash_cache: list[str] = []


def _DEMO_HASH() -> str:
    """Hashed once per process with a fixed salt (the demo PIN is public anyway)."""
    if not _demo_hash_cache:
        _demo_hash_cache.append(hash_pin(DEMO_PIN, salt=b"ocop-demo-pin-01", _demo=True))
    return _demo_hash_cache[0]
