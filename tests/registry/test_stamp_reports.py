"""The phone page's stamp report form, attacked over HTTP against a real registry process
(SQLite, and PostgreSQL when configured): a POST without a token, with a forged, expired,
replayed or other stamp's token, a flood beyond the per-client limit, an oversized body,
HTML in the fields. Each refusal has its own message and stores nothing; the office lists
what was stored (admin API, /reports), escaped. The form in Chromium: test_phone_pages.py."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import urlencode

import pytest
import requests

from registry import db, public_reports
from tests.registry.server import backends, start_registry

PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36"
)
FORM = "application/x-www-form-urlencoded"
_FIELD = re.compile(r'<input type="hidden" name="(code|token)" value="([^"]*)">')


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(
        tmp_path_factory.mktemp("report-registry"),
        request.param,
        env={"OCOP_REGISTRY_REPORTS_PER_HOUR": "1000", "OCOP_REGISTRY_HOTLINE": "0212 3856 000"},
    )
    yield r
    r.stop()


def _revoked_stamp(reg) -> tuple[str, int]:
    block = reg.issue_block(101)
    serial = block["first_serial"]
    reg.cli("revoke", "serials", str(serial), str(serial), "--reason", "lost roll")
    return block["stamps"][0].rsplit("/", 1)[1], serial


def _form_of(reg, code: str) -> dict[str, str]:
    """The hidden fields of the stamp page's report form."""
    page = requests.get(f"{reg.url}/S/{code}?lang=en", timeout=10)
    found = {name: html.unescape(value) for name, value in _FIELD.findall(page.text)}
    assert set(found) == {"code", "token"}, page.text[:2000]
    return found


def _post(reg, fields: dict, **headers) -> requests.Response:
    return requests.post(
        f"{reg.url}/report",
        data=urlencode(fields).encode(),
        headers={"Content-Type": FORM, "User-Agent": PHONE_UA, **headers},
        timeout=10,
    )


def _good(form: dict, **changes) -> dict:
    return {"problem": "revoked", "where": "Chợ Mộc Châu", "lang": "en", **form, **changes}


