import datetime as dt

import pytest
import segno

from ocop.stamps.codec import (
    MAX_BASE_URL_CHARS,
    MAX_ISSUED_ON,
    MAX_PRODUCT_ID,
    MAX_SERIAL,
    PAYLOAD_CHARS,
    PAYLOAD_DIGITS,
    StampFields,
    encode_legacy_stamp_url,
    encode_stamp_url,
    normalise_base_url,
    parse_stamp_payload,
    parse_stamp_text,
    qr_segment_bits,
    stamp_qr_segments,
    stamp_text_for_payload,
)
from ocop.stamps.errors import StampConfigError, StampFormatError
from tests.stamps.conftest import BASE_URL

SIG = bytes(range(64))
PREFIX = "https://OCOP.SONLA.GOV.VN/S/"  # the current spelling's prefix for BASE_URL

EXTREMES = [
    StampFields(key_id=1, product_id=1, serial=1, issued_on=dt.date(2020, 1, 1)),
    StampFields(key_id=255, product_id=MAX_PRODUCT_ID, serial=MAX_SERIAL, issued_on=MAX_ISSUED_ON),
    StampFields(key_id=128, product_id=101, serial=2**39, issued_on=dt.date(2099, 12, 31)),
]


@pytest.mark.parametrize("fields", EXTREMES)
def test_round_trip(fields):
    text = encode_stamp_url(fields, SIG, BASE_URL)
    assert text.startswith(PREFIX) and len(text) == len(PREFIX) + PAYLOAD_DIGITS == 212
    parsed = parse_stamp_text(text, BASE_URL)
    assert parsed.fields == fields
    assert parsed.signature == SIG
    assert parsed.signed_message == b"OCOP-SL-STAMP\x00" + fields.header()


@pytest.mark.parametrize("fields", EXTREMES)
@pytest.mark.parametrize("sig", [bytes(64), b"\xff" * 64, SIG])
def test_qr_version_at_most_6_at_level_m(fields, sig):
    text = encode_stamp_url(fields, sig, BASE_URL)
    qr = segno.make(_segno(stamp_qr_segments(text)), error="m", boost_error=False)
    assert qr.version <= 6
    assert qr.error == "M"
    legacy = segno.make(
        encode_legacy_stamp_url(fields, sig, BASE_URL), error="m", boost_error=False
    )
    assert (legacy.version, legacy.mode) == (6, "alphanumeric")


def _segno(segments):
    from segno import consts

    modes = {
        "byte": consts.MODE_BYTE,
        "alphanumeric": consts.MODE_ALPHANUMERIC,
        "numeric": consts.MODE_NUMERIC,
    }
    return [(t, modes[m]) for t, m in segments]


def test_segments_of_the_current_spelling():
    text = encode_stamp_url(EXTREMES[1], b"\xff" * 64, BASE_URL)
    segments = stamp_qr_segments(text)
    assert segments == (
        ("https://", "byte"),
        ("OCOP.SONLA.GOV.VN/S/", "alphanumeric"),
        (text[len(PREFIX) :], "numeric"),
    )
    bits = sum(qr_segment_bits(m, len(t)) for t, m in segments)
    assert bits == 76 + 123 + 628 == 827  # <= 864, version 6-M's data bits
    from segno import encoder

    assert (
        encoder.prepare_data(_segno(segments), None, None).bit_length + 3 * 4 + 8 + 9 + 10 == bits
    )
    # the legacy stamp text is no current spelling
    with pytest.raises(StampFormatError):
        stamp_qr_segments(encode_legacy_stamp_url(EXTREMES[0], SIG, BASE_URL))


def test_longest_base_url_still_fits_v6():
    base = "HTTPS://OCOP.SONLA.GOV.VN/STAMPS/"  # 33 characters
    base += "V" * (MAX_BASE_URL_CHARS - len(base) - 1) + "/"
    assert len(base) == MAX_BASE_URL_CHARS == 34
    text = encode_stamp_url(EXTREMES[1], b"\xff" * 64, base)
    qr = segno.make(_segno(stamp_qr_segments(text)), error="m", boost_error=False)
    assert qr.version == 6
    with pytest.raises(StampConfigError, match="at most 34"):
        normalise_base_url(base[:-1] + "X/")


