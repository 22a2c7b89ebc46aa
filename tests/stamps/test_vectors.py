"""The test vectors published in docs/stamp-format.md are what the code produces."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import segno

from ocop.stamps.codec import (
    StampFields,
    encode_legacy_stamp_url,
    parse_stamp_text,
    stamp_qr_segments,
)
from ocop.stamps.keys import private_key_from_seed, public_key_b64
from ocop.stamps.signer import StampSigner
from ocop.stamps.trust import verify_signed_trust_list
from ocop.stamps.verdicts import Verdict
from tests.stamps.conftest import BASE_URL, make_tl, make_verifier, signed

DOC = Path(__file__).resolve().parents[2] / "docs" / "stamp-format.md"


def _block(marker: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(re.escape(marker) + r"\s*```json\n(.*?)```", text, re.DOTALL)
    assert m, f"{marker} block missing from {DOC}"
    return m.group(1)


VECTORS = json.loads(_block("<!-- stamp-test-vectors -->"))


def test_there_are_vectors():
    assert len(VECTORS) >= 3


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: f"key{v['key_id']}-serial{v['serial']}")
def test_stamp_vector(v):
    key = private_key_from_seed(bytes.fromhex(v["seed"]))
    assert public_key_b64(key) == v["public_key"]
    fields = StampFields(
        key_id=v["key_id"],
        product_id=v["product_id"],
        serial=v["serial"],
        issued_on=dt.date.fromisoformat(v["issued_on"]),
    )
    assert fields.header().hex() == v["header_hex"]
    assert StampSigner(v["key_id"], key, BASE_URL).sign_fields(fields) == v["text"]
    assert v["text"].startswith("https://")
    parsed = parse_stamp_text(v["text"], BASE_URL)
    assert parsed.fields == fields
    key.public_key().verify(parsed.signature, parsed.signed_message)
    # the legacy spelling of the same bytes (stamps printed before issue 15) stays valid
    assert encode_legacy_stamp_url(fields, parsed.signature, BASE_URL) == v["legacy_url"]
    assert parse_stamp_text(v["legacy_url"], BASE_URL) == parsed
    assert segno.make(v["legacy_url"], error="m", boost_error=False).version <= 6
    from segno import consts

    modes = {"byte": consts.MODE_BYTE, "alphanumeric": consts.MODE_ALPHANUMERIC}
    modes["numeric"] = consts.MODE_NUMERIC
    segments = [(t, modes[m]) for t, m in stamp_qr_segments(v["text"])]
    assert segno.make(segments, error="m", boost_error=False).version <= 6


def test_trust_list_vector(keys):
    from ocop.stamps.trust import RevokedRange

    blob = _block("<!-- trust-list-test-vector -->").strip()
    tl = make_tl(
        keys, revoked_ranges=[RevokedRange(500, 599, "stolen station")], suspect_serials=[42]
    )
    assert signed(keys, tl) == blob
    verified = verify_signed_trust_list(blob, keys.root_b64)
    verifier = make_verifier(verified)
    assert (
        verifier.verify(VECTORS[0]["text"], today=dt.date(2026, 11, 29)).verdict is Verdict.GENUINE
    )
    assert (
        verifier.verify(VECTORS[0]["legacy_url"], today=dt.date(2026, 11, 29)).verdict
        is Verdict.GENUINE
    )
