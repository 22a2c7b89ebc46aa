"""The console's Users page (admin) against a real registry process: an administrator in
real Chromium creates an account, reads its password once and the new person signs in
with it; a new password and a disabled account end the person's sessions at once; and
as the attacker: editors and viewers cannot open or post, a post without the page's CSRF
token is refused, the password is never on a later page or in the audit log, an admin
cannot lock themselves out."""

from __future__ import annotations

import html
import re

import pytest
import requests

from tests.registry.console_helpers import (
    SESSION,
    SHOTS,
    add_accounts,
    browser_sign_in,
    contrast_problems,
    csrf,
    post_form,
    sign_in,
)
from tests.registry.server import backends, start_registry

USERS = "/console/users"
PASSWORD_RE = re.compile(r'id="password"><code>([^<]+)</code>')


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(tmp_path_factory.mktemp("console-users"), request.param)
    r.backend = request.param
    add_accounts(r)
    yield r
    r.stop()


def _audit(reg) -> str:
    reply = reg.admin("GET", "/api/v1/admin/audit", params={"limit": 500})
    assert reply.status_code == 200, reply.text
    return reply.text


def _can_sign_in(reg, name: str, password: str) -> bool:
    _, reply = sign_in(reg, name, password)
    return reply.status_code == 303


def test_an_admin_adds_an_account_in_the_browser_and_the_person_signs_in(reg, browser):
    page = browser_sign_in(browser, reg, "alice")
    page.get_by_role("navigation").get_by_role("link", name="Tài khoản").click()
    page.wait_for_url(reg.url + USERS)
    assert "erin" in page.locator("#users").inner_text()
    page.get_by_label("Tên đăng nhập").fill("tran.thi.b")
    page.get_by_label("Họ và tên").fill("Trần Thị B")
    page.get_by_label("Biên tập viên").check()
    page.locator("#add-user").click()
    page.wait_for_selector("#password")
    assert page.locator("h1").inner_text() == "Đã tạo tài khoản"
    assert contrast_problems(page) == []
    password = page.locator("#password").inner_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}", password)
    assert _can_sign_in(reg, "tran.thi.b", password)
    page.goto(reg.url + USERS)
    row = page.locator("#users tr", has_text="tran.thi.b").inner_text()
    assert "Trần Thị B" in row and "Biên tập viên" in row and "Đang hoạt động" in row
    # signed in just now: Vietnam time as the office reads it, not a stored UTC string
    assert re.search(r"\d{2}/\d{2}/20\d{2} \d{2}:\d{2}", row) and "Z" not in row
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-users.png"))
    # Shown once: not on the list, not in the audit log.
    assert password not in page.content()
    assert password not in _audit(reg) and "tran.thi.b" in _audit(reg)
    page.context.close()


def test_the_password_page_is_never_cached(reg):
    s, _ = sign_in(reg, "alice")
    reply = post_form(s, reg, USERS, USERS, {"name": "no.cache", "role": "viewer"})
    assert reply.status_code == 200 and PASSWORD_RE.search(reply.text)
    assert reply.headers["cache-control"] == "no-store"


def test_a_bad_name_is_explained_in_vietnamese_and_creates_nothing(reg):
    s, _ = sign_in(reg, "alice")
    s.cookies.set("ocop_lang", "vi")
    reply = post_form(s, reg, USERS, USERS, {"name": "Nguyễn A", "role": "viewer"})
    assert reply.status_code == 422
    assert "tên đăng nhập 'nguyễn a': dùng 1-64 chữ thường" in html.unescape(reply.text)
    again = post_form(s, reg, USERS, USERS, {"name": "erin", "role": "viewer"})
    assert again.status_code == 422 and "tài khoản 'erin' đã có" in html.unescape(again.text)
    assert "nguyễn a" not in reg.cli("user", "list").stdout
    assert "\terin\t\teditor" in "\t" + reg.cli("user", "list").stdout.replace("\n", "\n\t")


