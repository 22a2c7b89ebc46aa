from __future__ import annotations

import unicodedata

import numpy as np
import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from printer.label import (
    LabelContent,
    LabelError,
    LabelLayout,
    fit_text,
    get_font,
    missing_glyphs,
    normalize_text,
    render_label,
    render_label_info,
    save_preview,
)

URL = "HTTPS://OCOP.SONLA.GOV.VN/S/1A2B3C4D5E6F7G8H"


def content(**kw) -> LabelContent:
    base = dict(
        qr_text=URL,
        title="Chè Shan tuyết cổ thụ Tà Xùa",
        producer="HTX Nông nghiệp Bắc Yên",
        district="Huyện Bắc Yên",
        stars=4,
        serial_text="Số 000 012 345",
    )
    base.update(kw)
    return LabelContent(**base)


def ink(img) -> np.ndarray:
    """True where the label is black."""
    return ~np.array(img, dtype=bool)


def decode_qr(img) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img.convert("L"))]


@pytest.mark.parametrize("width", [384, 576])
def test_label_is_1bit_full_width_and_qr_decodes(width):
    r = render_label_info(content(), LabelLayout(width_dots=width))
    assert r.image.mode == "1"
    assert r.image.width == width
    assert decode_qr(r.image) == [URL]


@pytest.mark.parametrize("width", [384, 576])
def test_qr_module_size_and_quiet_zone(width):
    r = render_label_info(content(), LabelLayout(width_dots=width))
    assert r.module_dots >= 4
    a = ink(r.image)
    x0, y0, x1, y1 = r.qr_box
    # Finder pattern at the top-left: a 7-module dark run on the first row of the symbol.
    row = a[y0, x0:x1]
    run = int(np.argmin(row)) if not row.all() else len(row)
    assert run == 7 * r.module_dots
    # Pixel-exact modules: every module is a uniform module_dots x module_dots square.
    sym = a[y0:y1, x0:x1]
    n = (x1 - x0) // r.module_dots
    blocks = sym.reshape(n, r.module_dots, n, r.module_dots)
    assert (blocks.min(axis=(1, 3)) == blocks.max(axis=(1, 3))).all()
    # Quiet zone: at least 4 modules of white around the symbol, fully inside the label.
    q = r.quiet_dots
    assert q >= 4 * r.module_dots
    assert x0 - q >= 0 and y0 - q >= 0
    assert x1 + q <= r.image.width and y1 + q <= r.image.height
    zone = a[y0 - q : y1 + q, x0 - q : x1 + q].copy()
    zone[q:-q, q:-q] = False
    assert not zone.any()


def test_qr_keeps_alphanumeric_mode_and_level_m():
    import segno

    r = render_label_info(content(), LabelLayout())
    q = segno.make(URL, error="m", boost_error=False)
    assert q.mode == "alphanumeric"
    assert r.qr_version == q.version


def test_vietnamese_glyphs_are_not_tofu():
    text = "Mộc Châu Đ ắằẳẵặ ếềểễệ ốồổỗộ ớờởỡợ ứừửữự ỳỵỷỹ ĐđƠơƯư"
    assert missing_glyphs(text) == set()
    assert missing_glyphs(text, "bold") == set()
    assert missing_glyphs("中") == {"中"}  # a CJK character is reported
    font = get_font("regular", 32)
    notdef = bytes(font.getmask("\U0010fffd", mode="1"))
    masks = {}
    for ch in "MộcChâuĐ":
        m = font.getmask(ch, mode="1")
        assert m.size[0] > 0 and m.size[1] > 0
        assert bytes(m) != notdef
        masks[ch] = (m.size, bytes(m))
    assert len(set(masks.values())) == len(masks)  # distinct characters, distinct glyphs


def test_text_is_nfc_normalised():
    decomposed = unicodedata.normalize("NFD", "Mộc Châu")
    assert decomposed != "Mộc Châu"
    assert normalize_text(decomposed) == "Mộc Châu"
    a = render_label(content(title=decomposed))
    b = render_label(content(title="Mộc Châu"))
    assert a.tobytes() == b.tobytes()


def _ink_runs_right_of_mark(r) -> int:
    """Number of separate ink column runs in the mark row: the mark bar + one per star."""
    a = ink(r.image)
    x = r.qr_box[2] + r.quiet_dots
    band = a[: r.qr_box[1] + 4 * r.module_dots, x:]  # the top row of the text column
    first_row_with_ink = int(np.argmax(band.any(axis=1)))
    band = band[first_row_with_ink : first_row_with_ink + 24]
    cols = band.any(axis=0).astype(np.int8)
    return int(((cols[1:] == 1) & (cols[:-1] == 0)).sum() + cols[0])


