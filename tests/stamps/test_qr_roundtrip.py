"""A stamp printed as a QR and read back by the real decoders (zxing-cpp, pyzbar) verifies."""

import io

import pytest
import segno

from ocop.stamps.verdicts import Verdict
from tests.stamps.conftest import ISSUED, TODAY

zxingcpp = pytest.importorskip("zxingcpp")
Image = pytest.importorskip("PIL.Image")


def test_qr_image_decodes_to_the_exact_text_and_verifies(verifier, keys):
    """The legacy spelling (stamps printed before issue 15) still reads and verifies."""
    from ocop.stamps.codec import encode_legacy_stamp_url, parse_stamp_text
    from tests.stamps.conftest import BASE_URL

    parsed = parse_stamp_text(keys.signer1.sign(101, 2**40 - 1, ISSUED), BASE_URL)
    text = encode_legacy_stamp_url(parsed.fields, parsed.signature, BASE_URL)
    qr = segno.make(text, error="m", boost_error=False)
    assert qr.version == 6 and qr.symbol_size(scale=1, border=0) == (41, 41)
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=4, border=4)
    image = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [text]
    assert verifier.verify(results[0].text, today=TODAY).verdict is Verdict.GENUINE
