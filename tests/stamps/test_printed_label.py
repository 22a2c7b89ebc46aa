"""Issue 15: a printed stamp label's QR is a mixed-segment symbol (byte 'https://',
alphanumeric host/path, numeric payload) of version <= 6 at level M, and the real decoders
(zxing-cpp, pyzbar) read text that starts with 'https://' and verifies to the same fields."""

import datetime as dt

import numpy as np
import pytest

from kiosk.printing.queue import label_content
from ocop.stamps.codec import parse_stamp_text, stamp_qr_segments
from ocop.stamps.verdicts import Verdict
from printer.label import LabelLayout, qr_matrix, render_label_info
from tests.stamps.conftest import BASE_URL, ISSUED, TODAY

zxingcpp = pytest.importorskip("zxingcpp")
pyzbar = pytest.importorskip("pyzbar.pyzbar")


@pytest.mark.parametrize("serial", [1, 987654321, 2**40 - 1])
def test_printed_label_is_mixed_v6_m_and_decodes_to_https(verifier, keys, serial):
    text = keys.signer1.sign(101, serial, ISSUED)
    content = label_content(None, 101, text, serial)
    # the label carries the explicit segments, and they are the documented ones
    assert [m for _, m in content.qr_segments] == ["byte", "alphanumeric", "numeric"]
    assert content.qr_segments[0][0] == "https://"
    assert content.qr_segments == stamp_qr_segments(text)
    rendered = render_label_info(content, LabelLayout(width_dots=384))
    assert rendered.qr_version <= 6
    dark, version = qr_matrix(text, content.qr_segments)
    assert version == rendered.qr_version and dark.shape[0] == 17 + 4 * version

    image = rendered.image.convert("L")
    z = zxingcpp.read_barcodes(np.asarray(image))
    assert [r.text for r in z] == [text]
    assert z[0].ec_level == "M" and z[0].format == zxingcpp.BarcodeFormat.QRCode
    zb = pyzbar.decode(image)
    assert [r.data.decode("ascii") for r in zb] == [text]
    for read in (z[0].text, zb[0].data.decode("ascii")):
        assert read.startswith("https://")
        assert parse_stamp_text(read, BASE_URL).fields.serial == serial
        assert verifier.verify(read, today=TODAY).verdict is Verdict.GENUINE


def test_segments_are_what_the_symbol_holds(keys):
    """Without the explicit segments the same text would not fit version 6 in one mode."""
    import segno

    text = keys.signer1.sign(101, 1, ISSUED)
    with pytest.raises(segno.DataOverflowError):
        segno.make(text, error="m", boost_error=False, version=6)
    _, version = qr_matrix(text, stamp_qr_segments(text))
    assert version == 6


def test_legacy_label_prints_as_before(keys):
    from ocop.stamps.codec import encode_legacy_stamp_url

    parsed = parse_stamp_text(keys.signer1.sign(101, 5, dt.date(2025, 6, 1)), BASE_URL)
    legacy = encode_legacy_stamp_url(parsed.fields, parsed.signature, BASE_URL)
    content = label_content(None, 101, legacy, 5)
    assert content.qr_segments == ()
    assert render_label_info(content, LabelLayout(width_dots=384)).qr_version == 6
