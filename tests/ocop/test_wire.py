"""ocop.wire on its own: every field's limits at the boundary, enums, types, nested paths."""

from __future__ import annotations

import pytest

from ocop import wire
from ocop.ratings import RatingStatus
from ocop.stamps.codec import MAX_PRODUCT_ID
from ocop.wire import Kind, WireError, check_record, check_value

RECORDS = (
    wire.PRODUCER,
    wire.MEDIA,
    wire.RATING,
    wire.PRODUCT,
    wire.TOMBSTONE,
    wire.CHANGES,
    wire.UPLOAD_RESULT,
    wire.BLOCK_REPLY,
)
FIELDS = [(r, f) for r in RECORDS for f in r.fields]


def _id(case) -> str:
    record, f = case
    return f"{record.name}.{f.name}"


def _with_kind(kind: Kind) -> list:
    return [case for case in FIELDS if case[1].kind is kind]


def refused(f, value, where="x.y") -> str:
    with pytest.raises(WireError) as caught:
        check_value(f, value, where)
    assert caught.value.field == where and str(caught.value).startswith(f"{where}: ")
    return caught.value.reason


@pytest.mark.parametrize("case", [c for c in FIELDS if c[1].max_chars], ids=_id)
def test_text_at_its_limit_passes_one_more_is_refused(case):
    _, f = case
    if f.pattern is wire.SHA256_HEX:
        assert check_value(f, "a" * 64, "h") == "a" * 64
        assert "expected 64 lowercase hex" in refused(f, "a" * 63)
        return
    assert check_value(f, "a" * f.max_chars, "t") == "a" * f.max_chars
    assert refused(f, "a" * (f.max_chars + 1)) == (
        f"longer than {f.max_chars} characters ({f.max_chars + 1})"
    )


@pytest.mark.parametrize("case", _with_kind(Kind.INT) + _with_kind(Kind.DIGITS), ids=_id)
def test_integers_at_their_range_pass_one_beyond_is_refused(case):
    _, f = case
    as_wire = str if f.kind is Kind.DIGITS else (lambda n: n)
    assert check_value(f, as_wire(f.lo), "n") == f.lo
    assert check_value(f, as_wire(f.hi), "n") == f.hi
    for beyond in (f.lo - 1, f.hi + 1):
        if beyond >= 0 or f.kind is Kind.INT:
            assert str(beyond) in refused(f, as_wire(beyond))


@pytest.mark.parametrize("case", _with_kind(Kind.INT), ids=_id)
def test_integers_are_json_integers(case):
    _, f = case
    for wrong in (True, float(f.lo), str(f.lo), [f.lo]):
        assert refused(f, wrong).startswith("expected an integer")


def test_a_product_tombstone_id_is_ascii_digits():
    f = wire.PRODUCT_TOMBSTONE_ID
    assert check_value(f, str(MAX_PRODUCT_ID), "t") == MAX_PRODUCT_ID
    for wrong in ("²", "٣", "１２", "12a", "", 12):
        refused(f, wrong)


@pytest.mark.parametrize("case", _with_kind(Kind.CHOICE), ids=_id)
def test_choices_are_closed(case):
    _, f = case
    for choice in f.choices:
        assert check_value(f, choice, "c") == choice
    for wrong in ("unknown", f.choices[0].upper(), f.choices[0] + " ", 1, None):
        assert refused(f, wrong).startswith("expected one of ")


def test_enums_are_the_domain_s():
    assert wire.RATING_STATUSES == ("valid", "expired", "revoked")
    assert all(RatingStatus(s) for s in wire.RATING_STATUSES)
    assert wire.PRODUCER_KINDS == ("company", "cooperative", "coop_group", "household", "other")
    assert wire.RATING["status"].choices == wire.RATING_STATUSES
    assert wire.PRODUCER["kind"].choices == wire.PRODUCER_KINDS


@pytest.mark.parametrize("case", _with_kind(Kind.BOOL), ids=_id)
def test_booleans_are_json_booleans(case):
    _, f = case
    assert check_value(f, True, "b") is True
    for wrong in (1, 0, "true", "yes", []):
        refused(f, wrong)


@pytest.mark.parametrize("case", _with_kind(Kind.LINE) + _with_kind(Kind.TEXT), ids=_id)
def test_text_is_text_without_controls(case):
    _, f = case
    for wrong in (5, True, ["a"], {"a": 1}):
        assert refused(f, wrong).startswith("expected text")
    for bad in ("\x00", "\x85", "\ud800", "\x7f"):
        assert "not allowed here" in refused(f, "a" + bad)
    if f.kind is Kind.LINE:
        assert "U+000A" in refused(f, "a\nb")
    else:
        assert check_value(f, "Dòng 1\r\n\tthụt lề", "t")