def _plan_for(c, layout):
    from printer.label import _choose_plan, qr_image

    qr, _ = qr_image(c.qr_text, layout.qr_module_dots)
    return _choose_plan(c, layout, qr.size[0], layout.quiet_modules * layout.qr_module_dots)


@pytest.mark.parametrize("width", [384, 576])
@pytest.mark.parametrize("stars", [None, 1, 3, 5])
def test_stars_only_when_given(stars, width):
    c, layout = content(stars=stars), LabelLayout(width_dots=width)
    r, plan = render_label_info(c, layout), _plan_for(c, layout)
    if not plan.stars_below_mark:
        assert _ink_runs_right_of_mark(r) == 1 + (stars or 0)
        return
    # Narrow label: the stars have their own row under the mark.
    from printer.label import _mark_row_height

    row_h = _mark_row_height(plan.mark, plan.stars, plan.star_size, True)
    y = plan.text_y + row_h - plan.star_size
    band = ink(r.image)[y : y + plan.star_size, plan.text_x :]
    cols = band.any(axis=0).astype(np.int8)
    assert int(((cols[1:] == 1) & (cols[:-1] == 0)).sum() + cols[0]) == stars


def test_stars_must_be_1_to_5():
    with pytest.raises(LabelError):
        content(stars=6)
    with pytest.raises(LabelError):
        content(stars=0)


@pytest.mark.parametrize("width", [384, 576])
def test_long_text_wraps_shrinks_and_stays_inside(width):
    long = content(
        title="Mật ong hoa rừng nguyên chất Mộc Châu đặc biệt thượng hạng loại một xuất khẩu " * 2,
        producer="Công ty TNHH Một thành viên Thương mại Dịch vụ Nông sản Sạch Tây Bắc Việt Nam",
        district="Huyện Mộc Châu, tỉnh Sơn La, Việt Nam, vùng Tây Bắc",
        footer="Lô 2024-07-15 · HSD 2025-07-15 · Khối lượng tịnh 500 g · Bảo quản nơi khô ráo",
    )
    r = render_label_info(long, LabelLayout(width_dots=width))
    assert r.image.width == width
    assert decode_qr(r.image) == [URL]
    # Nothing touches the right edge or the bottom edge (would mean clipping).
    a = ink(r.image)
    assert not a[:, -2:].any()
    assert not a[-2:, :].any()


def test_a_single_very_long_word_is_broken_not_clipped():
    word = "Đ" * 80
    r = render_label_info(content(title=word, producer="", district="", stars=None), LabelLayout())
    a = ink(r.image)
    assert not a[:, -2:].any()


def test_fit_text_prefers_wrap_then_shrink_then_ellipsis():
    from printer.label import TextSpec

    spec = TextSpec("bold", 26, 15, 2)
    short = fit_text("Chè", 200, spec)
    assert short.lines == ("Chè",) and short.size_px == 26 and not short.truncated
    wrapped = fit_text("Chè Shan tuyết cổ thụ Tà Xùa", 200, spec)
    assert len(wrapped.lines) == 2 and not wrapped.truncated
    for line in wrapped.lines:
        assert get_font("bold", wrapped.size_px).getlength(line) <= 200
    cut = fit_text("Chè Shan tuyết cổ thụ Tà Xùa " * 10, 200, spec)
    assert cut.truncated and cut.lines[-1].endswith("…") and cut.size_px == 15


def test_fixed_height_shrinks_text_or_refuses():
    natural = render_label(content(footer="Lô 2024-07"), LabelLayout())
    squeezed = render_label_info(
        content(footer="Lô 2024-07"), LabelLayout(height_dots=natural.height - 15)
    )
    assert squeezed.image.height == natural.height - 15
    assert squeezed.text_size_factor < 1
    assert decode_qr(squeezed.image) == [URL]
    with pytest.raises(LabelError):
        render_label(content(), LabelLayout(height_dots=100))  # the QR code alone needs more
    assert render_label(content(), LabelLayout(height_mm=40)).height == round(40 * 203 / 25.4)


