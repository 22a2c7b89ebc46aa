"""The local demo registry: what `init --demo` sets up so everything works offline, and the
demo's rotate / revoke / suspect actions (each publishes the next signed trust list).

Keys live in <data_dir>/keys/ (folder 0700, files 0600): demo-root.key, demo-signing-N.key.
A real station has none of them and never signs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kiosk.stamps.service import META_ROOT_PUBLIC_KEY, pinned_root_key
from kiosk.stamps.trust_store import load_current_trust_list, store_trust_list
from ocop.clock import utc_today
from ocop.errors import UserError
from ocop.stamps.codec import MAX_KEY_ID, MAX_SERIAL
from ocop.stamps.errors import KeyFileError, NoTrustList
from ocop.stamps.keys import (
    fingerprint,
    generate_private_key,
    load_private_key,
    public_key_b64,
    save_private_key,
)
from ocop.stamps.signer import StampSigner, make_trust_list, signing_key_entry
from ocop.stamps.trust import RevokedKey, RevokedRange, TrustList, sign_trust_list

log = logging.getLogger(__name__)

META_DEMO_SIGNING_KEY_ID = "demo_signing_key_id"
KEYS_DIRNAME = "keys"
DEMO_ROOT_KEY_FILE = "demo-root.key"
DEMO_KEYS_VALID_FROM = dt.date(2020, 1, 1)


def _keys_dir(data_dir: Path) -> Path:
    return Path(data_dir) / KEYS_DIRNAME


def _signing_key_file(key_id: int | str) -> str:
    """The key file's name; key_id "*" gives the glob pattern for all of them."""
    return f"demo-signing-{key_id}.key"


def _load_or_create_key(path: Path):
    if path.exists():
        return load_private_key(path)
    key = generate_private_key()
    save_private_key(path, key)
    return key


class DemoRegistry:
    """The demo's stand-in for the central registry: a root key and signing keys in
    <data_dir>/keys/ (files 0600), publishing signed trust lists into this store."""

    def __init__(self, store, data_dir: Path):
        self.store = store
        self.data_dir = Path(data_dir)
        root_path = _keys_dir(self.data_dir) / DEMO_ROOT_KEY_FILE
        if not root_path.exists():
            raise UserError(
                f"no demo registry in {self.data_dir}: these commands work only "
                f"after 'ocop-kiosk init --demo'"
            )
        self.root_key = load_private_key(root_path)
        self.root_public_b64 = public_key_b64(self.root_key)
        if store.get_meta(META_ROOT_PUBLIC_KEY) != self.root_public_b64:
            raise UserError("the demo root key does not match meta root_public_key")

    def current(self) -> TrustList:
        tl = load_current_trust_list(self.store, self.root_public_b64)
        if tl is None:
            raise NoTrustList("no demo trust list stored; run 'ocop-kiosk init --demo'")
        return tl

    def signing_key_id(self) -> int:
        value = self.store.get_meta(META_DEMO_SIGNING_KEY_ID)
        if value is None:
            raise UserError("no demo signing key; run 'ocop-kiosk init --demo'")
        return int(value)

    def signer(self, base_url: str) -> StampSigner:
        key_id = self.signing_key_id()
        key = load_private_key(_keys_dir(self.data_dir) / _signing_key_file(key_id))
        return StampSigner(key_id, key, base_url)

    def publish(self, **changes: Any) -> TrustList:
        """Sign and store the next trust list: the current one with `changes` applied."""
        cur = self.current()
        fields: dict[str, Any] = dict(
            signing_keys=cur.signing_keys,
            revoked_ranges=cur.revoked_ranges,
            revoked_keys=cur.revoked_keys,
            suspect_serials=cur.suspect_serials,
        )
        fields.update(changes)
        tl = make_trust_list(self.root_key, sequence=cur.sequence + 1, **fields)
        return store_trust_list(
            self.store, sign_trust_list(tl, self.root_key), self.root_public_b64
        )

    def rotate(self, today: dt.date | None = None) -> tuple[int, TrustList]:
        """New signing key (next id) for stamps issued from today; the old key's window
        closes today, so everything it signed so far stays genuine."""
        today = today or utc_today()
        cur = self.current()
        old_id = self.signing_key_id()
        used = {k.key_id for k in cur.signing_keys}
        new_id = max(used | {0}) + 1
        if new_id > MAX_KEY_ID:
            raise UserError("all 255 key ids are used")
        new_key = _load_or_create_key(_keys_dir(self.data_dir) / _signing_key_file(new_id))
        keys = []
        for k in cur.signing_keys:
            if k.key_id == old_id and (k.valid_until is None or k.valid_until > today):
                k = dataclasses.replace(k, valid_until=today)
            keys.append(k)
        keys.append(signing_key_entry(new_id, new_key, today))
        tl = self.publish(signing_keys=tuple(keys))
        self.store.set_meta(META_DEMO_SIGNING_KEY_ID, str(new_id))
        return new_id, tl

    def revoke_serials(self, first: int, last: int, reason: str = "") -> TrustList:
        if not 1 <= first <= last <= MAX_SERIAL:
            raise UserError(
                f"serial range {first}-{last} is not 1 <= first <= last <= {MAX_SERIAL}"
            )
        cur = self.current()
        return self.publish(revoked_ranges=(*cur.revoked_ranges, RevokedRange(first, last, reason)))

    def revoke_key(
        self,
        key_id: int,
        revoked_from: dt.date,
        last_good_serial: int | None = None,
        reason: str = "",
    ) -> TrustList:
        cur = self.current()
        if cur.signing_key(key_id) is None:
            raise UserError(f"key id {key_id} is not in the trust list")
        others = tuple(k for k in cur.revoked_keys if k.key_id != key_id)
        return self.publish(
            revoked_keys=(*others, RevokedKey(key_id, revoked_from, last_good_serial, reason))
        )

    def mark_suspect(self, serials: Iterable[int]) -> TrustList:
        serials = set(serials)
        bad = [s for s in serials if not 1 <= s <= MAX_SERIAL]
        if bad:
            raise UserError(f"serials out of range: {bad[:5]}")
        cur = self.current()
        return self.publish(suspect_serials=cur.suspect_serials | serials)


