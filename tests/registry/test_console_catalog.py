"""The console's Catalog section (issue 16 item 2) against a real registry process (SQLite and
PostgreSQL): in real Chromium an editor creates a producer and a product with a cropped
photo, adds and edits its rating, and a real kiosk process sees all of it after `ocop-kiosk
sync --once`; with `requests`, what the section must refuse: a viewer's post, a post without
the CSRF token, a lengthened rating, a wrong GTIN check digit, a picture that is not one;
search without diacritics; deletion of a product with issued stamps (kept genuine, or
revoked by an administrator). Screenshots: docs/screenshots/console-catalog.png and
console-product.png (SQLite, 1366x768)."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import uuid

import pytest
import requests

from ocop.gtin import gtin_check_digit
from tests.registry.console_helpers import (
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
Image = pytest.importorskip("PIL.Image")

API = "/api/v1"
CATALOG = "/console/catalog"
PRODUCTS = f"{CATALOG}/products"
PRODUCERS = f"{CATALOG}/producers"
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # a day as machines write it, not people


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(tmp_path_factory.mktemp("catalog-registry"), request.param)
    r.backend = request.param
    add_accounts(r)
    yield r
    r.stop()


def _gtin(body: str) -> str:
    return body + str(gtin_check_digit(body))


def _unique() -> str:
    return uuid.uuid4().hex[:8]


def _product(reg, product_id: int) -> dict | None:
    reply = reg.admin("GET", f"{API}/admin/products/{product_id}")
    if reply.status_code == 404:
        return None
    assert reply.status_code == 200, reply.text
    return reply.json()


def _last_cursor(reg) -> int:
    since = 0
    while True:
        reply = reg.station("GET", f"{API}/catalog/changes", params={"since": since})
        body = reply.json()
        since = body["cursor"]
        if not body["more"]:
            return since


def _audit(reg, action: str) -> list[dict]:
    reply = reg.admin("GET", f"{API}/admin/audit", params={"action": action, "limit": 1000})
    assert reply.status_code == 200, reply.text
    return reply.json()["entries"]


def _png(width: int, height: int) -> bytes:
    """A picture whose left half is red and right half blue (to see where a crop went)."""
    picture = Image.new("RGB", (width, height), (200, 30, 30))
    picture.paste((30, 30, 200), (width // 2, 0, width, height))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _new_producer(reg, session, name: str, **fields) -> str:
    reply = post_form(
        session,
        reg,
        f"{PRODUCERS}/new",
        f"{PRODUCERS}/new",
        {"name": name, "kind": "cooperative", "district": "Bắc Yên", **fields},
    )
    assert reply.status_code == 303, reply.text
    return reply.headers["location"].split("?")[0].rsplit("/", 1)[1]


def _new_product(reg, session, producer: str, name: str, **fields) -> int:
    reply = post_form(
        session,
        reg,
        f"{PRODUCTS}/new",
        f"{PRODUCTS}/new",
        {"name_vi": name, "producer": producer, "group": "1", **fields},
    )
    assert reply.status_code == 303, reply.text
    return int(reply.headers["location"].split("?")[0].rsplit("/", 1)[1])


def _problems_text(html: str) -> str:
    found = re.search(r'id="problems">(.*?)</div>', html, re.S)
    assert found, html[:3000]
    return re.sub(r"<[^>]+>", " ", found.group(1))


# --- the office user's view ---------------------------------------------------------------


def _kiosk(tmp_path, reg, name: str):
    token = reg.add_station(name, district="Bắc Yên")
    data_dir = tmp_path / name
    assert run_kiosk_cli("--data-dir", str(data_dir), "init").returncode == 0
    config = write_kiosk_config(tmp_path / f"{name}.toml", reg.url, token, reg.root_key, data_dir)
    return data_dir, config


def _sync_once(config) -> dict:
    done = run_kiosk_cli("--config", str(config), "sync", "--once", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_editor_builds_a_product_in_chromium_and_a_kiosk_gets_it_on_its_next_sync(
    reg, browser, tmp_path
):
    data_dir, config = _kiosk(tmp_path, reg, f"cat-kiosk-{_unique()}")
    _sync_once(config)  # the kiosk has the catalog as it was

    page = browser_sign_in(browser, reg, "erin")
    page.get_by_role("link", name="Danh mục sản phẩm").click()
    page.wait_for_url(reg.url + CATALOG)
    assert page.locator("h1").inner_text() == "Danh mục sản phẩm"
    assert page.locator("#products tbody tr").count() == 27  # the demo catalog, one page
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-catalog.png"))

    # The keyboard alone: search from its label, Enter submits, without diacritics.
    page.get_by_label("Tìm kiếm").focus()
    page.keyboard.type("bach tra may")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*\?q=bach\+tra\+may.*"))
    assert (
        page.locator("#products tbody tr")
        .all_inner_texts()[0]
        .startswith("103\tBạch trà mây (Shan tuyết)")
    )
    page.goto(reg.url + CATALOG)

    # A producer, through its labelled fields.
    producer_name = "HTX Chè Shan tuyết Tà Xùa"
    page.locator(".tabs").get_by_role("link", name="Chủ thể sản xuất").click()
    page.locator("#new-producer").click()
    page.get_by_role("textbox", name="Tên", exact=True).fill(producer_name)
    page.get_by_label("Loại hình").select_option("cooperative")
    page.get_by_label("Xã, phường").fill("Tà Xùa")
    page.get_by_label("Huyện, thành phố").select_option("Bắc Yên")
    page.get_by_label("Địa chỉ").fill("Bản Tà Xùa")
    page.get_by_label("Điện thoại").fill("0912 345 678")
    page.get_by_label("Người liên hệ").fill("Lò Văn Páo")
    page.locator("#save-producer").click()
    page.wait_for_url(re.compile(r".*/producers/[a-z0-9-]+\?done=saved$"))
    assert page.locator("#done").inner_text() == "Đã lưu."
    producer_id = page.locator("#producer-id").inner_text()
    assert producer_id == "htx-che-shan-tuyet-ta-xua"  # made from the name

    # A product of that producer, with a GTIN whose check digit is right.
    gtin = _gtin("893" + str(uuid.uuid4().int)[:9])
    page.goto(reg.url + CATALOG)
    page.locator("#new-product").click()
    page.get_by_role("textbox", name="Tên (tiếng Việt)", exact=True).fill("Chè Shan tuyết cổ thụ")
    page.get_by_label("Tên (tiếng Anh)").fill("Ancient Shan tuyết tea")
    page.get_by_role("combobox", name="Nhà sản xuất", exact=True).select_option(producer_id)
    page.get_by_label("Mã GTIN (mã vạch)").fill(gtin)
    page.get_by_label("Nhóm sản phẩm").select_option("1")
    page.get_by_label("Phân nhóm").fill("tea")
    page.get_by_label("Huyện, thành phố").select_option("Bắc Yên")
    page.get_by_label("Mô tả (tiếng Việt)").fill("Chè búp hái từ cây cổ thụ trên 100 năm tuổi.")
    page.get_by_label("Câu chuyện sản phẩm (tiếng Anh)").fill("Picked by Hmong families.")
    page.locator("#save-product").click()
    page.wait_for_url(re.compile(r".*/products/\d+\?done=saved$"))
    product_id = int(re.search(r"/products/(\d+)", page.url).group(1))

    # A photo: the preview appears with a centred square; the editor moves it to the left
    # edge by typing, and the server cuts exactly that.
    page.locator("#photo-file").set_input_files(
        {"name": "che.png", "mimeType": "image/png", "buffer": _png(800, 600)}
    )
    page.locator("#crop-preview").wait_for(state="visible")
    assert [page.locator(f"#crop_{k}").input_value() for k in "xywh"] == [
        "100",
        "0",
        "600",
        "600",
    ]
    page.get_by_label("Trái (px)").fill("0")
    page.get_by_label("Rộng (px)").fill("400")
    page.locator("#upload-photo").click()
    page.wait_for_url(re.compile(r".*\?done=photo$"))
    src = page.locator("#current-photo").get_attribute("src")
    photo_hash = src.rsplit("/", 1)[1]
    stored = Image.open(io.BytesIO(requests.get(reg.url + src, timeout=10).content))
    assert stored.size == (400, 600) and stored.format == "JPEG"
    red = stored.convert("RGB").getpixel((390, 300))
    assert red[0] > 150 and red[2] < 80  # all of the left (red) half, none of the blue

    # A rating, then its validity shortened by hand and its stars corrected.
    page.locator("#new-stars").select_option("4")
    page.locator("#new-body").fill("UBND tỉnh Sơn La")
    page.locator("#new-decision_no").fill("1234/QĐ-UBND")
    page.locator("#new-recognised_on").fill("2025-05-10")
    page.locator("#add-rating-button").click()
    page.wait_for_url(re.compile(r".*\?done=saved$"))
    assert "đến 10/05/2028" in page.locator("#rating-0").inner_text()  # 36 months
    assert page.locator("#rating-0-state").inner_text() == "Còn hiệu lực"
    page.locator("#r0-stars").select_option("5")
    page.locator("#r0-level").select_option("national")
    page.locator("#r0-valid_until").fill("2027-12-31")
    page.locator("#save-rating-0").click()
    page.wait_for_url(re.compile(r".*\?done=saved$"))
    assert "đến 31/12/2027" in page.locator("#rating-0").inner_text()
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.evaluate("window.scrollBy(0, document.getElementById('ratings').offsetTop - 16)")
        page.screenshot(path=str(SHOTS / "console-product.png"))
    page.set_viewport_size(TABLET)
    assert contrast_problems(page) == []
    page.context.close()

    # Search without diacritics finds it.
    s, _ = sign_in(reg, "victor")
    found = s.get(reg.url + CATALOG, params={"q": "CHE SHAN TUYET CO THU"})
    assert f'id="product-{product_id}"' in found.text

    # The kiosk process gets all of it on its next sync.
    _sync_once(config)
    with sqlite3.connect(data_dir / "kiosk.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        product = conn.execute("SELECT * FROM products WHERE id = ?", (product_id,)).fetchone()
        producer = conn.execute("SELECT * FROM producers WHERE id = ?", (producer_id,)).fetchone()
        ratings = conn.execute(
            "SELECT * FROM ratings WHERE product_id = ?", (product_id,)
        ).fetchall()
        media = conn.execute("SELECT * FROM media WHERE hash = ?", (photo_hash,)).fetchone()
    assert product["name_vi"] == "Chè Shan tuyết cổ thụ"
    assert product["gtin"] == gtin and product["image_hash"] == photo_hash
    assert producer["name"] == producer_name and producer["district"] == "Bắc Yên"
    assert [(r["stars"], r["level"], r["valid_until"]) for r in ratings] == [
        (5, "national", "2027-12-31")
    ]
    assert media is not None and media["mime"] == "image/jpeg"

    # Every change is in the audit log under the editor's name.
    writes = [e for e in _audit(reg, "catalog.write") if e["actor"] == "erin"]
    targets = [e["target"] for e in writes]
    assert f"producer:{producer_id}" in targets
    assert targets.count(f"product:{product_id}") == 4  # created, photo, rating, rating edit
    assert any(e["target"] == f"media:{photo_hash}" for e in _audit(reg, "media.upload"))


# --- what the section refuses --------------------------------------------------------------


def test_a_lengthened_validity_is_refused_with_a_clear_message(reg):
    s, _ = sign_in(reg, "erin")
    product_id = _new_product(reg, s, "htx-bich-thao", f"Cà phê {_unique()}")
    page = f"{PRODUCTS}/{product_id}"
    added = post_form(
        s,
        reg,
        page,
        f"{page}/ratings",
        {"stars": "4", "recognised_on": "2025-01-15", "valid_until": ""},
    )
    assert added.status_code == 303
    before = _product(reg, product_id)
    assert before["ratings"][0]["valid_until"] == "2028-01-15"
    head = _last_cursor(reg)

    # The days as the office writes them (the date inputs send ISO): dd/mm/yyyy, no ISO.
    for valid_until, shown in (("2028-01-16", "16/01/2028"), ("2030-01-01", "01/01/2030")):
        reply = post_form(
            s,
            reg,
            page,
            f"{page}/ratings/0",
            {"stars": "4", "recognised_on": "2025-01-15", "valid_until": valid_until},
        )
        assert reply.status_code == 422
        text = _problems_text(reply.text)
        assert "Hiệu lực đến" in text
        assert f"{shown} quá 36 tháng kể từ ngày công nhận 15/01/2025" in text
        assert "muộn nhất là 15/01/2028 (được rút ngắn, không được kéo dài)" in text
        assert not ISO_DAY.search(text), text
    # In English too, and nothing was written: the kiosks' feed did not move.
    s.cookies.set("ocop_lang", "en")
    reply = post_form(
        s,
        reg,
        page,
        f"{page}/ratings/0",
        {"stars": "4", "recognised_on": "2025-01-15", "valid_until": "2028-02-01"},
    )
    text = _problems_text(reply.text)
    assert "Valid until" in text
    assert (
        "01/02/2028 is more than 36 months after recognition on 15/01/2025: at most "
        "15/01/2028 (a rating may be shortened, never lengthened)"
    ) in text
    assert not ISO_DAY.search(text), text
    assert _product(reg, product_id) == before
    assert _last_cursor(reg) == head

    # The same rules as the import and the JSON API: a wrong GTIN check digit, 2 stars.
    s.cookies.set("ocop_lang", "vi")
    reply = post_form(
        s,
        reg,
        f"{PRODUCTS}/new",
        f"{PRODUCTS}/new",
        {"name_vi": "X", "producer": "htx-bich-thao", "group": "1", "gtin": "2000000001013"},
    )
    assert reply.status_code == 422
    assert "2000000001013: sai số kiểm tra" in _problems_text(reply.text)
    reply = post_form(
        s, reg, page, f"{page}/ratings", {"stars": "2", "recognised_on": "2025-01-15"}
    )
    assert reply.status_code == 422
    assert _product(reg, product_id) == before


def test_a_viewers_post_is_refused_and_changes_nothing(reg):
    editor, _ = sign_in(reg, "erin")
    product_id = _new_product(reg, editor, "htx-bich-thao", f"Mận {_unique()}")
    post_form(
        editor,
        reg,
        f"{PRODUCTS}/{product_id}",
        f"{PRODUCTS}/{product_id}/ratings",
        {"stars": "3", "recognised_on": "2025-01-15"},
    )
    before = _product(reg, product_id)
    producer_before = reg.admin("GET", f"{API}/admin/products/{product_id}").json()["producer"]
    head = _last_cursor(reg)

    viewer, _ = sign_in(reg, "victor")
    page = viewer.get(reg.url + f"{PRODUCTS}/{product_id}", timeout=30)
    assert page.status_code == 200
    assert 'id="read-only"' in page.text
    assert "<fieldset disabled>" in page.text
    assert 'id="delete-product"' not in page.text and 'id="photo-form"' not in page.text
    assert 'id="new-product"' not in viewer.get(reg.url + CATALOG, timeout=30).text
    assert viewer.get(reg.url + f"{PRODUCTS}/new", timeout=30).status_code == 403
    token = csrf(page.text)
    attempts = [
        (f"{PRODUCTS}/new", {"name_vi": "Viewer's", "producer": "htx-bich-thao", "group": "1"}),
        (f"{PRODUCTS}/{product_id}", {"name_vi": "Renamed", "producer": "htx-bich-thao"}),
        (f"{PRODUCTS}/{product_id}/ratings", {"stars": "5", "recognised_on": "2025-02-01"}),
        (f"{PRODUCTS}/{product_id}/ratings/0", {"stars": "5", "recognised_on": "2025-01-15"}),
        (f"{PRODUCTS}/{product_id}/ratings/0/revoke", {"reason": "viewer"}),
        (f"{PRODUCTS}/{product_id}/delete", {"stamps": "keep"}),
        (f"{PRODUCERS}/new", {"name": "Viewer's producer", "kind": "household"}),
        (f"{PRODUCERS}/{producer_before}", {"name": "Renamed", "kind": "household"}),
    ]
    for action, data in attempts:
        reply = viewer.post(
            reg.url + action, data={"csrf_token": token, **data}, allow_redirects=False
        )
        assert reply.status_code == 403, action
        assert "Việc này cần quyền Biên tập viên." in reply.text
    photo = viewer.post(
        reg.url + f"{PRODUCTS}/{product_id}/photo",
        data={"csrf_token": token, "crop_x": 0, "crop_y": 0, "crop_w": 10, "crop_h": 10},
        files={"photo": ("p.png", _png(20, 20), "image/png")},
        allow_redirects=False,
    )
    assert photo.status_code == 403
    assert _product(reg, product_id) == before
    assert reg.admin("GET", f"{API}/admin/products/{product_id}").json()["producer"] == (
        producer_before
    )
    assert _last_cursor(reg) == head
    assert not [e for e in _audit(reg, "catalog.write") if e["actor"] == "victor"]


def test_a_post_without_the_csrf_token_is_refused(reg):
    s, _ = sign_in(reg, "erin")
    product_id = _new_product(reg, s, "htx-bich-thao", f"Tỏi {_unique()}")
    before = _product(reg, product_id)
    for data in ({}, {"csrf_token": "forged"}):
        reply = s.post(
            reg.url + f"{PRODUCTS}/{product_id}",
            data={"name_vi": "Changed", "producer": "htx-bich-thao", "group": "1", **data},
            allow_redirects=False,
        )
        assert reply.status_code == 403
        assert reply.json()["title"] == "CSRF token required"
        # The photo form (multipart) is held to the same token.
        reply = s.post(
            reg.url + f"{PRODUCTS}/{product_id}/photo",
            data={"crop_x": 0, "crop_y": 0, "crop_w": 10, "crop_h": 10, **data},
            files={"photo": ("p.png", _png(20, 20), "image/png")},
            allow_redirects=False,
        )
        assert reply.status_code == 403
    assert _product(reg, product_id) == before


def test_a_picture_that_is_not_one_or_a_crop_outside_it_is_refused(reg):
    s, _ = sign_in(reg, "erin")
    product_id = _new_product(reg, s, "htx-bich-thao", f"Mật ong {_unique()}")
    page = f"{PRODUCTS}/{product_id}"

    def upload(content: bytes, box=(0, 0, 10, 10), mime="image/png"):
        token = csrf(s.get(reg.url + page, timeout=30).text)
        return s.post(
            reg.url + f"{page}/photo",
            data={
                "csrf_token": token,
                **dict(zip(("crop_x", "crop_y", "crop_w", "crop_h"), box, strict=True)),
            },
            files={"photo": ("p", content, mime)},
            allow_redirects=False,
        )

    assert "Chỉ nhận ảnh JPEG, PNG hoặc WebP." in _problems_text(upload(b"<svg></svg>").text)
    gif = io.BytesIO()
    Image.new("RGB", (20, 20)).save(gif, "GIF")
    assert "Chỉ nhận ảnh JPEG, PNG hoặc WebP." in _problems_text(upload(gif.getvalue()).text)
    outside = upload(_png(20, 20), box=(15, 0, 10, 10))
    assert outside.status_code == 422
    assert "Vùng cắt nằm ngoài ảnh." in _problems_text(outside.text)
    bomb = io.BytesIO()  # 8000x8000 of one colour: a small file, 64 megapixels unpacked
    Image.new("L", (8000, 8000)).save(bomb, "PNG")
    reply = upload(bomb.getvalue(), box=(0, 0, 10, 10))
    assert "Ảnh có hơn 50 triệu điểm ảnh." in _problems_text(reply.text)
    too_big = upload(b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 1))
    assert too_big.status_code in (413, 422)
    assert _product(reg, product_id)["image_hash"] is None
    ok = upload(_png(20, 20), box=(5, 5, 10, 10))
    assert ok.status_code == 303
    assert _product(reg, product_id)["image_hash"] is not None


def test_search_ignores_diacritics_and_case_and_filters_by_district_and_stars(reg):
    s, _ = sign_in(reg, "erin")
    suffix = _unique()
    producer = _new_producer(reg, s, f"Hộ Mùa A Dềnh {suffix}", district="Bắc Yên")
    again = post_form(
        s, reg, f"{PRODUCERS}/new", f"{PRODUCERS}/new", {"name": f"Hộ Mùa A Dềnh {suffix}"}
    )
    assert again.status_code == 422  # the same code (made from the name): not overwritten
    assert f"Đã có chủ thể mang mã {producer}." in _problems_text(again.text)
    product_id = _new_product(reg, s, producer, f"Chè Tà Xùa {suffix}", district="Bắc Yên")
    post_form(
        s,
        reg,
        f"{PRODUCTS}/{product_id}",
        f"{PRODUCTS}/{product_id}/ratings",
        {"stars": "4", "recognised_on": "2025-03-01"},
    )

    def listed(**params) -> list[int]:
        page = s.get(reg.url + CATALOG, params=params, timeout=30)
        assert page.status_code == 200
        return [int(i) for i in re.findall(r'<tr id="product-(\d+)"', page.text)]

    for query in (f"che ta xua {suffix}", f"CHÈ TÀ XÙA {suffix}", f"Che  Ta Xua {suffix}"):
        assert listed(q=query) == [product_id], query
    assert listed(q=f"mua a denh {suffix}") == [product_id]  # by the producer's name
    assert listed(q="%") == []  # a LIKE wildcard is a character, not "everything"
    assert product_id in listed(district="Bắc Yên", stars="4")
    assert listed(q=suffix, stars="5") == []
    assert listed(q=suffix, district="Mộc Châu") == []
    producers = s.get(reg.url + PRODUCERS, params={"q": f"mua a denh {suffix}"}, timeout=30)
    assert re.findall(r'<tr id="producer-([a-z0-9-]+)"', producers.text) == [producer]


def test_deleting_a_product_with_issued_stamps_asks_what_happens_to_them(reg):
    from ocop.stamps.trust import verify_signed_trust_list
    from ocop.stamps.verdicts import Verdict
    from ocop.stamps.verifier import StampVerifier

    def verdicts(stamps: list[str]) -> set:
        signed = requests.get(reg.url + f"{API}/trust-list", timeout=10).content
        verifier = StampVerifier(
            verify_signed_trust_list(signed, reg.root_key),
            "HTTPS://OCOP.SONLA.GOV.VN/S/",
            clone_scan_limit=20,
        )
        return {verifier.verify(text).verdict for text in stamps}

    editor, _ = sign_in(reg, "erin")
    keep_id = _new_product(reg, editor, "htx-bich-thao", f"Giữ {_unique()}")
    revoke_id = _new_product(reg, editor, "htx-bich-thao", f"Thu hồi {_unique()}")
    kept = reg.issue_block(keep_id, count=3)["stamps"]
    revoked = reg.issue_block(revoke_id, count=2)["stamps"]

    confirm = editor.get(reg.url + f"{PRODUCTS}/{keep_id}/delete", timeout=30)
    assert "Đã cấp 3 tem cho sản phẩm này. Xử lý số tem đó thế nào?" in confirm.text
    assert 'id="stamps-revoke" name="stamps" value="revoke" disabled' in confirm.text
    # No choice: nothing deleted.
    reply = post_form(
        editor, reg, f"{PRODUCTS}/{keep_id}/delete", f"{PRODUCTS}/{keep_id}/delete", {}
    )
    assert reply.status_code == 422 and _product(reg, keep_id) is not None
    # An editor may not revoke stamps (an administrator's act, as in the API).
    reply = post_form(
        editor,
        reg,
        f"{PRODUCTS}/{revoke_id}/delete",
        f"{PRODUCTS}/{revoke_id}/delete",
        {"stamps": "revoke"},
    )
    assert reply.status_code == 403 and _product(reg, revoke_id) is not None
    # Kept genuine: the product is gone (a tombstone for kiosks), its stamps still verify.
    head = _last_cursor(reg)
    reply = post_form(
        editor,
        reg,
        f"{PRODUCTS}/{keep_id}/delete",
        f"{PRODUCTS}/{keep_id}/delete",
        {"stamps": "keep"},
    )
    assert reply.status_code == 303
    assert "Đã xoá sản phẩm" in editor.get(reg.url + reply.headers["location"], timeout=30).text
    assert _product(reg, keep_id) is None
    changes = reg.station("GET", f"{API}/catalog/changes", params={"since": head}).json()
    assert {"kind": "product", "id": str(keep_id)}.items() <= changes["tombstones"][0].items()
    assert verdicts(kept) == {Verdict.GENUINE_UNKNOWN_PRODUCT}

    # Revoked by an administrator: every stamp of the product is on the trust list.
    admin, _ = sign_in(reg, "alice")
    page = f"{PRODUCTS}/{revoke_id}/delete"
    assert 'id="stamps-revoke" name="stamps" value="revoke">' in admin.get(reg.url + page).text
    reply = post_form(admin, reg, page, page, {"stamps": "revoke"})
    assert reply.status_code == 303
    assert _product(reg, revoke_id) is None
    assert verdicts(revoked) == {Verdict.REVOKED}
    assert verdicts(kept) == {Verdict.GENUINE_UNKNOWN_PRODUCT}
    deletes = {e["target"]: e for e in _audit(reg, "catalog.delete")}
    assert deletes[f"product:{keep_id}"]["actor"] == "erin"
    assert deletes[f"product:{revoke_id}"]["detail"]["stamps"] == "revoke"
    assert any(e["actor"] == "alice" for e in _audit(reg, "serials.revoke"))


def test_a_revoked_rating_keeps_its_reason_and_loses_its_stars_on_kiosks(reg):
    s, _ = sign_in(reg, "erin")
    product_id = _new_product(reg, s, "htx-bich-thao", f"Rượu {_unique()}")
    page = f"{PRODUCTS}/{product_id}"
    post_form(s, reg, page, f"{page}/ratings", {"stars": "4", "recognised_on": "2025-01-15"})
    reply = post_form(s, reg, page, f"{page}/ratings/0/revoke", {"reason": ""})
    assert reply.status_code == 422 and _product(reg, product_id)["ratings"][0]["status"] == "valid"
    reason = "Vi phạm cam kết chất lượng (biên bản 12/BB)"
    reply = post_form(s, reg, page, f"{page}/ratings/0/revoke", {"reason": reason})
    assert reply.status_code == 303
    assert _product(reg, product_id)["ratings"][0]["status"] == "revoked"
    shown = s.get(reg.url + page, timeout=30).text
    assert f"Đã thu hồi: {reason}" in shown
    assert 'id="rating-0-state">Đã thu hồi<' in shown
    entry = next(e for e in _audit(reg, "rating.revoke") if e["target"] == f"product:{product_id}")
    assert entry["detail"]["reason"] == reason and entry["actor"] == "erin"
    listed = s.get(reg.url + CATALOG, params={"q": str(product_id)}, timeout=30).text
    assert "Đã thu hồi" in listed