def test_layout_validation():
    with pytest.raises(LabelError):
        LabelLayout(module_dots=3)
    with pytest.raises(LabelError):
        LabelLayout(quiet_modules=2)
    with pytest.raises(LabelError):
        LabelLayout(width_dots=385)
    with pytest.raises(LabelError):
        LabelLayout.for_paper_mm(70)
    assert LabelLayout.for_paper_mm(80).width_dots == 576
    with pytest.raises(LabelError):
        render_label(content(qr_text="X" * 2000), LabelLayout())  # QR wider than the paper


def test_stacked_arrangement_for_big_codes():
    long_url = "https://ocop.sonla.gov.vn/stamp/verify?id=" + "a1b2c3d4" * 12
    r = render_label_info(content(qr_text=long_url), LabelLayout(width_dots=384))
    assert r.arrangement == "stacked"
    assert decode_qr(r.image) == [long_url]


def test_preview_writes_png(tmp_path):
    path = save_preview(content(), LabelLayout(), tmp_path / "out.png")
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG" and im.width == 384


def test_rendering_is_deterministic_and_cache_safe():
    a = render_label(content(serial_text="Số 1"))
    b = render_label(content(serial_text="Số 2"))
    c = render_label(content(serial_text="Số 1"))
    assert a.tobytes() == c.tobytes() != b.tobytes()
    a.paste(0, (0, 0, 50, 50))  # mutating a returned image must not leak into the cache
    assert render_label(content(serial_text="Số 1")).tobytes() == c.tobytes()


vietnamese = st.text(
    alphabet=st.sampled_from(
        list(
            "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệ"
            "íìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵĐƠƯ "
        )
    ),
    min_size=0,
    max_size=120,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=vietnamese, producer=vietnamese, stars=st.one_of(st.none(), st.integers(1, 5)))
def test_any_text_renders_inside_the_label(title, producer, stars):
    r = render_label_info(content(title=title, producer=producer, stars=stars), LabelLayout())
    a = ink(r.image)
    assert r.image.width == 384
    assert not a[:, -2:].any()
    assert decode_qr(r.image) == [URL]


def test_cli_preview(tmp_path):
    from printer.__main__ import main

    out = tmp_path / "out.png"
    rc = main(
        [
            "label",
            "--qr",
            URL,
            "--title",
            "Mộc Châu",
            "--serial",
            "Số 1",
            "--stars",
            "3",
            "--paper",
            "80",
            "--preview",
            str(out),
        ]
    )
    assert rc == 0
    from PIL import Image

    with Image.open(out) as im:
        assert im.width == 576
        assert decode_qr(im) == [URL]


def test_ocop_mark_is_never_shortened_on_narrow_labels():
    """58 mm with five stars: the stars move under the mark instead of eliding it."""
    from printer.label import LabelContent, LabelLayout, _choose_plan, qr_image

    content = LabelContent(
        qr_text="HTTPS://OCOP.SONLA.GOV.VN/S/" + "A" * 122,
        title="Cà phê bột nguyên chất Bích Thao",
        serial_text="Số/No. 1",
        producer="HTX Cà phê Bích Thao",
        district="Thành phố Sơn La",
        stars=5,
    )
    for width in (384, 576):
        layout = LabelLayout(width_dots=width)
        qr, _ = qr_image(content.qr_text, layout.qr_module_dots)
        plan = _choose_plan(
            content, layout, qr.size[0], layout.quiet_modules * layout.qr_module_dots
        )
        assert plan.mark.lines == ("OCOP Sơn La",) and not plan.mark.truncated


# --------------------------------------------------------------------------------------
# QR encoder: zxing-cpp's writer for ASCII text (fast mask search), segno otherwise
# --------------------------------------------------------------------------------------

STAMP_PREFIX = "HTTPS://OCOP.SONLA.GOV.VN/S/"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _stamp(rng) -> str:
    return STAMP_PREFIX + "".join(BASE32[i] for i in rng.integers(0, 32, 122))


def _format_mask(dark: np.ndarray) -> tuple[int, int]:
    """(EC level bits, mask) from the format information next to the top-left finder."""
    row_bits = [dark[8, c] for c in (0, 1, 2, 3, 4, 5, 7, 8)]
    bits = row_bits + [dark[r, 8] for r in (7, 5, 4, 3, 2, 1, 0)]
    value = 0
    for b in bits:
        value = (value << 1) | int(b)
    value ^= 0b101010000010010
    return value >> 13, (value >> 10) & 7