def test_a_new_password_and_disabling_end_the_persons_sessions_at_once(reg):
    password = reg.cli("user", "add", "dung", "--role", "viewer", "--generate").stdout
    password = password.strip().splitlines()[-1]
    person, _ = sign_in(reg, "dung", password)
    assert person.get(reg.url + "/console", allow_redirects=False, timeout=30).status_code == 200
    admin, _ = sign_in(reg, "alice")
    confirm = admin.get(reg.url + f"{USERS}/dung/reset", timeout=30)
    assert "mật khẩu cũ hết hiệu lực" in confirm.text or "old one stops working" in confirm.text
    # the confirmation page changed nothing
    assert person.get(reg.url + "/console", allow_redirects=False, timeout=30).status_code == 200
    reply = admin.post(
        reg.url + f"{USERS}/dung/reset",
        data={"csrf_token": csrf(confirm.text)},
        allow_redirects=False,
        timeout=30,
    )
    new_password = PASSWORD_RE.search(reply.text).group(1)
    assert new_password != password
    assert person.get(reg.url + "/console", allow_redirects=False, timeout=30).status_code == 303
    assert not _can_sign_in(reg, "dung", password) and _can_sign_in(reg, "dung", new_password)

    person, _ = sign_in(reg, "dung", new_password)
    reply = post_form(admin, reg, f"{USERS}/dung/disable", f"{USERS}/dung/disable", {})
    assert reply.status_code == 303 and reply.headers["location"] == f"{USERS}?disabled=dung"
    assert person.get(reg.url + "/console", allow_redirects=False, timeout=30).status_code == 303
    assert not _can_sign_in(reg, "dung", new_password)
    listed = admin.get(reg.url + USERS, timeout=30).text
    assert "Đã vô hiệu hoá" in listed or "Disabled" in listed


def test_an_admin_cannot_disable_their_own_account(reg):
    s, _ = sign_in(reg, "alice")
    confirm = s.get(reg.url + f"{USERS}/alice/disable", timeout=30)
    assert confirm.status_code == 200 and 'id="confirm"' not in confirm.text
    reply = post_form(s, reg, USERS, f"{USERS}/alice/disable", {})
    assert reply.status_code == 409
    assert _can_sign_in(reg, "alice", reg.passwords["alice"])


@pytest.mark.parametrize("who", ["erin", "victor"])
def test_editors_and_viewers_can_neither_open_nor_post(reg, who):
    s, _ = sign_in(reg, who)
    assert s.get(reg.url + USERS, timeout=30).status_code == 403
    token = csrf(s.get(reg.url + "/console", timeout=30).text)
    for path, data in [
        (USERS, {"name": f"made.by.{who}", "role": "admin"}),
        (f"{USERS}/alice/reset", {}),
        (f"{USERS}/alice/disable", {}),
    ]:
        reply = s.post(
            reg.url + path, data={"csrf_token": token, **data}, allow_redirects=False, timeout=30
        )
        assert reply.status_code == 403, (path, reply.status_code)
    assert f"made.by.{who}" not in reg.cli("user", "list").stdout
    assert _can_sign_in(reg, "alice", reg.passwords["alice"])


def test_a_post_without_the_pages_csrf_token_is_refused(reg):
    s, _ = sign_in(reg, "alice")
    for data in ({"name": "no.token", "role": "admin"}, {"csrf_token": "x" * 40}):
        reply = s.post(
            reg.url + USERS,
            data={"name": "no.token", "role": "admin", **data},
            allow_redirects=False,
            timeout=30,
        )
        assert reply.status_code == 403
    # nor with another person's token (a token is per session)
    other, _ = sign_in(reg, "erin")
    theirs = csrf(other.get(reg.url + "/console", timeout=30).text)
    reply = requests.post(
        reg.url + USERS,
        data={"csrf_token": theirs, "name": "no.token", "role": "admin"},
        cookies={SESSION: s.cookies[SESSION]},
        allow_redirects=False,
        timeout=30,
    )
    assert reply.status_code == 403
    assert "no.token" not in reg.cli("user", "list").stdout
