import base64
import datetime as dt
import json

import pytest

from kiosk.stamps.trust_store import load_current_trust_list, store_trust_list
from ocop.stamps.errors import TrustError
from ocop.stamps.freshness import TrustFreshness
from ocop.stamps.keys import public_key_b64
from ocop.stamps.signer import make_trust_list, signing_key_entry
from ocop.stamps.trust import (
    TRUST_DOMAIN,
    RevokedKey,
    RevokedRange,
    TrustList,
    canonical_json,
    sign_trust_list,
    verify_signed_trust_list,
)
from tests.stamps.conftest import make_tl, signed


def test_round_trip(keys):
    tl = make_tl(
        keys,
        revoked_ranges=[RevokedRange(10, 20, "stolen")],
        revoked_keys=[RevokedKey(1, dt.date(2026, 1, 1), 99, "leak")],
        suspect_serials=[5, 7],
    )
    back = verify_signed_trust_list(signed(keys, tl), keys.root_b64)
    assert back == tl
    assert back.revoked_range_of(15).reason == "stolen"
    assert back.revoked_range_of(21) is None and back.revoked_range_of(9) is None
    assert back.is_suspect(7) and not back.is_suspect(6)


def test_pretty_printed_envelope_still_verifies(keys):
    blob = json.dumps(json.loads(signed(keys, make_tl(keys))), indent=2, ensure_ascii=False)
    assert verify_signed_trust_list(blob, keys.root_b64).sequence == 1


def test_overlapping_ranges_merged_for_lookup(keys):
    tl = make_tl(
        keys,
        revoked_ranges=[RevokedRange(1, 10), RevokedRange(5, 30, "b"), RevokedRange(100, 100, "c")],
    )
    assert tl.revoked_range_of(25).first == 1
    assert tl.revoked_range_of(100).last == 100
    assert tl.revoked_range_of(31) is None


def _tamper(blob: str, change) -> str:
    env = json.loads(blob)
    change(env)
    return json.dumps(env)


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e["trust_list"].__setitem__("sequence", 2),
        lambda e: e["trust_list"]["revoked_ranges"].append({"first": 1, "last": 2, "reason": ""}),
        lambda e: e["trust_list"]["signing_keys"][0].__setitem__("valid_until", "2099-01-01"),
        lambda e: e.__setitem__("signature", base64.b64encode(bytes(64)).decode()),
        lambda e: e.__setitem__("signature", "not base64!"),
        lambda e: e.pop("signature"),
        lambda e: e.__setitem__("extra", 1),
    ],
)
def test_tampered_or_unsigned_rejected(keys, change):
    blob = _tamper(signed(keys, make_tl(keys)), change)
    with pytest.raises(TrustError):
        verify_signed_trust_list(blob, keys.root_b64)


def test_bare_unsigned_trust_list_rejected(keys):
    with pytest.raises(TrustError, match="envelope"):
        verify_signed_trust_list(json.dumps(make_tl(keys).to_dict()), keys.root_b64)


def test_wrong_root_rejected(keys):
    blob = signed(keys, make_tl(keys))
    with pytest.raises(TrustError, match="another root"):
        verify_signed_trust_list(blob, keys.other_root_b64)


def test_signed_by_other_root_claiming_ours_rejected(keys):
    body = make_tl(keys).to_dict()  # names our root's fingerprint
    from ocop.stamps.trust import TRUST_DOMAIN, canonical_json

    sig = keys.other_root.sign(TRUST_DOMAIN + canonical_json(body))
    blob = json.dumps({"trust_list": body, "signature": base64.b64encode(sig).decode()})
    with pytest.raises(TrustError, match="must carry its delegation"):
        verify_signed_trust_list(blob, keys.root_b64)
    # The same with a forged delegation: our root's name, the other root's signature.
    forged = json.loads(signed(keys, make_tl(keys)))
    forged["delegation"]["signature"] = base64.b64encode(
        keys.other_root.sign(
            b"OCOP-SL-DELEGATION\x00" + canonical_json(forged["delegation"]["delegation"])
        )
    ).decode()
    with pytest.raises(TrustError, match="delegation signature does not verify"):
        verify_signed_trust_list(json.dumps(forged), keys.root_b64)


def test_stamp_signature_domain_cannot_sign_trust_lists(keys):
    tl_other = make_trust_list(
        keys.other_root,
        sequence=1,
        signing_keys=[signing_key_entry(1, keys.k1, dt.date(2020, 1, 1))],
    )
    with pytest.raises(TrustError):  # sign_trust_list refuses a list naming another root
        sign_trust_list(tl_other, keys.root)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b"null",
        b'{"trust_list": 1}',
        b"{" * 100000,
        b'{"a": 1, "a": 2}',
        b'{"x": 1.5}',
        b'{"x": NaN}',
    ],
)
def test_junk_rejected_with_trust_error(keys, blob):
    with pytest.raises(TrustError):
        verify_signed_trust_list(blob, keys.root_b64)


def test_make_trust_list_validates_like_a_kiosk(keys):
    with pytest.raises(TrustError):
        make_tl(keys, sequence=0)
    with pytest.raises(TrustError):
        make_tl(keys, revoked_ranges=[RevokedRange(0, 5)])


