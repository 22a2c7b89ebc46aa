"""Where the online private keys live (registry/signing.py's KeyRing asks one of these).

FileKeys: files in <data>/keys/ (no KEK configured): right for one registry process on one
host; a second host would not have the files. DbKeys: rows of private_keys wrapped with the
KEK (registry/kek.py): every process and host of the registry reads the same keys.

A key's name is what its file was called without ".key": "signing-<key id>" (stamps) or
"list-<fingerprint[:16]>" (trust lists, catalog replies). The root key is never here.
"""

from __future__ import annotations

import enum
import logging
import re
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection

from ocop.stamps.errors import KeyFileError
from ocop.stamps.keys import (
    load_private_key,
    private_key_raw,
    public_key_b64,
    save_private_key,
)
from registry import db
from registry.kek import ENV_KEK, Kek, KekError

log = logging.getLogger("registry.keystore")
META_KEK_ID = "kek_id"
KEY_SUFFIX = ".key"
_NAME = re.compile(r"(signing-[0-9]+|list-[0-9a-f]{16})")
GIVE_KEK = f"${ENV_KEK}, --kek-file FILE or the systemd credential ocop-registry-kek"


class KeyPurpose(str, enum.Enum):
    STAMP_SIGNING = "stamp-signing"
    LIST_SIGNING = "list-signing"


class KeyStorageError(KekError):
    """Keys unreadable as configured: the registry refuses to start (or answers 503)."""


def signing_key_name(key_id: int) -> str:
    return f"signing-{key_id}"


def list_key_name(fingerprint_hex: str) -> str:
    return f"list-{fingerprint_hex[:16]}"


def purpose_of(name: str) -> KeyPurpose:
    return KeyPurpose.STAMP_SIGNING if name.startswith("signing-") else KeyPurpose.LIST_SIGNING


class KeyStore(Protocol):
    def describe(self) -> str: ...

    def load(self, conn: Connection, name: str) -> Ed25519PrivateKey | None:
        """The key, None when there is none by that name; KeyStorageError when unusable."""

    def store(self, conn: Connection, name: str, key: Ed25519PrivateKey) -> None: ...

    def prepare(self, conn: Connection) -> list[Path]:
        """At start, in a write transaction: refuse what cannot work; returns files to
        delete once it commits."""


class FileKeys:
    def __init__(self, keys_dir: Path):
        self.keys_dir = Path(keys_dir)

    def describe(self) -> str:
        return str(self.keys_dir)

    def load(self, conn: Connection, name: str) -> Ed25519PrivateKey | None:
        path = self.keys_dir / (name + KEY_SUFFIX)
        if not path.exists():
            return None
        return load_private_key(path)

    def store(self, conn: Connection, name: str, key: Ed25519PrivateKey) -> None:
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        save_private_key(self.keys_dir / (name + KEY_SUFFIX), key)

    def prepare(self, conn: Connection) -> list[Path]:
        kek_id = db.get_meta(conn, META_KEK_ID)
        stored = conn.execute(sa.select(sa.func.count()).select_from(db.private_keys)).scalar()
        if kek_id is not None or stored:
            raise KeyStorageError(
                f"this registry's signing keys are in the database, encrypted with "
                f"{kek_id or 'a KEK'}: give that KEK ({GIVE_KEK})"
            )
        return []


