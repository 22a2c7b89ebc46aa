"""The kiosk's stored trust lists: verified on the way in and again on every load, with
rollback protection. The list itself, its signature and its checks are ocop.stamps.trust."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from dataclasses import dataclass

from kiosk.trusted_time import parse_iso, record_signed_time, trusted_now, trusted_now_iso
from ocop.stamps.errors import ForeignRootError, TrustError
from ocop.stamps.freshness import TrustFreshness
from ocop.stamps.trust import TrustList, verify_signed_trust_list, verify_trust_envelope

META_ROOT_SUCCESSOR = "root_successor"  # JSON {"origin": configured root, "root": its successor}

log = logging.getLogger(__name__)


def newest_verified_row(conn: sqlite3.Connection, pinned_root) -> tuple[TrustList, str] | None:
    """The highest-sequence stored list that verifies under the pinned root (rows signed by
    another root, e.g. a former demo root, are skipped)."""
    for row in conn.execute("SELECT sequence, signed_json FROM trust_lists ORDER BY sequence DESC"):
        try:
            return verify_signed_trust_list(row[1], pinned_root), row[1]
        except ForeignRootError as exc:
            log.debug("stored trust list %s skipped: %s", row[0], exc)
        except TrustError as exc:
            log.warning("stored trust list %s ignored: %s", row[0], exc)
    return None


def load_current_trust_list(store, pinned_root) -> TrustList | None:
    """The newest stored trust list, re-verified now; None when there is none."""
    found = newest_verified_row(store.conn, pinned_root)
    return found[0] if found else None


def store_trust_list(
    store, blob: str | bytes, pinned_root, conn: sqlite3.Connection | None = None
) -> TrustList:
    """Verify and store a signed trust list (sync, import, demo). Rollback protection: a list
    with a lower sequence than the stored one is refused; the same sequence is accepted only
    when identical (a repeated download). Pass `conn` to join an open transaction."""
    if isinstance(blob, bytes):
        try:
            blob = blob.decode("utf-8")
        except UnicodeDecodeError:
            raise TrustError("trust list is not UTF-8 text") from None
    if conn is None:
        with store.transaction() as tx:
            return _verify_and_store(tx, blob, pinned_root)
    return _verify_and_store(conn, blob, pinned_root)


def _verify_and_store(conn: sqlite3.Connection, blob: str, pinned_root) -> TrustList:
    # A new list must come with a delegation valid now (trusted clock); stored ones are
    # re-verified without that check.
    verified = verify_trust_envelope(blob, pinned_root, now=trusted_now(conn))
    stored = _store_verified(conn, verified.trust_list, blob, pinned_root)
    if isinstance(pinned_root, str) and verified.root_public_key != pinned_root:
        pin_successor_root(conn, pinned_root, verified.root_public_key)
    return stored


def pin_successor_root(conn: sqlite3.Connection, origin: str, root: str) -> None:
    """A root the pinned one handed over to (through signed successions): pinned from now
    on, as long as the configured root stays `origin` (changing the config undoes it)."""
    value = json.dumps({"origin": origin, "root": root}, sort_keys=True)
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
        "SET value = excluded.value",
        (META_ROOT_SUCCESSOR, value),
    )
    log.warning("root key succession: now pinning %s...", root[:16])


def successor_root(conn: sqlite3.Connection, origin: str) -> str | None:
    """The root pinned by succession from `origin`, or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (META_ROOT_SUCCESSOR,)).fetchone()
    if row is None:
        return None
    try:
        data = json.loads(row[0])
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("origin") != origin:
        return None
    root = data.get("root")
    return root if isinstance(root, str) else None


def _store_verified(conn, trust_list: TrustList, blob: str, pinned_root) -> TrustList:
    current = newest_verified_row(conn, pinned_root)
    if current is not None:
        stored, _ = current
        if trust_list.sequence < stored.sequence:
            raise TrustError(
                f"trust list sequence {trust_list.sequence} is older than the "
                f"stored {stored.sequence}; refused (rollback protection)"
            )
        if trust_list.sequence == stored.sequence:
            if trust_list.to_dict() == stored.to_dict():
                return stored  # the same list again: nothing to do
            raise TrustError(
                f"a different trust list with sequence {trust_list.sequence} "
                f"is already stored; refused"
            )
    # A row with this sequence signed by another root (a former demo root) is replaced.
    conn.execute("DELETE FROM trust_lists WHERE sequence = ?", (trust_list.sequence,))
    # Signed registry time: the floor of the kiosk's trusted clock (kiosk.trusted_time).
    record_signed_time(conn, trust_list.issued_at)
    conn.execute(
        "INSERT INTO trust_lists(sequence, signed_json, received_at) VALUES (?, ?, ?)",
        (trust_list.sequence, blob, trusted_now_iso(conn)),
    )
    return trust_list


@dataclass(frozen=True)
class TrustState:
    """The newest stored list's freshness by the trusted clock: for the sync status, the
    staff screen, the doctor and the heartbeat (the verifier has the list itself)."""

    freshness: TrustFreshness
    sequence: int = 0  # 0: no list
    expires_at: str | None = None  # None: no list, or a version 1 list

    def to_json(self) -> dict:
        return {
            "freshness": self.freshness.value,
            "sequence": self.sequence,
            "expires_at": self.expires_at,
        }


def stored_trust_state(conn: sqlite3.Connection, now: dt.datetime | None = None) -> TrustState:
    """From the newest stored row, which was verified when it was stored (the signature is
    checked again whenever the list is used for verifying). `now`: default trusted now."""
    row = conn.execute(
        "SELECT sequence, signed_json FROM trust_lists ORDER BY sequence DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return TrustState(TrustFreshness.NONE)
    try:
        body = json.loads(row[1])["trust_list"]
        expires_at = body.get("expires_at")
    except (ValueError, KeyError, TypeError, AttributeError):
        expires_at = None
    expires_at = expires_at if isinstance(expires_at, str) else None
    now = now or trusted_now(conn)
    return TrustState(TrustFreshness.of(parse_iso(expires_at), now), int(row[0]), expires_at)
