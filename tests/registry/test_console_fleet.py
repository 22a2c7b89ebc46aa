"""The console's Fleet and Reports sections (issue 16) against a real registry process
(SQLite and PostgreSQL): real kiosk data folders made by `ocop-kiosk init`, scans recorded
by the kiosk's own ScanService, device states recorded as the UI process records them, and
`ocop-kiosk sync --once` (another process) sending heartbeats and scans. Then a viewer in
real Chromium sees every kiosk with its states in words, the silent one and the one never
heard from highlighted, filters and sorts them, reads the charts' tables and downloads a
CSV. A station that sends a hostile heartbeat (huge strings, HTML) gets it shown as text.
Screenshots go to docs/screenshots/console-fleet.png and console-reports.png."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid

import pytest
import requests

from kiosk import __version__ as KIOSK_VERSION
from ocop.clock import vietnam_time_text
from tests.registry.console_helpers import (
    SHOTS,
    SIGN_IN,
    TABLET,
    add_accounts,
    browser_sign_in,
    contrast_problems,
    sign_in,
)
from tests.registry.server import backends, kiosk_settings, start_registry, write_kiosk_config
from tests.sync.conftest import genuine_stamp, run_kiosk_cli

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

SILENT_AFTER_S = 45  # long enough for one test after a refresh, on a loaded machine
GTIN_101 = "2000000001012"  # the demo catalog's barcode of product 101
RAW_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T|\d{4}-\d{2}-\d{2} \d{2}:")  # ISO / UTC times
HOSTILE = "<script>window.__pwned=1</script>" + "Ж" * 5000


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(
        tmp_path_factory.mktemp("fleet-registry"),
        request.param,
        env={"OCOP_REGISTRY_SILENT_AFTER_S": str(SILENT_AFTER_S)},
    )
    r.backend = request.param
    add_accounts(r)
    yield r
    r.stop()


class Kiosk:
    """A real kiosk data folder with its own station token and config file."""

    def __init__(self, reg, base, name: str, district: str):
        self.reg, self.name = reg, name
        self.token = reg.add_station(name, district=district)
        self.data_dir = base / name
        done = run_kiosk_cli("--data-dir", str(self.data_dir), "init")
        assert done.returncode == 0, done.stderr
        self.config = write_kiosk_config(
            base / f"{name}.toml", reg.url, self.token, reg.root_key, self.data_dir
        )

    def sync(self) -> None:
        done = run_kiosk_cli("--config", str(self.config), "sync", "--once", "--json")
        assert done.returncode == 0, done.stderr

    def scan(self, texts: list[str]) -> None:
        """Each text through the kiosk's ScanService (the scan and its outbox row)."""
        from kiosk.scanning import ScanService
        from kiosk.store import Store

        settings = kiosk_settings(self.reg.url, self.token, self.reg.root_key, self.data_dir)
        store = Store.in_dir(self.data_dir)
        try:
            service = ScanService(store, settings)
            for text in texts:
                assert service.handle_text(text).recorded
        finally:
            store.close()

    def devices(self, camera: str, printer: str, paper: str | None = None) -> None:
        """What the UI process records for `ocop-kiosk sync` (kiosk.sync.heartbeat)."""
        from kiosk.store import Store
        from kiosk.sync.heartbeat import DeviceReading, record_devices
        from ocop.clock import utc_now_iso
        from ocop.heartbeat import NOT_WATCHED

        store = Store.in_dir(self.data_dir)
        try:
            record_devices(
                store,
                DeviceReading(camera, utc_now_iso()),
                # A printer nobody watches has no time of observation (heartbeat.UNWATCHED).
                DeviceReading(printer, None if printer == NOT_WATCHED else utc_now_iso(), paper),
            )
        finally:
            store.close()


def _contact(reg, name: str) -> str:
    return {s["name"]: s for s in reg.report()["stations"]}[name]["contact"]


