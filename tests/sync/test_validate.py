"""Reply checks: any mangled reply is refused with BadReply (never another exception), and
a good reply passes."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.sync.errors import BadReply
from kiosk.sync.validate import check_block_reply, check_changes, check_upload_reply

GOOD = {
    "cursor": 9, "more": False, "registry_id": "abc", "trust_list_sequence": 1,
    "trust_list": None,
    "producers": [{"id": "htx-a", "name": "HTX A", "kind": "cooperative", "commune": "",
                   "district": "Mộc Châu", "address": "", "phone": "", "updated_at": "x"}],
    "media": [{"hash": "a" * 64, "mime": "image/png", "size_bytes": 10}],
    "products": [{"id": 5, "gtin": None, "name_vi": "Chè", "name_en": "", "group": 2,
                  "subgroup": "", "description_vi": "", "description_en": "", "story_vi": "",
                  "story_en": "", "commune": "", "district": "", "producer": "htx-a",
                  "image_hash": "a" * 64, "featured": False, "is_demo": False,
                  "updated_at": "x",
                  "ratings": [{"stars": 4, "level": "province", "body": "", "decision_no": "",
                               "recognised_on": "2024-01-01", "valid_until": "2027-01-01",
                               "status": "valid"}]}],
    "tombstones": [{"kind": "product", "id": "7"}, {"kind": "producer", "id": "old"}],
}

JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=3)
                    | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=8)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(GOOD) if p]


def test_good_reply_passes():
    check_changes(copy.deepcopy(GOOD), since=0, local_producers=set(), local_media=set())


def test_references_must_resolve():
    bad = copy.deepcopy(GOOD)
    bad["producers"] = []
    with pytest.raises(BadReply, match="unknown producer"):
        check_changes(bad, 0, set(), set())
    check_changes(bad, 0, {"htx-a"}, set())            # held locally: fine


def test_cursor_may_not_go_back():
    with pytest.raises(BadReply, match="cursor"):
        check_changes(copy.deepcopy(GOOD), since=10, local_producers=set(), local_media=set())


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(PATHS), junk=JUNK)
def test_any_mangled_field_is_bad_reply_or_accepted(path, junk):
    reply = copy.deepcopy(GOOD)
    target = reply
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = junk
    try:
        check_changes(reply, 0, set(), set())
    except BadReply:
        pass


@given(junk=JUNK)
def test_junk_replies(junk):
    for check in (lambda: check_changes(junk, 0, set(), set()),
                  lambda: check_upload_reply(junk, ["k"]),
                  lambda: check_block_reply(junk, 1, 1, "r")):
        try:
            check()
        except BadReply:
            pass


def test_upload_reply_must_answer_every_key():
    with pytest.raises(BadReply):
        check_upload_reply({"results": [{"idempotency_key": "a", "status": "accepted"}]},
                           ["a", "b"])
    ok = check_upload_reply({"results": [{"idempotency_key": "a", "status": "duplicate"}]},
                            ["a"])
    assert ok["a"]["status"] == "duplicate"
