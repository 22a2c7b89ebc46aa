"""Decoders on real photos, character sets, product barcodes, the budgeted pipeline."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from scanner.decoders import (
    CodeFormat,
    DecodePipeline,
    FallbackPolicy,
    PyzbarDecoder,
    ZxingDecoder,
    decode_text_bytes,
    fix_zbar_text,
    to_gray,
)
from tests.scanner.helpers import PHOTOS, blank_frame, ean13_image, qr_frame


def normalise(text: str) -> str:
    """Expected .txt files differ in line ends and in one trailing newline: compare modulo both."""
    text = text.replace("\r\n", "\n")
    return text[:-1] if text.endswith("\n") else text


def photo_cases() -> list[tuple[Path, str]]:
    cases = []
    for png in sorted(PHOTOS.glob("qrcode-*/*.png")):
        cases.append((png, normalise(png.with_suffix(".txt").read_bytes().decode("utf-8"))))
    return cases


CASES = photo_cases()
ASCII = [(p, t) for p, t in CASES if t.isascii()]
NON_ASCII = [(p, t) for p, t in CASES if not t.isascii()]
# qrcode-2/13.png is an artistic QR whose .txt says "photograph": every decoder we have reads
# "photography" (the text of its twin 12.png), zxing-cpp reads nothing. Kept visible, not hidden.
KNOWN_MISMATCH = {"qrcode-2/13.png"}


def _id(case) -> str:
    return f"{case[0].parent.name}/{case[0].name}"


def test_photo_set_is_complete():
    assert len(CASES) == 97 and len(ASCII) == 83 and len(NON_ASCII) == 14


@pytest.fixture(scope="module")
def file_pipeline() -> DecodePipeline:
    return DecodePipeline.for_files()


@pytest.mark.parametrize("case", ASCII, ids=_id)
def test_real_ascii_photo_decodes(case, file_pipeline):
    png, expected = case
    if _id(case) in KNOWN_MISMATCH:
        pytest.xfail("expected text disagrees with every decoder (see KNOWN_MISMATCH)")
    texts = [normalise(t) for t in file_pipeline.decode(cv2.imread(str(png))).texts]
    assert expected in texts


@pytest.mark.parametrize("case", NON_ASCII, ids=_id)
def test_real_shift_jis_and_utf8_photo_decodes_with_right_charset(case, file_pipeline):
    png, expected = case
    texts = [normalise(t) for t in file_pipeline.decode(cv2.imread(str(png))).texts]
    assert expected in texts


def test_live_pipeline_reads_at_least_95_percent_of_ascii_photos():
    pipeline = DecodePipeline()
    read = sum(
        expected in [normalise(t) for t in pipeline.decode(cv2.imread(str(png))).texts]
        for png, expected in ASCII
    )
    assert read / len(ASCII) >= 0.95, read


def test_pyzbar_decoder_returns_shift_jis_text_correctly():
    """Plain pyzbar returns these as mojibake; our binary-mode decoder gets every one it finds."""
    decoder = PyzbarDecoder([CodeFormat.QR])
    found = right = 0
    for png, expected in NON_ASCII:
        texts = [normalise(c.text) for c in decoder.decode(to_gray(cv2.imread(str(png))))]
        found += bool(texts)
        right += expected in texts
    assert found >= 10
    assert right == found


@pytest.mark.parametrize(
    "raw, text",
    [
        (b"HTTPS://OCOP.SONLA.GOV.VN/S/ABC", "HTTPS://OCOP.SONLA.GOV.VN/S/ABC"),
        ("Sơn La đặc sản".encode(), "Sơn La đặc sản"),
        ("ﾃﾞｻﾞｲﾝQR".encode("cp932"), "ﾃﾞｻﾞｲﾝQR"),
        ("今度のバージョン".encode("shift_jis"), "今度のバージョン"),
        ("Café".encode("latin-1"), "Café"),
    ],
)
def test_decode_text_bytes_guesses_charset(raw, text):
    assert decode_text_bytes(raw) == text


def test_fix_zbar_text_repairs_utf8_taken_for_shift_jis():
    mojibake = "測試".encode().decode("cp932")  # what zbar's guess produces
    assert mojibake != "測試"
    assert fix_zbar_text(mojibake) == "測試"
    assert fix_zbar_text("ﾃﾞｻﾞｲﾝ") == "ﾃﾞｻﾞｲﾝ"  # correct Shift_JIS text stays as it is
    assert fix_zbar_text("plain ascii") == "plain ascii"


@pytest.mark.parametrize(
    "digits12, fmt",
    [
        ("893604000123", CodeFormat.EAN13),  # 893 = Vietnam GS1 prefix
        ("036000291452", CodeFormat.UPCA),  # leading 0: a UPC-A code
    ],
)
@pytest.mark.parametrize("decoder_cls", [ZxingDecoder, PyzbarDecoder])
def test_product_barcodes(digits12, fmt, decoder_cls):
    image, code = ean13_image(digits12)
    frame = np.full((480, 640), 200, np.uint8)
    frame[100 : 100 + image.shape[0], 100 : 100 + image.shape[1]] = image
    decoder = decoder_cls()
    codes = decoder.decode(frame)
    expected_text = code[1:] if fmt is CodeFormat.UPCA else code
    assert [(c.text, c.format) for c in codes] == [(expected_text, fmt)]


def test_rotated_product_barcode_read_on_rotation_frames_only():
    image, code = ean13_image("893604000123")
    frame = np.full((640, 480), 200, np.uint8)
    rotated = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    frame[50 : 50 + rotated.shape[0], 100 : 100 + rotated.shape[1]] = rotated
    pipeline = DecodePipeline(fallback=FallbackPolicy.NEVER, rotate_linear_every=3)
    results = [pipeline.decode(frame) for _ in range(3)]
    assert [r.texts for r in results] == [[code], [], []]
    assert "zxing:linear+rot" in results[0].steps and "zxing:linear" in results[1].steps


def test_pipeline_reads_qr_with_position_and_decoder_name():
    frame = qr_frame("HTTPS://OCOP.SONLA.GOV.VN/S/QUAD", module_px=4, at=(100, 50))
    result = DecodePipeline().decode(frame)
    (code,) = result.codes
    assert code.text == "HTTPS://OCOP.SONLA.GOV.VN/S/QUAD"
    assert code.format is CodeFormat.QR and code.decoder == "zxing"
    xs = [p[0] for p in code.quad]
    ys = [p[1] for p in code.quad]
    assert 100 <= min(xs) <= 100 + 4 * 5 and 50 <= min(ys) <= 50 + 4 * 5
    assert result.hint is None and result.decode_ms > 0


def test_pipeline_on_blank_frame_reports_nothing():
    result = DecodePipeline().decode(blank_frame(7))
    assert result.codes == () and result.hint is None


def test_live_pipeline_skips_fallback_steps_that_do_not_fit_the_budget():
    """Budget 0: zxing-cpp always runs, pyzbar never (deterministic, no timing asserted)."""
    pipeline = DecodePipeline(budget_ms=0.0, fallback=FallbackPolicy.ALWAYS)
    result = pipeline.decode(blank_frame(8))
    assert not any(step.startswith("pyzbar") for step in result.steps)
    thorough = DecodePipeline(budget_ms=10_000.0, fallback=FallbackPolicy.ALWAYS)
    steps = thorough.decode(blank_frame(8)).steps
    assert [s for s in steps if s.startswith("pyzbar")] == [
        "pyzbar:plain@frame",
        "pyzbar:half@frame",
        "pyzbar:otsu@frame",
        "pyzbar:adaptive@frame",
        "pyzbar:clahe@frame",
    ]


def test_pipeline_falls_back_to_pyzbar_when_zxing_reads_nothing(monkeypatch):
    frame = qr_frame("HTTPS://OCOP.SONLA.GOV.VN/S/FALLBACK")
    pipeline = DecodePipeline.for_files()
    monkeypatch.setattr(pipeline._zxing, "decode_qr", lambda gray, *a, **k: ([], []))
    (code,) = pipeline.decode(frame).codes
    assert code.decoder == "pyzbar" and code.text == "HTTPS://OCOP.SONLA.GOV.VN/S/FALLBACK"


def test_hint_when_a_qr_is_seen_but_unreadable():
    """A QR with a smeared data area: zxing-cpp locates it (finder patterns) but cannot read it."""
    frame = qr_frame("HTTPS://OCOP.SONLA.GOV.VN/S/" + "A" * 60, module_px=5, at=(120, 40))
    gray = to_gray(frame).copy()
    rng = np.random.default_rng(5)
    # Flip ~35% of the modules of the data area (between the finder patterns), keep finders.
    x0, y0, module = 120 + 20, 40 + 20, 5
    size = (gray.shape[1] - x0) // module
    for row in range(9, 30):
        for col in range(9, 30):
            if rng.random() < 0.35:
                ys, xs = y0 + row * module, x0 + col * module
                gray[ys : ys + module, xs : xs + module] = 255 - gray[ys, xs]
    assert size > 30
    result = DecodePipeline(fallback=FallbackPolicy.NEVER).decode(gray)
    assert result.codes == ()
    assert result.hint is not None
