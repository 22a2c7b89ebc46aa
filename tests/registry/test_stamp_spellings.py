"""Issue 15: the registry (real process) issues the current spelling ('https://' + upper-case
host/path + 184 digits) and accepts both it and the legacy upper-case base32 spelling on its
public /S/{code} page and in scan uploads; mixed or re-cased spellings are refused."""

from __future__ import annotations

import uuid

import pytest
import requests

from ocop.stamps.codec import (
    PAYLOAD_DIGITS,
    encode_legacy_stamp_url,
    normalise_base_url,
    parse_stamp_text,
)

API = "/api/v1"
BASE_URL = normalise_base_url("https://ocop.sonla.gov.vn/s/")


def _stamp(reg) -> str:
    return reg.issue_block()["stamps"][0]


def _legacy(text: str) -> str:
    parsed = parse_stamp_text(text, BASE_URL)
    return encode_legacy_stamp_url(parsed.fields, parsed.signature, BASE_URL)


def _upload(reg, text: str) -> dict:
    item = {
        "kind": "scan",
        "idempotency_key": f"s-{uuid.uuid4().hex}",
        "payload": {"scanned_at": "2026-11-29T10:00:00Z", "text": text, "verdict": "genuine"},
    }
    reply = reg.station("POST", f"{API}/uploads", json={"items": [item]})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_registry_issues_the_current_spelling(registry):
    stamp = _stamp(registry)
    assert stamp.startswith("https://OCOP.SONLA.GOV.VN/S/")
    assert len(stamp) == len("https://OCOP.SONLA.GOV.VN/S/") + PAYLOAD_DIGITS


@pytest.mark.parametrize("spelling", ["current", "legacy"])
def test_stamp_page_for_both_spellings(registry, spelling):
    stamp = _stamp(registry)
    text = stamp if spelling == "current" else _legacy(stamp)
    code = text.rsplit("/", 1)[1]
    for prefix in ("/S/", "/s/"):  # the path as printed, and lower-cased by a phone
        page = requests.get(f"{registry.url}{prefix}{code}", timeout=5)
        assert page.status_code == 200, page.text
        assert 'data-verdict="genuine"' in page.text


@pytest.mark.parametrize(
    "code",
    ["1" + "0" * (PAYLOAD_DIGITS - 1), "9" * PAYLOAD_DIGITS, "0" * (PAYLOAD_DIGITS + 1)],
)
def test_bad_decimal_codes_are_400(registry, code):
    # 1 followed by zeros: version byte 0 after decoding; 9s: >= 2**608; 185 digits
    assert requests.get(f"{registry.url}/S/{code}", timeout=5).status_code == 400


def test_uploads_verify_both_spellings_and_refuse_mixed(registry):
    stamp = _stamp(registry)
    assert _upload(registry, stamp)["accepted"] == 1
    assert _upload(registry, _legacy(stamp))["accepted"] == 1
    mixed = "HTTPS://" + stamp[len("https://") :]  # upper-case scheme + decimal payload
    reply = _upload(registry, mixed)
    assert reply["accepted"] == 0, reply
    lowered = stamp.lower()  # a re-encoded, lower-cased host
    assert _upload(registry, lowered)["accepted"] == 0
