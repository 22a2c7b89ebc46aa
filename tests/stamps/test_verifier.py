"""Every verdict, rotation, revocation and expiry through the pure verifier."""

import dataclasses
import datetime as dt

import pytest

from ocop.stamps.signer import StampSigner, signing_key_entry
from ocop.stamps.trust import RevokedKey, RevokedRange
from ocop.stamps.verdicts import COUNTED_FOR_CLONES, Verdict
from tests.stamps.conftest import BASE_URL, ISSUED, TODAY, make_tl, make_verifier


def test_every_verdict_has_both_messages():
    for verdict in Verdict:
        assert verdict.message_vi and verdict.message_en
        assert verdict.message_vi != verdict.message_en


def test_genuine(verifier, keys):
    text = keys.signer1.sign(101, 1, ISSUED)
    v = verifier.verify(text, today=TODAY)
    assert v.verdict is Verdict.GENUINE
    assert (v.product_id, v.serial, v.key_id, v.issued_on) == (101, 1, 1, ISSUED)
    assert v.verdict.may_show_stars
    data = v.to_json()
    assert data["verdict"] == "genuine" and data["issued_on"] == "2025-06-01"
    assert data["message_vi"].startswith("Tem chính hãng")
    assert set(data) >= {
        "text",
        "verdict",
        "product_id",
        "serial",
        "key_id",
        "issued_on",
        "message_vi",
        "message_en",
    }


def test_rating_expired_and_unknown_product(verifier, keys):
    v = verifier.verify(keys.signer1.sign(102, 2, ISSUED), today=TODAY)
    assert v.verdict is Verdict.GENUINE_RATING_EXPIRED and not v.verdict.may_show_stars
    assert v.product_id == 102
    v = verifier.verify(keys.signer1.sign(999, 3, ISSUED), today=TODAY)
    assert v.verdict is Verdict.GENUINE_UNKNOWN_PRODUCT and v.product_id == 999


def test_expiry_is_judged_for_the_given_day(trust_list, keys):
    seen = []

    def lookup(product_id, today):
        from ocop.stamps.verifier import ProductStatus

        seen.append(today)
        return ProductStatus(product_id, today <= dt.date(2027, 6, 30))

    from ocop.stamps.verifier import StampVerifier

    verifier = StampVerifier(trust_list, BASE_URL, 20, product_lookup=lookup)
    text = keys.signer1.sign(101, 1, ISSUED)
    assert verifier.verify(text, today=dt.date(2027, 6, 30)).verdict is Verdict.GENUINE
    assert (
        verifier.verify(text, today=dt.date(2027, 7, 1)).verdict is Verdict.GENUINE_RATING_EXPIRED
    )
    assert seen == [dt.date(2027, 6, 30), dt.date(2027, 7, 1)]


def test_forged_signature_and_unknown_key(verifier, keys):
    # Key 2 is not in the trust list: cannot verify yet (a newer key), never forged, never
    # genuine, no product named; key 2 claiming to be key 1 fails the signature.
    unknown = verifier.verify(keys.signer2.sign(101, 1, ISSUED))
    assert unknown.verdict is Verdict.KEY_NOT_YET_KNOWN
    assert unknown.product_id is None and unknown.serial is None
    assert not unknown.verdict.signature_valid and not unknown.verdict.names_a_product
    assert unknown.verdict not in COUNTED_FOR_CLONES
    impostor = StampSigner(1, keys.k2, BASE_URL)
    v = verifier.verify(impostor.sign(101, 1, ISSUED))
    assert v.verdict is Verdict.FORGED and v.product_id is None and v.serial is None
    assert "signature" in v.detail


def test_truncated_signature_and_malformed_are_forged(verifier, keys):
    text = keys.signer1.sign(101, 1, ISSUED)
    for bad in (
        text[:-1],
        text[:-20],
        text[: len(BASE_URL) + 19],
        BASE_URL,
        text + "A",
        text.lower(),
        BASE_URL + "a" * 122,
        BASE_URL + "1" * 122,
        BASE_URL + "ỐCOP",
        text + "\n",
    ):
        assert verifier.verify(bad).verdict is Verdict.FORGED, bad


