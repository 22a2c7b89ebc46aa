"""The office console (issue 16) against a real registry process (SQLite and PostgreSQL):
a person in real Chromium (Playwright, Debian's /usr/bin/chromium) signs in, sees the
home page, switches language and signs out; and an attacker with `requests` tries what
the console must refuse: guessing passwords, posting as a viewer, posting without the
CSRF token, planting a session cookie before sign-in, replaying a stolen cookie after
sign-out or after the user is disabled. Screenshots go to docs/screenshots/console-*.png.
"""

from __future__ import annotations

import re
import secrets

import pytest
import requests

from registry.users import MAX_FAILED_SIGN_INS
from tests.registry.console_helpers import (
    CSRF_RE,
    OFFICE_PC,
    SESSION,
    SHOTS,
    SIGN_IN,
    TABLET,
    add_accounts,
    add_user,
    contrast_problems,
    csrf,
    sign_in,
)
from tests.registry.server import backends, start_registry

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

REFUSED_VI = "Sai tên đăng nhập hoặc mật khẩu"


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(tmp_path_factory.mktemp("console-registry"), request.param)
    r.backend = request.param
    add_accounts(r)
    yield r
    r.stop()


def _signed_in_as(reg, session_cookie: str) -> str | None:
    """Whose home page a bare session cookie opens (None: sent to sign in)."""
    reply = requests.get(
        reg.url + "/console",
        cookies={SESSION: session_cookie},
        allow_redirects=False,
        timeout=30,
    )
    if reply.status_code == 303:
        assert reply.headers["location"] == SIGN_IN
        return None
    assert reply.status_code == 200, reply.text
    return re.search(r'id="signed-in-as">([^<]*)<', reply.text).group(1)


def test_a_person_signs_in_sees_the_home_page_switches_language_and_signs_out(reg, browser):
    context = browser.new_context(viewport=OFFICE_PC, locale="vi-VN", device_scale_factor=1)
    page = context.new_page()
    page.goto(reg.url + "/console")
    assert page.url.endswith(SIGN_IN)  # not signed in: sent to the sign-in page
    assert page.locator("h1").inner_text() == "Đăng nhập"
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-signin.png"))
    # Keyboard only, through the labels.
    page.get_by_label("Tên đăng nhập").focus()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(reg.passwords["alice"])
    page.keyboard.press("Enter")
    page.wait_for_url(reg.url + "/console")
    assert page.locator("h1").inner_text() == "Tổng quan"
    assert "Nguyễn Thị Alice" in page.locator("#signed-in-as").inner_text()
    nav = page.get_by_role("navigation").locator("a").all_inner_texts()
    assert nav == [
        "Trang chủ",
        "Danh mục sản phẩm",
        "Trạm",
        "Tem",
        "Tem nghi giả",
        "Thiết bị",
        "Nhật ký",
        "Báo cáo",
        "Tài khoản",
    ]
    assert "27" in page.locator("#counts").inner_text()  # the demo catalog's products
    assert contrast_problems(page) == []
    if reg.backend == "sqlite":
        page.screenshot(path=str(SHOTS / "console-home.png"))
    cookie = next(c for c in context.cookies() if c["name"] == SESSION)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    page.locator("#lang-switch").click()
    page.wait_for_url(reg.url + "/console")
    assert page.locator("h1").inner_text() == "Overview"
    page.get_by_role("link", name="Suspects", exact=True).click()
    assert page.locator("h1").inner_text() == "Suspects"

    page.set_viewport_size(TABLET)
    assert contrast_problems(page) == []

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/console/sign-in\?signed_out=1$"))
    assert page.locator("#sign-in-message").inner_text() == "You have signed out."
    assert SESSION not in {c["name"] for c in context.cookies()}
    # The stolen copy of the cookie is dead too: sign-out deleted the session row.
    assert _signed_in_as(reg, cookie["value"]) is None
    context.close()