def create_demo_trust(store, data_dir: Path) -> TrustList:
    """For `init --demo`: a local demo root and signing key id 1 in <data_dir>/keys/
    (0600), a trust list (sequence 1) signed by that root and stored, and the root public
    key in meta 'root_public_key' so everything verifies offline. Idempotent: existing demo
    keys and the stored lists are kept. Returns the current demo trust list."""
    keys_dir = _keys_dir(data_dir)
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys_dir.chmod(0o700)
    root_key = _load_or_create_key(keys_dir / DEMO_ROOT_KEY_FILE)
    root_b64 = public_key_b64(root_key)
    existing_meta = store.get_meta(META_ROOT_PUBLIC_KEY)
    if existing_meta and existing_meta != root_b64:
        raise KeyFileError(
            f"meta root_public_key in {store.path} is not the demo root in "
            f"{keys_dir}; use a fresh data folder"
        )
    existing = load_current_trust_list(store, root_b64)
    if existing is not None and store.get_meta(META_DEMO_SIGNING_KEY_ID):
        return existing
    signing_key = _load_or_create_key(keys_dir / _signing_key_file(1))
    tl = make_trust_list(
        root_key, sequence=1, signing_keys=[signing_key_entry(1, signing_key, DEMO_KEYS_VALID_FROM)]
    )
    with store.transaction() as conn:
        store.set_meta(META_ROOT_PUBLIC_KEY, root_b64, conn)
        store.set_meta(META_DEMO_SIGNING_KEY_ID, "1", conn)
        tl = store_trust_list(store, sign_trust_list(tl, root_key), root_b64, conn=conn)
    log.info("demo root %s... and signing key 1 created", fingerprint(root_key)[:16])
    return tl


def create_demo_keys_and_trust(store, data_dir: Path) -> str:
    """What `init --demo` calls (kiosk.demo.setup): create_demo_trust, summarised in one
    short phrase for its output."""
    tl = create_demo_trust(store, data_dir)
    keys = ", ".join(str(k.key_id) for k in tl.signing_keys)
    return (
        f"demo root {tl.root_fingerprint[:12]} with signing key(s) {keys}, trust list {tl.sequence}"
    )


def load_demo_signer(store, data_dir: Path, settings) -> StampSigner | None:
    """The demo signer when this data folder holds a demo registry whose root is the pinned
    one, else None: a real station never signs."""
    if not (_keys_dir(data_dir) / DEMO_ROOT_KEY_FILE).exists():
        return None
    try:
        registry = DemoRegistry(store, data_dir)
        if pinned_root_key(settings, store) != registry.root_public_b64:
            log.info("demo keys present but another root is pinned: no demo signing")
            return None
        return registry.signer(settings.stamps.base_url)
    except (UserError, ValueError) as exc:
        log.warning("demo signer unavailable: %s", exc)
        return None


def rotate_demo_key(store, data_dir: Path, today: dt.date | None = None) -> int:
    return DemoRegistry(store, data_dir).rotate(today)[0]


def demo_revoke_serials(
    store, data_dir: Path, first: int, last: int, reason: str = ""
) -> TrustList:
    return DemoRegistry(store, data_dir).revoke_serials(first, last, reason)


def demo_revoke_key(
    store,
    data_dir: Path,
    key_id: int,
    revoked_from: dt.date,
    last_good_serial: int | None = None,
    reason: str = "",
) -> TrustList:
    return DemoRegistry(store, data_dir).revoke_key(key_id, revoked_from, last_good_serial, reason)


def demo_mark_suspect(store, data_dir: Path, serials: Iterable[int]) -> TrustList:
    return DemoRegistry(store, data_dir).mark_suspect(serials)
