"""The console's catalog import and export (registry/routes/console_transfer.py) against a
real registry process (SQLite and PostgreSQL): in real Chromium an editor uploads a file
with 9 planted errors and sees all 9 by row and column in Vietnamese, then a good file and
applies it, and a real kiosk process has the new product after `ocop-kiosk sync --once`.
And what must be refused: a file swapped between the dry run and the apply, another user's
upload, a viewer's post, a post without the CSRF token; hostile cells are shown as text
and neutralised in the exports. Screenshot: docs/screenshots/console-import.png."""

from __future__ import annotations

import csv
import hashlib
import io
import re

import openpyxl
import pytest

from tests.registry.console_helpers import (
    OFFICE_PC,
    SHOTS,
    KioskProcess,
    add_accounts,
    browser_sign_in,
    contrast_problems,
    csrf,
    sign_in,
)
from tests.registry.server import backends, start_registry
from tests.registry.test_catalog_import import _csv, _good_rows, _ids, _planted

IMPORT = "/console/catalog/import"
APPLY = "/console/catalog/import/apply"
EXPORT = "/console/catalog/export"
API_IMPORT = "/api/v1/admin/catalog/import"
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">Chè <b>độc</b>'
HOSTILE_EN = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_FILE = "<img src=x onerror=window.__pwned=3>.csv"
HOSTILE_FORMULA = '=HYPERLINK("http://evil.example/","click")'


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(tmp_path_factory.mktemp("console-transfer"), request.param)
    r.backend = request.param
    add_accounts(r)
    yield r
    r.stop()


def _upload(session, reg, name: str, content: bytes, token: str | None = None):
    """The import form's post: the CSRF token first, then the file (as a browser sends it)."""
    if token is None:
        token = csrf(session.get(reg.url + IMPORT, timeout=30).text)
    fields = [("csrf_token", (None, token))] if token else []
    fields.append(("file", (name, content, "text/csv")))
    return session.post(reg.url + IMPORT, files=fields, allow_redirects=False, timeout=60)


def _held(reply) -> dict:
    return {
        k: re.search(rf'name="{k}" value="([^"]*)"', reply.text).group(1)
        for k in ("upload_id", "sha256", "csrf_token")
    }


def _apply(session, reg, held: dict):
    return session.post(
        reg.url + APPLY,
        data={k: held[k] for k in ("csrf_token", "upload_id", "sha256")},
        allow_redirects=False,
        timeout=60,
    )


def _exists(reg, product_id: int) -> bool:
    return reg.admin("GET", f"/api/v1/admin/products/{product_id}").status_code == 200


