"""Keys, trust lists and stamp blocks. All signing goes through kiosk.stamps (StampSigner,
make_trust_list, sign_trust_list): there is no second implementation of the formats.

The online private keys (stamp signing, list signing) live where registry/keystore.py puts
them: files in <data_dir>/keys/ readable by the owner only, or, with a KEK configured, the
database wrapped with it (every process and host then shares them). The quick-start root
key is only ever a file (root.key; production keeps the root offline). The database holds
public keys, which key is current, revocations and every published trust list (verbatim,
by sequence).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection, Row

from ocop.clock import ISO_SECONDS
from ocop.stamps.catalog_signature import LOTS as LOTS_FEED
from ocop.stamps.catalog_signature import sign_catalog_reply
from ocop.stamps.codec import MAX_KEY_ID, MAX_PRODUCT_ID, MAX_SERIAL
from ocop.stamps.delegation import (
    Delegation,
    parse_utc,
    sign_delegation,
    sign_succession,
    utc_text,
)
from ocop.stamps.keys import (
    fingerprint,
    generate_private_key,
    load_private_key,
    load_public_key_b64,
    public_key_b64,
    save_private_key,
)
from ocop.stamps.signer import (
    DEFAULT_TRUST_VALIDITY_S,
    StampSigner,
    make_trust_list,
    signing_key_entry,
)
from ocop.stamps.trust import (
    RevokedKey,
    RevokedRange,
    SigningKey,
    TrustList,
    canonical_json,
    sign_trust_list,
    verify_signed_trust_list,
)
from registry import audit, db
from registry.audit import AuditAction
from registry.dal import keys
from registry.kek import Kek, KekError
from registry.keystore import KeyStore, key_store, list_key_name, signing_key_name

ROOT_KEY_FILE = "root.key"  # quick start / demo only: production keeps the root offline
DEFAULT_DELEGATION_DAYS = 365.0
MAX_DELEGATION_DAYS = 5 * 366.0
DELEGATION_WARN_DAYS = 30
META_ROOT = "root_public_key"
META_CURRENT_KEY = "current_signing_key_id"
FIRST_VALID_FROM = dt.date(2020, 1, 1)


class SigningError(Exception):
    """Keys missing or unusable; the CLI prints it, the API answers 503."""


class RotationRefused(SigningError):
    """Key rotation before the next key's not-before date (without the emergency flag).
    `key_id` and `valid_from` name that key and day (None when no next key is published):
    the console says it in the office's language and date form, the CLI and API the text."""

    def __init__(self, text: str, key_id: int | None = None, valid_from: dt.date | None = None):
        super().__init__(text)
        self.key_id, self.valid_from = key_id, valid_from


class BlockConflict(ValueError):
    """The same request id was used before for another product or count."""


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Block:
    id: int
    product_id: int
    key_id: int
    issued_on: str
    first_serial: int
    last_serial: int
    stamps: list[str]
    request_id: str

    def to_json(self) -> dict:
        return {
            "block_id": self.id,
            "request_id": self.request_id,
            "product_id": self.product_id,
            "key_id": self.key_id,
            "issued_on": self.issued_on,
            "first_serial": self.first_serial,
            "last_serial": self.last_serial,
            "count": len(self.stamps),
            "stamps": self.stamps,
        }