def test_wrong_passwords_lock_the_account_with_the_unknown_name_answer(reg):
    name = f"lock{secrets.token_hex(3)}"
    reg.passwords[name] = add_user(reg, name, "viewer")
    _, unknown = sign_in(reg, "nobody-here", "x" * 14)
    assert unknown.status_code == 401
    for _ in range(MAX_FAILED_SIGN_INS):
        _, wrong = sign_in(reg, name, "wrong password 123")
        assert wrong.status_code == 401
        assert REFUSED_VI in wrong.text
    # Locked: the right password is refused now, with the very same page text.
    _, locked = sign_in(reg, name)
    assert locked.status_code == 401
    assert re.sub(CSRF_RE, "", locked.text).replace(name, "") == re.sub(
        CSRF_RE, "", unknown.text
    ).replace("nobody-here", "")
    listed = reg.cli("user", "list").stdout
    assert re.search(rf"^{name}\t.*locked until", listed, re.M), listed
    # A reset unlocks it (and the old password stops working).
    reg.passwords[name] = reg.cli("user", "reset", name, "--generate").stdout.split()[-1]
    _, ok = sign_in(reg, name)
    assert ok.status_code == 303


@pytest.mark.parametrize("name", ["victor", "erin"])
def test_a_viewer_or_editor_cannot_post_an_admin_action_even_with_its_csrf_token(reg, name):
    s, reply = sign_in(reg, name)
    assert reply.status_code == 303
    page = s.get(reg.url + "/console/suspects", timeout=30)
    assert page.status_code == 200
    assert "Publish as suspect" not in page.text and "Đưa vào danh sách" not in page.text
    token = csrf(page.text)
    post = s.post(
        reg.url + "/console/suspects/1/approve",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert post.status_code == 403
    assert "Quản trị viên" in post.text  # names the role needed
    assert 'id="sign-out"' in post.text  # and keeps the menu and the way out
    audit = s.get(reg.url + "/console/audit", allow_redirects=False, timeout=30)
    assert audit.status_code == 200 and '<form method="post"' not in audit.text.split("<main")[1]
    # An admin gets past the role check with the same kind of post (no such detection).
    admin, _ = sign_in(reg, "alice")
    token = csrf(admin.get(reg.url + "/console/suspects", timeout=30).text)
    post = admin.post(
        reg.url + "/console/suspects/999999/approve",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert post.status_code == 404


def test_a_post_without_or_with_a_foreign_csrf_token_is_refused(reg):
    s, _ = sign_in(reg, "alice")
    cookie = s.cookies[SESSION]
    for data in ({}, {"csrf_token": "forged"}):
        reply = s.post(reg.url + "/console/sign-out", data=data, allow_redirects=False)
        assert reply.status_code == 403
        assert reply.json()["title"] == "CSRF token required"
    # Another session's token does not fit this session.
    other, _ = sign_in(reg, "victor")
    foreign = csrf(other.get(reg.url + "/console", timeout=30).text)
    reply = s.post(
        reg.url + "/console/sign-out", data={"csrf_token": foreign}, allow_redirects=False
    )
    assert reply.status_code == 403
    # A cookie with a Bearer header is not a way around the token either.
    reply = s.post(
        reg.url + "/console/sign-out",
        headers={"Authorization": f"Bearer {reg.admin_token}"},
        allow_redirects=False,
    )
    assert reply.status_code == 403
    assert _signed_in_as(reg, cookie) == "Đang đăng nhập: Nguyễn Thị Alice"  # unchanged
    # A cross-site form post is refused whatever it carries.
    token = csrf(s.get(reg.url + "/console", timeout=30).text)
    reply = s.post(
        reg.url + "/console/sign-out",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert reply.status_code == 403


def test_a_session_cookie_planted_before_sign_in_is_never_promoted(reg, browser):
    attacker, _ = sign_in(reg, "victor")
    attackers_own = attacker.cookies[SESSION]
    for planted in (secrets.token_urlsafe(32), attackers_own):
        context = browser.new_context(viewport=OFFICE_PC, locale="vi-VN")
        host = reg.url.split("//", 1)[1].split(":")[0]
        context.add_cookies([{"name": SESSION, "value": planted, "domain": host, "path": "/"}])
        page = context.new_page()
        page.goto(reg.url + SIGN_IN)
        if planted == attackers_own:  # a live session: its own home page, not a sign-in
            assert page.url == reg.url + "/console"
            context.close()
            continue
        page.get_by_label("Tên đăng nhập").fill("alice")
        page.get_by_label("Mật khẩu").fill(reg.passwords["alice"])
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(reg.url + "/console")
        now = next(c["value"] for c in context.cookies() if c["name"] == SESSION)
        assert now != planted
        assert _signed_in_as(reg, planted) is None
        context.close()
    # The attacker's own session is still only the attacker's (a viewer).
    token = csrf(attacker.get(reg.url + "/console/suspects", timeout=30).text)
    post = attacker.post(
        reg.url + "/console/suspects/1/approve",
        data={"csrf_token": token, "confirmed": "1"},
        allow_redirects=False,
        timeout=30,
    )
    assert post.status_code == 403 and "victor" in (_signed_in_as(reg, attackers_own) or "")


def test_a_stolen_cookie_stops_working_when_the_user_is_disabled(reg):
    name = f"dana{secrets.token_hex(3)}"
    reg.passwords[name] = add_user(reg, name, "editor")
    s, _ = sign_in(reg, name)
    stolen = s.cookies[SESSION]
    assert _signed_in_as(reg, stolen) == f"Đang đăng nhập: {name}"
    reg.cli("user", "disable", name)
    assert _signed_in_as(reg, stolen) is None
    _, again = sign_in(reg, name)
    assert again.status_code == 401  # and no new sign-in either


def test_the_bearer_token_api_still_works_beside_the_console(reg):
    assert reg.admin("GET", "/api/v1/admin/reports").status_code == 200
    s, _ = sign_in(reg, "alice")
    # A session cookie is no credential for the API.
    assert s.get(reg.url + "/api/v1/admin/reports", timeout=30).status_code == 401
    assert requests.get(reg.url + "/console", allow_redirects=False).status_code == 303


def test_cli_password_rules(reg):
    short = reg.cli(
        "user",
        "add",
        "shorty",
        "--role",
        "viewer",
        "--password-stdin",
        input="short\n",
        check=False,
    )
    assert short.returncode != 0 and "at least 12 characters" in short.stderr
    named = reg.cli(
        "user",
        "add",
        "longusername1",
        "--role",
        "viewer",
        "--password-stdin",
        input="LongUserName1\n",
        check=False,
    )
    assert named.returncode != 0 and "must not be the user's name" in named.stderr
    assert "shorty" not in reg.cli("user", "list").stdout
    good = reg.cli(
        "user",
        "add",
        "pat",
        "--role",
        "viewer",
        "--password-stdin",
        input="correct horse battery\n",
    )
    assert "added with role viewer" in good.stdout
    reg.passwords["pat"] = "correct horse battery"
    assert sign_in(reg, "pat")[1].status_code == 303


def test_failed_sign_ins_from_one_client_are_rate_limited(tmp_path):
    r = start_registry(tmp_path / "limited", extra_args=("--auth-failures", "3"))
    try:
        r.passwords = {"alice": add_user(r, "alice", "admin")}
        for i in range(3):  # three different names: no account lock involved
            assert sign_in(r, f"guess{i}", "x" * 14)[1].status_code == 401
        _, limited = sign_in(r, "alice")
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) > 0
        assert "Có quá nhiều lần đăng nhập sai" in limited.text
    finally:
        r.stop()


def test_sessions_end_after_the_idle_and_the_absolute_timeout(tmp_path):
    """On a real (SQLite) registry database, with the clock passed in."""
    import datetime as dt

    from registry import db, sessions, users
    from registry.admins import AdminRole

    database = db.Database(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    database.migrate()
    t0 = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
    with database.write() as conn:
        uid = users.add(conn, "lan", AdminRole.VIEWER, "a long passphrase")
        sid = sessions.start(conn, uid, "127.0.0.1", t0)
    idle = dt.timedelta(seconds=sessions.IDLE_TIMEOUT_S)
    with database.read() as conn:
        assert sessions.look_up(conn, sid, t0 + idle - dt.timedelta(seconds=1)) is not None
        assert sessions.look_up(conn, sid, t0 + idle + dt.timedelta(seconds=1)) is None
    # Kept busy (touched within every idle period), it still ends at the absolute limit.
    t = t0
    end = t0 + dt.timedelta(seconds=sessions.ABSOLUTE_TIMEOUT_S)
    while t + idle / 2 < end:
        t += idle / 2
        with database.write() as conn:
            assert sessions.look_up(conn, sid, t) is not None
            sessions.touch(conn, sid, t)
    with database.read() as conn:
        assert sessions.look_up(conn, sid, end + dt.timedelta(seconds=1)) is None
    with database.write() as conn:
        assert sessions.purge_expired(conn, end + dt.timedelta(seconds=1)) == 1
    database.dispose()