@pytest.fixture(scope="module")
def kiosks(reg, tmp_path_factory):
    """k-quiet goes silent; k-sop-cop and k-phu-yen scan and stay in contact; s-hostile
    sends a hostile heartbeat; demo-station was never heard from."""
    base = tmp_path_factory.mktemp("kiosks")
    quiet = Kiosk(reg, base, "k-quiet", "Quỳnh Nhai")
    quiet.sync()
    sop = Kiosk(reg, base, "k-sop-cop", "Sốp Cộp")
    phu = Kiosk(reg, base, "k-phu-yen", "Phù Yên")
    for kiosk in (sop, phu):
        kiosk.sync()  # the trust list and the catalog first: scans are verified on the kiosk
    sop.scan([genuine_stamp(reg, 101, serial) for serial in (7001, 7002, 7003)] + [GTIN_101])
    phu.scan([genuine_stamp(reg, 102, serial) for serial in (7101, 7102)])
    sop.devices("scanning", "not_watched")
    phu.devices("no_device", "paper_out", "out")
    hostile_token = reg.add_station("s-hostile", district="Mai Sơn")
    deadline = time.monotonic() + SILENT_AFTER_S + 30
    while _contact(reg, "k-quiet") != "silent":
        assert time.monotonic() < deadline, "k-quiet never went silent"
        time.sleep(0.5)

    def refresh() -> None:
        """Fresh heartbeats from all but k-quiet: in contact for SILENT_AFTER_S more (the
        first call also pushes the scans)."""
        for kiosk in (sop, phu):
            kiosk.sync()
        _hostile_heartbeat(reg, hostile_token)
        for name in ("k-sop-cop", "k-phu-yen", "s-hostile"):
            assert _contact(reg, name) == "ok"

    refresh()
    reg.refresh = refresh
    return reg


@pytest.fixture
def fleet(kiosks):
    """The registry, with every kiosk but k-quiet just heard from again."""
    kiosks.refresh()
    return kiosks


def _hostile_heartbeat(reg, token: str) -> None:
    reply = reg.station(
        "POST",
        "/api/v1/uploads",
        token=token,
        json={
            "items": [
                {
                    "kind": "heartbeat",
                    "idempotency_key": f"hb-{uuid.uuid4().hex}",
                    "payload": {
                        "at": "2026-01-01T00:00:00Z",
                        "app_version": HOSTILE,
                        "camera": "<img src=x onerror=window.__pwned=2>",
                        "printer": {"<b>": "<b>bold</b>"},
                        "paper": ["<i>"],
                        "disk_free_bytes": "<svg onload=window.__pwned=3>",
                        "trust_list_sequence": "<u>9</u>",
                        "pending_outbox": True,
                        "clock": {"state": "<script>window.__pwned=4</script>", "system_time": 5},
                    },
                }
            ]
        },
    )
    assert reply.status_code == 200 and reply.json()["accepted"] == 1, reply.text


def _row(page, name: str):
    return page.locator(f'#fleet tr[data-station="{name}"]')


def _cells(page, name: str) -> list[str]:
    return [c.strip() for c in _row(page, name).locator("th, td").all_inner_texts()]


def test_the_fleet_page_shows_every_kiosk_in_words_and_highlights_the_silent(fleet, browser):
    reg = fleet
    page = browser_sign_in(browser, reg, "victor")  # a viewer may see the fleet
    page.goto(reg.url + "/console/fleet")
    assert page.locator("h1").inner_text() == "Thiết bị"
    names = page.locator("#fleet tbody tr").evaluate_all("rs => rs.map(r => r.dataset.station)")
    assert set(names) == {"demo-station", "k-quiet", "k-sop-cop", "k-phu-yen", "s-hostile"}
    # Sorted by state: the silent one first, then the one never heard from.
    assert names[:2] == ["k-quiet", "demo-station"]
    assert page.locator("#silent-count").get_attribute("data-count") == "2"
    for name, contact, words in (
        ("k-quiet", "silent", "Mất liên lạc"),
        ("demo-station", "never", "Chưa từng liên lạc"),
    ):
        row = _row(page, name)
        assert row.get_attribute("data-contact") == contact
        assert row.get_attribute("class") == "flagged"
        assert row.locator("td.contact").inner_text() == words
        background = row.locator("td.contact").evaluate(
            "td => getComputedStyle(td).backgroundColor"
        )
        assert background == "rgb(253, 236, 234)"  # the highlight, not the table's white
    # k-sop-cop: the camera the UI recorded, in words; a version; no printer watched.
    sop = _cells(page, "k-sop-cop")
    assert sop[1] == "Sốp Cộp" and sop[2] == "Đang liên lạc"
    assert sop[4] == KIOSK_VERSION
    assert sop[5].startswith("Đang hoạt động (") and sop[5].endswith("trước)")
    assert sop[6] == "Không theo dõi" and sop[7] == "Không theo dõi"
    assert sop[8].endswith("GB") or sop[8].endswith("MB")
    assert sop[9].startswith("số ") and sop[10] == "không có gì chờ gửi"
    assert sop[11] == "Đồng hồ đúng giờ"
    assert _row(page, "k-sop-cop").get_attribute("class") is None
    # k-phu-yen: its faults in words and in the alert colour.
    phu = _row(page, "k-phu-yen").locator("td")
    camera, printer, paper = phu.nth(4), phu.nth(5), phu.nth(6)
    assert camera.inner_text().startswith("Không tìm thấy máy ảnh (")
    assert printer.inner_text().startswith("Hết giấy (") and paper.inner_text() == "Hết giấy"
    for cell in (camera, printer, paper):
        assert cell.get_attribute("class") == "warn"
        assert cell.evaluate("td => getComputedStyle(td).color") == "rgb(122, 24, 18)"
    assert _row(page, "k-sop-cop").locator("td.warn").count() == 0
    # No raw value of the heartbeat is shown where the table has words.
    body = page.inner_text("#fleet")
    for raw in ("scanning", "no_device", "paper_out", "not_watched", "silent", "never"):
        assert raw not in body
    # Times in Vietnam time as the office writes them (03/12/2026 17:48), never raw UTC.
    text = page.inner_text("body")
    assert not RAW_TIME.search(text), RAW_TIME.search(text)
    received = {s["name"]: s for s in reg.report()["stations"]}["k-quiet"]
    heard = _cells(page, "k-quiet")[3].splitlines()[0]  # silent: its time does not move
    assert heard == vietnam_time_text(received["heartbeat_received_at"])
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", heard), heard
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-fleet.png"))
    page.context.close()


