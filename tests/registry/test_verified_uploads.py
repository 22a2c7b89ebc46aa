"""Issue 14 items 3 and 4 against a real registry process (SQLite and PostgreSQL): uploads
are verified, refusals are station anomalies, clone rules publish (or wait for the office),
phone views of the stamp page count as sites."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from ocop.stamps.trust import verify_signed_trust_list
from registry import db
from tests.registry.server import backends, start_registry

API = "/api/v1"
PHONE = "Mozilla/5.0 (Linux; Android 14) Mobile"


@pytest.fixture(scope="module", params=backends())
def proxied(request, tmp_path_factory):
    """Behind a trusted proxy (127.0.0.1: the test client), flagged by 4 phones."""
    reg = start_registry(
        tmp_path_factory.mktemp("proxied"),
        request.param,
        extra_args=("--trusted-proxy", "127.0.0.1", "--clone-rule", "max_phone_clients=3"),
    )
    yield reg
    reg.stop()


@pytest.fixture(scope="module", params=backends())
def approving(request, tmp_path_factory):
    reg = start_registry(
        tmp_path_factory.mktemp("approving"),
        request.param,
        extra_args=("--clone-policy", "approve"),
    )
    yield reg
    reg.stop()


def _block(reg, count=1, product_id=101, token=None) -> dict:
    return reg.issue_block(product_id, count, token)


def _scan(text, key=None, **claims) -> dict:
    payload = {"scanned_at": "2026-11-29T10:00:00Z", "verdict": "genuine", **claims}
    if text is not None:
        payload["text"] = text
    return {"kind": "scan", "idempotency_key": key or f"s-{uuid.uuid4().hex}", "payload": payload}


def _print(serial, product_id=101, **lot) -> dict:
    return {
        "kind": "print",
        "idempotency_key": f"p-{uuid.uuid4().hex}",
        "payload": {
            "at": "2026-11-29T10:00:00Z",
            "serial": serial,
            "product_id": product_id,
            **lot,
        },
    }


def _upload(reg, items, token=None) -> dict:
    reply = reg.station("POST", f"{API}/uploads", token=token, json={"items": items})
    assert reply.status_code == 200, reply.text
    return reply.json()


def _code(text: str) -> str:
    return text.rsplit("/", 1)[1]


def _page(reg, text, **headers) -> str:
    reply = requests.get(f"{reg.url}/S/{_code(text)}", headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.text


def _eventually(check, timeout_s: float = 10.0):
    """check()'s first truthy answer: phone views are written in batches (registry/views.py
    ViewLog, every config.view_flush_s), so what a view causes shows a moment later."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _views_of(reg, serial: int) -> list:
    database = db.Database(reg.db_url)
    try:
        with database.read() as conn:
            return conn.execute(
                sa.select(db.stamp_views.c.client_hash).where(db.stamp_views.c.serial == serial)
            ).all()
    finally:
        database.dispose()


def _suspects(reg) -> frozenset[int]:
    """The suspect list of the registry's current trust list, verified as a kiosk does."""
    signed = requests.get(f"{reg.url}{API}/trust-list", timeout=10).text
    return verify_signed_trust_list(signed, reg.root_key).suspect_serials


def _anomalies(reg, station: str) -> dict[str, int]:
    return {a["reason"]: a["count"] for a in reg.report()["anomalies"] if a["station"] == station}


def _detections(reg, serial: int) -> list[dict]:
    return [d for d in reg.report()["detections"] if d["serial"] == serial]


def _edit(text: str, at: int) -> str:
    """One character changed, staying in the payload's alphabet (digits or base32)."""
    a, b = ("1", "2") if text[at].isdigit() else ("A", "B")
    return text[:at] + (a if text[at] != a else b) + text[at + 1 :]