class DbKeys:
    def __init__(self, kek: Kek, keys_dir: Path):
        self.kek = kek
        self.keys_dir = Path(keys_dir)  # only to move old key files in (prepare)

    def describe(self) -> str:
        return f"the database (wrapped with {self.kek.id})"

    def load(self, conn: Connection, name: str) -> Ed25519PrivateKey | None:
        pk = db.private_keys
        row = conn.execute(sa.select(pk).where(pk.c.name == name)).first()
        if row is None:
            return None
        if row.kek_id != self.kek.id:
            raise KeyStorageError(
                f"private key {name!r} is wrapped with {row.kek_id}, this process has "
                f"{self.kek.id} (from {self.kek.source}): the KEK was rotated? restart with it"
            )
        raw = self.kek.unwrap(name, row.purpose, row.public_key, row.nonce, row.ciphertext)
        key = Ed25519PrivateKey.from_private_bytes(raw)
        if public_key_b64(key) != row.public_key or row.purpose != purpose_of(name).value:
            raise KeyStorageError(f"private key {name!r} does not match its row")
        return key

    def store(self, conn: Connection, name: str, key: Ed25519PrivateKey) -> None:
        current = db.get_meta(conn, META_KEK_ID)
        if current is None:
            db.set_meta(conn, META_KEK_ID, self.kek.id)
        elif current != self.kek.id:
            raise KeyStorageError(
                f"the database's keys are wrapped with {current}, this process has "
                f"{self.kek.id}: the KEK was rotated? restart with the new one"
            )
        purpose = purpose_of(name).value
        public = public_key_b64(key)
        nonce, ciphertext = self.kek.wrap(name, purpose, public, private_key_raw(key))
        conn.execute(
            db.private_keys.insert().values(
                name=name,
                purpose=purpose,
                public_key=public,
                kek_id=self.kek.id,
                nonce=nonce,
                ciphertext=ciphertext,
                created_at=db.utc_now(),
            )
        )

    def prepare(self, conn: Connection) -> list[Path]:
        """Refuse a wrong KEK by its id, move key files from the data folder in (the files
        go once this commits), and decrypt every row once: a tampered or moved row stops
        the start with its name instead of a 503 later."""
        current = db.get_meta(conn, META_KEK_ID)
        if current is not None and current != self.kek.id:
            raise KeyStorageError(
                f"wrong KEK: this registry's keys are encrypted with {current}, the KEK from "
                f"{self.kek.source} is {self.kek.id}"
            )
        pk = db.private_keys
        names = set(conn.execute(sa.select(pk.c.name)).scalars())
        moved = []
        for path in sorted(self.keys_dir.glob("*" + KEY_SUFFIX)):
            name = path.name[: -len(KEY_SUFFIX)]
            if not _NAME.fullmatch(name):
                continue  # root.key and anything else stays where it is
            if name not in names:
                try:
                    self.store(conn, name, load_private_key(path))
                except KeyFileError as exc:
                    raise KeyStorageError(f"cannot move {path} into the database: {exc}") from None
                names.add(name)
                log.warning("moved private key %s into the database (%s)", path, self.kek.id)
            moved.append(path)
        for name in sorted(names):
            self.load(conn, name)
        return moved


def key_store(kek: Kek | None, keys_dir: Path) -> KeyStore:
    return FileKeys(keys_dir) if kek is None else DbKeys(kek, keys_dir)


def rewrap_all(conn: Connection, old: Kek, new: Kek) -> int:
    """KEK rotation: every private key unwrapped with `old` and wrapped with `new`, in the
    caller's one transaction (all or none); returns how many."""
    if old.id == new.id:
        raise KeyStorageError("the new KEK is the current one")
    # No key is created meanwhile (rotations take this lock before they add a key).
    db.lock_allocator(conn, db.Allocator.SIGNING_KEY_ID)
    current = db.get_meta(conn, META_KEK_ID)
    if current != old.id:
        raise KeyStorageError(
            f"the database's keys are wrapped with {current or 'no KEK (they are files)'}, "
            f"not with the current KEK given ({old.id})"
        )
    pk = db.private_keys
    rows = list(conn.execute(sa.select(pk).with_for_update()))
    for row in rows:
        raw = old.unwrap(row.name, row.purpose, row.public_key, row.nonce, row.ciphertext)
        nonce, ciphertext = new.wrap(row.name, row.purpose, row.public_key, raw)
        conn.execute(
            pk.update()
            .where(pk.c.name == row.name)
            .values(kek_id=new.id, nonce=nonce, ciphertext=ciphertext)
        )
    db.set_meta(conn, META_KEK_ID, new.id)
    return len(rows)


__all__ = [
    "DbKeys",
    "FileKeys",
    "KeyPurpose",
    "KeyStorageError",
    "KeyStore",
    "key_store",
    "list_key_name",
    "rewrap_all",
    "signing_key_name",
]