class KeyRing:
    """The registry's keys. Thread-safe; private keys are read once and cached.

    trust_list_validity_s: each published list expires this long after it is signed (kiosks
    then say "out of date"); refresh() re-signs when less than half remains.
    next_key_lead_s: the next signing key is in every list at least this long before it may
    sign (default: one validity period), so rotation never meets a kiosk that is fresh but
    does not know the key."""

    def __init__(
        self,
        keys_dir: Path,
        base_url: str,
        *,
        trust_list_validity_s: float = DEFAULT_TRUST_VALIDITY_S,
        next_key_lead_s: float | None = None,
        kek: Kek | None = None,
    ):
        self.keys_dir = Path(keys_dir)
        self.store: KeyStore = key_store(kek, self.keys_dir)
        self.base_url = base_url
        self.trust_list_validity_s = float(trust_list_validity_s)
        self.next_key_lead_s = float(
            trust_list_validity_s if next_key_lead_s is None else next_key_lead_s
        )
        self._lock = threading.Lock()
        self._private: dict[str, object] = {}
        self._trust_cache: tuple[int, TrustList, str] | None = None

    @classmethod
    def for_config(cls, config) -> KeyRing:
        """The key ring a RegistryConfig describes (CLI and app)."""
        return cls(
            config.keys_dir,
            config.stamp_base_url,
            trust_list_validity_s=config.trust_list_validity_s,
            next_key_lead_s=config.key_lead_s,
            kek=config.kek,
        )

    # --- keys ---------------------------------------------------------------------------

    def _load(self, conn: Connection, name: str):
        with self._lock:
            key = self._private.get(name)
            if key is None:
                try:
                    key = self.store.load(conn, name)
                except KekError as exc:
                    raise SigningError(str(exc)) from None
                if key is None:
                    raise SigningError(
                        f"private key {name} is missing from {self.store.describe()}"
                    )
                self._private[name] = key
            return key

    def prepare_storage(self, conn: Connection) -> list[Path]:
        """At start (a write transaction): refuse keys that cannot be read as configured
        (in the database without the KEK, a wrong KEK, a tampered row) and, with a KEK, move
        key files into the database. Returns the moved files (delete after the commit)."""
        return self.store.prepare(conn)

    def root_key_in_data_folder(self) -> Path | None:
        """The root private key file when one sits in the data folder (quick start and
        demo put it there; production keeps it offline): warned about."""
        path = self.keys_dir / ROOT_KEY_FILE
        return path if path.exists() else None

    def root_public_key(self, conn: Connection) -> str:
        value = db.get_meta(conn, META_ROOT)
        if value is None:
            raise SigningError("registry keys are not initialised (run 'ocop-registry init-db')")
        return value

    def initialise(
        self,
        conn: Connection,
        today: dt.date | None = None,
        root: Ed25519PrivateKey | None = None,
    ) -> bool:
        """First start: the root (`root`, e.g. from removable media; else, for quick start
        and demo, a new one in <data>/keys/root.key), signing key 1, the next key
        pre-published, a list-signing key delegated by the root, trust list 1. Later
        starts need no root key; they make sure a next key is published. Returns True
        when keys were created."""
        today = today or utc_today()
        if db.get_meta(conn, META_ROOT) is not None:
            changed = False
            if keys.current_delegation(conn) is None:
                # A database from before delegations: delegate once with the root key
                # still in the data folder, or ask for it.
                path = self.root_key_in_data_folder()
                if path is None:
                    raise SigningError(
                        "no list-signing key is delegated yet: run 'ocop-registry root "
                        "delegate --root-key FILE'"
                    )
                self.delegate(conn, load_private_key(path))
                changed = True
            if self.ensure_next_key(conn, today) is not None:
                changed = True
            if changed:  # kiosks get the new key (and list-signing key) at once
                self.publish(conn)
            return False
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if root is None:
            root_path = self.keys_dir / ROOT_KEY_FILE
            root = load_private_key(root_path) if root_path.exists() else None
            if root is None:
                root = generate_private_key()
                save_private_key(root_path, root)
        db.set_meta(conn, META_ROOT, public_key_b64(root))
        db.set_meta(conn, META_CURRENT_KEY, "1")
        keys.add_signing_key(conn, 1, public_key_b64(self._key_file(conn, 1)), FIRST_VALID_FROM)
        self.ensure_next_key(conn, today)
        self.delegate(conn, root)
        self.publish(conn)
        return True

    # --- the root's delegation and succession (root key given by the caller) -------------

    def _check_root(self, conn: Connection, root: Ed25519PrivateKey) -> None:
        if public_key_b64(root) != self.root_public_key(conn):
            raise SigningError(
                f"that key ({fingerprint(root)[:16]}...) is not this registry's root "
                f"({self.root_fingerprint(conn)[:16]}...)"
            )

    def delegate(
        self,
        conn: Connection,
        root: Ed25519PrivateKey,
        days: float = DEFAULT_DELEGATION_DAYS,
        now: dt.datetime | None = None,
    ) -> Delegation:
        """A new list-signing key (a file in the data folder) that the root delegates list
        signing to for `days`. The caller publishes the next list (signed by the new key)."""
        self._check_root(conn, root)
        if not 0 < days <= MAX_DELEGATION_DAYS:
            raise ValueError(f"--days must be 1..{MAX_DELEGATION_DAYS}, got {days}")
        now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        list_key = generate_private_key()
        self._store(conn, list_key_name(fingerprint(list_key)), list_key)
        signed = sign_delegation(
            root,
            public_key_b64(list_key),
            utc_text(now),
            utc_text(now + dt.timedelta(days=days)),
        )
        delegation = Delegation.from_dict(signed["delegation"])
        text = canonical_json(signed).decode()
        keys.add_delegation(conn, delegation.list_public_key, delegation.valid_until, text)
        return delegation

    def rotate_root(
        self,
        conn: Connection,
        old_root: Ed25519PrivateKey,
        new_root: Ed25519PrivateKey,
        days: float = DEFAULT_DELEGATION_DAYS,
        now: dt.datetime | None = None,
    ) -> Delegation:
        """The old root signs over to the new one (every envelope carries the chain, so a
        kiosk pinning the old root accepts and pins the new one); the new root delegates a
        new list-signing key. The caller publishes."""
        self._check_root(conn, old_root)
        if public_key_b64(new_root) == public_key_b64(old_root):
            raise ValueError("the new root key is the old one")
        now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        signed = sign_succession(old_root, new_root, utc_text(now))
        keys.add_root_succession(conn, public_key_b64(new_root), canonical_json(signed).decode())
        db.set_meta(conn, META_ROOT, public_key_b64(new_root))
        return self.delegate(conn, new_root, days, now)

    def _list_signing(self, conn: Connection) -> tuple[dict, Delegation, Ed25519PrivateKey]:
        row = keys.current_delegation(conn)
        if row is None:
            raise SigningError(
                "no list-signing key is delegated: run 'ocop-registry root delegate'"
            )
        signed = json.loads(row.signed_json)
        delegation = Delegation.from_dict(signed["delegation"])
        key = self._load(conn, list_key_name(fingerprint(delegation.list_public_key)))
        return signed, delegation, key

    def sign_catalog(self, conn: Connection, reply: dict, since: int) -> str:
        """The catalog reply's signature by the list-signing key (kiosks verify it with the
        key from the trust list's delegation)."""
        _, _, list_key = self._list_signing(conn)
        return sign_catalog_reply(reply, since, list_key)

    def sign_lots(self, conn: Connection, reply: dict, since: int) -> str:
        """The lots reply's signature (protocol 3): the same key, the lots domain."""
        _, _, list_key = self._list_signing(conn)
        return sign_catalog_reply(reply, since, list_key, LOTS_FEED)

    def warnings(self, conn: Connection, now: dt.datetime | None = None) -> list[str]:
        """What the operator must fix: a root private key online, a delegation ending soon."""
        found = []
        path = self.root_key_in_data_folder()
        if path is not None:
            found.append(
                f"a root private key is in the data folder ({path}): move it to offline "
                "media and give it with --root-key to 'ocop-registry root ...'"
            )
        row = keys.current_delegation(conn)
        if row is not None:
            until = parse_utc(row.valid_until, "valid_until")
            left_s = (until - (now or dt.datetime.now(dt.UTC))).total_seconds()
            if left_s < DELEGATION_WARN_DAYS * 86400:
                found.append(
                    f"the list-signing key's delegation ends at {row.valid_until}: run "
                    "'ocop-registry root delegate --root-key FILE' before then"
                )
        return found

    def _store(self, conn: Connection, name: str, key: Ed25519PrivateKey) -> None:
        try:
            self.store.store(conn, name, key)
        except KekError as exc:
            raise SigningError(str(exc)) from None

    def _key_file(self, conn: Connection, key_id: int):
        """Signing key `key_id`'s private key, created when missing (or, as a file, left
        over from a transaction that did not commit; a database row rolls back with it)."""
        name = signing_key_name(key_id)
        try:
            key = self.store.load(conn, name)
        except KekError as exc:
            raise SigningError(str(exc)) from None
        if key is None:
            key = generate_private_key()
            self._store(conn, name, key)
        return key

    def current_key_id(self, conn: Connection) -> int:
        value = db.get_meta(conn, META_CURRENT_KEY)
        if value is None:
            raise SigningError("no current signing key")
        return int(value)

    def signer(self, conn: Connection, key_id: int | None = None) -> StampSigner:
        key_id = key_id or self.current_key_id(conn)
        return StampSigner(key_id, self._load(conn, signing_key_name(key_id)), self.base_url)

    def next_key(self, conn: Connection):
        """The pre-published key (row of signing_keys) rotation switches to, or None."""
        current = self.current_key_id(conn)
        later = [r for r in keys.signing_keys(conn) if r.key_id > current]
        return later[0] if later else None

    def ensure_next_key(self, conn: Connection, today: dt.date | None = None) -> int | None:
        """Publish-in-advance: add the next signing key, valid from next_key_lead_s after
        today, unless one exists. Returns the new key id (the caller publishes) or None."""
        db.lock_allocator(conn, db.Allocator.SIGNING_KEY_ID)  # "unless one exists" too
        if self.next_key(conn) is not None:
            return None
        today = today or utc_today()
        new_id = keys.next_key_id(conn)
        if new_id > MAX_KEY_ID:
            raise SigningError(f"all {MAX_KEY_ID} key ids are used")
        lead_days = math.ceil(self.next_key_lead_s / 86400)
        valid_from = today + dt.timedelta(days=lead_days)
        keys.add_signing_key(conn, new_id, public_key_b64(self._key_file(conn, new_id)), valid_from)
        return new_id

    def rotate(
        self, conn: Connection, today: dt.date | None = None, *, emergency: bool = False
    ) -> int:
        """Switch stamp signing to the pre-published next key and pre-publish another. The
        old key's window closes today, so what it signed stays genuine. Refused while the
        next key's not-before date is in the future (kiosks may not know it yet) unless
        `emergency`: then the next key starts today and kiosks that have not synced since
        show its stamps as 'cannot verify yet' (Verdict.KEY_NOT_YET_KNOWN), never forged.
        Returns the new key id."""
        today = today or utc_today()
        # Concurrent rotations take turns: each moves on from the key the one before chose.
        db.lock_allocator(conn, db.Allocator.SIGNING_KEY_ID)
        old_id = self.current_key_id(conn)
        nxt = self.next_key(conn)
        if nxt is None:
            if not emergency:
                raise RotationRefused(
                    "no next signing key is published; restart the registry (it publishes "
                    "one) and rotate after its not-before date, or use --now"
                )
            new_id = self.ensure_next_key(conn, today)
            assert new_id is not None
            nxt = self.next_key(conn)
        valid_from = dt.date.fromisoformat(nxt.valid_from)
        if valid_from > today:
            if not emergency:
                raise RotationRefused(
                    f"signing key {nxt.key_id} may sign from {valid_from} (published in "
                    f"advance so every kiosk knows it first); rotate on or after that day, "
                    f"or use --now in an emergency (kiosks that have not synced since will "
                    f"show its stamps as 'cannot verify yet')",
                    int(nxt.key_id),
                    valid_from,
                )
            keys.set_valid_from(conn, nxt.key_id, today)
        keys.close_key_window(conn, old_id, today)
        db.set_meta(conn, META_CURRENT_KEY, str(nxt.key_id))
        self.ensure_next_key(conn, today)
        self.publish(conn)
        return int(nxt.key_id)

    # --- revocation -----------------------------------------------------------------------

    def revoke_serials(self, conn: Connection, first: int, last: int, reason: str = "") -> int:
        if not 1 <= first <= last <= MAX_SERIAL:
            raise ValueError(
                f"serial range {first}-{last}: need 1 <= first <= last <= {MAX_SERIAL}"
            )
        keys.add_revoked_range(conn, first, last, reason)
        return self.publish(conn)

    def revoke_ranges(
        self, conn: Connection, ranges: list[tuple[int, int]], reason: str = ""
    ) -> int:
        """Revoke several serial ranges in one trust-list update (a retired station's
        unprinted stamps); returns the published sequence."""
        if not ranges:
            raise ValueError("no serial ranges to revoke")
        for first, last in ranges:
            if not 1 <= first <= last <= MAX_SERIAL:
                raise ValueError(
                    f"serial range {first}-{last}: need 1 <= first <= last <= {MAX_SERIAL}"
                )
        for first, last in ranges:
            keys.add_revoked_range(conn, first, last, reason)
        return self.publish(conn)

    def revoke_key(
        self,
        conn: Connection,
        key_id: int,
        revoked_from: dt.date,
        last_good_serial: int | None = None,
        reason: str = "",
    ) -> int:
        if not keys.signing_key_exists(conn, key_id):
            raise ValueError(f"key id {key_id} is not a registry signing key")
        keys.set_key_revocation(conn, key_id, revoked_from, last_good_serial, reason)
        return self.publish(conn)

    def mark_suspect(self, conn: Connection, serials: list[int], reason: str = "") -> int:
        bad = [s for s in serials if not 1 <= s <= MAX_SERIAL]
        if bad or not serials:
            raise ValueError(f"serials must be 1..{MAX_SERIAL}: {bad[:5]}")
        keys.add_suspects(conn, serials, reason)
        return self.publish(conn)

    def clear_suspects(self, conn: Connection, serials: list[int]) -> tuple[list[int], int]:
        """Take serials off the suspect list (the office found the stamp genuine); returns
        those that were on it and the trust-list sequence (a new one only if any were)."""
        bad = [s for s in serials if not 1 <= s <= MAX_SERIAL]
        if bad or not serials:
            raise ValueError(f"serials must be 1..{MAX_SERIAL}: {bad[:5]}")
        cleared = keys.remove_suspects(conn, serials)
        if cleared:
            return cleared, self.publish(conn)
        return cleared, self.latest_signed(conn)[0]

    # --- trust lists ------------------------------------------------------------------------

    def publish(self, conn: Connection, now: dt.datetime | None = None) -> int:
        """Sign the trust list the database describes now, with the next sequence, issued
        `now` (default: the clock) and expiring trust_list_validity_s later (no later than
        the delegation ends), with the list-signing key: no root key needed."""
        # The sequence first: the list then holds everything committed before its turn.
        sequence = keys.next_trust_sequence(conn)
        signed_delegation, delegation, list_key = self._list_signing(conn)
        now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        validity_s = min(self.trust_list_validity_s, (delegation.until - now).total_seconds())
        if validity_s < 1:
            raise SigningError(
                f"the list-signing key's delegation ended at {delegation.valid_until}: run "
                "'ocop-registry root delegate --root-key FILE'"
            )
        root_public = self.root_public_key(conn)
        signing = [
            SigningKey(
                r.key_id,
                r.public_key,
                dt.date.fromisoformat(r.valid_from),
                dt.date.fromisoformat(r.valid_until) if r.valid_until else None,
            )
            for r in keys.signing_keys(conn)
        ]
        ranges = [
            RevokedRange(r.first_serial, r.last_serial, r.reason) for r in keys.revoked_ranges(conn)
        ]
        rkeys = [
            RevokedKey(
                r.key_id, dt.date.fromisoformat(r.revoked_from), r.last_good_serial, r.reason
            )
            for r in keys.revoked_keys(conn)
        ]
        tl = make_trust_list(
            load_public_key_b64(root_public),
            sequence=sequence,
            signing_keys=signing,
            revoked_ranges=ranges,
            revoked_keys=rkeys,
            suspect_serials=keys.suspect_serials(conn),
            issued_at=now.strftime(ISO_SECONDS),
            validity_s=validity_s,
        )
        chain = [json.loads(c) for c in keys.root_successions(conn)]
        keys.add_trust_list(conn, sequence, sign_trust_list(tl, list_key, signed_delegation, chain))
        return sequence

    def refresh_due(self, conn: Connection, now: dt.datetime | None = None) -> bool:
        """Less than half the validity left on the newest list (or it has no expiry)."""
        now = now or dt.datetime.now(dt.UTC)
        expires = self.current_trust_list(conn).expires()
        return expires is None or (expires - now).total_seconds() < self.trust_list_validity_s / 2

    def refresh(
        self, conn: Connection, now: dt.datetime | None = None, *, force: bool = False
    ) -> int | None:
        """Re-sign the same content under the next sequence with new times when due (or
        `force`); returns the new sequence, or None when the newest list is fresh enough."""
        if not force and not self.refresh_due(conn, now):
            return None
        return self.publish(conn, now)

    def latest_signed(self, conn: Connection) -> tuple[int, str]:
        latest = keys.latest_trust_list(conn)
        if latest is None:
            raise SigningError("no trust list published yet")
        return latest

    def current_trust_list(self, conn: Connection) -> TrustList:
        sequence, signed = self.latest_signed(conn)
        cached = self._trust_cache
        if cached and cached[0] == sequence and cached[2] == signed:
            return cached[1]
        tl = verify_signed_trust_list(signed, self.root_public_key(conn))
        self._trust_cache = (sequence, tl, signed)
        return tl

    def root_fingerprint(self, conn: Connection) -> str:
        return fingerprint(self.root_public_key(conn))

    # --- stamp blocks -----------------------------------------------------------------------

    def claim_block(
        self,
        conn: Connection,
        station_id: int,
        request_id: str,
        product_id: int,
        count: int,
        today: dt.date | None = None,
        now: dt.datetime | None = None,
    ) -> BlockClaim:
        """Step 1 of a block, in the request's short write transaction: a new request
        reserves its serial range and records the block (with a signing lease); a repeated
        request id finds its block: the stored reply, or still being signed, or (a signer
        that died: the lease ran out; a block from before stored replies) to be signed by
        this request. Signing is finish_block's, outside the transaction."""
        now = now or dt.datetime.now(dt.UTC)
        lease_until = (now + dt.timedelta(seconds=BLOCK_SIGNING_LEASE_S)).strftime(db.TIME_FORMAT)
        prior = keys.block_for_request(conn, station_id, request_id)
        if prior is not None:
            if prior.product_id != product_id or prior.count != count:
                raise BlockConflict(
                    f"request id {request_id!r} was used for "
                    f"{prior.count} stamps of product {prior.product_id}"
                )
            if prior.reply_dropped_at is not None:
                raise BlockReplyGone(prior)
            if prior.reply_body is not None:
                return BlockClaim(prior, reply=prior.reply_body)
            if prior.signing_until is not None and db.parse_time(prior.signing_until) > now:
                return BlockClaim(prior, wait_until=db.parse_time(prior.signing_until))
            if not keys.take_block_lease(conn, prior.id, prior.signing_until, lease_until):
                return BlockClaim(prior, wait_until=now)  # another took it: look again
            return BlockClaim(prior, signer=self.signer(conn, prior.key_id))
        if not 1 <= product_id <= MAX_PRODUCT_ID:
            raise ValueError(f"product id must be 1..{MAX_PRODUCT_ID}")
        key_id = self.current_key_id(conn)
        if keys.is_key_revoked(conn, key_id):
            raise SigningError(f"current signing key {key_id} is revoked; rotate keys first")
        signer = self.signer(conn, key_id)  # before the range: a missing key allocates nothing
        first = db.reserve(conn, "serial", count)
        last = first + count - 1
        if last > MAX_SERIAL:
            raise SigningError("serial numbers exhausted")
        row = keys.add_block(
            conn,
            station_id=station_id,
            request_id=request_id,
            product_id=product_id,
            key_id=key_id,
            issued_on=(today or utc_today()).isoformat(),
            first_serial=first,
            count=count,
            signing_until=lease_until,
        )
        return BlockClaim(row, signer=signer)

    def finish_block(self, database: db.Database, claim: BlockClaim) -> bytes:
        """Step 2 and 3: the block's reply body, gzipped (JSON; gzip_block_reply). Signed
        here, outside any transaction, compressed in this thread (not on the event loop;
        ~2 MB of JSON for 10,000 stamps) and stored in a second short transaction; a stored
        reply is returned as it is, byte for byte, never signed again. A request whose
        block another request is still signing waits for that reply (until the lease runs
        out, then signs it)."""
        while claim.reply is None and claim.signer is None:
            row = claim.row
            while claim.wait_until is not None and dt.datetime.now(dt.UTC) < claim.wait_until:
                time.sleep(BLOCK_WAIT_POLL_S)
                with database.read() as conn:
                    body = keys.block_reply(conn, row.id)
                if body is not None:
                    return body
            with database.write() as conn:
                claim = self.claim_block(
                    conn, row.station_id, row.request_id, row.product_id, row._mapping["count"]
                )
        if claim.reply is not None:
            return claim.reply
        assert claim.signer is not None
        body = gzip_block_reply(_block_body(claim.row, claim.signer))
        with database.write() as conn:
            if keys.store_block_reply(conn, claim.row.id, body):
                return body
            stored = keys.block_reply(conn, claim.row.id)  # one whose lease ran out first
            if stored is None:  # pruned while this (late) signer signed: nobody gets it
                raise BlockReplyGone(keys.block_by_id(conn, claim.row.id))
        return stored