def test_fake_scans_are_refused_with_reasons_and_counted_once(registry):
    name = f"shop-{uuid.uuid4().hex[:6]}"
    token = registry.add_station(name, "Yên Châu")
    block = _block(registry, 2)
    genuine, other = block["stamps"]
    serial = block["first_serial"]
    base = genuine[: genuine.rindex("/") + 1]
    items = [
        _scan(_edit(genuine, len(genuine) - 5), serial=serial),  # signature edited
        _scan(_edit(genuine, len(base) + 8)),  # a header field edited
        _scan(base + "NOT-A-STAMP"),  # malformed under our base URL
        _scan(None, serial=serial, product_id=101),  # no text: "take my word for it"
        _scan(genuine, serial=serial + 1),  # a genuine stamp, someone else's serial claimed
        _scan(other, product_id=102),
        _scan(genuine, serial=serial, product_id=101),  # honest
        _scan("8938505974192", product_id=None),  # a product barcode: not a stamp, kept
    ]
    before = registry.report()["total_scans"]
    reply = _upload(registry, items, token)
    got = [(r["status"], r.get("reason")) for r in reply["results"]]
    assert got == [
        ("rejected", "scan_not_genuine"),
        ("rejected", "scan_not_genuine"),
        ("rejected", "scan_not_genuine"),
        ("rejected", "scan_without_text"),
        ("rejected", "fields_disagree"),
        ("rejected", "fields_disagree"),
        ("accepted", None),
        ("accepted", None),
    ]
    assert all(r["error"] for r in reply["results"][:6])
    assert "signature" in reply["results"][0]["error"]
    assert registry.report()["total_scans"] == before + 2
    counts = {"scan_not_genuine": 3, "scan_without_text": 1, "fields_disagree": 2}
    assert _anomalies(registry, name) == counts
    # A resend (the kiosk lost the reply) is answered the same way and not counted again.
    again = _upload(registry, items, token)
    assert [(r["status"], r.get("reason")) for r in again["results"]] == [
        *got[:6],
        ("duplicate", None),
        ("duplicate", None),
    ]
    assert _anomalies(registry, name) == counts
    assert registry.report()["total_scans"] == before + 2
    page = requests.get(f"{registry.url}/reports", auth=("o", registry.admin_token), timeout=10)
    assert 'id="anomalies"' in page.text and f'data-station="{name}"' in page.text


def test_the_registry_stores_its_own_verdict_and_the_stamps_fields(registry):
    block = _block(registry, 1)
    key = f"s-{uuid.uuid4().hex}"
    # The kiosk says "forged" (its trust list was old, say): the registry knows better.
    assert (
        _upload(registry, [_scan(block["stamps"][0], key=key, verdict="forged")])["accepted"] == 1
    )
    database = db.Database(registry.db_url)
    try:
        with database.read() as conn:
            row = conn.execute(sa.select(db.events).where(db.events.c.idempotency_key == key)).one()
    finally:
        database.dispose()
    assert (row.serial, row.product_id, row.key_id, row.verdict) == (
        block["first_serial"],
        101,
        block["key_id"],
        "genuine",
    )
    assert '"verdict":"forged"' in row.payload_json


def test_print_record_only_for_the_stations_own_serials(registry):
    thief = f"thief-{uuid.uuid4().hex[:6]}"
    token = registry.add_station(thief, "Mai Sơn", role="station", products=[101])
    theirs = _block(registry, 3)  # demo-station's block
    own = _block(registry, 1, token=token)
    reply = _upload(
        registry,
        [
            _print(theirs["first_serial"]),  # "printed" blanks of someone else's block
            _print(own["first_serial"], product_id=102),  # own serial, wrong product
            _print(None),
            _print(own["first_serial"]),
        ],
        token,
    )
    assert [(r["status"], r.get("reason")) for r in reply["results"]] == [
        ("rejected", "print_not_own_serial"),
        ("rejected", "fields_disagree"),
        ("rejected", "print_without_serial"),
        ("accepted", None),
    ]
    assert _anomalies(registry, thief) == {
        "print_not_own_serial": 1,
        "fields_disagree": 1,
        "print_without_serial": 1,
    }
    # demo-station's own print record of the same serial is fine.
    assert _upload(registry, [_print(theirs["first_serial"])])["accepted"] == 1


