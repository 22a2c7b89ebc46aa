"""The chain above a trust list (issue 14, item 7): pinned root -> successions -> root ->
delegation -> list-signing key -> list. The attacker's moves, each refused."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from kiosk.stamps.service import pinned_root_key
from kiosk.stamps.trust_store import load_current_trust_list, store_trust_list
from ocop.stamps.delegation import sign_delegation, sign_succession
from ocop.stamps.errors import ForeignRootError, TrustError
from ocop.stamps.keys import generate_private_key, private_key_from_seed, public_key_b64
from ocop.stamps.trust import sign_trust_list, verify_trust_envelope
from tests.stamps.conftest import make_tl

ISSUED = "2026-11-29T00:00:00Z"
LIST_KEY = private_key_from_seed(bytes(range(1, 33)))


def _delegation(root, until="2027-11-29T00:00:00Z", start="2026-01-01T00:00:00Z", key=LIST_KEY):
    return sign_delegation(root, public_key_b64(key), start, until)


def _list(keys, root, delegation, chain=(), key=LIST_KEY, sequence=1):
    tl = make_tl(keys, sequence=sequence)
    if root is not keys.root:  # a list named for another root
        from ocop.stamps.signer import make_trust_list

        tl = make_trust_list(
            root, sequence=sequence, signing_keys=tl.signing_keys, issued_at=ISSUED
        )
    return sign_trust_list(tl, key, delegation, list(chain))


def test_delegated_list_verifies_and_names_its_list_key(keys):
    blob = _list(keys, keys.root, _delegation(keys.root))
    verified = verify_trust_envelope(blob, keys.root_b64)
    assert verified.list_public_key == public_key_b64(LIST_KEY)
    assert verified.root_public_key == keys.root_b64
    assert json.loads(blob)["trust_list"]["version"] == 2


def test_list_key_cannot_sign_for_another_key_or_outside_its_delegation(keys):
    other = generate_private_key()
    with pytest.raises(TrustError, match="another list-signing key"):
        _list(keys, keys.root, _delegation(keys.root), key=other)
    # A list whose expiry runs past the delegation's end.
    short = _delegation(keys.root, until="2026-11-30T00:00:00Z")
    with pytest.raises(TrustError, match="outside its delegation"):
        verify_trust_envelope(_list(keys, keys.root, short), keys.root_b64)


def test_expired_delegation_refused_on_receipt_but_stored_list_still_verifies(keys):
    blob = _list(keys, keys.root, _delegation(keys.root, until="2026-12-31T00:00:00Z"))
    after = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(TrustError, match="delegation expired"):
        verify_trust_envelope(blob, keys.root_b64, now=after)
    assert verify_trust_envelope(blob, keys.root_b64).trust_list.sequence == 1


def test_forged_delegation_signature_refused(keys):
    envelope = json.loads(_list(keys, keys.root, _delegation(keys.root)))
    # The attacker swaps in their own list key, keeping the root's signature.
    attacker = generate_private_key()
    envelope["delegation"]["delegation"]["list_public_key"] = public_key_b64(attacker)
    with pytest.raises(TrustError, match="delegation signature does not verify"):
        verify_trust_envelope(json.dumps(envelope), keys.root_b64)


def test_delegation_by_a_foreign_root_refused(keys):
    """The list key's own signature is fine; its delegation comes from an unrelated root."""
    blob = _list(keys, keys.other_root, _delegation(keys.other_root))
    with pytest.raises(ForeignRootError):
        verify_trust_envelope(blob, keys.root_b64)
    # Claiming our root's name with the foreign root's delegation signature: refused too.
    envelope = json.loads(_list(keys, keys.root, _delegation(keys.root)))
    envelope["delegation"] = _delegation(keys.other_root)
    with pytest.raises(TrustError):
        verify_trust_envelope(json.dumps(envelope), keys.root_b64)


def test_root_succession_signed_by_the_pinned_root_is_followed(keys):
    new_root = generate_private_key()
    chain = [sign_succession(keys.root, new_root, ISSUED)]
    blob = _list(keys, new_root, _delegation(new_root), chain)
    verified = verify_trust_envelope(blob, keys.root_b64)
    assert verified.root_public_key == public_key_b64(new_root)


def test_root_succession_signed_by_a_non_pinned_root_refused(keys):
    """The attacker's root 'succeeds' a root the kiosk does not pin: no path from ours."""
    attacker = generate_private_key()
    chain = [sign_succession(keys.other_root, attacker, ISSUED)]
    with pytest.raises(ForeignRootError):
        verify_trust_envelope(_list(keys, attacker, _delegation(attacker), chain), keys.root_b64)
    # A succession naming our root as the old one but signed by another key.
    forged = sign_succession(keys.other_root, attacker, ISSUED)
    forged["succession"]["old_root_fingerprint"] = make_tl(keys).root_fingerprint
    with pytest.raises(TrustError, match="succession signature does not verify"):
        verify_trust_envelope(_list(keys, attacker, _delegation(attacker), [forged]), keys.root_b64)


def test_kiosk_pins_the_successor_then_refuses_the_old_roots_lists(store, keys):
    base = SimpleNamespace(registry=SimpleNamespace(root_public_key=keys.root_b64))
    store_trust_list(store, _list(keys, keys.root, _delegation(keys.root)), keys.root_b64)
    new_root = generate_private_key()
    chain = [sign_succession(keys.root, new_root, ISSUED)]
    store_trust_list(
        store, _list(keys, new_root, _delegation(new_root), chain, sequence=2), keys.root_b64
    )
    assert pinned_root_key(base, store) == public_key_b64(new_root)
    pinned = pinned_root_key(base, store)
    assert load_current_trust_list(store, pinned).sequence == 2
    # The old root (perhaps stolen) signs a list directly: refused by the pinned successor.
    with pytest.raises(ForeignRootError):
        store_trust_list(store, _list(keys, keys.root, _delegation(keys.root), sequence=3), pinned)
    # And it cannot hand over to yet another root any more.
    rogue = generate_private_key()
    rogue_chain = [*chain, sign_succession(keys.root, rogue, ISSUED)]
    with pytest.raises(ForeignRootError):
        store_trust_list(
            store, _list(keys, rogue, _delegation(rogue), rogue_chain, sequence=4), pinned
        )
    assert load_current_trust_list(store, pinned).sequence == 2


def test_catalog_signature_covers_the_cursor_and_every_field(keys):
    from ocop.stamps.catalog_signature import sign_catalog_reply, verify_catalog_reply

    reply = {"cursor": 9, "more": False, "products": [{"id": 5, "name_vi": "Chè"}]}
    reply["catalog_signature"] = sign_catalog_reply(reply, 0, LIST_KEY)
    verify_catalog_reply(reply, 0, public_key_b64(LIST_KEY))
    with pytest.raises(TrustError, match="does not verify"):  # replayed at another cursor
        verify_catalog_reply(reply, 4, public_key_b64(LIST_KEY))
    with pytest.raises(TrustError, match="does not verify"):  # signed by another key
        verify_catalog_reply(reply, 0, keys.root_b64)
    altered = {**reply, "products": [{"id": 5, "name_vi": "FAKE"}]}
    with pytest.raises(TrustError, match="does not verify"):
        verify_catalog_reply(altered, 0, public_key_b64(LIST_KEY))