def test_an_editor_sees_all_nine_errors_then_applies_a_good_file_that_a_kiosk_gets(
    reg, browser, tmp_path
):
    kiosk = KioskProcess(reg, tmp_path, f"kiosk-import-{reg.backend}")
    assert kiosk.sync_once()["ok"] is True
    ids = _ids(10)
    rows, expected = _planted(ids)
    bad = _csv(rows, delimiter=";", bom=True, eol="\r\n")  # as Excel on a Vietnamese PC saves
    api = reg.admin("POST", API_IMPORT, files={"file": ("bad.csv", bad, "text/csv")}).json()
    vietnamese = {(p["row"], p["column"], p["message_vi"]) for p in api["problems"]}
    assert {(r, c) for r, c, _ in vietnamese} == {(r, c) for r, c, _ in expected}

    page = browser_sign_in(browser, reg, "erin")
    page.goto(reg.url + IMPORT)
    assert page.locator("h1").inner_text() == "Nhập danh mục từ tệp"
    assert page.locator(".crumbs a").get_attribute("href") == "/console/catalog"
    page.set_input_files(
        "#file", files=[{"name": "danh-muc-loi.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    page.get_by_role("button", name="Kiểm tra tệp").click()
    page.wait_for_selector("#problems")
    shown = {
        (
            int(tr.locator(".row").inner_text()),
            tr.locator(".column").inner_text(),
            tr.locator(".problem").inner_text(),
        )
        for tr in page.locator("#problems tbody tr").all()
    }
    assert len(shown) == 9 and shown == vietnamese  # every one, in Vietnamese, by the codes
    assert {m for _, _, m in shown}.isdisjoint({p["message_en"] for p in api["problems"]})
    assert "có 9 lỗi" in page.locator("#problem-count").inner_text()
    assert page.locator("#apply").count() == 0  # nothing to apply while there is a problem
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-import.png"), full_page=False)
    assert not any(_exists(reg, i) for i in ids)

    good_ids = _ids(2)
    good = _csv(_good_rows(good_ids, f"htx-web-{good_ids[0]}"))
    page.set_input_files(
        "#file", files=[{"name": "danh-muc.csv", "mimeType": "text/csv", "buffer": good}]
    )
    page.locator("#check").click()
    page.wait_for_selector("#import-dry-run")
    assert page.locator("#summary-products .created").inner_text() == "2"
    assert page.locator("#file-sha256").inner_text() == hashlib.sha256(good).hexdigest()
    consequence = page.locator("#apply-consequence").inner_text()
    assert "2 sản phẩm mới" in consequence and "đồng bộ" in consequence
    assert not _exists(reg, good_ids[0])  # a dry run writes nothing
    page.locator("#apply").click()
    page.wait_for_selector("#import-applied")
    assert "Đã áp dụng: danh-muc.csv" in page.locator("#import-applied").inner_text()
    assert contrast_problems(page) == []
    page.context.close()

    assert kiosk.product(good_ids[1]) is None  # not before its sync
    assert kiosk.sync_once()["ok"] is True
    got = kiosk.product(good_ids[1])
    assert got is not None and got["name_vi"] == "Sản phẩm 1 – Mường La"
    entry = reg.admin("GET", "/api/v1/admin/audit", params={"action": "catalog.import"})
    newest = entry.json()["entries"][0]
    assert (
        newest["actor"] == "erin" and newest["detail"]["sha256"] == hashlib.sha256(good).hexdigest()
    )


def test_a_file_swapped_after_the_dry_run_or_another_users_upload_is_refused(reg):
    erin, _ = sign_in(reg, "erin")
    ids = _ids(2)
    good = _csv(_good_rows(ids, f"htx-swap-{ids[0]}"))
    dry = _upload(erin, reg, "good.csv", good)
    assert dry.status_code == 200, dry.text
    held = _held(dry)
    assert held["sha256"] == hashlib.sha256(good).hexdigest()
    # The held bytes change on the server (another file put in its place): refused.
    stored = reg.data_dir / "console-imports" / f"{held['upload_id']}.bin"
    original = stored.read_bytes()
    other = _csv(_good_rows(_ids(3), f"htx-other-{ids[0]}"))
    stored.write_bytes(other)
    refused = _apply(erin, reg, held)
    assert refused.status_code == 409 and 'id="import-stale"' in refused.text
    assert not _exists(reg, ids[0])
    stored.write_bytes(original)
    # The page's fingerprint of another file (a second dry run's form): refused.
    second = _held(_upload(erin, reg, "other.csv", other))
    assert _apply(erin, reg, held | {"sha256": second["sha256"]}).status_code == 409
    # Another user's session with erin's upload id: refused.
    alice, _ = sign_in(reg, "alice")
    token = csrf(alice.get(reg.url + IMPORT, timeout=30).text)
    assert _apply(alice, reg, held | {"csrf_token": token}).status_code == 409
    assert _apply(erin, reg, held | {"upload_id": "../../registry"}).status_code == 409
    assert not _exists(reg, ids[0])
    # The file as checked: applied once; the same form again finds nothing held.
    done = _apply(erin, reg, held)
    assert done.status_code == 200 and 'id="import-applied"' in done.text
    assert _exists(reg, ids[0])
    assert _apply(erin, reg, held).status_code == 409


def test_a_viewer_cannot_import_and_a_post_without_the_csrf_token_is_refused(reg):
    ids = _ids(2)
    good = _csv(_good_rows(ids, f"htx-csrf-{ids[0]}"))
    victor, _ = sign_in(reg, "victor")
    assert victor.get(reg.url + IMPORT, timeout=30).status_code == 403
    token = csrf(victor.get(reg.url + "/console", timeout=30).text)
    refused = _upload(victor, reg, "good.csv", good, token=token)
    assert refused.status_code == 403 and "Biên tập viên" in refused.text
    assert (
        _apply(victor, reg, {"csrf_token": token, "upload_id": "x" * 32, "sha256": ""}).status_code
        == 403
    )
    assert victor.get(reg.url + EXPORT, timeout=30).status_code == 200  # a viewer exports
    erin, _ = sign_in(reg, "erin")
    no_token = _upload(erin, reg, "good.csv", good, token="")
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    foreign = _upload(erin, reg, "good.csv", good, token=token)  # victor's token
    assert foreign.status_code == 403
    dry = _upload(erin, reg, "good.csv", good)
    held = _held(dry)
    assert (
        erin.post(
            reg.url + APPLY,
            data={"upload_id": held["upload_id"], "sha256": held["sha256"]},
            allow_redirects=False,
            timeout=30,
        ).status_code
        == 403
    )
    assert not _exists(reg, ids[0])
    # Larger than a browser may send: the registry's request limit answers first.
    big = _upload(erin, reg, "big.csv", b"a" * (4 * 1024 * 1024 + 10))
    assert big.status_code == 413


def test_hostile_cells_are_shown_as_text_and_neutralised_in_the_exports(reg, browser):
    ids = _ids(2)
    rows = _good_rows(ids, f"htx-hostile-{ids[0]}")
    rows[0].append("name_en")
    rows[1][2] = HOSTILE_NAME
    rows[1].append(HOSTILE_EN)
    rows[2].append("-2+3")
    erin, _ = sign_in(reg, "erin")
    dry = _upload(erin, reg, "hostile.csv", _csv(rows))
    assert dry.status_code == 200, dry.text
    assert _apply(erin, reg, _held(dry)).status_code == 200
    formula = [r[:] for r in rows]
    formula[2][2] = HOSTILE_FORMULA
    formula[1][2] = "<script>window.__pwned=2</script>"
    page = browser_sign_in(browser, reg, "erin")
    page.goto(reg.url + IMPORT)
    page.set_input_files(
        "#file",
        files=[{"name": HOSTILE_FILE, "mimeType": "text/csv", "buffer": _csv(formula)}],
    )
    page.locator("#check").click()
    page.wait_for_selector("#problems")
    text = page.locator("#problems").inner_text()
    assert "HYPERLINK" in text and "công thức" in text  # refused, named, as text
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#problems a, #problems b, #problems script").count() == 0
    assert HOSTILE_FILE in page.locator("#problem-count").inner_text()
    assert page.locator("main img").count() == 0
    # The applied hostile name on the audit page: text, not markup.
    page.goto(reg.url + "/console/audit?actor=erin&action=catalog.import")
    assert HOSTILE_NAME in page.locator("#audit").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#audit img").count() == 0
    page.context.close()

    victor, _ = sign_in(reg, "victor")
    reply = victor.get(reg.url + f"{EXPORT}/catalog", params={"format": "csv", "lang": "en"})
    assert reply.status_code == 200 and reply.headers["content-disposition"].startswith(
        "attachment"
    )
    table = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    by_id = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    assert by_id[str(ids[0])]["name_en"] == "'" + HOSTILE_EN  # not a formula in Excel
    assert by_id[str(ids[1])]["name_en"] == "'-2+3"
    assert by_id[str(ids[0])]["name_vi"] == HOSTILE_NAME  # text stays text
    reply = victor.get(reg.url + f"{EXPORT}/catalog", params={"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(reply.content), read_only=True).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "'" + HOSTILE_EN in cells and not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    # The round trip: the export imports back as nothing changed.
    again = _upload(
        erin,
        reg,
        "export.csv",
        reply_csv := victor.get(reg.url + f"{EXPORT}/catalog", params={"format": "csv"}).content,
    )
    assert again.status_code == 200 and reply_csv
    assert 'id="summary-products"' in again.text
    assert re.search(
        r'id="summary-products">.*?class="created">0<.*?class="updated">0<', again.text, re.S
    )
    report = victor.get(
        reg.url + f"{EXPORT}/report", params={"format": "csv", "table": "per_district"}
    )
    assert report.status_code == 200 and report.content.startswith(b"\xef\xbb\xbf")
    assert victor.get(reg.url + f"{EXPORT}/report", params={"format": "xlsx"}).status_code == 200


def test_the_export_page_is_usable_at_office_and_tablet_sizes(reg, browser):
    from tests.registry.console_helpers import TABLET

    for viewport in (OFFICE_PC, TABLET):
        page = browser_sign_in(browser, reg, "victor", viewport=viewport)
        page.goto(reg.url + EXPORT)
        assert page.locator(".crumbs a").get_attribute("href") == "/console/catalog"
        assert page.get_by_label("Định dạng").count() == 2  # every select has its label
        with page.expect_download() as download:
            page.locator("#download-catalog").click()
        assert download.value.suggested_filename == "ocop-catalog.xlsx"
        assert contrast_problems(page) == []
        page.context.close()