def test_hostile_lot_dates_are_refused_and_change_nothing(registry):
    """A station (or a thief with its token) reports lots the phone page would show: each
    bad value is refused with its reason and nothing is stored for the serial."""
    block = _block(registry, 1)
    serial = block["first_serial"]
    hostile = [
        {"lot": "A1", "produced_on": "2026-11-20", "best_before": "2026-11-01"},  # before
        {"lot": "A1", "produced_on": "3026-11-20"},  # absurd year
        {"lot": "A1", "produced_on": "2999-01-01"},  # after today
        {"lot": "A1", "best_before": "20/11/2027"},  # not ISO
        {"lot": "A1", "produced_on": 20261120},  # not text
        {"lot": "X" * 41},  # longer than any label prints
        {"lot": "", "produced_on": "2026-11-20"},  # dates without a lot
        {"lot": ["A1"]},
    ]
    reply = _upload(registry, [_print(serial, **lot) for lot in hostile])
    assert [(r["status"], r.get("reason")) for r in reply["results"]] == [
        ("rejected", "lot_invalid")
    ] * len(hostile)
    assert _page(registry, block["stamps"][0]).count('id="lot"') == 0
    # before issue 15 stations sent no dates: still accepted; then a good lot is shown
    old = _upload(registry, [_print(serial, lot="A1")])
    assert old["accepted"] == 1
    good = {"lot": "A2", "produced_on": "2026-11-20", "best_before": "2027-05-20"}
    assert _upload(registry, [_print(serial, **good)])["accepted"] == 1
    page = _page(registry, block["stamps"][0])
    assert '<dd id="lot">A2</dd>' in page and "20/05/2027" in page


def test_one_station_replaying_a_genuine_stamp_cannot_flag_it(registry):
    attacker = registry.add_station(f"replay-{uuid.uuid4().hex[:6]}", "Sốp Cộp")
    block = _block(registry, 1)  # printed by demo-station for a shopper
    stamp, serial = block["stamps"][0], block["first_serial"]
    for _ in range(3):  # 60 scans of the genuine stamp from station A alone
        reply = _upload(registry, [_scan(stamp) for _ in range(20)], attacker)
        assert reply["accepted"] == 20
    assert _detections(registry, serial) == []
    assert serial not in _suspects(registry)
    assert 'data-verdict="genuine"' in _page(registry, stamp)


def test_phone_views_count_once_an_hour_and_flag_a_copied_stamp(proxied):
    block = _block(proxied, 2)
    stamp, serial = block["stamps"][0], block["first_serial"]
    # The same phone reloading 50 times in an hour: one view.
    for _ in range(50):
        assert 'data-verdict="genuine"' in _page(
            proxied, stamp, **{"User-Agent": PHONE, "X-Forwarded-For": "203.0.113.7"}
        )
    assert _eventually(lambda: _views_of(proxied, serial))
    time.sleep(0.5)  # two flush intervals more: nothing else comes
    views = _views_of(proxied, serial)
    database = db.Database(proxied.db_url)
    try:
        with database.read() as conn:
            salts = conn.execute(sa.select(db.view_salts)).all()
    finally:
        database.dispose()
    assert len(views) == 1 and len(views[0].client_hash) == 64
    assert "203.0.113.7" not in views[0].client_hash and len(salts) == 1
    # Three more phones (max_phone_clients=3: the fourth client flags it) behind the proxy.
    for n in range(2, 4):
        html = _page(proxied, stamp, **{"User-Agent": PHONE, "X-Forwarded-For": f"198.51.100.{n}"})
        assert 'data-verdict="genuine"' in html
    # The fourth phone's view flags it once its batch is written: the next page says so.
    _page(proxied, stamp, **{"User-Agent": PHONE, "X-Forwarded-For": "198.51.100.9"})
    assert _eventually(lambda: serial in _suspects(proxied))
    html = _page(proxied, stamp, **{"User-Agent": PHONE, "X-Forwarded-For": "198.51.100.9"})
    assert 'data-verdict="suspect_clone"' in html
    assert [(d["rule"], d["status"]) for d in _detections(proxied, serial)] == [
        ("sites", "published")
    ]
    # A forged X-Forwarded-For from an untrusted peer is not believed: tested on the
    # default registry below (no trusted proxy).


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(registry):
    block = _block(registry, 1)
    stamp, serial = block["stamps"][0], block["first_serial"]
    for n in range(15):
        _page(registry, stamp, **{"User-Agent": PHONE, "X-Forwarded-For": f"192.0.2.{n}"})
    assert _eventually(lambda: _views_of(registry, serial))
    time.sleep(0.5)  # two flush intervals more: nothing else comes
    assert len(_views_of(registry, serial)) == 1
    assert serial not in _suspects(registry)


