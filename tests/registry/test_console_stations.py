"""The console's Stations and Stamps sections against a real registry process (SQLite and
PostgreSQL): an administrator in real Chromium rotates a station's token and a real kiosk
process set up from the page's QR code syncs with it while the old token is refused;
revokes a serial range and a real kiosk's next sync reads that stamp as revoked; and what
must be refused is refused: editors' and viewers' posts, posts without the CSRF token, the
token anywhere after its one page; a key rotation, a key revocation and a serial revocation
write the same audit row from the CLI, the admin API and the console. Screenshots:
docs/screenshots/console-stations.png, console-station.png, console-stamps.png (SQLite,
1366x768).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re

import pytest
import requests

from tests.registry.console_helpers import (
    OFFICE_PC,
    SHOTS,
    TABLET,
    add_accounts,
    browser_sign_in,
    contrast_problems,
    csrf,
    post_form,
    sign_in,
)
from tests.registry.server import backends, start_registry, write_kiosk_config
from tests.sync.conftest import run_kiosk_cli

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

API = "/api/v1"
STATIONS = "/console/stations"
STAMPS = "/console/stamps"


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(tmp_path_factory.mktemp("console-stations"), request.param)
    r.backend = request.param
    add_accounts(r)
    yield r
    r.stop()


def _kiosk(config, *args, ok: bool = True):
    done = run_kiosk_cli("--config", str(config), *args)
    if ok:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def _verdict(config, stamp: str) -> str:
    out = _kiosk(config, "stamp", "verify", "--json", stamp).stdout
    return json.loads(out.strip().splitlines()[-1])["verdict"]


def _station(reg, name: str) -> dict:
    reply = reg.admin("GET", f"{API}/admin/stations/{name}")
    assert reply.status_code == 200, reply.text
    return reply.json()


def _audit(reg) -> list[dict]:
    reply = reg.admin("GET", f"{API}/admin/audit", params={"limit": 500})
    assert reply.status_code == 200, reply.text
    return reply.json()["entries"]


def _trust_list(reg) -> dict:
    reply = requests.get(reg.url + f"{API}/trust-list", timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["trust_list"]


def _trust_sequence(reg) -> int:
    return _trust_list(reg)["sequence"]


def _decode_qr(data_uri: str) -> str:
    import zxingcpp
    from PIL import Image

    assert data_uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1])))
    (found,) = zxingcpp.read_barcodes(image)
    return found.text


def test_an_admin_rotates_a_token_in_chromium_and_a_kiosk_set_up_from_the_qr_syncs(
    reg, browser, tmp_path
):
    old_token = reg.add_station("showroom-rot", "Mộc Châu")
    data_dir = tmp_path / "kiosk"
    old_config = write_kiosk_config(
        tmp_path / "old.toml", reg.url, old_token, reg.root_key, data_dir
    )
    _kiosk(old_config, "init")
    _kiosk(old_config, "sync", "--once")  # the old token works until the rotation

    page = browser_sign_in(browser, reg, "alice")
    page.goto(reg.url + STATIONS)
    row = page.locator("#station-showroom-rot")
    assert "Mộc Châu" in row.inner_text() and "Máy tra cứu" in row.inner_text()
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-stations.png"), full_page=False)
    row.get_by_role("link", name="showroom-rot").click()
    page.wait_for_url(reg.url + f"{STATIONS}/showroom-rot")
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-station.png"), full_page=False)

    page.set_viewport_size(TABLET)
    assert contrast_problems(page) == []
    page.set_viewport_size(OFFICE_PC)
    page.locator("#action-rotate-token").click()
    # The confirmation names the consequence and has changed nothing yet.
    assert "ngừng đồng bộ cho đến khi được thay mã" in page.locator("#consequence").inner_text()
    assert reg.station("GET", f"{API}/stations/me", token=old_token).status_code == 200
    assert contrast_problems(page) == []
    with page.expect_response(
        lambda r: r.url.endswith("/rotate-token") and r.request.method == "POST"
    ) as reply:
        page.locator("#confirm").click()
    assert reply.value.status == 200
    assert reply.value.headers["cache-control"] == "no-store"
    new_token = page.locator("#token").inner_text().strip()
    setup = page.locator("#setup").input_value()
    assert new_token != old_token and f'token = "{new_token}"' in setup
    assert contrast_problems(page) == []
    # The QR code holds exactly the set-up text.
    assert _decode_qr(page.locator("#setup-qr").get_attribute("src")) == setup
    page.set_viewport_size(TABLET)
    assert contrast_problems(page) == []

    # The old token is refused by the API and by the old kiosk set-up ...
    assert reg.station("GET", f"{API}/stations/me", token=old_token).status_code == 401
    assert _kiosk(old_config, "sync", "--once", ok=False).returncode != 0
    # ... and a kiosk process set up from the scanned QR code syncs.
    new_config = tmp_path / "new.toml"
    new_config.write_text(f"data_dir = {json.dumps(str(data_dir))}\n\n{setup}")
    _kiosk(new_config, "sync", "--once")
    assert _station(reg, "showroom-rot")["last_seen_at"]

    # The token is never shown or stored again: not on any later page, not in the audit
    # detail, not in the registry's log; the token page cannot be fetched again.
    session, _ = sign_in(reg, "alice")
    for path in ("/console", STATIONS, f"{STATIONS}/showroom-rot", STAMPS):
        later = session.get(reg.url + path, timeout=30)
        assert later.status_code == 200 and new_token not in later.text, path
    page.goto(reg.url + f"{STATIONS}/showroom-rot")
    assert new_token not in page.content()
    assert session.get(reg.url + f"{STATIONS}/showroom-rot/rotate-token").status_code == 405
    entries = _audit(reg)
    assert new_token not in json.dumps(entries)
    (rotated,) = [
        e
        for e in entries
        if e["action"] == "station.rotate_token" and e["target"] == "showroom-rot"
    ]
    assert rotated["actor"] == "alice"
    assert new_token not in reg.log()
    page.context.close()


def test_revoking_a_serial_range_in_chromium_reaches_the_kiosks_next_sync(reg, browser, tmp_path):
    block = reg.issue_block(product_id=101, count=3)
    stamps, serial = block["stamps"], block["first_serial"] + 1  # revoke the middle one
    token = reg.add_station("showroom-rev")
    config = write_kiosk_config(
        tmp_path / "k.toml", reg.url, token, reg.root_key, tmp_path / "kiosk"
    )
    _kiosk(config, "init")
    _kiosk(config, "sync", "--once")
    assert [_verdict(config, s) for s in stamps] == ["genuine"] * 3
    sequence = _trust_sequence(reg)

    page = browser_sign_in(browser, reg, "alice")
    page.goto(reg.url + STAMPS)
    page.get_by_label("Sê-ri đầu").fill(str(serial))
    page.get_by_label("Sê-ri cuối").fill(str(serial))
    page.locator("#revoke-reason").fill("tem bị mất")
    page.locator("#revoke-serials-submit").click()
    consequence = page.locator("#consequence").inner_text()
    assert f"1 tem có sê-ri từ {serial} đến {serial}" in consequence
    assert "Không thể hoàn tác" in consequence
    assert _trust_sequence(reg) == sequence  # the confirmation changed nothing
    assert contrast_problems(page) == []
    page.locator("#confirm").click()
    page.wait_for_url(re.compile(r".*/console/stamps\?done=revoked.*"))
    assert "Đã xong" in page.locator("#done").inner_text()
    assert f"{serial}–{serial}" in page.locator("#revoked-ranges").inner_text()
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-stamps.png"), full_page=False)
    # Asked again, then Cancel, or the language switch: back to the page, nothing revoked.
    revoked_sequence = _trust_sequence(reg)
    for leave in ("#cancel", "#lang-switch"):
        page.locator("#revoke-first").fill(str(serial + 1))
        page.locator("#revoke-last").fill(str(serial + 1))
        page.locator("#revoke-serials-submit").click()
        page.locator(leave).click()
        page.wait_for_url(reg.url + STAMPS)
    assert page.locator("h1").inner_text() == "Stamps"  # now in English
    assert _trust_sequence(reg) == revoked_sequence
    page.set_viewport_size(TABLET)
    assert contrast_problems(page) == []
    page.context.close()

    # The published trust list carries it; the kiosk's next sync reads the stamp revoked.
    tl = _trust_list(reg)
    assert tl["sequence"] > sequence
    assert any(r["first"] <= serial <= r["last"] for r in tl["revoked_ranges"])
    _kiosk(config, "sync", "--once")
    assert [_verdict(config, s) for s in stamps] == ["genuine", "revoked", "genuine"]
    (entry,) = [e for e in _audit(reg) if e["target"] == f"serials:{serial}-{serial}"]
    assert entry["action"] == "serials.revoke" and entry["actor"] == "alice"
    assert entry["detail"]["reason"] == "tem bị mất"


def _admin_posts(reg, name: str) -> list[tuple[str, str, dict]]:
    """(page, action, fields) of every change the two sections offer, confirmed."""
    yes = {"confirmed": "yes"}
    station = f"{STATIONS}/{name}"
    return [
        (STATIONS, STATIONS, {"name": "sneaky", "role": "station", "products": "101", **yes}),
        (station, f"{station}/scope", {"role": "station", "products": "101", **yes}),
        (station, f"{station}/disable", yes),
        (station, f"{station}/rotate-token", yes),
        (station, f"{station}/retire", yes),
        (STAMPS, f"{STAMPS}/revoke-serials", {"first": "1", "last": "100", **yes}),
        (STAMPS, f"{STAMPS}/revoke-key", {"key_id": "1", "revoked_from": "2020-01-01", **yes}),
        (STAMPS, f"{STAMPS}/rotate-key", {"emergency": "yes", **yes}),
    ]


def _state(reg) -> tuple:
    """Everything those posts could change."""
    stations = reg.admin("GET", f"{API}/admin/stations").json()["stations"]
    return stations, _trust_sequence(reg), len(_audit(reg))


@pytest.mark.parametrize("name", ["erin", "victor"])
def test_an_editor_or_viewer_sees_read_only_pages_and_every_post_is_403(reg, name):
    reg.add_station(f"target-{name}")
    session, _ = sign_in(reg, name)
    for path in (STATIONS, f"{STATIONS}/target-{name}", STAMPS):
        page = session.get(reg.url + path, timeout=30)
        assert page.status_code == 200, path
        assert 'id="read-only"' in page.text
        assert 'action="/console/' not in page.text.replace(
            'action="/console/language"', ""
        ).replace('action="/console/sign-out"', "")
    before = _state(reg)
    for page, action, fields in _admin_posts(reg, f"target-{name}"):
        reply = post_form(session, reg, page, action, fields)
        assert reply.status_code == 403, (action, reply.text[:300])
        assert "Quản trị viên" in reply.text  # the refusal names the role needed
        unconfirmed = {k: v for k, v in fields.items() if k != "confirmed"}
        assert post_form(session, reg, page, action, unconfirmed).status_code == 403
    assert _state(reg) == before


def test_a_post_without_or_with_another_sessions_csrf_token_is_refused(reg):
    reg.add_station("csrf-target")
    alice, _ = sign_in(reg, "alice")
    other, _ = sign_in(reg, "alice")
    foreign = csrf(other.get(reg.url + STAMPS, timeout=30).text)
    before = _state(reg)
    for _, action, fields in _admin_posts(reg, "csrf-target"):
        bare = alice.post(reg.url + action, data=fields, allow_redirects=False, timeout=30)
        assert bare.status_code == 403, action
        stolen = alice.post(
            reg.url + action,
            data={**fields, "csrf_token": foreign},
            allow_redirects=False,
            timeout=30,
        )
        assert stolen.status_code == 403, action
    assert _state(reg) == before
    assert _station(reg, "csrf-target")["state"] == "active"


def test_an_admin_adds_binds_disables_enables_and_retires_a_station(reg, tmp_path):
    alice, _ = sign_in(reg, "alice")
    fields = {
        "name": "printer-console",
        "district": "Thuận Châu",
        "role": "station",
        "producers": "",
        "products": "101",
        "quota_per_day": "50",
        "quota_total": "",
    }
    # The first post only asks; the station does not exist yet.
    asked = post_form(alice, reg, STATIONS, STATIONS, fields)
    assert asked.status_code == 200 and 'id="consequence"' in asked.text
    assert "không giới hạn" in asked.text  # the empty total quota, said out loud
    assert reg.admin("GET", f"{API}/admin/stations/printer-console").status_code == 404
    added = post_form(alice, reg, STATIONS, STATIONS, {**fields, "confirmed": "yes"})
    assert added.status_code == 200 and added.headers["cache-control"] == "no-store"
    token = re.search(r'id="token">([^<]+)<', added.text).group(1)
    info = _station(reg, "printer-console")
    assert (info["role"], info["products"], info["quota_per_day"], info["quota_total"]) == (
        "station",
        [101],
        50,
        None,
    )
    assert reg.issue_block(101, 5, token=token)["count"] == 5
    listing = alice.get(reg.url + STATIONS, timeout=30).text
    assert "5 / 50" in listing and "5 / không giới hạn" in listing

    # A second add of the same name, a bad quota, an unknown product: refused, nothing done.
    again = post_form(alice, reg, STATIONS, STATIONS, {**fields, "confirmed": "yes"})
    assert again.status_code == 409 and "Chưa thực hiện" in again.text
    page = f"{STATIONS}/printer-console"
    bad = post_form(alice, reg, page, f"{page}/scope", {"role": "station", "quota_total": "x"})
    assert bad.status_code == 422
    unknown = post_form(
        alice,
        reg,
        page,
        f"{page}/scope",
        {"role": "station", "products": "999999", "confirmed": "yes"},
    )
    assert unknown.status_code == 422 and "no product 999999" in unknown.text
    assert _station(reg, "printer-console")["products"] == [101]

    # Bindings and quotas.
    scope = {"role": "station", "products": "101", "quota_per_day": "5", "quota_total": "100"}
    saved = post_form(alice, reg, page, f"{page}/scope", {**scope, "confirmed": "yes"})
    assert saved.status_code == 303 and saved.headers["location"] == f"{page}?done=scope"
    info = _station(reg, "printer-console")
    assert (info["quota_per_day"], info["quota_total"]) == (5, 100)
    over = reg.station(
        "POST",
        f"{API}/stamp-blocks",
        token=token,
        json={"request_id": "r-over-quota", "product_id": 101, "count": 1},
    )
    assert over.status_code == 403 and over.json()["reason"] == "daily_quota"

    # Disable: the token is refused; enable: accepted again.
    asked = post_form(alice, reg, page, f"{page}/disable", {})
    assert "ngừng đồng bộ" in asked.text
    assert reg.station("GET", f"{API}/stations/me", token=token).status_code == 200
    done = post_form(alice, reg, page, f"{page}/disable", {"reason": "mất", "confirmed": "yes"})
    assert done.status_code == 303
    assert reg.station("GET", f"{API}/stations/me", token=token).status_code == 401
    shown = alice.get(reg.url + done.headers["location"], timeout=30).text
    assert "Đã xong: trạm đã tạm dừng." in shown and 'id="action-enable"' in shown
    assert post_form(alice, reg, page, f"{page}/enable", {"confirmed": "yes"}).status_code == 303
    assert reg.station("GET", f"{API}/stations/me", token=token).status_code == 200

    # Retire: its 5 unprinted stamps are revoked, and the confirmation said how many.
    asked = post_form(alice, reg, page, f"{page}/retire", {})
    assert "(hiện là 5 tem)" in asked.text
    done = post_form(alice, reg, page, f"{page}/retire", {"confirmed": "yes"})
    assert done.status_code == 303 and "count=5" in done.headers["location"]
    assert _station(reg, "printer-console")["state"] == "retired"
    retired_page = alice.get(reg.url + page, timeout=30).text
    assert 'id="action-' not in retired_page and "thu hồi vĩnh viễn" in retired_page
    refused = post_form(alice, reg, page, f"{page}/enable", {"confirmed": "yes"})
    assert refused.status_code == 409

    actions = [
        e["action"]
        for e in reversed(_audit(reg))
        if e["target"] == "printer-console" and e["actor"] == "alice"
    ]
    assert actions == [
        "station.add",
        "station.scope",
        "station.disable",
        "station.enable",
        "station.retire",
    ]
    assert token not in json.dumps(_audit(reg))


def test_signing_key_rotation_waits_for_its_announcement_unless_an_emergency(tmp_path):
    reg = start_registry(tmp_path / "keys")
    try:
        add_accounts(reg)
        alice, _ = sign_in(reg, "alice")
        page = alice.get(reg.url + STAMPS, timeout=30).text
        announcement = re.search(r'id="announcement">([^<]+)<', page).group(1)
        assert "Khoá 1 đang ký tem mới. Khoá 2" in announcement
        key_2 = {k["key_id"]: k for k in _trust_list(reg)["signing_keys"]}[2]["valid_from"]
        day = dt.date.fromisoformat(key_2).strftime("%d/%m/%Y")  # as the office writes it
        assert f"được ký từ ngày {day}" in announcement
        assert not re.search(r"\d{4}-\d{2}-\d{2}", announcement), announcement
        # Before key 2's not-before day: refused, naming the day; nothing changed.
        refused = post_form(alice, reg, STAMPS, f"{STAMPS}/rotate-key", {"confirmed": "yes"})
        assert refused.status_code == 409
        assert f"Khoá ký tem 2 chỉ được ký từ ngày {day}" in refused.text
        assert key_2 not in refused.text
        asked = post_form(alice, reg, STAMPS, f"{STAMPS}/rotate-key", {"emergency": "yes"})
        assert "chưa kiểm tra được" in asked.text and "sang khoá 2" in asked.text
        stamp_before = reg.issue_block(101, 1)
        done = post_form(
            alice, reg, STAMPS, f"{STAMPS}/rotate-key", {"emergency": "yes", "confirmed": "yes"}
        )
        assert done.status_code == 303 and "key=2" in done.headers["location"]
        assert reg.issue_block(101, 1)["key_id"] == 2
        (entry,) = [e for e in _audit(reg) if e["action"] == "key.rotate"]
        assert entry["actor"] == "alice" and entry["detail"]["emergency"] is True

        # Revoke key 1 from tomorrow: the trust list carries it.
        asked = post_form(
            alice,
            reg,
            STAMPS,
            f"{STAMPS}/revoke-key",
            {"key_id": "1", "revoked_from": "2099-01-01", "last_good_serial": "5"},
        )
        assert "Huỷ khoá ký tem 1?" in asked.text and "đến sê-ri 5 vẫn là tem thật" in asked.text
        assert "ký cho ngày từ 01/01/2099 trở đi" in asked.text  # the form sends ISO
        done = post_form(
            alice,
            reg,
            STAMPS,
            f"{STAMPS}/revoke-key",
            {"key_id": "1", "revoked_from": "2099-01-01", "reason": "thử", "confirmed": "yes"},
        )
        assert done.status_code == 303
        tl = _trust_list(reg)
        assert [k["key_id"] for k in tl["revoked_keys"]] == [1]
        unknown = post_form(
            alice,
            reg,
            STAMPS,
            f"{STAMPS}/revoke-key",
            {"key_id": "77", "revoked_from": "2099-01-01", "confirmed": "yes"},
        )
        assert unknown.status_code == 422 and "not a registry signing key" in unknown.text
        assert stamp_before["key_id"] == 1
    finally:
        reg.stop()


def test_the_cli_the_api_and_the_console_write_the_same_key_and_serial_audit_rows(tmp_path):
    """One change, three ways in (ocop-registry, /api/v1/admin, the console): the same audit
    row but for who, from where and the trust list it published."""
    reg = start_registry(tmp_path / "three-ways")
    try:
        add_accounts(reg)
        alice, _ = sign_in(reg, "alice")
        yes = {"confirmed": "yes"}

        def console(action: str, fields: dict) -> None:
            done = post_form(alice, reg, STAMPS, f"{STAMPS}/{action}", {**fields, **yes})
            assert done.status_code == 303, done.text

        def api(path: str, **kwargs) -> None:
            reply = reg.admin("POST", f"{API}/admin/{path}", **kwargs)
            assert reply.status_code == 200, reply.text

        reason = "cuộn tem bị mất"
        revoke = {"key_id": 1, "revoked_from": "2099-01-01", "last_good_serial": 5}
        console("rotate-key", {"emergency": "yes"})
        api("keys/rotate", params={"now": "true"})
        reg.cli("key", "rotate", "--now")
        console("revoke-key", {**revoke, "reason": reason})
        api("revocations/keys", json={**revoke, "reason": reason})
        reg.cli("revoke", "key", "1", "--from", "2099-01-01", "--last-good-serial", "5")
        reg.cli("revoke", "key", "1", "--from", "2099-01-01", "--reason", reason)
        console("revoke-serials", {"first": "7", "last": "9", "reason": reason})
        api("revocations/serials", json={"first": 7, "last": 9, "reason": reason})
        reg.cli("revoke", "serials", "7", "9", "--reason", reason)

        def rows(action: str) -> list[tuple]:
            entries = [e for e in reversed(_audit(reg)) if e["action"] == action]
            for e in entries:
                assert isinstance(e["detail"].pop("trust_list_sequence"), int)
            return [(e["actor"].split(":")[0], e["target"], e["detail"]) for e in entries]

        rotated = {"emergency": True}
        assert rows("key.rotate") == [
            ("alice", "key:2", rotated),
            ("bootstrap", "key:3", rotated),
            ("cli", "key:4", rotated),
        ]
        revoked = {"from": "2099-01-01", "last_good_serial": 5, "reason": reason}
        assert rows("key.revoke") == [
            ("alice", "key:1", revoked),
            ("bootstrap", "key:1", revoked),
            ("cli", "key:1", {**revoked, "reason": ""}),
            ("cli", "key:1", {**revoked, "last_good_serial": None}),
        ]
        serials = ("serials:7-9", {"reason": reason})
        assert rows("serials.revoke") == [
            ("alice", *serials),
            ("bootstrap", *serials),
            ("cli", *serials),
        ]
    finally:
        reg.stop()