@pytest.mark.parametrize(
    "bad",
    [
        "http://ocop.sonla.gov.vn/s/",
        "HTTPS://OCOP.SONLA.GOV.VN/S",
        "HTTPS://OCOP.SONLA.GOV.VN/S?x/",
        "HTTPS://OCOP.SONLA.GOV.VN/STAMPS/VERIFY/",
        "HTTPS://OCOP.SONLA.GOV.VN/STAMPS/X/",  # 35 characters
        "https://ocop.sonla.gov.vn/s/?",
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
    """A legacy (base32) payload."""
    return encode_legacy_stamp_url(fields, SIG, BASE_URL)[len(BASE_URL) :]


def _digits(fields=EXTREMES[0]):
    return encode_stamp_url(fields, SIG, BASE_URL)[len(PREFIX) :]


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
    text = encode_legacy_stamp_url(EXTREMES[0], SIG, BASE_URL)
    for variant in ("https://ocop.sonla.gov.vn/s/" + text[len(BASE_URL) :], "hTTPS" + text[5:]):
        with pytest.raises(StampFormatError) as info:
            parse_stamp_text(variant, BASE_URL)
        assert info.value.under_prefix
    assert parse_stamp_payload(text[len(BASE_URL) :]).fields == EXTREMES[0]


def test_legacy_spelling_still_parses():
    text = encode_legacy_stamp_url(EXTREMES[1], SIG, BASE_URL)
    assert len(text) == len(BASE_URL) + PAYLOAD_CHARS == 150
    assert parse_stamp_text(text, BASE_URL).fields == EXTREMES[1]
    assert parse_stamp_text(text, BASE_URL) == parse_stamp_text(
        encode_stamp_url(EXTREMES[1], SIG, BASE_URL), BASE_URL
    )


@pytest.mark.parametrize(
    "variant, message",
    [
        (lambda d: "https://ocop.sonla.gov.vn/s/" + d, "canonical spelling"),
        (lambda d: "HTTPS://ocop.sonla.gov.vn/s/" + d, "canonical spelling"),
        (lambda d: "https://OCOP.SONLA.GOV.VN/s/" + d, "canonical spelling"),
        (lambda d: "Https://OCOP.SONLA.GOV.VN/S/" + d, "canonical spelling"),
        (lambda d: "HTTPS://OCOP.SONLA.GOV.VN/S/" + d, "mixed spelling: upper-case"),
        (lambda d: PREFIX + d[1:], "exactly 184 decimal digits"),
        (lambda d: PREFIX + "0" + d, "exactly 184 decimal digits"),
        (lambda d: PREFIX + d + "\n", "exactly 184 decimal digits"),
        (lambda d: PREFIX + d[:-1] + "A", "exactly 184 decimal digits"),
        (lambda d: PREFIX + d[:-1] + "\u0663", "exactly 184 decimal digits"),  # Arabic 3
        (lambda d: PREFIX + " " + d[1:], "exactly 184 decimal digits"),
        (lambda d: PREFIX + str(2**608).zfill(184), "not below 2\\*\\*608"),
        (lambda d: PREFIX + "9" * 184, "not below 2\\*\\*608"),
    ],
)
def test_non_canonical_current_spellings_refused(variant, message):
    with pytest.raises(StampFormatError, match=message) as info:
        parse_stamp_text(variant(_digits()), BASE_URL)
    assert info.value.under_prefix


def test_mixed_lower_scheme_with_base32_refused():
    with pytest.raises(StampFormatError, match="mixed spelling: lower-case") as info:
        parse_stamp_text(PREFIX + _payload(), BASE_URL)
    assert info.value.under_prefix


def test_largest_number_is_accepted_by_the_number_check():
    # 2**608 - 1 is 184 digits and passes the number check; it then fails on its version byte
    with pytest.raises(StampFormatError, match="unknown format version 255"):
        parse_stamp_text(PREFIX + str(2**608 - 1), BASE_URL)


def test_payload_alone_both_forms():
    """The registry's page: only the path segment, either form, and its canonical text."""
    digits, b32 = _digits(EXTREMES[2]), _payload(EXTREMES[2])
    assert parse_stamp_payload(digits) == parse_stamp_payload(b32)
    assert stamp_text_for_payload(digits, BASE_URL) == PREFIX + digits
    assert stamp_text_for_payload(b32, BASE_URL) == BASE_URL + b32
    for bad in (digits[1:], digits + "0", "0" + b32[1:], b32.lower()):
        with pytest.raises(StampFormatError):
            parse_stamp_payload(bad)


def test_unknown_version_in_decimal_refused():
    raw = bytearray(int(_digits()).to_bytes(76, "big"))
    raw[0] = 2
    with pytest.raises(StampFormatError, match="unknown format version 2"):
        parse_stamp_payload(str(int.from_bytes(raw, "big")).zfill(184))


@pytest.mark.parametrize(
    "text",
    ["", "hello", "HTTPS://EXAMPLE.COM/S/" + "A" * 122, "ſ" * 200, "\x00" * 150, None, b"bytes"],
)
def test_other_text_not_under_prefix(text):
    with pytest.raises(StampFormatError) as info:
        parse_stamp_text(text, BASE_URL)
    assert not info.value.under_prefix
