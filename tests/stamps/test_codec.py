import datetime as dt

import pytest
import segno

from ocop.stamps.codec import (
    MAX_ISSUED_ON,
    MAX_PRODUCT_ID,
    MAX_SERIAL,
    PAYLOAD_CHARS,
    StampFields,
    encode_stamp_url,
    normalise_base_url,
    parse_stamp_payload,
    parse_stamp_text,
)
from ocop.stamps.errors import StampConfigError, StampFormatError
from tests.stamps.conftest import BASE_URL

SIG = bytes(range(64))

EXTREMES = [
    StampFields(key_id=1, product_id=1, serial=1, issued_on=dt.date(2020, 1, 1)),
    StampFields(key_id=255, product_id=MAX_PRODUCT_ID, serial=MAX_SERIAL, issued_on=MAX_ISSUED_ON),
    StampFields(key_id=128, product_id=101, serial=2**39, issued_on=dt.date(2099, 12, 31)),
]


@pytest.mark.parametrize("fields", EXTREMES)
def test_round_trip(fields):
    text = encode_stamp_url(fields, SIG, BASE_URL)
    assert len(text) == len(BASE_URL) + PAYLOAD_CHARS == 150
    parsed = parse_stamp_text(text, BASE_URL)
    assert parsed.fields == fields
    assert parsed.signature == SIG
    assert parsed.signed_message == b"OCOP-SL-STAMP\x00" + fields.header()


@pytest.mark.parametrize("fields", EXTREMES)
@pytest.mark.parametrize("sig", [bytes(64), b"\xff" * 64, SIG])
def test_qr_version_at_most_6_at_level_m(fields, sig):
    text = encode_stamp_url(fields, sig, BASE_URL)
    qr = segno.make(text, error="m", boost_error=False)
    assert qr.version <= 6
    assert qr.error == "M"
    assert qr.mode == "alphanumeric"


def test_longest_base_url_still_fits_v6():
    base = "HTTPS://OCOP.SONLA.GOV.VN/STAMP/"  # 32 characters, the maximum
    assert len(base) == 32
    text = encode_stamp_url(EXTREMES[1], b"\xff" * 64, base)
    assert segno.make(text, error="m", boost_error=False).version <= 6


@pytest.mark.parametrize(
    "bad",
    [
        "http://ocop.sonla.gov.vn/s/",
        "HTTPS://OCOP.SONLA.GOV.VN/S",
        "HTTPS://OCOP.SONLA.GOV.VN/S?x/",
        "HTTPS://OCOP.SONLA.GOV.VN/STAMPS/VERIFY/",
        "HTTPS://ỐCOP.VN/",
        42,
    ],
)
def test_bad_base_urls_refused(bad):
    with pytest.raises(StampConfigError):
        normalise_base_url(bad)


def test_base_url_is_uppercased():
    assert normalise_base_url("https://ocop.sonla.gov.vn/s/") == BASE_URL


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(key_id=0),
        dict(key_id=256),
        dict(product_id=0),
        dict(product_id=2**24),
        dict(serial=0),
        dict(serial=2**40),
        dict(issued_on=dt.date(2019, 12, 31)),
        dict(issued_on=dt.date(2199, 6, 7)),
        dict(key_id=True),
        dict(serial=1.0),
        dict(issued_on=dt.datetime(2025, 1, 1)),
    ],
)
def test_fields_out_of_range_refused(kwargs):
    base = dict(key_id=1, product_id=1, serial=1, issued_on=dt.date(2025, 1, 1))
    with pytest.raises(StampConfigError):
        StampFields(**{**base, **kwargs})


def _payload(fields=EXTREMES[0]):
    return encode_stamp_url(fields, SIG, BASE_URL)[len(BASE_URL) :]


@pytest.mark.parametrize(
    "mutate, under",
    [
        (lambda p: p[:-1], True),  # truncated
        (lambda p: p + "A", True),  # too long
        (lambda p: p.lower(), True),  # lowercase payload
        (lambda p: p[:-1] + "=", True),
        (lambda p: p[:-4] + "====", True),
        (lambda p: p + "\n", True),
    ],
)
def test_malformed_payloads(mutate, under):
    with pytest.raises(StampFormatError) as info:
        parse_stamp_text(BASE_URL + mutate(_payload()), BASE_URL)
    assert info.value.under_prefix is under


def test_non_canonical_trailing_bits_refused():
    payload = _payload()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    value = alphabet.index(payload[-1])
    assert value & 0b11 == 0
    for low in (1, 2, 3):
        with pytest.raises(StampFormatError, match="non-canonical"):
            parse_stamp_payload(payload[:-1] + alphabet[value | low])


def test_unknown_version_and_zero_fields_refused():
    import base64

    raw = bytearray(base64.b32decode(_payload() + "======"))
    for index, value in [(0, 2), (0, 0), (1, 0)]:
        changed = bytearray(raw)
        changed[index] = value
        text = base64.b32encode(bytes(changed)).decode().rstrip("=")
        with pytest.raises(StampFormatError):
            parse_stamp_payload(text)
    changed = bytearray(raw)
    changed[5:10] = bytes(5)  # serial 0
    with pytest.raises(StampFormatError):
        parse_stamp_payload(base64.b32encode(bytes(changed)).decode().rstrip("="))


def test_prefix_case_variants_are_under_prefix_but_refused():
    text = encode_stamp_url(EXTREMES[0], SIG, BASE_URL)
    for variant in ("https://ocop.sonla.gov.vn/s/" + text[len(BASE_URL) :], "hTTPS" + text[5:]):
        with pytest.raises(StampFormatError) as info:
            parse_stamp_text(variant, BASE_URL)
        assert info.value.under_prefix
    assert parse_stamp_payload(text[len(BASE_URL) :]).fields == EXTREMES[0]


@pytest.mark.parametrize(
    "text",
    ["", "hello", "HTTPS://EXAMPLE.COM/S/" + "A" * 122, "ſ" * 200, "\x00" * 150, None, b"bytes"],
)
def test_other_text_not_under_prefix(text):
    with pytest.raises(StampFormatError) as info:
        parse_stamp_text(text, BASE_URL)
    assert not info.value.under_prefix
