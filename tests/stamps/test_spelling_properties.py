"""Hypothesis properties of stamp text spelling 2 (ocop/stamps/codec.py): 'https://' +
'OCOP.SONLA.GOV.VN/S/' + 184 digits, with the legacy upper-case base32 spelling still valid.

* any payload round-trips: fields + signature -> text -> parse -> the same bytes, in both
  spellings;
* no malleability: a text that parses is exactly the canonical spelling of what it parsed
  to, so no other text of the same signed bytes exists;
* a one-character change anywhere in the prefix or the digits of a signed stamp fails to
  parse, or parses to bytes whose Ed25519 signature fails;
* the non-canonical variants are refused: leading zeros added or dropped, a lower-case (or
  otherwise re-cased) host or path, an extra slash, trailing characters, digits of a number
  >= 2**608 (no 76-byte string), and the prefix of one spelling with the other's payload.
"""

from __future__ import annotations

import datetime as dt

from cryptography.exceptions import InvalidSignature
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ocop.stamps.codec import (
    MAX_ISSUED_ON,
    MAX_PRODUCT_ID,
    MAX_SERIAL,
    PAYLOAD_BYTES,
    PAYLOAD_DIGITS,
    PAYLOAD_LIMIT,
    ParsedStamp,
    StampFields,
    encode_legacy_stamp_url,
    encode_payload,
    encode_stamp_url,
    parse_stamp_payload,
    parse_stamp_text,
)
from ocop.stamps.errors import StampFormatError
from ocop.stamps.keys import private_key_from_seed
from ocop.stamps.signer import StampSigner
from tests.stamps.conftest import BASE_URL, SEED_KEY_1

PREFIX = "https://OCOP.SONLA.GOV.VN/S/"
KEY = private_key_from_seed(SEED_KEY_1)
PUBLIC = KEY.public_key()
SIGNER = StampSigner(7, KEY, BASE_URL)
DIGITS = "0123456789"

fields_st = st.builds(
    StampFields,
    key_id=st.integers(1, 255),
    product_id=st.integers(1, MAX_PRODUCT_ID),
    serial=st.integers(1, MAX_SERIAL),
    issued_on=st.dates(min_value=dt.date(2020, 1, 1), max_value=MAX_ISSUED_ON),
)
signature_st = st.binary(min_size=64, max_size=64)
signed_st = st.builds(
    lambda p, s, d: SIGNER.sign_fields(StampFields(key_id=7, product_id=p, serial=s, issued_on=d)),
    st.integers(1, MAX_PRODUCT_ID),
    st.integers(1, MAX_SERIAL),
    st.dates(min_value=dt.date(2020, 1, 1), max_value=MAX_ISSUED_ON),
)


def _bytes_of(parsed: ParsedStamp) -> bytes:
    return parsed.fields.header() + parsed.signature


def _refused(text: str) -> bool:
    try:
        parse_stamp_text(text, BASE_URL)
    except StampFormatError:
        return True
    return False


def _signature_holds(parsed: ParsedStamp) -> bool:
    try:
        PUBLIC.verify(parsed.signature, parsed.signed_message)
    except InvalidSignature:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(fields_st, signature_st)
def test_any_payload_round_trips_in_both_spellings(fields, signature):
    text = encode_stamp_url(fields, signature, BASE_URL)
    assert text.startswith(PREFIX) and len(text) == len(PREFIX) + PAYLOAD_DIGITS
    assert text[len(PREFIX) :].isdigit()
    parsed = parse_stamp_text(text, BASE_URL)
    assert parsed.fields == fields and parsed.signature == signature
    assert parse_stamp_payload(text[len(PREFIX) :]) == parsed
    legacy = encode_legacy_stamp_url(fields, signature, BASE_URL)
    assert legacy.startswith(BASE_URL) and parse_stamp_text(legacy, BASE_URL) == parsed


@settings(max_examples=300, deadline=None)
@given(fields_st, signature_st, st.data())
def test_a_text_that_parses_is_the_canonical_spelling_of_its_bytes(fields, signature, data):
    """No malleability: random edits of a stamp text that still parse must be exactly the
    current or the legacy encoding of what they parse to (so the edit changed the bytes)."""
    text = data.draw(
        st.sampled_from(
            [
                encode_stamp_url(fields, signature, BASE_URL),
                encode_legacy_stamp_url(fields, signature, BASE_URL),
            ]
        ),
        label="spelling",
    )
    i = data.draw(st.integers(0, len(text)), label="position")
    insert = data.draw(st.sampled_from(DIGITS + "AZaz27/:. "), label="character")
    how = data.draw(st.sampled_from(["replace", "insert", "delete"]), label="edit")
    if how == "replace":
        assume(i < len(text))
        edited = text[:i] + insert + text[i + 1 :]
    elif how == "insert":
        edited = text[:i] + insert + text[i:]
    else:
        assume(i < len(text))
        edited = text[:i] + text[i + 1 :]
    try:
        parsed = parse_stamp_text(edited, BASE_URL)
    except StampFormatError:
        return
    canonical = {
        encode_stamp_url(parsed.fields, parsed.signature, BASE_URL),
        encode_legacy_stamp_url(parsed.fields, parsed.signature, BASE_URL),
    }
    assert edited in canonical
    if edited != text:
        assert _bytes_of(parsed) != fields.header() + signature


