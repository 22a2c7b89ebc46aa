"""The public phone pages in real Chromium (Playwright, Debian's /usr/bin/chromium) against a
real registry process on 127.0.0.1, with real signed stamps from the demo registry: what a
shopper sees after scanning a stamp with the phone's own camera, at 360x740 and 1280x800,
with and without JavaScript. Screenshots go to docs/screenshots/phone-*.png."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from ocop.stamps.serials import serial_digits
from tests.registry import chromium
from tests.registry.server import REPO_ROOT, start_registry

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytestmark = pytest.mark.skipif(not chromium.available(), reason="no /usr/bin/chromium")

API = "/api/v1"
HOTLINE = "0212 3856 000"
REPORT = "mailto:ocop@sonla.gov.vn"
MAX_PAGE_BYTES = 30 * 1024  # the page, its stylesheet and its script together
PHONE, DESKTOP = {"width": 360, "height": 740}, {"width": 1280, "height": 800}
SHOTS = REPO_ROOT / "docs" / "screenshots"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# The launch the brief fixes: no network of its own, a fresh profile per browser.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    r = start_registry(
        tmp_path_factory.mktemp("phone-registry"),
        env={"OCOP_REGISTRY_HOTLINE": HOTLINE, "OCOP_REGISTRY_REPORT_URL": REPORT},
    )
    yield r
    r.stop()


@pytest.fixture(scope="module")
def browser():
    """Chromium with a fresh profile (Playwright's launch() makes a new temporary
    user-data-dir each time and deletes it on close); never `playwright install`."""
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium.CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _page(browser, viewport=PHONE, js=True, lang="vi-VN"):
    context = browser.new_context(
        viewport=viewport, java_script_enabled=js, locale=lang, device_scale_factor=1
    )
    return context.new_page()


def _stamp(reg, product_id=101) -> tuple[str, int]:
    block = reg.issue_block(product_id)
    return "/S/" + block["stamps"][0].rsplit("/", 1)[1], block["first_serial"]


def _expired_product(reg) -> int:
    products = reg.station(
        "GET", f"{API}/catalog/changes", params={"since": 0, "limit": 5000}
    ).json()["products"]
    return next(
        p["id"]
        for p in products
        if p["ratings"] and max(r["valid_until"] or "" for r in p["ratings"]) < "2026-01-01"
    )


def _forged(path: str) -> str:
    i = 3 + 40
    return path[:i] + ("A" if path[i] != "A" else "B") + path[i + 1 :]


# Measured in the page: every problem as a string, so a failure names the element.
LAYOUT_JS = """() => {
  const out = [];
  const de = document.documentElement;
  if (de.scrollWidth > window.innerWidth) out.push('horizontal scroll ' + de.scrollWidth);
  const lum = c => { const m = c.match(/[\\d.]+/g).map(Number);
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return [0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]), m.length > 3 ? m[3] : 1]; };
  const bg = el => { for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor;
    if (lum(c)[1] > 0.5) return c; } return 'rgb(255,255,255)'; };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (!r.width || !r.height || s.visibility === 'hidden' || el.closest('svg')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own) {
      const px = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
      if (px < 16) out.push('small text ' + px + 'px: ' + el.textContent.trim().slice(0, 40));
      const [a] = lum(s.color), [b] = lum(bg(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const need = (px >= 24 || (bold && px >= 18.66)) ? 3 : 4.5;
      if (ratio < need)
        out.push('contrast ' + ratio.toFixed(2) + ': ' + el.textContent.trim().slice(0, 40));
    }
    if (el.matches('a, button, input:not([type=hidden])') && (r.height < 48 || r.width < 48))
      out.push('small target ' + Math.round(r.width) + 'x' + Math.round(r.height) + ': '
               + el.outerHTML.slice(0, 60));
  }
  return out;
}"""


def _check_layout(page) -> None:
    assert page.evaluate(LAYOUT_JS) == []


def _visible_text(page) -> str:
    return page.inner_text("body")


def _above_fold(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["y"] + box["height"] <= page.viewport_size["height"], box


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_genuine_stamp_page(reg, browser, viewport, js):
    path, serial = _stamp(reg)
    page = _page(browser, viewport, js)
    page.goto(reg.url + path)
    assert page.locator("html").get_attribute("lang") == "vi"
    _above_fold(page, "#verdict")
    assert (
        page.locator("#verdict h1").inner_text() == "Tem OCOP chính hãng"
        or page.locator("#verdict").get_attribute("data-verdict") == "genuine"
    )
    assert "UBND tỉnh Sơn La" in page.locator("#header").inner_text()
    assert "Trang chính thức: ocop.sonla.gov.vn" in page.locator("#official").inner_text()
    _above_fold(page, "#official")
    text = _visible_text(page)
    assert serial_digits(serial) in text and "Nhà sản xuất" in text
    assert re.search(r"Đã kiểm tra 1 lần, lần đầu ngày \d\d/\d\d/\d{4}", text), text
    assert not ISO_DATE.search(text), ISO_DATE.search(text)
    assert page.locator("#stars").is_visible()
    # Share: the copyable link always; the button only where the Web Share API exists
    assert page.locator("#share-url").is_visible() and page.locator("#share-link").is_visible()
    has_share = js and page.evaluate("() => !!navigator.share")
    assert page.locator("#share-button").is_visible() == has_share
    assert page.locator("#share-url").input_value().endswith(path)
    _check_layout(page)
    if js:
        _shot(page, "genuine-vi" if viewport is PHONE else "genuine-vi-1280")
    page.context.close()


def test_checks_count_phone_opens(reg, browser):
    path, _ = _stamp(reg)
    first = _page(browser, lang="en-US")
    first.goto(reg.url + path)
    assert re.search(r"Checked 1 time, first on \d\d/\d\d/\d{4}", _visible_text(first))
    first.reload()  # the same phone within the hour: not a second check
    assert "Checked 1 time," in _visible_text(first)
    first.context.close()
    other = browser.new_context(viewport=PHONE, locale="en-US", user_agent="another phone")
    page = other.new_page()
    page.goto(reg.url + path)
    assert re.search(r"Checked 2 times, first on \d\d/\d\d/\d{4}", _visible_text(page))
    other.close()


def test_english_phone_gets_english_and_a_switch_back(reg, browser):
    path, _ = _stamp(reg)
    page = _page(browser, lang="en-GB")
    page.goto(reg.url + path)
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Official site: ocop.sonla.gov.vn" in page.locator("#official").inner_text()
    assert page.locator("#verdict h1").inner_text() == "Genuine OCOP stamp"
    _shot(page, "genuine-en")
    page.click("#lang-switch")
    assert urlsplit(page.url).path == path and "lang=vi" in page.url
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "Trang chính thức" in page.locator("#official").inner_text()
    page.click("#lang-switch")
    assert page.locator("html").get_attribute("lang") == "en" and urlsplit(page.url).path == path
    page.context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_forged_stamp_says_what_to_do(reg, browser, js):
    path, _ = _stamp(reg)
    page = _page(browser, PHONE, js)
    reply = page.goto(reg.url + _forged(path))
    assert reply.status in (400, 404)
    assert page.locator("#verdict").get_attribute("data-verdict") == "forged"
    _above_fold(page, "#verdict")
    hotline = page.locator("#hotline")
    assert hotline.is_visible() and hotline.get_attribute("href") == "tel:02123856000"
    assert page.locator("#report").get_attribute("href").startswith(REPORT + "?subject=")
    assert page.locator("#genuine-stamp").is_visible()
    assert "Tem không hợp lệ / Invalid stamp" not in page.content()
    _check_layout(page)
    if js:
        _shot(page, "forged")
    page.context.close()


def test_revoked_expired_and_suspect_pages(reg, browser):
    path, serial = _stamp(reg)
    reg.cli("revoke", "serials", str(serial), str(serial), "--reason", "lost roll")
    page = _page(browser)
    page.goto(reg.url + path)
    assert page.locator("#verdict").get_attribute("data-verdict") == "revoked"
    assert page.locator("#hotline").is_visible() and page.locator("#genuine-stamp").is_visible()
    assert page.locator("#stars").count() == 0
    _check_layout(page)
    _shot(page, "revoked")

    path, serial = _stamp(reg)
    reg.cli("revoke", "suspect", str(serial), "--reason", "test")
    page.goto(reg.url + path)
    assert page.locator("#verdict").get_attribute("data-verdict") == "suspect_clone"
    assert page.locator("#report").is_visible() and page.locator("#stars").count() == 0

    path, _ = _stamp(reg, _expired_product(reg))
    page.goto(reg.url + path)
    assert page.locator("#verdict").get_attribute("data-verdict") == "genuine_rating_expired"
    assert page.locator("#stars").count() == 0 and page.locator("#no-stars").is_visible()
    assert page.locator("#help").count() == 0
    _check_layout(page)
    _shot(page, "expired-rating")
    page.context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_typed_serial_form(reg, browser, js):
    path, serial = _stamp(reg)
    page = _page(browser, PHONE, js)
    page.goto(reg.url + "/")
    page.fill("#serial", serial_digits(serial))
    page.click("#serial-form button")
    page.wait_for_url(re.compile(r"/check\?"))
    result = page.locator("#serial-result")
    assert result.get_attribute("data-state") == "issued"
    text = result.inner_text()
    assert "không chứng minh được tem là thật" in text and serial_digits(serial) in text
    assert "Cà phê" in text or "–" not in text.split("Sản phẩm")[1][:3]
    _check_layout(page)
    if js:
        _shot(page, "typed-serial")
    page.fill("#serial", "12AB")
    page.click("#serial-form button")
    assert page.locator("#serial-result").get_attribute("data-problem") == "not_digits"
    assert "chỉ gồm chữ số" in page.locator("#serial-result").inner_text()
    page.context.close()


@pytest.mark.parametrize(
    "typed,status,problem",
    [
        ("12ab", 400, "not_digits"),
        ("12345678901234", 400, "too_long"),
        ("0000 0000 0000", 400, "zero"),
        ("", 400, "empty"),
        ("9999 9999 9999", 404, "unknown"),
    ],
)
def test_typed_serial_bad_input_gets_its_own_message(reg, typed, status, problem):
    reply = requests.get(f"{reg.url}/check", params={"serial": typed, "lang": "en"}, timeout=10)
    assert reply.status_code == status
    assert f'data-problem="{problem}"' in reply.text


def test_typed_serial_lookups_are_rate_limited(tmp_path):
    r = start_registry(tmp_path / "limited", env={"OCOP_REGISTRY_LOOKUPS_PER_MINUTE": "3"})
    try:
        codes = [
            requests.get(f"{r.url}/check", params={"serial": "5"}, timeout=10).status_code
            for _ in range(4)
        ]
        assert codes[:3] != [429] * 3 and codes[3] == 429
    finally:
        r.stop()


def test_home_page(reg, browser):
    for viewport in (PHONE, DESKTOP):
        page = _page(browser, viewport)
        page.goto(reg.url + "/")
        text = _visible_text(page)
        for expected in ("Số sao OCOP nghĩa là gì", "Cách kiểm tra", HOTLINE, "ocop.sonla.gov.vn"):
            assert expected in text
        assert page.locator("#serial-form").is_visible()
        _check_layout(page)
        if viewport is PHONE:
            _shot(page, "home-vi")
        page.context.close()
    page = _page(browser, PHONE, lang="en-US")
    page.goto(reg.url + "/")
    assert "What OCOP stars mean" in _visible_text(page)
    _shot(page, "home-en")
    page.context.close()


def test_every_public_page_is_small_and_self_contained(reg):
    path, serial = _stamp(reg)
    css = requests.get(reg.url + "/static/style.css", timeout=10).content
    js = requests.get(reg.url + "/static/share.js", timeout=10).content
    pages = ["/", path, _forged(path), f"/check?serial={serial}", "/check?serial=x", "/?lang=en"]
    for p in pages:
        reply = requests.get(reg.url + p, timeout=10)
        size = len(reply.content) + len(css) + len(js)
        assert size < MAX_PAGE_BYTES, (p, size)
        csp = reply.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "http" not in csp and "*" not in csp
        for attr in re.findall(r'(?:src|href|action)="([^"]*)"', reply.text):
            assert not re.match(r"(https?:)?//", attr), (p, attr)
        text = re.sub(r"<[^>]+>", " ", reply.text)
        assert not ISO_DATE.search(text), (p, ISO_DATE.search(text))


def test_lot_from_the_print_record_and_the_printed_state(reg):
    path, serial = _stamp(reg)
    item = {
        "kind": "print",
        "idempotency_key": f"p-{uuid.uuid4().hex}",
        "payload": {
            "printed_at": "2026-11-29T10:00:00Z",
            "serial": serial,
            "product_id": 101,
            "lot": "L-2611",
            "status": "printed",
            # The dates print records are about to carry (the page's LotInfo hook reads them)
            "produced_on": "2026-11-20",
            "best_before": "2027-11-20",
        },
    }
    reply = reg.station("POST", f"{API}/uploads", json={"items": [item]})
    assert reply.status_code == 200 and reply.json()["accepted"] == 1, reply.text
    html = requests.get(reg.url + path, timeout=10).text
    assert '<dd id="lot">L-2611</dd>' in html
    assert "<dd>20/11/2026</dd>" in html and "<dd>20/11/2027</dd>" in html
    typed = requests.get(f"{reg.url}/check", params={"serial": str(serial)}, timeout=10)
    assert typed.status_code == 200 and 'data-state="printed"' in typed.text


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_a_shopper_reports_a_revoked_stamp_from_the_phone(reg, browser, js):
    """The report form at 360x740: pick what is wrong, type where, leave a number for a
    call back, send; the thank-you page names the hotline and the office lists the report."""
    path, serial = _stamp(reg)
    reg.cli("revoke", "serials", str(serial), str(serial), "--reason", "stolen roll")
    page = _page(browser, PHONE, js)
    page.goto(reg.url + path)
    assert page.locator("#verdict").get_attribute("data-verdict") == "revoked"
    form = page.locator("#report-form")
    assert form.is_visible() and form.get_attribute("method") == "post"
    assert "Báo cáo tem này" in form.inner_text()
    _check_layout(page)
    page.locator("label.choice", has_text="vẫn được bán").click()
    page.fill("#where", "Chợ Mộc Châu, quầy số 3")
    page.fill("#phone", "0912 345 678")
    with page.expect_navigation():  # a number without the consent: the form comes back
        page.click("#report-form button[type=submit]")
    problem = page.locator("#report-problem")
    assert problem.get_attribute("data-problem") == "phone_no_consent"
    assert "đánh dấu ô đồng ý" in problem.inner_text()
    assert page.input_value("#where") == "Chợ Mộc Châu, quầy số 3"  # what was typed, kept
    page.check("#consent")
    if js:
        page.locator("#report-form").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "phone-report.png"), full_page=False)
    with page.expect_navigation():
        page.click("#report-form button[type=submit]")
    thanks = page.locator("#report-thanks")
    assert thanks.is_visible() and "Cảm ơn bạn" in thanks.inner_text()
    assert page.locator("#hotline").get_attribute("href") == "tel:02123856000"
    _check_layout(page)
    if js:
        _shot(page, "report-thanks")
    (stored,) = reg.admin("GET", f"{API}/admin/stamp-reports", params={"serial": serial}).json()[
        "reports"
    ]
    assert stored["verdict"] == "revoked" and stored["problem"] == "revoked"
    assert stored["where_bought"] == "Chợ Mộc Châu, quầy số 3"
    assert stored["phone"] == "0912 345 678" and stored["callback_consent"] is True
    assert stored["lang"] == "vi" and stored["client_network"] == "127.0.0.0/24"
    page.context.close()