def test_distinct_user_agents_are_distinct_phones(proxied):
    block = _block(proxied, 1)
    stamp, serial = block["stamps"][0], block["first_serial"]
    for n in range(4):
        _page(proxied, stamp, **{"User-Agent": f"{PHONE} build/{n}"})
    assert _eventually(lambda: serial in _suspects(proxied))
    assert 'data-verdict="suspect_clone"' in _page(proxied, stamp, **{"User-Agent": PHONE})


def test_approve_policy_waits_for_the_office(approving):
    far = approving.add_station(f"far-{uuid.uuid4().hex[:6]}", "Sốp Cộp")
    block = _block(approving, 2)
    for stamp in block["stamps"]:
        _upload(approving, [_scan(stamp)])
        _upload(approving, [_scan(stamp)], far)
    first, second = block["first_serial"], block["first_serial"] + 1
    pending = approving.admin("GET", f"{API}/admin/clone-detections?status=pending").json()
    mine = [d for d in pending["detections"] if d["serial"] in (first, second)]
    assert {d["status"] for d in mine} == {"pending"} and {d["serial"] for d in mine} == {
        first,
        second,
    }
    assert first not in _suspects(approving)
    assert 'data-verdict="genuine"' in _page(approving, block["stamps"][0])
    report_page = requests.get(
        f"{approving.url}/reports", auth=("o", approving.admin_token), timeout=10
    ).text
    one = next(d for d in mine if d["serial"] == first)
    assert f'action="/reports/detections/{one["id"]}/approve"' in report_page
    # The office approves the first (the API), dismisses the second (the page's button).
    reply = approving.admin("POST", f"{API}/admin/clone-detections/{one['id']}/approve")
    assert reply.status_code == 200 and reply.json()["serial"] == first, reply.text
    assert first in _suspects(approving)
    assert 'data-verdict="suspect_clone"' in _page(approving, block["stamps"][0])
    assert {d["status"] for d in _detections(approving, first)} == {"published"}
    again = approving.admin("POST", f"{API}/admin/clone-detections/{one['id']}/approve")
    assert again.status_code == 409
    assert (
        approving.station("POST", f"{API}/admin/clone-detections/{one['id']}/approve").status_code
        == 403
    )
    two = next(d for d in mine if d["serial"] == second)
    browser = ("o", approving.admin_token)  # the office's browser: HTTP Basic
    url = f"{approving.url}/reports/detections/{two['id']}/dismiss"
    assert requests.post(url, auth=browser, timeout=10).status_code == 403  # no CSRF token
    page = requests.get(f"{approving.url}/reports", auth=browser, timeout=10)
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    button = requests.post(
        url, auth=browser, data={"csrf_token": csrf_token}, allow_redirects=False, timeout=10
    )
    assert button.status_code == 303 and button.headers["location"].startswith("/reports")
    assert (
        requests.post(
            f"{approving.url}/reports/detections/{two['id']}/approve", timeout=10
        ).status_code
        == 401
    )
    dismissed = [d for d in _detections(approving, second) if d["id"] == two["id"]]
    assert dismissed[0]["status"] == "dismissed" and dismissed[0]["decided_by"]
    assert second not in _suspects(approving)
    assert (
        approving.admin("POST", f"{API}/admin/clone-detections/999999/approve").status_code == 404
    )


@pytest.fixture(scope="module", params=backends())
def lenient(request, tmp_path_factory):
    """Up to 5 stations may see a stamp: the volume and travel rules act alone."""
    reg = start_registry(
        tmp_path_factory.mktemp("lenient"),
        request.param,
        extra_args=("--clone-rule", "max_stations=5", "--clone-rule", "max_speed_kmh=60"),
    )
    yield reg
    reg.stop()