def test_not_ocop(verifier):
    for text in (
        "",
        "hello",
        "https://evil.example/S/AAAA",
        "WIFI:S:cafe;P:123;;",
        "\x00\x01\x02",
        "ǅ" * 10_000,
        "1234567890123",
        "12345678901232",
    ):
        v = verifier.verify(text)
        assert v.verdict is Verdict.NOT_OCOP, text
        assert v.product_id is None


def test_bytes_and_non_text_inputs(verifier, keys):
    text = keys.signer1.sign(101, 1, ISSUED)
    assert verifier.verify(text.encode(), today=TODAY).verdict is Verdict.GENUINE
    assert verifier.verify(b"\xff\xfe\x00junk").verdict is Verdict.NOT_OCOP
    assert verifier.verify(None).verdict is Verdict.NOT_OCOP
    assert verifier.verify(12345).verdict is Verdict.NOT_OCOP


@pytest.mark.parametrize(
    "text, gtin",
    [
        ("8930000000018", None),  # check digit wrong -> not a GTIN
        ("8934563138165", "8934563138165"),  # EAN-13 (Vietnam prefix 893)
        ("036000291452", "036000291452"),  # UPC-A
        ("96385074", "96385074"),  # EAN-8
        ("09506000134352", "09506000134352"),
        ("https://id.gs1.org/01/09506000134352/10/ABC?17=201225", "09506000134352"),
        ("https://example.com/gs1/01/9506000134352", "9506000134352"),
        ("(01)09506000134352(17)201225", "09506000134352"),
        ("https://id.gs1.org/01/09506000134353", None),  # bad check digit
    ],
)
def test_product_barcodes(trust_list, text, gtin):
    verifier = make_verifier(trust_list, gtins={"8934563138165": 101})
    v = verifier.verify(text)
    if gtin is None:
        assert v.verdict is Verdict.NOT_OCOP
    else:
        assert v.verdict is Verdict.PRODUCT_BARCODE and v.gtin == gtin
        assert v.serial is None
        assert v.product_id == (101 if gtin == "8934563138165" else None)


def test_revoked_serial_range(keys):
    tl = make_tl(keys, revoked_ranges=[RevokedRange(100, 199, "stolen station")])
    verifier = make_verifier(tl)
    assert verifier.verify(keys.signer1.sign(101, 150, ISSUED)).verdict is Verdict.REVOKED
    assert verifier.verify(keys.signer1.sign(101, 100, ISSUED)).verdict is Verdict.REVOKED
    assert verifier.verify(keys.signer1.sign(101, 199, ISSUED)).verdict is Verdict.REVOKED
    assert (
        verifier.verify(keys.signer1.sign(101, 200, ISSUED), today=TODAY).verdict is Verdict.GENUINE
    )
    v = verifier.verify(keys.signer1.sign(101, 150, ISSUED))
    assert "stolen station" in v.detail and v.serial == 150


def test_revoked_key_from_date(keys):
    tl = make_tl(keys, revoked_keys=[RevokedKey(1, dt.date(2025, 7, 1))])
    verifier = make_verifier(tl)
    before = keys.signer1.sign(101, 1, dt.date(2025, 6, 30))
    on = keys.signer1.sign(101, 2, dt.date(2025, 7, 1))
    after = keys.signer1.sign(101, 3, dt.date(2026, 1, 1))
    assert verifier.verify(before, today=TODAY).verdict is Verdict.GENUINE
    assert verifier.verify(on).verdict is Verdict.REVOKED
    assert verifier.verify(after).verdict is Verdict.REVOKED