def test_a_hostile_heartbeat_is_shown_as_text_cut_short(fleet, browser):
    page = browser_sign_in(browser, fleet, "victor")
    page.goto(fleet.url + "/console/fleet")
    assert page.evaluate("window.__pwned") is None
    row = _row(page, "s-hostile")
    assert row.locator("script, img, svg, b, i, u").count() == 0
    cells = _cells(page, "s-hostile")
    assert cells[4].startswith("<script>window.__pwned=1</script>Ж") and len(cells[4]) <= 40
    assert cells[5].startswith("<img src=x onerror=") and "giá trị không xác định" in cells[5]
    assert "<b>" in cells[6] and "<i>" in cells[7]
    assert cells[8] == "–"  # a string is no byte count
    assert (
        cells[11].startswith("<script>window.__pwned=4") and "giá trị không xác định" in cells[11]
    )
    assert contrast_problems(page) == []  # the long value does not widen the page
    bare = requests.get(fleet.url + "/console/fleet", allow_redirects=False, timeout=30)
    assert bare.status_code == 303 and bare.headers["location"] == SIGN_IN
    session, _ = sign_in(fleet, "victor")
    html = session.get(fleet.url + "/console/fleet", timeout=30).text
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned=1" in html
    assert HOSTILE[:200] not in html  # never the whole 5,000 characters
    page.context.close()


def test_the_fleet_filters_by_district_and_state_and_sorts(fleet, browser):
    page = browser_sign_in(browser, fleet, "victor", viewport=TABLET)

    def shown() -> list[str]:
        return page.locator("#fleet tbody tr").evaluate_all("rs => rs.map(r => r.dataset.station)")

    page.goto(fleet.url + "/console/fleet")
    page.get_by_label("Huyện").select_option("Phù Yên")
    page.locator("#filter-show").click()
    assert shown() == ["k-phu-yen"]
    page.get_by_label("Huyện").select_option("")
    page.get_by_label("Trạng thái").select_option("silent")
    page.locator("#filter-show").press("Enter")  # by keyboard
    page.wait_for_url("**state=silent**")
    assert shown() == ["k-quiet"]
    page.get_by_label("Trạng thái").select_option("ok")
    page.get_by_label("Sắp xếp theo").select_option("district")
    page.locator("#filter-show").click()
    assert shown() == ["s-hostile", "k-phu-yen", "k-sop-cop"]  # Mai Sơn, Phù Yên, Sốp Cộp
    page.locator("#fleet thead a", has_text="Tên").click()
    assert shown() == ["k-phu-yen", "k-sop-cop", "s-hostile"]  # the filter kept
    assert "state=ok" in page.url
    page.goto(fleet.url + "/console/fleet?state=disabled")
    assert page.locator("#no-stations").is_visible()
    assert contrast_problems(page) == []
    page.context.close()


def test_the_fleet_speaks_english_too(fleet):
    session, _ = sign_in(fleet, "victor")
    session.cookies.set("ocop_lang", "en")
    html = session.get(fleet.url + "/console/fleet", timeout=30).text
    assert "<h1>Fleet</h1>" in html
    for words in ("Silent", "Never heard from", "Working", "No camera found", "Out of paper"):
        assert words in html


