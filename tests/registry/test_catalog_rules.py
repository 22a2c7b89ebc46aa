"""The admin API refuses, with a 422 naming the field, every product a kiosk would refuse
(ocop.wire): against a real registry process."""

from __future__ import annotations

import uuid

import pytest

from ocop import wire

API = "/api/v1"


def _new_id() -> int:
    return 800_000 + uuid.uuid4().int % 100_000


def _put(registry, product_id, **fields):
    body = {
        "name_vi": "Sản phẩm thử",
        "group": 1,
        "producer": "htx-bich-thao",
        "ratings": [{"stars": 3, "recognised_on": "2025-01-10"}],
        **fields,
    }
    return registry.admin("PUT", f"{API}/admin/products/{product_id}", json=body)


def _refusal(reply) -> str:
    """The problems of a 422 refusal (application/problem+json), one a line: what the test
    then asserts."""
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    return "\n".join(reply.json()["problems"])


@pytest.mark.parametrize(
    "gtin,fragment",
    [
        ("4006381333932", "products[0].gtin: 4006381333932: wrong check digit"),
        ("40063813339", "products[0].gtin: expected 8, 12, 13, 14 digits, got 11"),
        ("４００６３８１３３３９３１", "products[0].gtin: expected a GTIN in ASCII digits"),
    ],
)
def test_a_gtin_with_a_wrong_check_digit_is_refused_and_nothing_stored(registry, gtin, fragment):
    pid = _new_id()
    assert fragment in _refusal(_put(registry, pid, gtin=gtin))
    assert registry.admin("GET", f"{API}/admin/products/{pid}").status_code == 404


def test_a_gtin_held_by_another_product_is_a_422_not_a_crash(registry):
    held = registry.admin("GET", f"{API}/admin/products/101").json()["gtin"]
    assert held
    reply = _put(registry, _new_id(), gtin=held)
    assert f"products[0].gtin: {held} belongs to product 101" in _refusal(reply)


def test_a_gtin_is_stored_in_the_spelling_kiosks_compare(registry):
    pid = _new_id()
    upc = "036000291452"
    reply = _put(registry, pid, gtin=upc)
    assert reply.status_code == 200, reply.text
    assert registry.admin("GET", f"{API}/admin/products/{pid}").json()["gtin"] == "0" + upc
    assert registry.admin("DELETE", f"{API}/admin/products/{pid}").ok


def test_names_at_the_wire_limit_pass_one_more_is_refused(registry):
    pid = _new_id()
    name = "Ê" * wire.NAME_CHARS
    assert _put(registry, pid, name_vi=name).status_code == 200
    assert registry.admin("GET", f"{API}/admin/products/{pid}").json()["name_vi"] == name
    reply = _put(registry, pid, name_vi=name + "Ê")
    assert f"products[0].name_vi: longer than {wire.NAME_CHARS} characters" in _refusal(reply)
    assert registry.admin("DELETE", f"{API}/admin/products/{pid}").ok


@pytest.mark.parametrize(
    "field,value",
    [
        ("name_vi", "Chè\nShan tuyết"),
        ("name_en", "tea\ud800"),
        ("story_vi", "bell\x07"),
        ("subgroup", "chè\x85xanh"),
    ],
)
def test_text_a_kiosk_could_not_store_is_refused(registry, field, value):
    pid = _new_id()
    reply = _put(registry, pid, **{field: value})
    assert f"products[0].{field}: character U+" in _refusal(reply)
    assert registry.admin("GET", f"{API}/admin/products/{pid}").status_code == 404


def test_a_producer_kind_outside_the_enum_is_refused(registry):
    reply = registry.admin(
        "PUT",
        f"{API}/admin/producers/new-{uuid.uuid4().hex[:8]}",
        json={"name": "HTX", "kind": "collective"},
    )
    kinds = ", ".join(wire.PRODUCER_KINDS)
    assert f"producers[0].kind: expected one of {kinds}" in _refusal(reply)


def test_a_rating_is_valid_36_months_at_most_and_may_be_shortened_by_hand(registry):
    """Issue 16: recognised 2022-06-01, valid_until 2027-06-01 (60 months) was accepted
    and kiosks showed its stars long after the rating had lapsed."""
    pid = _new_id()
    longer = [{"stars": 4, "recognised_on": "2022-06-01", "valid_until": "2027-06-01"}]
    reply = _put(registry, pid, ratings=longer)
    assert (
        "products[0].ratings[0].valid_until: 01/06/2027 is more than 36 months after "
        "recognition on 01/06/2022: at most 01/06/2025"
    ) in _refusal(reply)
    assert registry.admin("GET", f"{API}/admin/products/{pid}").status_code == 404
    shorter = [{"stars": 4, "recognised_on": "2022-06-01", "valid_until": "2024-12-31"}]
    assert _put(registry, pid, ratings=shorter).status_code == 200
    stored = registry.admin("GET", f"{API}/admin/products/{pid}").json()["ratings"][0]
    assert stored["valid_until"] == "2024-12-31"
    reply = _put(registry, _new_id(), ratings=[{"stars": 2, "recognised_on": "2025-01-10"}])
    assert "products[0].ratings[0].stars: an OCOP rating is 3 to 5 stars, got 2" in _refusal(reply)