def _scan_at(text, when) -> dict:
    item = _scan(text)
    item["payload"]["scanned_at"] = when
    return item


def test_travel_rule_flags_scans_farther_apart_than_travel_allows(lenient):
    west = lenient.add_station(f"w-{uuid.uuid4().hex[:6]}", "Sốp Cộp")
    east = lenient.add_station(f"e-{uuid.uuid4().hex[:6]}", "Huyện Vân Hồ")
    city = lenient.add_station(f"c-{uuid.uuid4().hex[:6]}", "TP. Sơn La")
    near = lenient.add_station(f"n-{uuid.uuid4().hex[:6]}", "Mai Sơn")
    block = _block(lenient, 2)
    far, close = block["stamps"]
    serial = block["first_serial"]
    # ~140 km in 30 minutes: not one stamp.
    _upload(lenient, [_scan_at(far, "2026-11-29T10:00:00Z")], west)
    _upload(lenient, [_scan_at(far, "2026-11-29T10:30:00+00:00")], east)
    found = _detections(lenient, serial)
    assert [d["rule"] for d in found] == ["travel"] and "km" in found[0]["detail"]
    assert serial in _suspects(lenient)
    # ~25 km in an hour is a bus ride.
    _upload(lenient, [_scan_at(close, "2026-11-29T10:00:00Z")], city)
    _upload(lenient, [_scan_at(close, "2026-11-29T11:00:00Z")], near)
    assert _detections(lenient, serial + 1) == []


def test_volume_rule_counts_a_few_scans_per_site_and_day(lenient):
    a = lenient.add_station(f"va-{uuid.uuid4().hex[:6]}", "Mộc Châu")
    b = lenient.add_station(f"vb-{uuid.uuid4().hex[:6]}", "Mộc Châu")
    block = _block(lenient, 1)
    stamp, serial = block["stamps"][0], block["first_serial"]
    # Station A alone, 10 a day for 4 days: 12 counted, one site: nothing.
    for day in range(1, 5):
        _upload(lenient, [_scan_at(stamp, f"2026-11-0{day}T10:00:00Z") for _ in range(10)], a)
    assert _detections(lenient, serial) == []
    # Station B too, 3 days: 12 + 9 = 21 counted sightings from 2 sites > 20.
    for day in range(1, 3):
        _upload(lenient, [_scan_at(stamp, f"2026-11-0{day}T12:00:00Z") for _ in range(5)], b)
        assert _detections(lenient, serial) == []
    _upload(lenient, [_scan_at(stamp, "2026-11-03T12:00:00Z") for _ in range(3)], b)
    assert [d["rule"] for d in _detections(lenient, serial)] == ["volume"]
    assert serial in _suspects(lenient)


def test_yesterdays_salt_is_deleted(tmp_path):
    reg = start_registry(tmp_path / "salts")
    database = db.Database(reg.db_url)
    try:
        with database.write() as conn:
            conn.execute(
                db.view_salts.insert().values(day="2020-01-01", salt="00" * 32, created_at="x")
            )
        stamp = _block(reg, 1)["stamps"][0]
        _page(reg, stamp, **{"User-Agent": PHONE})

        def days() -> list[str]:
            with database.read() as conn:
                return [r.day for r in conn.execute(sa.select(db.view_salts))]

        assert _eventually(lambda: days() == [db.utc_now()[:10]]), days()
    finally:
        database.dispose()
        reg.stop()


def test_a_genuine_scan_raises_a_rewound_serial_counter(registry):
    """A database that forgot a block (restored without its high-water mark) must not issue
    those serials again once a kiosk reports a stamp of it: the signature proves they were
    issued."""
    block = _block(registry, 2)
    engine = db.make_engine(registry.db_url)
    try:
        with engine.begin() as conn:  # the restored database: the counter before the block
            conn.execute(
                db.counters.update()
                .where(db.counters.c.name == "serial")
                .values(value=block["first_serial"] - 1)
            )
    finally:
        engine.dispose()
    assert _upload(registry, [_scan(block["stamps"][1])])["accepted"] == 1
    assert _block(registry, 1)["first_serial"] > block["last_serial"]