def _table(page, chart: str) -> dict[str, list[str]]:
    rows = page.locator(f"#{chart} table.numbers tbody tr")
    return {
        r.locator("th").text_content().strip(): [
            t.strip() for t in r.locator("td").all_text_contents()
        ]
        for r in rows.all()
    }


def test_the_reports_page_charts_what_the_kiosks_sent(kiosks, browser):
    reg = kiosks
    page = browser_sign_in(browser, reg, "victor")
    page.goto(reg.url + "/console/reports")
    assert page.locator("h1").inner_text() == "Báo cáo"
    assert page.locator("#report-summary").get_attribute("data-scans") == "6"
    for chart in ("chart-days", "chart-districts", "chart-products", "chart-verdicts"):
        svg = page.locator(f"#{chart} svg")
        assert svg.count() == 1 and svg.get_attribute("role") == "img"
        assert svg.get_attribute("aria-label") == page.locator(f"#{chart} h2").inner_text()
    assert _table(page, "chart-districts") == {"Sốp Cộp": ["4"], "Phù Yên": ["2"]}
    products = _table(page, "chart-products")
    assert products["Cà phê bột nguyên chất Bích Thao (#101)"] == ["4"]  # 3 stamps, 1 barcode
    assert products["Trà cascara (#102)"] == ["2"]
    verdicts = _table(page, "chart-verdicts")
    assert verdicts == {  # the demo catalog's product 102 has an expired rating
        "Tem OCOP chính hãng": ["3", "50.0 %"],
        "Tem thật, chứng nhận OCOP đã hết hiệu lực": ["2", "33.3 %"],
        "Mã vạch sản phẩm, không phải tem": ["1", "16.7 %"],
    }
    days = _table(page, "chart-days")
    assert len(days) == 30 and sum(int(v[0]) for v in days.values()) == 6
    assert list(days.values())[-1] == ["6"]  # all of them today
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-reports.png"))
    # Another period, by keyboard.
    page.get_by_label("Khoảng thời gian").select_option("7")
    page.locator("#period-show").click()
    page.wait_for_url("**days=7**")
    assert len(_table(page, "chart-days")) == 7
    page.get_by_label("Khoảng thời gian").select_option("365")
    page.locator("#period-show").click()
    page.wait_for_url("**days=365**")
    assert len(_table(page, "chart-days")) == 365
    assert _table(page, "chart-districts") == {"Sốp Cộp": ["4"], "Phù Yên": ["2"]}
    # The CSV behind the link is the admin API's exporter, with this session.
    with page.expect_download() as got:
        page.locator("#export-per_district").click()
    content = got.value.path().read_bytes().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(content))) == [
        ["Huyện", "Lượt quét"],
        ["Sốp Cộp", "4"],
        ["Phù Yên", "2"],
    ]
    api = reg.admin("GET", "/api/v1/admin/reports/export?days=365&format=csv&table=per_district")
    assert api.content.decode("utf-8-sig") == content
    # The older /reports page names verdicts by the same titles (no raw values), and the
    # hostile heartbeat's strings where numbers belong do not break it (they did: a 500).
    old_page = requests.get(reg.url + "/reports", auth=("admin", reg.admin_token), timeout=30)
    assert old_page.status_code == 200
    assert "<title>Tem OCOP chính hãng / Genuine OCOP stamp</title>" in old_page.text
    assert ">genuine_rating_expired<" not in old_page.text and ">genuine<" not in old_page.text
    page.context.close()


def test_the_console_export_needs_a_session_and_checks_its_query(kiosks):
    fleet = kiosks
    bare = requests.get(
        fleet.url + "/console/reports/export?format=xlsx", allow_redirects=False, timeout=30
    )
    assert bare.status_code == 303 and bare.headers["location"] == SIGN_IN
    session, _ = sign_in(fleet, "victor")
    xlsx = session.get(fleet.url + "/console/reports/export?days=7&format=xlsx", timeout=30)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert 'filename="ocop-report-' in xlsx.headers["content-disposition"]
    for bad in ("format=pdf", "table=users", "days=0", "days=9999", "lang=fr"):
        assert (
            session.get(f"{fleet.url}/console/reports/export?{bad}", timeout=30).status_code == 422
        )
    # An unknown period falls back to 30 days, the page still answers.
    page = session.get(fleet.url + "/console/reports?days=12", timeout=30)
    assert page.status_code == 200 and 'value="30" selected' in page.text
