"""The console's audit page (registry/routes/console_audit.py) against a real registry
process (SQLite and PostgreSQL): the changes made through the console and the API, each
with who, when, what, on what and the changed records' before and after; the filters by
who, action, target and days; pages of 50; read-only for every role, the client address
only for administrators. Screenshot: docs/screenshots/console-audit.png."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from ocop.clock import VIETNAM_TZ
from tests.registry.console_helpers import (
    SHOTS,
    add_accounts,
    browser_sign_in,
    contrast_problems,
    sign_in,
)
from tests.registry.server import backends, start_registry
from tests.registry.test_catalog_import import _csv, _good_rows, _ids
from tests.registry.test_console_transfer import _apply, _held, _upload

AUDIT = "/console/audit"
STATIONS = "/api/v1/admin/stations"


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(tmp_path_factory.mktemp("console-audit"), request.param)
    r.backend = request.param
    add_accounts(r)
    yield r
    r.stop()


def _import(session, reg, name: str, content: bytes) -> None:
    dry = _upload(session, reg, name, content)
    assert dry.status_code == 200, dry.text
    assert _apply(session, reg, _held(dry)).status_code == 200


def _entries(page) -> list[dict]:
    return [
        {
            "actor": tr.locator(".actor").inner_text(),
            "action": tr.get_attribute("data-action"),
            "target": tr.locator(".target").inner_text(),
        }
        for tr in page.locator("#audit tr.entry").all()
    ]


def test_changes_show_who_when_before_and_after_and_the_filters_work(reg, browser):
    erin, _ = sign_in(reg, "erin")
    ids = _ids(2)
    producer = f"htx-audit-{ids[0]}"
    rows = _good_rows(ids, producer)
    _import(erin, reg, "first.csv", _csv(rows))
    old_name = rows[1][2]
    rows[1][2] = "Chè Shan tuyết <Tà Xùa> mới"
    _import(erin, reg, "second.csv", _csv(rows))
    station = f"audit-st-{uuid.uuid4().hex[:6]}"
    reg.add_station(station, "Mai Sơn")
    assert reg.admin("POST", f"{STATIONS}/{station}/disable").status_code == 200
    reply = reg.admin("PATCH", f"{STATIONS}/{station}", json={"quota_per_day": 25})
    assert reply.status_code == 200, reply.text

    page = browser_sign_in(browser, reg, "victor")  # a viewer may read it
    page.get_by_role("link", name="Nhật ký").click()
    page.wait_for_url(reg.url + AUDIT)
    assert page.locator("h1").inner_text() == "Nhật ký"
    assert page.locator("main form[method=post]").count() == 0  # read-only
    assert "Từ máy" not in page.locator("#audit").inner_text()  # no addresses for a viewer
    second = page.locator("#audit tr.entry:has-text('file:second.csv')")
    assert second.count() == 1
    assert second.locator(".actor").inner_text() == "erin"
    before, after = second.locator(".before").inner_text(), second.locator(".after").inner_text()
    assert f"product:{ids[0]}" in before and old_name in before
    assert "Chè Shan tuyết <Tà Xùa> mới" in after and old_name not in after
    assert f"product:{ids[1]}" not in after  # unchanged rows are not listed
    when = second.locator("time").inner_text()
    now = dt.datetime.now(VIETNAM_TZ)
    assert (
        abs(
            (
                dt.datetime.strptime(when, "%d/%m/%Y %H:%M:%S").replace(tzinfo=VIETNAM_TZ) - now
            ).total_seconds()
        )
        < 600
    )
    first = page.locator("#audit tr.entry:has-text('file:first.csv')")
    assert "(mới)" in first.locator(".before").inner_text()
    disabled = page.locator(f"#audit tr.entry[data-action='station.disable']:has-text('{station}')")
    assert "active" in disabled.locator(".before").inner_text()
    assert "disabled" in disabled.locator(".after").inner_text()
    scope = page.locator(f"#audit tr.entry[data-action='station.scope']:has-text('{station}')")
    assert "quota_per_day" in scope.locator(".before").inner_text()
    assert "25" in scope.locator(".after").inner_text()
    assert contrast_problems(page) == []

    # Who: only erin's entries.
    page.get_by_label("Người thực hiện").fill("erin")
    page.locator("#f-show").click()
    page.wait_for_url("**actor=erin**")
    found = _entries(page)
    assert found and {e["actor"] for e in found} == {"erin"}
    assert {"catalog.import", "user.sign_in"} <= {e["action"] for e in found}
    # ... and what: her imports only.
    page.get_by_label("Hành động").select_option("catalog.import")
    page.locator("#f-show").click()
    page.wait_for_url("**action=catalog.import**")
    found = _entries(page)
    assert {(e["actor"], e["action"]) for e in found} == {("erin", "catalog.import")}
    assert len(found) >= 2
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-audit.png"))
    # Target.
    page.goto(reg.url + AUDIT + f"?target={station}")
    assert {e["action"] for e in _entries(page)} == {
        "station.add",
        "station.disable",
        "station.scope",
    }
    # Days (Vietnam days): today has them, tomorrow has none; a bad day says so.
    today = now.date()
    page.goto(reg.url + AUDIT + f"?target={station}&from={today}&to={today}")
    assert len(_entries(page)) == 3
    page.goto(reg.url + AUDIT + f"?target={station}&from={today + dt.timedelta(days=1)}")
    assert page.locator("#no-entries").count() == 1
    page.goto(reg.url + AUDIT + f"?target={station}&to={today - dt.timedelta(days=1)}")
    assert page.locator("#no-entries").count() == 1
    page.goto(reg.url + AUDIT + "?from=31/12/2026")
    assert page.locator("[role=alert]").inner_text() == "Ngày viết theo dạng NNNN-TT-NN."
    page.context.close()

    admin = browser_sign_in(browser, reg, "alice")
    admin.goto(reg.url + AUDIT + "?actor=erin")
    assert "Từ máy: 127.0.0.1" in admin.locator("#audit").inner_text()
    admin.context.close()


def test_pages_of_fifty_newest_first_keep_the_filters(reg):
    station = f"audit-pg-{uuid.uuid4().hex[:6]}"
    reg.add_station(station)
    for n in range(60):
        action = "enable" if n % 2 else "disable"
        assert reg.admin("POST", f"{STATIONS}/{station}/{action}").status_code == 200
    victor, _ = sign_in(reg, "victor")
    first = victor.get(reg.url + AUDIT, params={"target": station}, timeout=30).text
    assert "61 mục; trang 1/2" in first
    assert first.count('class="entry"') == 50
    assert 'id="page-newer"' not in first
    older = first.split('id="page-older"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert parse_qs(urlsplit(older.replace("&amp;", "&")).query) == {
        "target": [station],
        "page": ["2"],
    }
    second = victor.get(reg.url + older.replace("&amp;", "&"), timeout=30).text
    assert second.count('class="entry"') == 11 and "trang 2/2" in second
    assert 'data-action="station.add"' in second  # the oldest on the last page
    assert 'id="page-older"' not in second and 'id="page-newer"' in second
    # An unknown action is no filter rather than an error; a page past the end is empty.
    assert victor.get(reg.url + AUDIT, params={"action": "nope"}, timeout=30).status_code == 200
    past = victor.get(reg.url + AUDIT, params={"target": station, "page": 9}, timeout=30)
    assert past.status_code == 200 and 'id="no-entries"' in past.text
    # Read-only: nothing to post to.
    assert victor.post(reg.url + AUDIT, timeout=30).status_code in (403, 405)


def test_the_new_pages_fit_a_tablet_with_aa_contrast(reg, browser):
    from tests.registry.console_helpers import TABLET

    page = browser_sign_in(browser, reg, "alice", viewport=TABLET)
    for path in (AUDIT, "/console/catalog/import", "/console/catalog/export", "/console/suspects"):
        page.goto(reg.url + path)
        assert page.locator("h1").count() == 1, path
        assert contrast_problems(page) == [], path
        # Every form control has a label (or is a hidden field or a button).
        unlabelled = page.evaluate(
            """[...document.querySelectorAll('main input:not([type=hidden]), main select')]
                 .filter(e => !e.labels || e.labels.length === 0).map(e => e.name)"""
        )
        assert unlabelled == [], path
    page.context.close()


def test_every_audit_action_has_a_label_in_both_languages():
    # A new AuditAction without one would break the audit page for everyone (a KeyError).
    from registry.audit import AuditAction
    from registry.i18n import translator
    from registry.routes.console_audit import ACTION_LABELS

    assert set(ACTION_LABELS) == set(AuditAction)
    vi = translator("vi")
    assert all(vi(label) != label for label in ACTION_LABELS.values())
