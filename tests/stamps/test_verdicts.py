"""A verdict's presentation lives on the member (ocop.stamps.verdicts): every member has all
of it, in both languages, from the domain catalog; every app can show every tone."""

from __future__ import annotations

import pytest

from ocop import i18n
from ocop.stamps.verdicts import NAMES_A_PRODUCT, SIGNATURE_VALID, Verdict, verdict_title
from ocop.tone import Tone


@pytest.mark.parametrize("verdict", list(Verdict), ids=lambda v: v.value)
def test_each_verdict_carries_its_whole_presentation_in_both_languages(verdict):
    assert isinstance(verdict.tone, Tone) and verdict.icon
    vi, en = i18n.translator("vi"), i18n.translator("en")
    for msgid in filter(None, (verdict.title, verdict.message_id, verdict.advice)):
        assert vi(msgid) != msgid, f"{verdict.value}: {msgid!r} has no Vietnamese"
        assert en(msgid) == msgid
    assert verdict.message("vi") == verdict.message_vi != verdict.message_en


def test_verdict_values_are_the_stored_and_wire_names():
    # scan logs and uploads store .value: renaming one breaks every kiosk's history
    stored = {
        "genuine",
        "genuine_rating_expired",
        "genuine_unknown_product",
        "forged",
        "revoked",
        "suspect_clone",
        "not_ocop",
        "product_barcode",
    }
    assert stored <= {v.value for v in Verdict}  # new verdicts may join, none leave
    assert Verdict("forged") is Verdict.FORGED


def test_the_sets_a_verdict_belongs_to():
    assert Verdict.GENUINE.may_show_stars
    assert not any(v.may_show_stars for v in Verdict if v is not Verdict.GENUINE)
    assert not Verdict.FORGED.signature_valid and Verdict.REVOKED.signature_valid
    assert not Verdict.REVOKED.names_a_product  # a revoked stamp vouches for nothing
    assert {Verdict.PRODUCT_BARCODE} == NAMES_A_PRODUCT - SIGNATURE_VALID
    # a problem verdict comes with advice when there is no product to show
    for verdict in Verdict:
        if verdict.tone in (Tone.BAD, Tone.ALERT):
            assert verdict.advice


def test_unknown_languages_fall_back_to_english():
    assert Verdict.FORGED.message("fr") == Verdict.FORGED.message_en


def test_a_stored_verdict_value_is_named_by_its_title_never_by_the_value():
    for verdict in Verdict:
        assert verdict_title(verdict.value, "vi") == i18n.translator("vi")(verdict.title)
        assert verdict_title(verdict.value, "en") == verdict.title != verdict.value
    assert verdict_title("forged", "vi") == "Tem có thể là giả"
    # Not a verdict (an old row, a station's own word): shown as it is, never guessed.
    assert verdict_title("printed", "vi") == "printed"
    assert verdict_title(None, "en") == verdict_title("", "en") == "?"
