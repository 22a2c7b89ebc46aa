"""Reply checks: a mangled reply is refused with BadReply naming the field (never another
exception), a reply that passes can be written, and each field rule on its own."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.catalog_write import apply_catalog_changes
from kiosk.sync.errors import BadReply, ReplyRefused
from kiosk.sync.validate import check_block_reply, check_changes, check_upload_reply
from tests.sync.outcome import assert_rows_say
from tests.sync.paths import paths, render, set_at

GOOD = {
    "cursor": 9,
    "more": False,
    "registry_id": "abc",
    "trust_list_sequence": 1,
    "trust_list": None,
    "catalog_signature": "A" * 86 + "==",  # its check is the engine's (test_signed_catalog)
    "producers": [
        {
            "id": "htx-a",
            "name": "HTX A",
            "kind": "cooperative",
            "commune": "",
            "district": "Mộc Châu",
            "address": "",
            "phone": "",
            "updated_at": "x",
        }
    ],
    "media": [{"hash": "a" * 64, "mime": "image/png", "size_bytes": 10}],
    "products": [
        {
            "id": 5,
            "gtin": None,
            "name_vi": "Chè",
            "name_en": "",
            "group": 2,
            "subgroup": "",
            "description_vi": "",
            "description_en": "",
            "story_vi": "",
            "story_en": "",
            "commune": "",
            "district": "",
            "producer": "htx-a",
            "image_hash": "a" * 64,
            "featured": False,
            "is_demo": False,
            "updated_at": "x",
            "ratings": [
                {
                    "stars": 4,
                    "level": "province",
                    "body": "",
                    "decision_no": "",
                    "recognised_on": "2024-01-01",
                    "valid_until": "2027-01-01",
                    "status": "valid",
                }
            ],
        }
    ],
    "tombstones": [{"kind": "product", "id": "7"}, {"kind": "producer", "id": "old"}],
}

# Text the registry's own checks let through but the kiosk must refuse (or cope with).
ODD_VALUES = [
    "\ud800",
    "x\udfff",
    "²",
    "٣",
    "\x85",
    "a\x00b",
    "2024-02-30",
    "４００６３８１３３３９３１",
    "4006381333932",
    "9999-12-31",
    "",
    2**63,
    -1,
    1.5,
]
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.sampled_from(ODD_VALUES),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=8,
)


PATHS = [p for p in paths(GOOD) if p]


def test_good_reply_passes():
    check_changes(copy.deepcopy(GOOD), since=0, local_producers=set(), local_media=set())


def test_references_must_resolve():
    bad = copy.deepcopy(GOOD)
    bad["producers"] = []
    with pytest.raises(BadReply, match="unknown producer"):
        check_changes(bad, 0, set(), set())
    check_changes(bad, 0, {"htx-a"}, set())  # held locally: fine


def test_cursor_may_not_go_back():
    with pytest.raises(BadReply, match="cursor"):
        check_changes(copy.deepcopy(GOOD), since=10, local_producers=set(), local_media=set())


# Where a mangled field shows up when the problem is reported at the rows that use it.
DEPENDENTS = {"producers": "products[0].producer", "media": "products[0].image_hash"}


class _Undo(Exception):
    pass


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from kiosk.store import Store

    store = Store.in_dir(tmp_path_factory.mktemp("validate-store"))
    with store.transaction() as tx:  # the picture GOOD's product shows
        tx.execute(
            "INSERT INTO media(hash, mime, size_bytes) VALUES (?, 'image/png', 10)", ("a" * 64,)
        )
    yield store
    store.close()


def _applies(store, reply) -> None:
    """Write an accepted reply for real, check that the rows say what it said, then roll it
    back (the next example starts clean)."""
    with pytest.raises(_Undo), store.transaction() as tx:
        apply_catalog_changes(tx, reply["producers"], reply["products"], reply["tombstones"])
        assert_rows_say(lambda sql, params: tx.execute(sql, params).fetchone(), reply)
        raise _Undo


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(PATHS), junk=JUNK)
def test_any_mangled_field_is_refused_by_name_or_applies(store, path, junk):
    reply = copy.deepcopy(GOOD)
    set_at(reply, path, junk)
    try:
        check_changes(reply, 0, set(), set())
    except BadReply as exc:
        where = render(path)
        named = [where] + [d for k, d in DEPENDENTS.items() if where.startswith(k)]
        assert any(n in str(exc) for n in named), (where, str(exc))
    else:
        _applies(store, reply)  # accepted means writable: no exception on the way


def test_every_field_with_every_odd_value(store):
    """The same property, exhaustively: each field of GOOD set to each odd value."""
    wrong = []
    for path in PATHS:
        for value in ODD_VALUES:
            reply = copy.deepcopy(GOOD)
            set_at(reply, path, value)
            where = render(path)
            try:
                check_changes(reply, 0, set(), set())
            except BadReply as exc:
                named = [where] + [d for k, d in DEPENDENTS.items() if where.startswith(k)]
                if not any(n in str(exc) for n in named):
                    wrong.append((where, value, f"refused elsewhere: {exc}"))
                continue
            try:
                _applies(store, reply)
            except Exception as exc:  # noqa: BLE001 - accepted but not writable: a hole
                wrong.append((where, value, f"{type(exc).__name__}: {exc}"))
    assert not wrong, "\n".join(map(repr, wrong[:10]))


@given(junk=JUNK)
def test_junk_replies_are_refused(junk):
    """JUNK's dicts have at most 3 keys of at most 5 characters: never a valid reply (that
    needs 'results', 'product_id' or nine keys), so every check must refuse it."""
    with pytest.raises(BadReply):
        check_changes(junk, 0, set(), set())
    with pytest.raises(BadReply):
        check_upload_reply(junk, ["k"])
    with pytest.raises(BadReply):
        check_block_reply(junk, 1, 1, "r")


# --- the field rules, one case each -------------------------------------------------------

FIELD_CASES = [
    # (path, value, None when accepted or a fragment of the refusal)
    (("products", 0, "name_vi"), "Chè \ud800", "products[0].name_vi: character U+D800"),
    (("products", 0, "name_vi"), "Chè\x85", "U+0085"),
    (("products", 0, "name_vi"), "Chè\nShan", "U+000A"),
    (("products", 0, "name_vi"), "Chè Shan tuyết 🍵", None),
    (("producers", 0, "address"), "Bản\x00Mòng", "producers[0].address"),
    (("products", 0, "description_vi"), "Dòng 1\nDòng 2\r\n\tthụt lề", None),
    (("products", 0, "story_en"), "bell\x07", "products[0].story_en"),
    (("products", 0, "ratings", 0, "body"), "UBND\udfff", "ratings[0].body"),
    (("tombstones", 0, "id"), "²", "tombstones[0].id"),
    (("tombstones", 0, "id"), "٣", "tombstones[0].id"),
    (("tombstones", 0, "id"), "0", "tombstones[0].id: expected 1.."),
    (("tombstones", 0, "id"), "16777216", "tombstones[0].id"),
    (("tombstones", 0, "id"), "77", None),
    (("products", 0, "ratings", 0, "recognised_on"), "2024-02-30", "not a calendar date"),
    (("products", 0, "ratings", 0, "recognised_on"), "2024-02-29", None),
    (("products", 0, "ratings", 0, "recognised_on"), "２０２４-01-01", "recognised_on"),
    (("products", 0, "ratings", 0, "valid_until"), "9999-12-31", "year 9999"),
    (("products", 0, "ratings", 0, "valid_until"), "20270101", "valid_until"),
    (("products", 0, "gtin"), "４００６３８１３３３９３１", "products[0].gtin"),
    (("products", 0, "gtin"), "4006381333932", "wrong check digit"),
    (("products", 0, "gtin"), "40063813339", "got 11"),
    (("products", 0, "gtin"), "4006381333931", None),
    (("products", 0, "gtin"), "036000291452", None),  # UPC-A
    (("products", 0, "gtin"), "", None),
    (("products", 0, "id"), 7, "also deleted by tombstones[0].id"),
    (("producers", 0, "id"), "old", "also deleted by tombstones[1].id"),
    (("more",), True, None),
    (("registry_id",), "abc\x1b", "registry_id"),
]


@pytest.mark.parametrize(
    "path,value,refusal", FIELD_CASES, ids=[f"{render(c[0])}={c[1]!r}" for c in FIELD_CASES]
)
def test_field_rules(store, path, value, refusal):
    reply = copy.deepcopy(GOOD)
    set_at(reply, path, value)
    if refusal is None:
        check_changes(reply, 0, set(), set())
        _applies(store, reply)
    else:
        with pytest.raises(ReplyRefused, match=re.escape(refusal)):
            check_changes(reply, 0, set(), set())


def _two_products(gtin_a, gtin_b):
    reply = copy.deepcopy(GOOD)
    twin = copy.deepcopy(reply["products"][0])
    reply["products"][0]["gtin"], twin["id"], twin["gtin"] = gtin_a, 6, gtin_b
    reply["products"].append(twin)
    return reply


def test_the_same_gtin_twice_is_refused_even_spelled_differently():
    with pytest.raises(ReplyRefused, match=re.escape("products[1].gtin")):
        check_changes(_two_products("4006381333931", "4006381333931"), 0, set(), set())
    with pytest.raises(ReplyRefused, match=re.escape("also at products[0].gtin")):
        check_changes(_two_products("036000291452", "00036000291452"), 0, set(), set())
    check_changes(_two_products("036000291452", "4006381333931"), 0, set(), set())


def test_a_gtin_kept_by_a_local_product_is_refused():
    reply = _two_products("4006381333931", None)
    with pytest.raises(
        ReplyRefused, match=re.escape("products[0].gtin: 4006381333931 belongs to product 44")
    ):
        check_changes(reply, 0, set(), set(), local_gtins={"4006381333931": 44})
    # ...unless this reply changes product 44 too (it gives the GTIN away) or deletes it.
    reply["products"][1]["id"] = 44
    check_changes(reply, 0, set(), set(), local_gtins={"4006381333931": 44})
    reply = _two_products("4006381333931", None)
    reply["tombstones"][0]["id"] = "44"
    check_changes(reply, 0, set(), set(), local_gtins={"4006381333931": 44})


def test_duplicate_ids_are_refused_by_name():
    reply = copy.deepcopy(GOOD)
    reply["producers"].append(copy.deepcopy(reply["producers"][0]))
    reply["media"].append(copy.deepcopy(reply["media"][0]))
    reply["tombstones"].append(copy.deepcopy(reply["tombstones"][0]))
    with pytest.raises(ReplyRefused) as caught:
        check_changes(reply, 0, set(), set())
    for where in ("producers[1].id", "media[1].hash", "tombstones[2].id"):
        assert where in str(caught.value)


def test_a_cursor_that_does_not_move_while_more_is_refused():
    reply = copy.deepcopy(GOOD)
    reply["more"] = True
    with pytest.raises(ReplyRefused, match="does not advance"):
        check_changes(reply, since=9, local_producers=set(), local_media=set())


def test_upload_reply_must_answer_every_key():
    with pytest.raises(BadReply):
        check_upload_reply(
            {"results": [{"idempotency_key": "a", "status": "accepted"}]}, ["a", "b"]
        )
    ok = check_upload_reply({"results": [{"idempotency_key": "a", "status": "duplicate"}]}, ["a"])
    assert ok["a"]["status"] == "duplicate"


def _lots(*ranges, cursor=5, more=False):
    return {
        "cursor": cursor,
        "more": more,
        "registry_id": "abc",
        "lots_signature": "A" * 86 + "==",  # its check is the engine's (test_lots)
        "lots": [
            {
                "first_serial": first,
                "last_serial": last,
                "product_id": 101,
                "lot": "A1",
                "produced_on": None,
                "best_before": None,
            }
            for first, last in ranges
        ],
    }


def test_lot_ranges_sharing_a_serial_are_named_even_behind_a_big_one():
    """A wide range holding two small ones: both are named (the overlap check keeps the
    furthest end seen, not only the neighbour's); touching ranges are fine."""
    from kiosk.sync.validate import check_lots

    assert len(check_lots(_lots((1, 9), (10, 20)), since=0)) == 2
    with pytest.raises(ReplyRefused) as refused:
        check_lots(_lots((1, 100), (5, 10), (20, 30), (200, 201)), since=0)
    message = str(refused.value)
    assert "lots[1]: serials 5..10 overlap lots[0] (up to 100)" in message
    assert "lots[2]: serials 20..30 overlap lots[0] (up to 100)" in message
    assert "lots[3]" not in message
    with pytest.raises(ReplyRefused, match="below the kiosk's cursor 9"):
        check_lots(_lots((1, 2), cursor=5), since=9)
    with pytest.raises(ReplyRefused, match="does not advance"):
        check_lots(_lots((1, 2), cursor=9, more=True), since=9)