def test_dates_are_real_days_in_the_year_range():
    f = wire.RATING["recognised_on"]
    assert check_value(f, f"{wire.MIN_YEAR}-01-01", "d")
    assert check_value(f, f"{wire.MAX_YEAR}-12-31", "d")
    assert check_value(f, None, "d") is None
    assert "year" in refused(f, f"{wire.MIN_YEAR - 1}-12-31")
    assert "year" in refused(f, f"{wire.MAX_YEAR + 1}-01-01")
    assert "not a calendar date" in refused(f, "2024-02-30")
    for wrong in ("20240101", "２０２４-01-01", "2024-1-01", 20240101):
        refused(f, wrong)


def test_gtins_need_their_check_digit_and_come_back_in_one_spelling():
    f = wire.PRODUCT["gtin"]
    assert check_value(f, "4006381333931", "g") == "4006381333931"
    assert check_value(f, "036000291452", "g") == "0036000291452"  # UPC-A
    assert check_value(f, "00036000291452", "g") == "0036000291452"  # GTIN-14
    assert check_value(f, "", "g") is None and check_value(f, None, "g") is None
    assert refused(f, "4006381333932") == "4006381333932: wrong check digit"
    assert refused(f, "40063813339") == "expected 8, 12, 13, 14 digits, got 11"
    refused(f, "４００６３８１３３３９３１")


def test_required_nonempty_fields():
    assert refused(wire.PRODUCT["name_vi"], "   ") == "empty"
    assert refused(wire.PRODUCT["name_vi"], None) == "required"
    assert check_value(wire.PRODUCT["name_en"], None, "n") is None


def _product(**changes) -> dict:
    product = {
        "id": 5,
        "name_vi": "Chè",
        "group": 2,
        "producer": "htx-a",
        "ratings": [
            {"stars": 4, "recognised_on": "2024-01-01", "valid_until": None, "status": "valid"}
        ],
    }
    return product | changes


def test_a_record_names_every_problem_by_its_path():
    problems: list[WireError] = []
    product = _product(group=9, gtin="4006381333932")
    product["ratings"][0]["status"] = "pending"
    assert check_record(wire.PRODUCT, product, "products[3]", problems) is not None
    assert sorted(e.field for e in problems) == [
        "products[3].group",
        "products[3].gtin",
        "products[3].ratings[0].status",
    ]


def test_a_record_missing_a_required_key_is_one_problem():
    problems: list[WireError] = []
    raw = _product()
    del raw["name_vi"], raw["group"]
    assert check_record(wire.PRODUCT, raw, "products[0]", problems) is None
    assert [str(e) for e in problems] == ["products[0]: missing name_vi, group"]
    problems.clear()
    assert check_record(wire.PRODUCT, [raw], "products[0]", problems) is None
    assert [str(e) for e in problems] == ["products[0]: expected an object"]


def test_a_rating_history_has_at_most_max_ratings():
    rating = _product()["ratings"][0]
    problems: list[WireError] = []
    checked = check_record(
        wire.PRODUCT, _product(ratings=[rating] * wire.MAX_RATINGS), "p", problems
    )
    assert problems == [] and len(checked["ratings"]) == wire.MAX_RATINGS
    check_record(wire.PRODUCT, _product(ratings=[rating] * (wire.MAX_RATINGS + 1)), "p", problems)
    assert [str(e) for e in problems] == [
        f"p.ratings: more than {wire.MAX_RATINGS} items ({wire.MAX_RATINGS + 1})"
    ]


def test_checked_values_are_what_writers_keep():
    problems: list[WireError] = []
    checked = check_record(
        wire.PRODUCT, _product(gtin="036000291452", extra="ignored"), "p", problems
    )
    assert problems == []
    assert checked["gtin"] == "0036000291452" and "extra" not in checked
    assert checked["featured"] is None  # absent: the writer's default
    assert wire.PRODUCT["featured"].default is False


def test_tombstone_ids_follow_their_kind():
    problems: list[WireError] = []
    assert wire.tombstone_key({"kind": "product", "id": "77"}, "t", problems) == ("product", 77)
    assert wire.tombstone_key({"kind": "producer", "id": "old-coop"}, "t", problems) == (
        "producer",
        "old-coop",
    )
    assert wire.tombstone_key({"kind": "product", "id": "0"}, "t", problems) is None
    assert wire.tombstone_key({"kind": "producer", "id": "Old Coop"}, "t", problems) is None
    assert [e.field for e in problems] == ["t.id", "t.id"]


def test_media_types_have_their_file_extension():
    assert tuple(wire.MEDIA_EXTENSIONS) == wire.MEDIA_TYPES
    assert wire.MEDIA["mime"].choices == wire.MEDIA_TYPES
