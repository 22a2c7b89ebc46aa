"""What every console test needs: accounts on a real registry process, a signed-in
`requests` session (the attacker's and the script's view), a signed-in Chromium page (the
office user's view), the layout/contrast check, and the CSRF token of a page."""

from __future__ import annotations

import re

import requests

from tests.registry.server import REPO_ROOT
from tests.registry.test_phone_pages import LAYOUT_JS

SIGN_IN = "/console/sign-in"
SESSION = "ocop_session"  # plain http on 127.0.0.1: no __Host- prefix (docs/registry.md)
OFFICE_PC, TABLET = {"width": 1366, "height": 768}, {"width": 800, "height": 1280}
SHOTS = REPO_ROOT / "docs" / "screenshots"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]*)"')
# The accounts console tests sign in with: (name, role, display name).
ACCOUNTS = [
    ("alice", "admin", "Nguyễn Thị Alice"),
    ("erin", "editor", ""),
    ("victor", "viewer", ""),
]


def add_user(reg, name: str, role: str, display: str = "") -> str:
    """Create an account with `ocop-registry user add --generate`; its password."""
    out = reg.cli(
        "user", "add", name, "--role", role, "--display-name", display, "--generate"
    ).stdout
    return out.strip().splitlines()[-1]


def add_accounts(reg) -> None:
    """The ACCOUNTS on `reg`, their passwords in reg.passwords."""
    reg.passwords = {name: add_user(reg, name, role, display) for name, role, display in ACCOUNTS}


def csrf(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, html[:500]
    return found.group(1)


def sign_in(reg, name: str, password: str | None = None, session=None):
    """A requests session signed in as `name` (the reply of the sign-in POST too)."""
    s = session or requests.Session()
    page = s.get(reg.url + SIGN_IN, timeout=30)
    reply = s.post(
        reg.url + SIGN_IN,
        data={
            "csrf_token": csrf(page.text),
            "name": name,
            "password": reg.passwords[name] if password is None else password,
        },
        allow_redirects=False,
        timeout=30,
    )
    return s, reply


def post_form(session, reg, page_path: str, action: str, data: dict, **kwargs):
    """POST `data` to `action` as the form on `page_path` would (its CSRF token added)."""
    token = csrf(session.get(reg.url + page_path, timeout=30).text)
    return session.post(
        reg.url + action,
        data={"csrf_token": token, **data},
        allow_redirects=False,
        timeout=30,
        **kwargs,
    )


def browser_sign_in(browser, reg, name: str, viewport=OFFICE_PC, locale: str = "vi-VN"):
    """A new Chromium page signed in as `name` through the sign-in form (on the home page)."""
    context = browser.new_context(viewport=viewport, locale=locale, device_scale_factor=1)
    page = context.new_page()
    page.goto(reg.url + SIGN_IN)
    page.locator("#name").fill(name)
    page.locator("#password").fill(reg.passwords[name])
    page.locator("#password").press("Enter")
    page.wait_for_url(reg.url + "/console")
    return page


def contrast_problems(page) -> list[str]:
    """Text below WCAG AA contrast or content wider than the window, on the live page."""
    return [p for p in page.evaluate(LAYOUT_JS) if p.startswith(("contrast", "horizontal"))]


class KioskProcess:
    """A real kiosk data folder (`ocop-kiosk init`) with its own station token, driven by
    the kiosk's command line in another process: `sync --once`, then what it would show."""

    def __init__(self, reg, tmp_path, name: str, district: str = "Mộc Châu"):
        from tests.registry.server import write_kiosk_config
        from tests.sync.conftest import run_kiosk_cli

        self._run = run_kiosk_cli
        token = reg.add_station(name, district=district)
        self.data_dir = tmp_path / name
        assert run_kiosk_cli("--data-dir", str(self.data_dir), "init").returncode == 0
        self.config = write_kiosk_config(
            tmp_path / f"{name}.toml", reg.url, token, reg.root_key, self.data_dir
        )

    def cli(self, *args: str, check: bool = True) -> list[dict]:
        import json

        done = self._run("--config", str(self.config), *args, "--json")
        if not check and done.returncode != 0:
            return []
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    def sync_once(self) -> dict:
        [report] = self.cli("sync", "--once")
        return report

    def product(self, product_id: int) -> dict | None:
        """The product as `ocop-kiosk catalog show` has it, None when it is not there."""
        found = self.cli("catalog", "show", str(product_id), check=False)
        return found[0] if found else None

    def verdict(self, stamp_text: str) -> str:
        [result] = self.cli("stamp", "verify", stamp_text)
        return result["verdict"]