@settings(max_examples=500, deadline=None)
@given(signed_st, st.data())
def test_one_changed_character_fails_to_parse_or_fails_the_signature(text, data):
    i = data.draw(st.integers(0, len(text) - 1), label="position")
    c = data.draw(
        st.one_of(st.sampled_from(DIGITS + PREFIX + PREFIX.lower()), st.characters()),
        label="replacement",
    )
    assume(c != text[i])
    edited = text[:i] + c + text[i + 1 :]
    try:
        parsed = parse_stamp_text(edited, BASE_URL)
    except StampFormatError:
        return
    assert not _signature_holds(parsed), (i, c)


def test_every_digit_of_one_stamp_changed_fails():
    """Exhaustively for one stamp: each of the 184 digits replaced by each other digit."""
    text = SIGNER.sign(101, 123456, dt.date(2026, 12, 1))
    assert _signature_holds(parse_stamp_text(text, BASE_URL))
    for i in range(len(PREFIX), len(text)):
        for c in set(DIGITS) - {text[i]}:
            edited = text[:i] + c + text[i + 1 :]
            try:
                parsed = parse_stamp_text(edited, BASE_URL)
            except StampFormatError:
                continue
            assert not _signature_holds(parsed), (i, c)


@settings(max_examples=200, deadline=None)
@given(signed_st, st.integers(1, 3))
def test_leading_zeros_added_or_dropped_are_refused(text, n):
    digits = text[len(PREFIX) :]
    assert _refused(PREFIX + "0" * n + digits)
    assert digits.startswith("0")  # the number is < 2**608 < 10**184: always zero-padded
    assert _refused(PREFIX + digits[n:])
    assert _refused(PREFIX + str(int(digits)))  # the bare number, without padding


@settings(max_examples=200, deadline=None)
@given(signed_st, st.data())
def test_a_re_cased_host_or_path_is_refused(text, data):
    head = PREFIX[len("https://") :]  # OCOP.SONLA.GOV.VN/S/
    flips = data.draw(
        st.sets(st.sampled_from([i for i, c in enumerate(head) if c.isalpha()]), min_size=1),
        label="lower-cased letters",
    )
    recased = "".join(c.lower() if i in flips else c for i, c in enumerate(head))
    assert _refused("https://" + recased + text[len(PREFIX) :])
    assert _refused(text.replace("https://", "HTTPS://", 1))  # legacy prefix, digits
    assert _refused(text.replace("https://", "Https://", 1))


@settings(max_examples=200, deadline=None)
@given(signed_st, st.data())
def test_extra_slashes_and_surrounding_characters_are_refused(text, data):
    digits = text[len(PREFIX) :]
    for variant in (
        PREFIX + "/" + digits,
        PREFIX.replace("/S/", "//S/") + digits,
        "https:///" + PREFIX[len("https://") :] + digits,
        PREFIX + digits + "/",
    ):
        assert _refused(variant), variant
    tail = data.draw(st.text(min_size=1, max_size=5), label="trailing")
    assert _refused(text + tail)
    head = data.draw(st.text(min_size=1, max_size=5), label="leading")
    assert _refused(head + text)


@settings(max_examples=300, deadline=None)
@given(st.integers(PAYLOAD_LIMIT, 10**PAYLOAD_DIGITS - 1))
def test_digits_of_a_number_too_big_for_76_bytes_are_refused(number):
    digits = str(number).zfill(PAYLOAD_DIGITS)
    assert len(digits) == PAYLOAD_DIGITS
    assert _refused(PREFIX + digits)
    try:
        parse_stamp_payload(digits)
    except StampFormatError:
        return
    raise AssertionError("parse_stamp_payload took a number >= 2**608")


def test_the_largest_76_byte_number_is_the_last_in_range():
    """The boundary itself: 2**608 - 1 passes the number check (then fails the version),
    2**608 fails it."""
    top = str(PAYLOAD_LIMIT - 1).zfill(PAYLOAD_DIGITS)
    over = str(PAYLOAD_LIMIT).zfill(PAYLOAD_DIGITS)
    for digits, message in ((top, "version"), (over, "2**608")):
        try:
            parse_stamp_payload(digits)
        except StampFormatError as exc:
            assert message in str(exc), exc
        else:
            raise AssertionError(digits)
    assert PAYLOAD_LIMIT == 1 << (8 * PAYLOAD_BYTES)


@settings(max_examples=200, deadline=None)
@given(fields_st, signature_st)
def test_the_payload_alone_has_one_spelling_per_form(fields, signature):
    """The registry's page gets only the path segment: the 184 digits, or the legacy 122
    base32 characters; their lower case (a phone lowercasing the URL) is refused as text
    and only the page upper-cases it."""
    digits = encode_payload(fields, signature)
    legacy = encode_legacy_stamp_url(fields, signature, BASE_URL)[len(BASE_URL) :]
    assert parse_stamp_payload(digits) == parse_stamp_payload(legacy)
    assume(legacy != legacy.lower())
    try:
        parse_stamp_payload(legacy.lower())
    except StampFormatError:
        return
    raise AssertionError("lower-case base32 accepted")
