"""A detection's evidence and the office's decision in the console
(registry/routes/console_suspects.py), against a real registry process that waits for the
office (--clone-policy approve), SQLite and PostgreSQL: in real Chromium an administrator
opens a detection, sees where and when the stamp was scanned and the districts on the
schematic, publishes it after a confirmation in the kiosk's own words, and a real kiosk
process says "possibly copied" after `ocop-kiosk sync --once`; a dismissal changes nothing
on the kiosk. Screenshot: docs/screenshots/console-suspect.png."""

from __future__ import annotations

import re
import uuid

import pytest

from ocop.i18n import translator
from ocop.stamps.verdicts import Verdict
from tests.registry.console_helpers import (
    SHOTS,
    KioskProcess,
    add_accounts,
    browser_sign_in,
    contrast_problems,
    csrf,
    sign_in,
)
from tests.registry.server import backends, start_registry

API = "/api/v1"
VI = translator("vi")


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(
        tmp_path_factory.mktemp("console-suspects"),
        request.param,
        extra_args=("--clone-policy", "approve"),
    )
    r.backend = request.param
    add_accounts(r)
    yield r
    r.stop()


def _scan(text: str, at: str) -> dict:
    payload = {"scanned_at": at, "verdict": "genuine", "text": text}
    return {"kind": "scan", "idempotency_key": f"s-{uuid.uuid4().hex}", "payload": payload}


def _upload(reg, items, token=None) -> None:
    reply = reg.station("POST", f"{API}/uploads", token=token, json={"items": items})
    assert reply.status_code == 200, reply.text


def _flagged(reg) -> tuple[str, int, int]:
    """A stamp scanned in Mộc Châu (the demo station) and 40 minutes later in Sốp Cộp,
    ~120 km away: (its text, its serial, the id of its pending travel detection)."""
    far = reg.add_station(f"sopcop-{uuid.uuid4().hex[:6]}", "Sốp Cộp")
    block = reg.issue_block(101, 1)
    stamp, serial = block["stamps"][0], block["first_serial"]
    _upload(reg, [_scan(stamp, "2026-11-29T08:00:00Z")])
    _upload(reg, [_scan(stamp, "2026-11-29T08:40:00Z")], far)
    pending = reg.admin("GET", f"{API}/admin/clone-detections?status=pending").json()
    mine = [d for d in pending["detections"] if d["serial"] == serial]
    assert mine, pending
    travel = [d for d in mine if d["rule"] == "travel"] or mine
    return stamp, serial, travel[0]["id"]


def test_an_admin_sees_the_evidence_publishes_and_the_kiosk_shows_it(reg, browser, tmp_path):
    stamp, serial, detection = _flagged(reg)
    kiosk = KioskProcess(reg, tmp_path, f"kiosk-suspect-{reg.backend}")
    assert kiosk.sync_once()["ok"] is True
    assert kiosk.verdict(stamp) == Verdict.GENUINE.value  # pending: nothing published yet

    page = browser_sign_in(browser, reg, "alice")
    page.goto(reg.url + "/console/suspects")
    page.locator(f"#open-{detection}").click()
    page.wait_for_url(reg.url + f"/console/suspects/{detection}")
    assert f"{serial}" in page.locator("h1").inner_text()
    assert page.locator("#status").get_attribute("data-status") == "pending"
    stations = page.locator("#stations tbody tr")
    assert stations.count() == 2
    assert {stations.nth(i).locator("td").nth(1).inner_text() for i in range(2)} == {
        "Mộc Châu",
        "Sốp Cộp",
    }
    times = page.locator("#stations").inner_text()  # Vietnam time (UTC+7)
    assert "29/11/2026 15:00" in times and "29/11/2026 15:40" in times
    # The schematic: all 12 districts labelled, the two involved filled with their counts.
    assert page.locator("#district-map .district").count() == 12
    involved = page.locator("#district-map .district.involved")
    assert {involved.nth(i).get_attribute("data-district") for i in range(2)} == {
        "Mộc Châu",
        "Sốp Cộp",
    } and involved.count() == 2
    assert "1 lượt quét" in page.locator("#district-map").text_content()
    assert page.locator("#district-map polyline").count() == 1
    assert "km" in page.locator("#finding").inner_text()
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-suspect.png"))

    page.locator("#approve").click()
    page.wait_for_selector("#confirm")
    assert page.locator("#kiosk-verdict").get_attribute("data-verdict") == "suspect_clone"
    shown = page.locator("#kiosk-verdict").inner_text()
    assert (
        VI(Verdict.SUSPECT_CLONE.title) in shown and VI(Verdict.SUSPECT_CLONE.message_id) in shown
    )
    assert "đồng bộ" in page.locator("#confirm").inner_text()
    assert contrast_problems(page) == []
    assert kiosk.sync_once()["ok"] and kiosk.verdict(stamp) == "genuine"  # not confirmed yet
    page.locator("#confirm-decision").click()
    page.wait_for_url(reg.url + f"/console/suspects/{detection}")
    assert page.locator("#status").get_attribute("data-status") == "published"
    assert "alice" in page.locator("#status").inner_text()
    assert page.locator("#approve").count() == 0
    page.context.close()

    assert kiosk.sync_once()["ok"] is True
    assert kiosk.verdict(stamp) == Verdict.SUSPECT_CLONE.value

    # The audit page says who did it, and the status before and after.
    viewer = browser_sign_in(browser, reg, "victor")
    viewer.goto(reg.url + "/console/audit?action=clone.approve")
    row = viewer.locator(f"#audit tr.entry:has-text('detection:{detection}')")
    assert row.locator(".actor").inner_text() == "alice"
    assert "pending" in row.locator(".before").inner_text()
    assert "published" in row.locator(".after").inner_text()
    viewer.context.close()