# The audit rows of the key changes above: the CLI, the admin API and the console write
# these same rows (the caller's actor and client; in the change's transaction).


def audit_key_rotation(
    conn: Connection, actor: str, client: str, key_id: int, sequence: int, *, emergency: bool
) -> None:
    audit.record(
        conn,
        actor,
        AuditAction.KEY_ROTATE,
        f"key:{key_id}",
        client,
        {"trust_list_sequence": sequence, "emergency": emergency},
    )


def audit_key_revocation(
    conn: Connection,
    actor: str,
    client: str,
    key_id: int,
    revoked_from: dt.date,
    last_good_serial: int | None,
    reason: str,
    sequence: int,
) -> None:
    audit.record(
        conn,
        actor,
        AuditAction.KEY_REVOKE,
        f"key:{key_id}",
        client,
        {
            "from": revoked_from,
            "last_good_serial": last_good_serial,
            "reason": reason,
            "trust_list_sequence": sequence,
        },
    )


def audit_serials_revocation(
    conn: Connection, actor: str, client: str, first: int, last: int, reason: str, sequence: int
) -> None:
    audit.record(
        conn,
        actor,
        AuditAction.SERIALS_REVOKE,
        f"serials:{first}-{last}",
        client,
        {"reason": reason, "trust_list_sequence": sequence},
    )


