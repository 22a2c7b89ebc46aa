"""The registry's HTTP API against a real server process (SQLite and PostgreSQL)."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

API = "/api/v1"


def _upload(reg, items, token=None, **body):
    return reg.station("POST", f"{API}/uploads", token=token, json={"items": items, **body})


def _scan(serial=None, product_id=101, verdict="genuine", key=None, text=None, **extra):
    """A scan as the kiosk sends it; `text` the stamp it read (the registry verifies it)."""
    return {
        "kind": "scan",
        "idempotency_key": key or f"scan-{uuid.uuid4().hex}",
        "payload": {
            "scanned_at": "2026-11-29T10:00:00Z",
            "text": text,
            "serial": serial,
            "product_id": product_id,
            "verdict": verdict,
            **extra,
        },
    }


def _genuine_scans(reg, count, token=None):
    """`count` scans of new genuine stamps of product 101 (a block of the station's own)."""
    block = _block(reg, 101, count, token=token).json()
    return [
        _scan(serial=block["first_serial"] + i, text=text) for i, text in enumerate(block["stamps"])
    ], block


def _block(reg, product_id=101, count=3, token=None, request_id=None):
    return reg.station(
        "POST",
        f"{API}/stamp-blocks",
        token=token,
        json={
            "request_id": request_id or f"r-{uuid.uuid4().hex}",
            "product_id": product_id,
            "count": count,
        },
    )


def _problem(reply) -> int:
    """The status of a problem reply (application/problem+json whose body names the same
    status and a title): what the test then asserts."""
    kind = reply.headers["content-type"]
    assert kind.startswith("application/problem+json"), (reply.status_code, reply.text)
    body = reply.json()
    assert body["status"] == reply.status_code and body["title"], body
    return reply.status_code


# --- public -------------------------------------------------------------------------------


def test_health_and_openapi(registry):
    health = requests.get(registry.url + f"{API}/health", timeout=5).json()
    assert health["status"] == "ok" and health["trust_list_sequence"] >= 1
    spec = requests.get(registry.url + f"{API}/openapi.json", timeout=5).json()
    for path in ("/catalog/changes", "/uploads", "/stamp-blocks", "/trust-list", "/media/{sha256}"):
        assert API + path in spec["paths"]


def test_trust_list_verifies_with_the_written_root_key(registry):
    from ocop.stamps.trust import verify_signed_trust_list

    blob = requests.get(registry.url + f"{API}/trust-list", timeout=5).content
    tl = verify_signed_trust_list(blob, registry.root_key)
    assert tl.sequence >= 1 and tl.signing_keys


# --- catalog changes ----------------------------------------------------------------------


def test_changes_page_through_the_whole_catalog(registry):
    cursor, products, producers, media, pages = 0, {}, set(), set(), 0
    while True:
        reply = registry.station(
            "GET", f"{API}/catalog/changes", params={"since": cursor, "limit": 7}
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["cursor"] >= cursor
        for p in body["producers"]:
            producers.add(p["id"])
        for m in body["media"]:
            media.add(m["hash"])
        for p in body["products"]:
            assert p["producer"] in producers, "a producer comes before its products"
            assert p["image_hash"] in media
            products[p["id"]] = p
        cursor, pages = body["cursor"], pages + 1
        if not body["more"]:
            break
    assert len(products) >= 27 and pages > 3
    again = registry.station("GET", f"{API}/catalog/changes", params={"since": cursor}).json()
    assert again["products"] == [] and again["cursor"] == cursor and not again["more"]


def test_trust_list_only_when_newer(registry):
    body = registry.station("GET", f"{API}/catalog/changes", params={"since": 0}).json()
    assert body["trust_list"]["trust_list"]["sequence"] == body["trust_list_sequence"]
    body = registry.station(
        "GET",
        f"{API}/catalog/changes",
        params={"since": 0, "trust_sequence": body["trust_list_sequence"]},
    ).json()
    assert body["trust_list"] is None


def test_media_by_hash(registry):
    body = registry.station("GET", f"{API}/catalog/changes", params={"since": 0}).json()
    digest = body["media"][0]["hash"]
    reply = requests.get(registry.url + f"{API}/media/{digest}", timeout=5)
    import hashlib

    assert reply.status_code == 200 and hashlib.sha256(reply.content).hexdigest() == digest
    assert _problem(requests.get(registry.url + f"{API}/media/{'0' * 64}", timeout=5)) == 404
    assert _problem(requests.get(registry.url + f"{API}/media/not-a-hash", timeout=5)) == 422


# --- authorization ------------------------------------------------------------------------


def test_tokens_are_required_and_scoped(registry):
    assert _problem(requests.get(registry.url + f"{API}/catalog/changes", timeout=5)) == 401
    assert _problem(registry.station("GET", f"{API}/catalog/changes", token="x" * 43)) == 401
    # A station cannot change the catalog, rotate keys or add stations.
    changed = registry.station("PUT", f"{API}/admin/products/101", json={"name_vi": "x"})
    assert _problem(changed) == 403
    assert _problem(registry.station("POST", f"{API}/admin/keys/rotate")) == 403
    added = registry.station("POST", f"{API}/admin/stations", json={"name": "evil"})
    assert _problem(added) == 403
    # The admin is not a station: it cannot upload or take stamps.
    assert _problem(registry.admin("POST", f"{API}/uploads", json={"items": []})) == 403
    block = {"request_id": "a", "product_id": 101, "count": 1}
    assert _problem(registry.admin("POST", f"{API}/stamp-blocks", json=block)) == 403


def test_a_station_acts_only_as_itself(registry):
    other = registry.add_station(f"shop-{uuid.uuid4().hex[:8]}", "Yên Châu")
    (scan,), _ = _genuine_scans(registry, 1)
    assert _problem(_upload(registry, [scan], station="demo-station", token=other)) == 403
    key = f"scan-{uuid.uuid4().hex}"
    first = _upload(registry, [{**scan, "idempotency_key": key}], token=other).json()
    assert first["results"][0]["status"] == "accepted"
    # The same key from another station is that station's own record, not a duplicate.
    second = _upload(registry, [{**scan, "idempotency_key": key}]).json()
    assert second["station"] == "demo-station"
    assert second["results"][0]["status"] == "accepted"


# --- uploads ------------------------------------------------------------------------------


def test_uploads_are_idempotent(registry):
    scans, block = _genuine_scans(registry, 6)
    items = scans[:5] + [
        {
            "kind": "print",
            "idempotency_key": f"print-{uuid.uuid4().hex}",
            "payload": {
                "printed_at": "2026-11-29T09:00:00Z",
                "serial": block["first_serial"],
                "product_id": 101,
            },
        },
        {
            "kind": "heartbeat",
            "idempotency_key": f"hb-{uuid.uuid4().hex}",
            "payload": {
                "at": "2026-11-29T09:00:00Z",
                "camera": "ok",
                "printer": "ok",
                "app_version": "0.1.0",
            },
        },
    ]
    before = registry.report()["total_scans"]
    first = _upload(registry, items).json()
    assert first["accepted"] == 7 and first["duplicate"] == 0
    again = _upload(registry, items[2:] + scans[5:]).json()
    assert again["duplicate"] == 5 and again["accepted"] == 1
    assert registry.report()["total_scans"] == before + 6
    stations = {s["name"]: s for s in registry.report()["stations"]}
    assert stations["demo-station"]["heartbeat"]["camera"] == "ok"


def test_gzip_request_bodies(registry):
    body = gzip.compress(json.dumps({"items": _genuine_scans(registry, 1)[0]}).encode())
    reply = registry.station(
        "POST",
        f"{API}/uploads",
        data=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert reply.status_code == 200 and reply.json()["accepted"] == 1


@pytest.mark.parametrize(
    "data,headers,status",
    [
        (b"{not json", {}, 422),
        (b'{"items": "nope"}', {}, 422),
        (b'{"items": [{"kind": "virus", "idempotency_key": "k", "payload": {}}]}', {}, 422),
        (b'{"items": [{"kind": "scan", "idempotency_key": "bad key!", "payload": {}}]}', {}, 422),
        (b'{"items": [], "extra": 1}', {}, 422),
        (b"\x1f\x8b\x08garbage", {"Content-Encoding": "gzip"}, 400),
        (b"{}", {"Content-Encoding": "br"}, 415),
        (b"[]", {}, 422),
    ],
)
def test_bad_upload_bodies_are_4xx_problems(registry, data, headers, status):
    reply = registry.station(
        "POST", f"{API}/uploads", data=data, headers={"Content-Type": "application/json", **headers}
    )
    assert _problem(reply) == status


def test_size_limits(registry):
    huge = b'{"items": [' + b" " * (5 * 1024 * 1024) + b"]}"
    json_body = {"Content-Type": "application/json"}
    assert _problem(registry.station("POST", f"{API}/uploads", data=huge, headers=json_body)) == 413
    bomb = gzip.compress(b'{"items": [' + b" " * (20 * 1024 * 1024) + b"]}")
    gzipped = {**json_body, "Content-Encoding": "gzip"}
    assert _problem(registry.station("POST", f"{API}/uploads", data=bomb, headers=gzipped)) == 413
    many = {"items": [_scan(serial=1) for _ in range(2001)]}
    assert _problem(registry.station("POST", f"{API}/uploads", json=many)) == 413
    big_payload = _scan(serial=1, note="x" * 20000)
    reply = _upload(registry, [big_payload]).json()
    assert reply["results"][0]["status"] == "rejected"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(),
            lambda c: st.lists(c) | st.dictionaries(st.text(), c),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_random_bodies_never_500(registry, body):
    for path in (f"{API}/uploads", f"{API}/stamp-blocks"):
        reply = registry.station(
            "POST", path, data=body, headers={"Content-Type": "application/json"}
        )
        assert 200 <= reply.status_code < 500, (path, body, reply.text)


# --- stamp blocks -------------------------------------------------------------------------


def test_stamp_blocks_are_unique_and_idempotent(registry):
    request_id = f"r-{uuid.uuid4().hex}"
    first = _block(registry, 101, 4, request_id=request_id).json()
    retry = _block(registry, 101, 4, request_id=request_id).json()
    assert retry == first
    other = registry.add_station(f"st-{uuid.uuid4().hex[:8]}", role="station", products=[101])
    theirs = _block(registry, 101, 4, token=other, request_id=request_id).json()
    serials = set(range(first["first_serial"], first["last_serial"] + 1))
    assert not serials & set(range(theirs["first_serial"], theirs["last_serial"] + 1))
    assert _problem(_block(registry, 102, 4, request_id=request_id)) == 409
    assert _problem(_block(registry, 999_999, 1)) == 404
    assert _problem(_block(registry, 101, 0)) == 422
    assert _problem(_block(registry, 101, 10_001)) == 422


def test_block_stamps_verify_offline(registry):
    from ocop.stamps.trust import verify_signed_trust_list
    from ocop.stamps.verdicts import Verdict
    from ocop.stamps.verifier import StampVerifier

    tl = verify_signed_trust_list(
        requests.get(registry.url + f"{API}/trust-list", timeout=5).content, registry.root_key
    )
    block = _block(registry, 101, 3).json()
    verifier = StampVerifier(tl, "HTTPS://OCOP.SONLA.GOV.VN/S/", clone_scan_limit=20)
    for text in block["stamps"]:
        v = verifier.verify(text)
        assert v.verdict is Verdict.GENUINE_UNKNOWN_PRODUCT and v.product_id == 101


# --- admin catalog ------------------------------------------------------------------------


def test_admin_catalog_validation_reports_every_problem(registry):
    reply = registry.admin(
        "PUT",
        f"{API}/admin/catalog",
        json={
            "products": [
                {"id": 0, "name_vi": "", "group": 9, "producer": "nobody"},
                {"id": 5000, "name_vi": "ok", "group": 1, "producer": "nobody", "gtin": "12"},
            ]
        },
    )
    assert _problem(reply) == 422
    problems = reply.json()["problems"]
    assert len(problems) >= 5
    assert any("products[1].gtin" in p for p in problems)


def test_admin_product_update_is_a_delta(registry):
    cursor = registry.station(
        "GET", f"{API}/catalog/changes", params={"since": 0, "limit": 5000}
    ).json()["cursor"]
    product = registry.admin("GET", f"{API}/admin/products/105").json()
    product["name_en"] = "Renamed for a test"
    assert registry.admin("PUT", f"{API}/admin/products/105", json=product).json()["updated"] == 1
    # Writing the same content again changes nothing.
    assert registry.admin("PUT", f"{API}/admin/products/105", json=product).json()["unchanged"] == 1
    delta = registry.station("GET", f"{API}/catalog/changes", params={"since": cursor}).json()
    assert [p["id"] for p in delta["products"]] == [105]
    assert delta["products"][0]["name_en"] == "Renamed for a test"