def test_invalid_fields_refused(keys):
    good = make_tl(keys).to_dict()
    bad_values = [
        ("sequence", True),
        ("issued_at", "2026-11-29"),
        ("root_fingerprint", "ABC"),
        ("suspect_serials", [0]),
        ("revoked_ranges", [{"first": 5, "last": 4, "reason": ""}]),
        (
            "signing_keys",
            [{"key_id": 1, "public_key": "AAAA", "valid_from": "2020-01-01", "valid_until": None}],
        ),
        ("signing_keys", good["signing_keys"] * 2),
        ("signing_keys", [{**good["signing_keys"][0], "valid_until": "2019-01-01"}]),
        ("signing_keys", [{**good["signing_keys"][0], "valid_from": "2020-02-30"}]),
        ("version", 3),
        ("version", 1),  # a version 1 list has no expires_at: unknown field
        ("expires_at", "2026-11-28T00:00:00Z"),  # before issued_at
        ("expires_at", "2026-12-06"),
        ("expires_at", None),
        ("format", "something-else"),
    ]
    for field, value in bad_values:
        with pytest.raises(TrustError):
            TrustList.from_dict({**good, field: value})


# --- storage --------------------------------------------------------------------------------


def test_store_and_load(store, keys):
    assert load_current_trust_list(store, keys.root_b64) is None
    tl1 = store_trust_list(store, signed(keys, make_tl(keys, 1)), keys.root_b64)
    assert load_current_trust_list(store, keys.root_b64) == tl1
    tl3 = store_trust_list(
        store, signed(keys, make_tl(keys, 3, suspect_serials=[9])), keys.root_b64
    )
    assert load_current_trust_list(store, keys.root_b64) == tl3


def test_older_sequence_refused_rollback_protection(store, keys):
    store_trust_list(store, signed(keys, make_tl(keys, 5)), keys.root_b64)
    with pytest.raises(TrustError, match="older"):
        store_trust_list(store, signed(keys, make_tl(keys, 4)), keys.root_b64)
    assert load_current_trust_list(store, keys.root_b64).sequence == 5


def test_same_sequence_idempotent_or_refused(store, keys):
    blob = signed(keys, make_tl(keys, 2))
    store_trust_list(store, blob, keys.root_b64)
    store_trust_list(store, blob, keys.root_b64)  # a repeated download: fine
    with pytest.raises(TrustError, match="different"):
        store_trust_list(store, signed(keys, make_tl(keys, 2, suspect_serials=[1])), keys.root_b64)
    assert store.query_one("SELECT count(*) FROM trust_lists")[0] == 1


def test_tampered_row_in_database_is_ignored(store, keys):
    store_trust_list(store, signed(keys, make_tl(keys, 1)), keys.root_b64)
    store_trust_list(store, signed(keys, make_tl(keys, 2)), keys.root_b64)
    with store.transaction() as conn:
        conn.execute(
            "UPDATE trust_lists SET signed_json = replace(signed_json, "
            "'\"suspect_serials\":[]', '\"suspect_serials\":[1]') WHERE sequence = 2"
        )
    assert load_current_trust_list(store, keys.root_b64).sequence == 1


def test_unsigned_or_other_root_never_stored(store, keys):
    other = make_trust_list(
        keys.other_root,
        sequence=9,
        signing_keys=[signing_key_entry(1, keys.k1, dt.date(2020, 1, 1))],
    )
    with pytest.raises(TrustError):
        store_trust_list(store, sign_trust_list(other, keys.other_root), keys.root_b64)
    with pytest.raises(TrustError):
        store_trust_list(store, json.dumps(make_tl(keys).to_dict()), keys.root_b64)
    assert store.query_one("SELECT count(*) FROM trust_lists")[0] == 0


def test_lists_of_a_former_root_do_not_block_a_new_root(store, keys):
    other = make_trust_list(
        keys.other_root,
        sequence=9,
        signing_keys=[signing_key_entry(1, keys.k1, dt.date(2020, 1, 1))],
    )
    store_trust_list(
        store, sign_trust_list(other, keys.other_root), public_key_b64(keys.other_root)
    )
    tl = store_trust_list(store, signed(keys, make_tl(keys, 1)), keys.root_b64)
    assert load_current_trust_list(store, keys.root_b64) == tl


# --- freshness (trust list version 2) ---------------------------------------------------------


def test_expiry_is_signed_and_judged_by_the_given_time(keys):
    tl = make_tl(keys, validity_s=3600)
    assert tl.to_dict()["version"] == 2 and tl.expires_at == "2026-11-29T01:00:00Z"
    blob = signed(keys, tl)
    assert verify_signed_trust_list(blob, keys.root_b64) == tl
    # Moving the expiry is an edit of signed content.
    edited = blob.replace("2026-11-29T01:00:00Z", "2027-11-29T01:00:00Z")
    with pytest.raises(TrustError, match="signature"):
        verify_signed_trust_list(edited, keys.root_b64)
    before = dt.datetime(2026, 11, 29, 0, 59, 59, tzinfo=dt.UTC)
    assert tl.freshness(before) is TrustFreshness.FRESH
    assert tl.freshness(before + dt.timedelta(seconds=1)) is TrustFreshness.EXPIRED
    assert TrustFreshness.EXPIRED.is_stale and not TrustFreshness.FRESH.is_stale


def test_version_1_list_still_verifies_but_is_expired(keys):
    """A kiosk's stored list from before version 2: kept, verifying, out of date."""
    body = make_tl(keys).to_dict()
    del body["expires_at"]
    body["version"] = 1
    sig = keys.root.sign(TRUST_DOMAIN + canonical_json(body))
    blob = json.dumps({"trust_list": body, "signature": base64.b64encode(sig).decode()})
    tl = verify_signed_trust_list(blob, keys.root_b64)
    assert tl.expires_at is None and tl.to_dict() == body
    assert tl.freshness(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) is TrustFreshness.EXPIRED