def test_revoked_key_last_good_serial_catches_back_dating(keys):
    tl = make_tl(keys, revoked_keys=[RevokedKey(1, dt.date(2025, 7, 1), last_good_serial=500)])
    verifier = make_verifier(tl)
    assert (
        verifier.verify(keys.signer1.sign(101, 500, ISSUED), today=TODAY).verdict is Verdict.GENUINE
    )
    assert verifier.verify(keys.signer1.sign(101, 501, ISSUED)).verdict is Verdict.REVOKED


def test_rotation_old_stamps_stay_genuine_while_trusted(keys):
    rotated_on = dt.date(2026, 1, 1)
    tl = make_tl(
        keys,
        sequence=2,
        signing_keys=[
            signing_key_entry(1, keys.k1, dt.date(2020, 1, 1), rotated_on),
            signing_key_entry(2, keys.k2, rotated_on),
        ],
    )
    verifier = make_verifier(tl)
    old = keys.signer1.sign(101, 1, dt.date(2025, 12, 31))
    old_last_day = keys.signer1.sign(101, 2, rotated_on)
    new = keys.signer2.sign(101, 3, dt.date(2026, 3, 1))
    old_key_after_rotation = keys.signer1.sign(101, 4, dt.date(2026, 1, 2))
    new_key_backdated = keys.signer2.sign(101, 5, dt.date(2025, 12, 31))
    assert verifier.verify(old, today=TODAY).verdict is Verdict.GENUINE
    assert verifier.verify(old_last_day, today=TODAY).verdict is Verdict.GENUINE
    assert verifier.verify(new, today=TODAY).verdict is Verdict.GENUINE
    assert verifier.verify(old_key_after_rotation).verdict is Verdict.FORGED
    assert verifier.verify(new_key_backdated).verdict is Verdict.FORGED
    # Once key 1 leaves the trust list, its stamps are no longer trusted.
    verifier.update_trust_list(
        make_tl(keys, sequence=3, signing_keys=[signing_key_entry(2, keys.k2, rotated_on)])
    )
    assert verifier.verify(old).verdict is Verdict.FORGED
    assert verifier.verify(new, today=TODAY).verdict is Verdict.GENUINE


def test_suspect_list_and_clone_limit(keys):
    tl = make_tl(keys, suspect_serials=[42])
    scans = {7: 2, 8: 3}
    verifier = make_verifier(tl, limit=3, scans=scans)
    assert verifier.verify(keys.signer1.sign(101, 42, ISSUED)).verdict is Verdict.SUSPECT_CLONE
    assert (
        verifier.verify(keys.signer1.sign(101, 7, ISSUED), today=TODAY).verdict is Verdict.GENUINE
    )  # 3rd scan: within the limit
    v = verifier.verify(keys.signer1.sign(101, 8, ISSUED))  # 4th scan: over the limit
    assert v.verdict is Verdict.SUSPECT_CLONE and "3 times" in v.detail


def test_order_revoked_before_suspect(keys):
    tl = make_tl(keys, suspect_serials=[42], revoked_ranges=[RevokedRange(40, 50)])
    assert make_verifier(tl).verify(keys.signer1.sign(101, 42, ISSUED)).verdict is Verdict.REVOKED


def test_public_keys_are_cached(trust_list, keys, monkeypatch):
    import ocop.stamps.verifier as verifier_module

    calls = []
    real = verifier_module.load_public_key_b64
    monkeypatch.setattr(
        verifier_module, "load_public_key_b64", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    verifier = make_verifier(trust_list)
    for serial in range(1, 6):
        verifier.verify(keys.signer1.sign(101, serial, ISSUED))
    assert len(calls) == 1


def test_lookup_failure_never_escapes(trust_list, keys):
    def broken(*args):
        raise RuntimeError("database is locked")

    from ocop.stamps.verifier import StampVerifier

    verifier = StampVerifier(trust_list, BASE_URL, 20, product_lookup=broken, scan_count=broken)
    v = verifier.verify(keys.signer1.sign(101, 1, ISSUED))
    assert v.verdict is Verdict.FORGED and "internal error" in v.detail


def test_verification_is_frozen(verifier):
    v = verifier.verify("hello")
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.verdict = Verdict.GENUINE