BLOCK_SIGNING_LEASE_S = 60.0  # a 10,000-stamp block signs in ~0.5 s
BLOCK_WAIT_POLL_S = 0.05


class BlockReplyGone(Exception):
    """A retried block request whose stored reply was dropped by retention
    (registry/retention.py): the serials stay issued to the station and are never signed
    again (exactly once); the route answers 410 with the block's range."""

    def __init__(self, row: Row):
        super().__init__(
            f"block {row.id} (serials {row.first_serial}-{row.last_serial}) was issued on "
            f"{row.issued_on}; its reply is no longer kept"
        )
        self.row = row


@dataclass(frozen=True)
class BlockClaim:
    """What a block request's first transaction found: the stored reply, a signer (this
    request signs), or neither (another request is signing it until wait_until)."""

    row: Row
    reply: bytes | None = None
    signer: StampSigner | None = None
    wait_until: dt.datetime | None = None


def gzip_block_reply(body: bytes) -> bytes:
    """How a block's reply is stored and sent to clients that accept gzip: level 6 (level
    9 costs more for hardly smaller signatures), no timestamp (the same bytes every time)."""
    return gzip.compress(body, BLOCK_GZIP_LEVEL, mtime=0)


BLOCK_GZIP_LEVEL = 6


def _block_body(row: Row, signer: StampSigner) -> bytes:
    day = dt.date.fromisoformat(row.issued_on)
    stamps = [
        signer.sign(row.product_id, serial, day)
        for serial in range(row.first_serial, row.last_serial + 1)
    ]
    block = Block(
        row.id,
        row.product_id,
        row.key_id,
        row.issued_on,
        row.first_serial,
        row.last_serial,
        stamps,
        row.request_id,
    )
    return json.dumps(block.to_json(), separators=(",", ":")).encode()


__all__ = [
    "Block",
    "BlockClaim",
    "BlockConflict",
    "BlockReplyGone",
    "KeyRing",
    "RotationRefused",
    "SigningError",
    "signing_key_entry",
]