def test_a_dismissal_is_confirmed_and_changes_nothing_on_the_kiosk(reg, tmp_path):
    stamp, serial, detection = _flagged(reg)
    kiosk = KioskProcess(reg, tmp_path, f"kiosk-dismiss-{reg.backend}")
    admin, _ = sign_in(reg, "alice")
    page = admin.get(reg.url + f"/console/suspects/{detection}", timeout=30)
    token = csrf(page.text)
    ask = admin.post(
        reg.url + f"/console/suspects/{detection}/dismiss",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert ask.status_code == 200 and 'data-verdict="genuine"' in ask.text
    assert VI(Verdict.GENUINE.title) in ask.text
    still = reg.admin("GET", f"{API}/admin/clone-detections?status=pending").json()
    assert detection in {d["id"] for d in still["detections"]}  # asking decides nothing
    done = admin.post(
        reg.url + f"/console/suspects/{detection}/dismiss",
        data={"csrf_token": token, "confirmed": "1"},
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 303
    page = admin.get(reg.url + f"/console/suspects/{detection}", timeout=30).text
    assert re.search(r'id="status" data-status="dismissed"', page)
    assert kiosk.sync_once()["ok"] and kiosk.verdict(stamp) == "genuine"
    again = admin.post(
        reg.url + f"/console/suspects/{detection}/dismiss",
        data={"csrf_token": token, "confirmed": "1"},
        allow_redirects=False,
        timeout=30,
    )
    assert again.status_code == 409


def test_viewers_see_the_evidence_but_cannot_decide_and_no_post_without_the_token(reg):
    _, _, detection = _flagged(reg)
    victor, _ = sign_in(reg, "victor")
    page = victor.get(reg.url + f"/console/suspects/{detection}", timeout=30)
    assert page.status_code == 200 and 'id="stations"' in page.text
    assert 'id="approve"' not in page.text and "Chỉ quản trị viên" in page.text
    token = csrf(page.text)
    for confirmed in ("", "1"):
        refused = victor.post(
            reg.url + f"/console/suspects/{detection}/approve",
            data={"csrf_token": token, "confirmed": confirmed},
            allow_redirects=False,
            timeout=30,
        )
        assert refused.status_code == 403
    admin, _ = sign_in(reg, "alice")
    no_token = admin.post(
        reg.url + f"/console/suspects/{detection}/approve",
        data={"confirmed": "1"},
        allow_redirects=False,
        timeout=30,
    )
    assert no_token.status_code == 403
    pending = reg.admin("GET", f"{API}/admin/clone-detections?status=pending").json()
    assert detection in {d["id"] for d in pending["detections"]}
    assert admin.get(reg.url + "/console/suspects/99999999", timeout=30).status_code == 404
