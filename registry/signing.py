"""Keys, trust lists and stamp blocks. All signing goes through kiosk.stamps (StampSigner,
make_trust_list, sign_trust_list): there is no second implementation of the formats.

Private keys live in <data_dir>/keys/ as files readable by the owner only (root.key,
signing-<id>.key); the database holds public keys, which key is current, revocations and
every published trust list (verbatim, by sequence).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ocop.stamps.codec import MAX_PRODUCT_ID, MAX_SERIAL
from ocop.stamps.keys import (fingerprint, generate_private_key, load_private_key,
                               public_key_b64, save_private_key)
from ocop.stamps.signer import StampSigner, make_trust_list, signing_key_entry
from ocop.stamps.trust import (RevokedKey, RevokedRange, SigningKey, TrustList,
                                sign_trust_list, verify_signed_trust_list)
from registry import db

ROOT_KEY_FILE = "root.key"
META_ROOT = "root_public_key"
META_CURRENT_KEY = "current_signing_key_id"
FIRST_VALID_FROM = dt.date(2020, 1, 1)


class SigningError(Exception):
    """Keys missing or unusable; the CLI prints it, the API answers 503."""


class BlockConflict(ValueError):
    """The same request id was used before for another product or count."""


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _signing_key_file(key_id: int) -> str:
    return f"signing-{key_id}.key"


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
        return {"block_id": self.id, "request_id": self.request_id,
                "product_id": self.product_id, "key_id": self.key_id,
                "issued_on": self.issued_on, "first_serial": self.first_serial,
                "last_serial": self.last_serial, "count": len(self.stamps),
                "stamps": self.stamps}


class KeyRing:
    """The registry's keys. Thread-safe; private keys are read once and cached."""

    def __init__(self, keys_dir: Path, base_url: str):
        self.keys_dir = Path(keys_dir)
        self.base_url = base_url
        self._lock = threading.Lock()
        self._private: dict[str, object] = {}
        self._trust_cache: tuple[int, TrustList, str] | None = None

    # --- keys ---------------------------------------------------------------------------

    def _load(self, filename: str):
        with self._lock:
            key = self._private.get(filename)
            if key is None:
                path = self.keys_dir / filename
                if not path.exists():
                    raise SigningError(f"key file {path} is missing")
                key = load_private_key(path)
                self._private[filename] = key
            return key

    def root_key(self):
        return self._load(ROOT_KEY_FILE)

    def root_public_key(self, conn: Connection) -> str:
        value = db.get_meta(conn, META_ROOT)
        if value is None:
            raise SigningError("registry keys are not initialised (run 'ocop-registry "
                               "init-db')")
        return value

    def initialise(self, conn: Connection, today: dt.date | None = None) -> bool:
        """First start: root key, signing key 1, trust list sequence 1. Idempotent; returns
        True when keys were created."""
        if db.get_meta(conn, META_ROOT) is not None:
            root_pub = public_key_b64(self.root_key())
            if root_pub != db.get_meta(conn, META_ROOT):
                raise SigningError(f"{self.keys_dir / ROOT_KEY_FILE} is not the root key this "
                                   f"database was created with")
            return False
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        root_path = self.keys_dir / ROOT_KEY_FILE
        root = load_private_key(root_path) if root_path.exists() else None
        if root is None:
            root = generate_private_key()
            save_private_key(root_path, root)
        signing_path = self.keys_dir / _signing_key_file(1)
        signing = load_private_key(signing_path) if signing_path.exists() else None
        if signing is None:
            signing = generate_private_key()
            save_private_key(signing_path, signing)
        db.set_meta(conn, META_ROOT, public_key_b64(root))
        db.set_meta(conn, META_CURRENT_KEY, "1")
        conn.execute(db.signing_keys.insert().values(
            key_id=1, public_key=public_key_b64(signing),
            valid_from=FIRST_VALID_FROM.isoformat(), valid_until=None,
            created_at=db.utc_now()))
        self.publish(conn)
        return True

    def current_key_id(self, conn: Connection) -> int:
        value = db.get_meta(conn, META_CURRENT_KEY)
        if value is None:
            raise SigningError("no current signing key")
        return int(value)

    def signer(self, conn: Connection, key_id: int | None = None) -> StampSigner:
        key_id = key_id or self.current_key_id(conn)
        return StampSigner(key_id, self._load(_signing_key_file(key_id)), self.base_url)

    def rotate(self, conn: Connection, today: dt.date | None = None) -> int:
        """A new signing key for stamps issued from today; the old key's window closes
        today, so what it signed stays genuine. Returns the new key id."""
        today = today or utc_today()
        old_id = self.current_key_id(conn)
        used = set(conn.execute(sa.select(db.signing_keys.c.key_id)).scalars())
        new_id = max(used | {0}) + 1
        if new_id > 255:
            raise SigningError("all 255 key ids are used")
        path = self.keys_dir / _signing_key_file(new_id)
        if path.exists():           # left over from a rotation that did not commit
            new_key = load_private_key(path)
        else:
            new_key = generate_private_key()
            save_private_key(path, new_key)
        conn.execute(db.signing_keys.update()
                     .where(db.signing_keys.c.key_id == old_id,
                            sa.or_(db.signing_keys.c.valid_until.is_(None),
                                   db.signing_keys.c.valid_until > today.isoformat()))
                     .values(valid_until=today.isoformat()))
        conn.execute(db.signing_keys.insert().values(
            key_id=new_id, public_key=public_key_b64(new_key), valid_from=today.isoformat(),
            valid_until=None, created_at=db.utc_now()))
        db.set_meta(conn, META_CURRENT_KEY, str(new_id))
        self.publish(conn)
        return new_id

    # --- revocation -----------------------------------------------------------------------

    def revoke_serials(self, conn: Connection, first: int, last: int, reason: str = "") -> int:
        if not 1 <= first <= last <= MAX_SERIAL:
            raise ValueError(f"serial range {first}-{last}: need 1 <= first <= last <= "
                             f"{MAX_SERIAL}")
        conn.execute(db.revoked_ranges.insert().values(
            first_serial=first, last_serial=last, reason=reason, created_at=db.utc_now()))
        return self.publish(conn)

    def revoke_key(self, conn: Connection, key_id: int, revoked_from: dt.date,
                   last_good_serial: int | None = None, reason: str = "") -> int:
        if conn.execute(sa.select(db.signing_keys.c.key_id)
                        .where(db.signing_keys.c.key_id == key_id)).first() is None:
            raise ValueError(f"key id {key_id} is not a registry signing key")
        conn.execute(db.revoked_keys.delete().where(db.revoked_keys.c.key_id == key_id))
        conn.execute(db.revoked_keys.insert().values(
            key_id=key_id, revoked_from=revoked_from.isoformat(),
            last_good_serial=last_good_serial, reason=reason, created_at=db.utc_now()))
        return self.publish(conn)

    def mark_suspect(self, conn: Connection, serials: list[int], reason: str = "") -> int:
        bad = [s for s in serials if not 1 <= s <= MAX_SERIAL]
        if bad or not serials:
            raise ValueError(f"serials must be 1..{MAX_SERIAL}: {bad[:5]}")
        existing = set(conn.execute(sa.select(db.suspect_serials.c.serial)
                                    .where(db.suspect_serials.c.serial.in_(serials))).scalars())
        new = sorted(set(serials) - existing)
        if new:
            conn.execute(db.suspect_serials.insert(),
                         [{"serial": s, "reason": reason, "created_at": db.utc_now()}
                          for s in new])
        return self.publish(conn)

    # --- trust lists ------------------------------------------------------------------------

    def publish(self, conn: Connection) -> int:
        """Sign the trust list the database describes now, with the next sequence."""
        root = self.root_key()
        sequence = (conn.execute(sa.select(sa.func.max(db.trust_lists.c.sequence)))
                    .scalar() or 0) + 1
        keys = [SigningKey(r.key_id, r.public_key, dt.date.fromisoformat(r.valid_from),
                           dt.date.fromisoformat(r.valid_until) if r.valid_until else None)
                for r in conn.execute(sa.select(db.signing_keys)
                                      .order_by(db.signing_keys.c.key_id))]
        ranges = [RevokedRange(r.first_serial, r.last_serial, r.reason)
                  for r in conn.execute(sa.select(db.revoked_ranges))]
        rkeys = [RevokedKey(r.key_id, dt.date.fromisoformat(r.revoked_from),
                            r.last_good_serial, r.reason)
                 for r in conn.execute(sa.select(db.revoked_keys))]
        suspects = list(conn.execute(sa.select(db.suspect_serials.c.serial)).scalars())
        tl = make_trust_list(root, sequence=sequence, signing_keys=keys,
                             revoked_ranges=ranges, revoked_keys=rkeys,
                             suspect_serials=suspects)
        conn.execute(db.trust_lists.insert().values(
            sequence=sequence, signed_json=sign_trust_list(tl, root),
            created_at=db.utc_now()))
        return sequence

    def latest_signed(self, conn: Connection) -> tuple[int, str]:
        row = conn.execute(sa.select(db.trust_lists.c.sequence, db.trust_lists.c.signed_json)
                           .order_by(db.trust_lists.c.sequence.desc()).limit(1)).first()
        if row is None:
            raise SigningError("no trust list published yet")
        return row.sequence, row.signed_json

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

    def issue_block(self, conn: Connection, station_id: int, request_id: str,
                    product_id: int, count: int, today: dt.date | None = None) -> Block:
        """Allocate `count` new serials for a station and sign them; a repeated request id
        returns the same block (Ed25519 signatures are deterministic)."""
        prior = conn.execute(sa.select(db.stamp_blocks).where(
            db.stamp_blocks.c.station_id == station_id,
            db.stamp_blocks.c.request_id == request_id)).first()
        if prior is not None:
            if prior.product_id != product_id or prior.count != count:
                raise BlockConflict(f"request id {request_id!r} was used for "
                                    f"{prior.count} stamps of product {prior.product_id}")
            return self._block_from_row(conn, prior)
        if not 1 <= product_id <= MAX_PRODUCT_ID:
            raise ValueError(f"product id must be 1..{MAX_PRODUCT_ID}")
        key_id = self.current_key_id(conn)
        revoked = conn.execute(sa.select(db.revoked_keys.c.key_id)
                               .where(db.revoked_keys.c.key_id == key_id)).first()
        if revoked is not None:
            raise SigningError(f"current signing key {key_id} is revoked; rotate keys first")
        first = db.reserve(conn, "serial", count)
        last = first + count - 1
        if last > MAX_SERIAL:
            raise SigningError("serial numbers exhausted")
        issued_on = (today or utc_today()).isoformat()
        result = conn.execute(db.stamp_blocks.insert().values(
            station_id=station_id, request_id=request_id, product_id=product_id,
            key_id=key_id, issued_on=issued_on, first_serial=first, last_serial=last,
            count=count, created_at=db.utc_now()))
        row = conn.execute(sa.select(db.stamp_blocks).where(
            db.stamp_blocks.c.id == result.inserted_primary_key[0])).one()
        return self._block_from_row(conn, row)

    def _block_from_row(self, conn: Connection, row) -> Block:
        signer = self.signer(conn, row.key_id)
        day = dt.date.fromisoformat(row.issued_on)
        stamps = [signer.sign(row.product_id, serial, day)
                  for serial in range(row.first_serial, row.last_serial + 1)]
        return Block(row.id, row.product_id, row.key_id, row.issued_on, row.first_serial,
                     row.last_serial, stamps, row.request_id)


def block_of_serial(conn: Connection, serial: int):
    """The block (and station name) a serial was issued in, or None."""
    b, s = db.stamp_blocks, db.stations
    return conn.execute(
        sa.select(b.c.id, b.c.product_id, b.c.first_serial, b.c.last_serial, b.c.issued_on,
                  s.c.name.label("station"), s.c.district)
        .join(s, s.c.id == b.c.station_id)
        .where(b.c.first_serial <= serial, b.c.last_serial >= serial)
        .order_by(b.c.first_serial.desc()).limit(1)).first()


__all__ = ["Block", "BlockConflict", "KeyRing", "SigningError", "block_of_serial",
           "signing_key_entry"]
