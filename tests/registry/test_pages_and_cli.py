"""Public stamp page, reports page and the admin command line."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from ocop.stamps.serials import serial_digits

API = "/api/v1"
PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile"}


def _block(reg, product_id, count, token=None):
    return reg.issue_block(product_id, count, token)


def _code(text: str) -> str:
    return text.rsplit("/", 1)[1]


def _scan(reg, text, token=None):
    reply = reg.station(
        "POST",
        f"{API}/uploads",
        token=token,
        json={
            "items": [
                {
                    "kind": "scan",
                    "idempotency_key": f"s-{uuid.uuid4().hex}",
                    "payload": {
                        "scanned_at": "2026-11-29T10:00:00Z",
                        "text": text,
                        "verdict": "genuine",
                    },
                }
            ]
        },
    )
    assert reply.status_code == 200 and reply.json()["accepted"] == 1, reply.text


def test_stamp_page_for_a_genuine_stamp(registry):
    block = _block(registry, 101, 1)
    stamp = block["stamps"][0]
    page = requests.get(f"{registry.url}/S/{_code(stamp)}", headers=PHONE, timeout=5)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'name="viewport"' in html and 'data-verdict="genuine"' in html
    assert "Tem chính hãng" in html and "Genuine stamp" in html  # both languages
    assert "HTX Cà phê Bích Thao" in html and "Thành phố Sơn La" in html  # producer, origin
    assert 'data-stars="5"' in html and 'data-scans="0"' in html
    assert f"<dd>{serial_digits(block['first_serial'])}</dd>" in html  # as on the label
    # One script, this registry's own share button; nothing inline, no CDN
    assert re.findall("<script[^>]*>", html) == ['<script src="/static/share.js" defer>']
    assert "cdn" not in html.lower()
    english = requests.get(f"{registry.url}/S/{_code(stamp)}?lang=en", timeout=5).text
    assert english.index("Genuine stamp") < english.index("Tem chính hãng")


def test_stamp_page_hides_stars_of_an_expired_rating(registry):
    # Product 109 in the demo catalog was rated in 2021: its 36 months have passed.
    expired = [
        p
        for p in registry.station(
            "GET", f"{API}/catalog/changes", params={"since": 0, "limit": 5000}
        ).json()["products"]
        if p["ratings"] and max(r["valid_until"] or "" for r in p["ratings"]) < "2026-01-01"
    ]
    assert expired
    stamp = _block(registry, expired[0]["id"], 1)["stamps"][0]
    html = requests.get(f"{registry.url}/S/{_code(stamp)}", timeout=5).text
    assert 'data-verdict="genuine_rating_expired"' in html and "data-stars" not in html


@pytest.mark.parametrize(
    "code,status",
    [
        ("garbage", 400),
        ("A" * 122, 400),  # right length, unknown format version
        ("", 404),
    ],
)
def test_malformed_codes_are_never_200(registry, code, status):
    page = requests.get(f"{registry.url}/S/{code}", timeout=5)
    assert page.status_code == status
    if status == 400:
        assert "text/html" in page.headers["content-type"]


def test_forged_signature_is_404(registry):
    stamp = _code(_block(registry, 101, 1)["stamps"][0])
    forged = stamp[:40] + ("A" if stamp[40] != "A" else "B") + stamp[41:]
    page = requests.get(f"{registry.url}/S/{forged}", timeout=5)
    assert page.status_code in (400, 404)
    assert 'data-verdict="forged"' in page.text


def test_same_serial_at_two_sales_points_is_suspect(registry):
    stamp = _block(registry, 101, 1)["stamps"][0]
    other = registry.add_station(f"market-{uuid.uuid4().hex[:6]}", "Sông Mã")
    _scan(registry, stamp)
    html = requests.get(f"{registry.url}/S/{_code(stamp)}", timeout=5).text
    assert 'data-verdict="genuine"' in html and 'data-scans="1"' in html
    _scan(registry, stamp, token=other)
    html = requests.get(f"{registry.url}/S/{_code(stamp)}", timeout=5).text
    assert 'data-verdict="suspect_clone"' in html and 'data-scans="2"' in html
    assert "data-stars" not in html and "Sông Mã" in html
    report = registry.report()
    from ocop.stamps.codec import parse_stamp_payload

    serial = parse_stamp_payload(_code(stamp)).fields.serial
    found = [d for d in report["detections"] if d["serial"] == serial]
    # Two stations, and Mộc Châu - Sông Mã (~100 km) at the same minute: two rules fire.
    assert sorted((d["rule"], d["status"], d["decided_by"]) for d in found) == [
        ("sites", "published", "auto"),
        ("travel", "published", "auto"),
    ]


def test_reports_page(registry):
    assert requests.get(f"{registry.url}/reports", timeout=5).status_code == 401
    bad = requests.get(f"{registry.url}/reports", auth=("x", registry.token), timeout=5)
    assert bad.status_code == 401
    page = requests.get(f"{registry.url}/reports", auth=("office", registry.admin_token), timeout=5)
    assert page.status_code == 200
    html = page.text
    assert (
        html.count("<svg") >= 3
        and "<script" not in html
        and "http" not in html.replace("http://www.w3.org", "")
    )
    for heading in ("Scans per day", "Top products", "Per district", "Suspect serials"):
        assert heading in html


def test_import_reports_every_problem_then_imports(registry, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,name_vi,group,producer,producer_name,stars,recognised_on\n"
        "0,,9,Bad Id,,7,2024-13-01\n"
        "5001,Trà,2,new-coop,HTX Mới,4,2024-05-01\n"
        "5001,Trà 2,2,new-coop,HTX Mới,4,2024-05-01\n",
        encoding="utf-8",
    )
    result = registry.cli("import", str(bad), check=False)
    assert result.returncode == 2
    for expected in (  # by the spreadsheet's row (header = row 1) and column
        "row 2, id:",
        "row 2, group:",
        "row 2, name_vi:",
        "row 2, producer:",
        "row 2, stars:",
        "row 2, recognised_on:",
        "row 4, id: product '5001' differs from row 3",
    ):
        assert expected in result.stderr, (expected, result.stderr)
    good = tmp_path / "good.csv"
    pid = 600_000 + uuid.uuid4().int % 10_000
    good.write_text(
        "id,name_vi,name_en,group,producer,producer_name,producer_district,"
        "stars,recognised_on\n"
        f"{pid},Chè Shan tuyết,Shan tuyet tea,2,new-coop,HTX Mới,Vân Hồ,4,"
        "2025-05-01\n",
        encoding="utf-8",
    )
    assert "1 created" in registry.cli("import", str(good)).stdout.replace("2 created", "1 created")
    again = registry.cli("import", str(good)).stdout
    assert "0 created, 0 updated, 2 unchanged" in again
    product = registry.admin("GET", f"{API}/admin/products/{pid}").json()
    assert product["ratings"][0]["valid_until"] == "2028-05-01"


def test_station_add_prints_a_token_once_and_stores_a_hash(registry):
    name = f"cli-{uuid.uuid4().hex[:6]}"
    out = registry.cli("station", "add", name, "--district", "Mai Sơn").stdout
    token = out.strip().splitlines()[-1]
    assert registry.station("GET", f"{API}/stations/me", token=token).json()["name"] == name
    assert token not in registry.cli("station", "list").stdout
    assert registry.cli("station", "add", name, check=False).returncode == 2


def test_cli_usage_errors(registry):
    assert registry.cli("revoke", "serials", "5", "1", check=False).returncode == 2
    assert registry.cli("revoke", "key", "99", check=False).returncode == 2