def _pyzbar_texts(img) -> list[str]:
    from pyzbar import pyzbar

    return [d.data.decode("latin-1") for d in pyzbar.decode(img.convert("L"))]


def test_stamp_qr_is_version_6_m_alphanumeric_and_both_decoders_read_it():
    import segno

    from printer.label import _zxing_matrix, qr_matrix

    rng = np.random.default_rng(7)
    for _ in range(12):
        text = _stamp(rng)
        assert len(text) == 150
        dark = _zxing_matrix(text)
        assert dark is not None, "the fast encoder is used for stamps"
        cached, version = qr_matrix(text)
        assert (cached == dark).all() and version == 6 and dark.shape == (41, 41)
        ec_bits, mask = _format_mask(dark)
        assert ec_bits == 0b00  # level M
        # Same data and EC codewords as segno in alphanumeric mode: only the mask may differ,
        # and with segno forced to zxing-cpp's mask the symbols are identical module by module.
        ref = segno.make(text, error="m", boost_error=False, micro=False, mask=mask)
        assert ref.mode == "alphanumeric" and ref.version == 6
        assert (np.array(ref.matrix, dtype=bool) == dark).all()
        r = render_label_info(content(qr_text=text), LabelLayout(width_dots=384))
        assert r.qr_version == 6
        assert decode_qr(r.image) == [text]
        assert _pyzbar_texts(r.image) == [text]
        assert zxingcpp.read_barcodes(r.image.convert("L"))[0].ec_level == "M"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(
        alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=400
    )
)
def test_ascii_qr_never_needs_a_bigger_version_than_segno(text):
    import segno
    from PIL import Image

    from printer.label import qr_matrix

    dark, version = qr_matrix(text)
    ref = segno.make(text, error="m", boost_error=False, micro=False)
    assert version <= ref.version
    assert dark.shape[0] == 17 + 4 * version
    assert _format_mask(dark)[0] == 0b00  # level M
    img = Image.fromarray(np.pad(~dark, 4, constant_values=True)).resize(
        ((dark.shape[0] + 8) * 4,) * 2, Image.NEAREST
    )
    assert decode_qr(img) == [text]
    assert _pyzbar_texts(img) == [text]


def test_non_ascii_qr_text_keeps_segno():
    import segno

    from printer.label import _zxing_matrix, qr_matrix

    text = "https://ocop.sonla.gov.vn/sản-phẩm/101"
    assert _zxing_matrix(text) is None
    dark, version = qr_matrix(text)
    ref = segno.make(text, error="m", boost_error=False, micro=False)
    assert version == ref.version and (dark == np.array(ref.matrix, dtype=bool)).all()


def test_too_long_qr_text_is_refused():
    import segno

    with pytest.raises(segno.DataOverflowError):
        render_label(content(qr_text="a" * 3000))


# --------------------------------------------------------------------------------------
# Minimum height: measured by the renderer, one source for config check and the queue
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [384, 576])
@pytest.mark.parametrize("title", ["Chè", "Cà phê bột nguyên chất Bích Thao " * 6])
def test_min_height_is_the_shortest_label_that_renders(width, title):
    from printer.label import LabelTooShort, min_height_dots

    c = content(qr_text=STAMP_PREFIX + "Z" * 122, title=title, footer="Lô/Lot 2026-11")
    needed = min_height_dots(c, LabelLayout(width_dots=width))
    r = render_label_info(c, LabelLayout(width_dots=width, height_dots=needed))
    assert r.image.height == needed
    assert decode_qr(r.image) == [c.qr_text]  # the QR kept its full module size
    assert r.module_dots == (4 if width == 384 else 5)
    with pytest.raises(LabelTooShort) as info:
        render_label(c, LabelLayout(width_dots=width, height_dots=needed - 1))
    assert info.value.needed_dots == needed
    assert isinstance(info.value, LabelError)


def test_needed_mm_is_the_smallest_whole_mm_that_fits():
    from printer.label import LabelTooShort, min_height_dots, whole_mm_for_dots

    c = content(qr_text=STAMP_PREFIX + "Z" * 122)
    needed = min_height_dots(c, LabelLayout(width_dots=384))
    mm = whole_mm_for_dots(needed)
    render_label(c, LabelLayout(width_dots=384, height_mm=mm))
    with pytest.raises(LabelTooShort) as info:
        render_label(c, LabelLayout(width_dots=384, height_mm=mm - 1))
    assert info.value.needed_mm == mm
    assert f"at least {mm} mm" in str(info.value)