def _stored(reg, serial: int | None = None) -> list[dict]:
    params = {"serial": serial} if serial else {}
    reply = reg.admin("GET", "/api/v1/admin/stamp-reports", params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()["reports"]


def _refused(reply: requests.Response, status: int, problem: str) -> None:
    assert reply.status_code == status, reply.text[:500]
    assert f'data-problem="{problem}"' in reply.text, reply.text[:2000]


def test_a_report_is_stored_with_the_verdict_then_and_listed(reg):
    code, serial = _revoked_stamp(reg)
    form = _form_of(reg, code)
    reply = _post(
        reg, _good(form, phone="0912 345 678", consent="yes", where="Chợ  Mộc\nChâu, quầy 3")
    )
    assert reply.status_code == 200, reply.text
    assert 'id="report-thanks"' in reply.text and "tel:02123856000" in reply.text
    (row,) = _stored(reg, serial)
    assert row["serial"] == serial and row["verdict"] == "revoked"
    assert row["problem"] == "revoked" and row["where_bought"] == "Chợ Mộc Châu, quầy 3"
    assert row["phone"] == "0912 345 678" and row["callback_consent"] is True
    assert row["client_network"] == "127.0.0.0/24" and row["client_agent"] == "Android · Chrome"
    assert row["code"] == code and row["lang"] == "en"


def test_a_forged_stamp_can_be_reported_without_a_serial(reg):
    code = reg.issue_block(101)["stamps"][0].rsplit("/", 1)[1]
    forged = code[:40] + ("1" if code[40] != "1" else "2") + code[41:]
    form = _form_of(reg, forged)
    before = len(_stored(reg))
    assert _post(reg, _good(form, problem="looks_fake")).status_code == 200
    newest = _stored(reg)[0]
    assert len(_stored(reg)) == before + 1
    assert newest["serial"] is None and newest["verdict"] == "forged"


def test_a_post_without_a_token_stores_nothing(reg):
    code, serial = _revoked_stamp(reg)
    form = _form_of(reg, code)
    _refused(_post(reg, _good({"code": form["code"]})), 403, "token_missing")
    _refused(_post(reg, _good(form, token="")), 403, "token_missing")
    assert _stored(reg, serial) == []


def test_a_forged_token_stores_nothing(reg):
    code, serial = _revoked_stamp(reg)
    form = _form_of(reg, code)
    token = form["token"]
    last = "A" if token[-1] != "A" else "B"
    _refused(_post(reg, _good(form, token=token[:-1] + last)), 403, "token_invalid")
    issued, rest = token.split(".", 1)
    later = str(int(issued) + 3600)  # a longer life without the secret: the MAC breaks
    _refused(_post(reg, _good(form, token=f"{later}.{rest}")), 403, "token_invalid")
    _refused(_post(reg, _good(form, token="<script>")), 403, "token_invalid")
    assert _stored(reg, serial) == []


def test_an_expired_token_stores_nothing(reg):
    """Even a token made with the registry's own secret is refused once too old."""
    code, serial = _revoked_stamp(reg)
    engine = db.make_engine(reg.db_url)
    with engine.connect() as conn:
        secret = bytes.fromhex(db.get_meta(conn, public_reports.SECRET_KEY) or "")
    engine.dispose()
    subject = public_reports.subject_of(serial, code)
    old = int(time.time()) - public_reports.TOKEN_TTL_S - 5
    fresh = public_reports.make_token(secret, subject)
    _refused(
        _post(reg, _good({"code": code}, token=public_reports.make_token(secret, subject, old))),
        403,
        "token_expired",
    )
    assert _stored(reg, serial) == []
    assert _post(reg, _good({"code": code}, token=fresh)).status_code == 200  # the same secret


def test_a_replayed_token_stores_one_report(reg):
    code, serial = _revoked_stamp(reg)
    form = _form_of(reg, code)
    assert _post(reg, _good(form)).status_code == 200
    again = _post(reg, _good(form, where="Somewhere else"))
    _refused(again, 409, "token_used")
    assert [r["where_bought"] for r in _stored(reg, serial)] == ["Chợ Mộc Châu"]


def test_a_token_of_another_stamp_stores_nothing(reg):
    code_a, serial_a = _revoked_stamp(reg)
    code_b, serial_b = _revoked_stamp(reg)
    form_a = _form_of(reg, code_a)
    _refused(_post(reg, _good(form_a, code=code_b)), 403, "other_stamp")
    assert _stored(reg, serial_a) == [] and _stored(reg, serial_b) == []


def test_bad_fields_get_their_own_message_and_the_form_again(reg):
    code, serial = _revoked_stamp(reg)
    form = _form_of(reg, code)
    cases = [
        (_good(form, problem="delete_everything"), "no_problem"),
        (_good(form, where="   "), "where_missing"),
        (_good(form, where="x" * (public_reports.MAX_WHERE_CHARS + 1)), "where_too_long"),
        (_good(form, phone="call me maybe", consent="yes"), "phone_invalid"),
        (_good(form, phone="0912 345 678"), "phone_no_consent"),
    ]
    for fields, problem in cases:
        reply = _post(reg, fields)
        _refused(reply, 400, problem)
        # The same form again, with what was typed and the same (unused) token.
        assert 'id="report-form"' in reply.text
        assert html.escape(fields["token"]) in reply.text
    duplicated = urlencode([*_good(form).items(), ("where", "twice")]).encode()
    reply = requests.post(
        f"{reg.url}/report", data=duplicated, headers={"Content-Type": FORM}, timeout=10
    )
    _refused(reply, 400, "bad_fields")
    assert _stored(reg, serial) == []
    assert _post(reg, _good(form)).status_code == 200  # the token was never used up


def test_an_oversized_or_foreign_body_stores_nothing(reg):
    code, serial = _revoked_stamp(reg)
    form = _form_of(reg, code)
    big = _good(form, where="x" * (public_reports.MAX_FORM_BYTES + 1))
    _refused(_post(reg, big), 413, "too_large")
    as_json = requests.post(f"{reg.url}/report", json=_good(form), timeout=10)
    _refused(as_json, 415, "not_a_form")
    cross_site = _post(reg, _good(form), **{"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403  # registry/csrf.py, before the route
    assert _stored(reg, serial) == []


def test_html_in_the_fields_is_listed_escaped(reg):
    code, serial = _revoked_stamp(reg)
    form = _form_of(reg, code)
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    assert _post(reg, _good(form, where=attack)).status_code == 200
    assert _stored(reg, serial)[0]["where_bought"] == attack  # the API returns the text
    page = requests.get(f"{reg.url}/reports", auth=("office", reg.admin_token), timeout=10)
    assert page.status_code == 200
    row = re.search(rf'<tr id="stamp-report-\d+" data-serial="{serial}".*?</tr>', page.text)
    assert row is not None
    assert "<script>" not in row.group(0) and "<img" not in row.group(0)
    assert html.escape(attack, quote=True) in row.group(0)
    assert "<script>alert" not in page.text


def test_a_flood_beyond_the_limit_is_refused(tmp_path):
    reg = start_registry(tmp_path, env={"OCOP_REGISTRY_REPORTS_PER_HOUR": "3"})
    try:
        code, serial = _revoked_stamp(reg)
        replies = [_post(reg, _good(_form_of(reg, code))) for _ in range(5)]
        assert [r.status_code for r in replies] == [200, 200, 200, 429, 429]
        _refused(replies[3], 429, "limited")
        assert replies[3].headers["Retry-After"] == "3600"
        assert len(_stored(reg, serial)) == 3
    finally:
        reg.stop()


def test_the_token_rules_without_a_registry():
    secret, subject = b"k" * 32, public_reports.subject_of(7, "X")
    token = public_reports.make_token(secret, subject, issued_s=1_000_000)
    now = 1_000_000 + 10
    assert len(public_reports.check_token(secret, subject, token, now)) == 32  # its nonce
    assert public_reports.check_token(b"j" * 32, subject, token, now) is (
        public_reports.FormProblem.TOKEN_INVALID
    )
    other = public_reports.subject_of(8, "X")
    assert public_reports.check_token(secret, other, token, now) is (
        public_reports.FormProblem.OTHER_STAMP
    )
    late = 1_000_000 + public_reports.TOKEN_TTL_S + 1
    assert public_reports.check_token(secret, subject, token, late) is (
        public_reports.FormProblem.TOKEN_EXPIRED
    )
    assert public_reports.coarse_network("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert public_reports.coarse_network("not an address") == ""
