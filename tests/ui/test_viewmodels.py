"""View-models, translations and the staff PIN without a window (plain Python)."""

from __future__ import annotations

import pytest

from kiosk.i18n import translator
from kiosk.viewmodels import (
    QL6_DISTRICTS,
    AttractViewModel,
    ProductCardViewModel,
    ResultViewModel,
    format_date,
    pin_message,
    scan_hint_text,
)
from tests.conftest import TODAY, run_cli


@pytest.fixture
def catalog(demo_store):
    from kiosk.catalog import Catalog

    return Catalog(demo_store, today=TODAY)


@pytest.fixture
def scans(demo_store, data_dir):
    from kiosk.demo.stamps import prepare_demo_stamps
    from kiosk.scanning import ScanService
    from kiosk.settings import Settings

    settings = Settings()
    stamps = {s.key: s for s in prepare_demo_stamps(demo_store, settings, data_dir)}
    return ScanService(demo_store, settings, today=TODAY), stamps


def test_catalogs_are_complete_and_compiled():
    from kiosk.i18n import build

    assert build.problems() == []


def test_translator_vietnamese_first_and_english():
    assert translator("vi")("Scan a stamp") == "Quét tem"
    assert translator("en")("Scan a stamp") == "Scan a stamp"
    assert translator("xx")("Scan a stamp") == "Scan a stamp"


def test_every_verdict_has_a_colour_title_and_message_in_both_languages():
    from kiosk.viewmodels import TONE_COLOUR
    from ocop.stamps.verdicts import Verdict
    from ocop.tone import Tone

    assert set(TONE_COLOUR) == set(Tone)  # every tone has the kiosk's colour
    for verdict in Verdict:
        assert TONE_COLOUR[verdict.tone].startswith("#") and verdict.icon
        assert translator("vi")(verdict.title) != verdict.title
        assert verdict.message("vi") != verdict.message("en")


def test_genuine_result_shows_stars_level_year_and_valid_until(scans):
    service, stamps = scans
    outcome = service.handle_text(stamps["genuine"].text, "test")
    vm = ResultViewModel.from_outcome(outcome, "vi")
    assert (vm.verdict, vm.tone, vm.icon) == ("genuine", "ok", "✔")
    assert vm.title == "Tem OCOP chính hãng"
    assert vm.card.stars == 5 and vm.card.stars_text == "★★★★★"
    assert vm.card.rating_line == "OCOP 5 sao, cấp quốc gia · công nhận năm 2024"
    assert vm.card.valid_until_text == "Chứng nhận đến 30/06/2027"  # what is valid: the rating
    assert vm.scan_count == 1 and vm.scan_count_text.startswith("Lần đầu")
    en = ResultViewModel.from_outcome(outcome, "en")
    assert en.card.name == "Bích Thao pure ground coffee"
    assert en.card.valid_until_text == "Rating valid until 30 Jun 2027"
    again = ResultViewModel.from_outcome(service.handle_text(stamps["genuine"].text), "en")
    assert again.scan_count_text == "This stamp has been scanned 2 times at this kiosk."


def test_the_serial_on_screen_is_written_as_on_the_label(scans):
    """A shopper compares the number on screen with the one under the QR: same digits,
    same grouping ('0000 0000 0012'), not '12'."""
    from kiosk.printing.queue import label_content
    from ocop.stamps.serials import serial_digits

    service, stamps = scans
    outcome = service.handle_text(stamps["genuine"].text, "test")
    serial = outcome.verification.serial
    on_label = label_content(None, 101, stamps["genuine"].text, serial).serial_text
    for lang in ("vi", "en"):
        on_screen = ResultViewModel.from_outcome(outcome, lang).serial_text
        assert on_screen.endswith(serial_digits(serial)) and on_label.endswith(on_screen[-14:])
        assert len(serial_digits(serial).replace(" ", "")) == 12


def test_expired_rating_and_other_verdicts_show_no_stars(scans):
    service, stamps = scans
    expired = ResultViewModel.from_outcome(service.handle_text(stamps["expired"].text), "en")
    assert expired.verdict == "genuine_rating_expired" and expired.card.stars == 0
    assert expired.card.stars_text == "" and "expired" in expired.card.rating_note
    forged = ResultViewModel.from_outcome(service.handle_text(stamps["forged"].text), "vi")
    assert forged.verdict == "forged" and forged.card is None and forged.tone == "bad"
    barcode = ResultViewModel.from_outcome(service.handle_text(stamps["barcode"].text), "vi")
    assert barcode.verdict == "product_barcode"
    assert barcode.card is not None and barcode.card.stars == 0
    assert "tem thật" in barcode.card.rating_note
    other = ResultViewModel.from_outcome(service.handle_text(stamps["not_ocop"].text), "vi")
    assert other.verdict == "not_ocop" and other.card is None


def test_no_trust_list_is_a_calm_message():
    from types import SimpleNamespace

    vm = ResultViewModel.from_outcome(
        SimpleNamespace(verification=None, product=None, scan_count=0), "vi"
    )
    assert vm.verdict == "unavailable" and "nhân viên" in vm.message


def test_attract_view_model_in_reststop_mode_follows_ql6(catalog):
    vm = AttractViewModel.build(
        catalog.featured(), "en", "reststop", catalog.districts(), "Mộc Châu"
    )
    assert vm.heading == "OCOP products along QL6"
    assert [s.district for s in vm.route] == list(QL6_DISTRICTS)
    assert [s.here for s in vm.route] == [False, True, False, False, False, False]
    assert vm.route[4].label == "Sơn La city"
    assert all(s.count >= 0 for s in vm.route) and vm.slides


def test_product_card_for_pending_level(catalog):
    card = ProductCardViewModel.from_product(catalog.product(127), "vi")
    assert card.stars == 0 and "chờ xếp hạng" in card.rating_note


def test_small_helpers():
    assert format_date("2027-06-30", "vi") == "30/06/2027"
    assert format_date("2027-06-30", "en") == "30 Jun 2027"
    assert "closer" in scan_hint_text(40, "en")
    assert "blurred" in scan_hint_text(200, "en")
    assert pin_message("wrong", "en", 1) == "Wrong PIN. 1 attempt left."
    assert pin_message("locked", "vi", 0, 61) == "Nhập sai quá nhiều lần. Thử lại sau 1:01."


# --- staff PIN ----------------------------------------------------------------------------


def test_pin_hash_round_trip_and_format():
    from kiosk.staff_pin import PinFormatError, hash_pin, verify_pin

    encoded = hash_pin("1357", log2_n=10)
    assert encoded.startswith("scrypt$10$8$1$")
    assert verify_pin("1357", encoded)
    assert not verify_pin("1358", encoded)
    assert not verify_pin("1357", "plain-text-pin")
    assert hash_pin("1357", log2_n=10) != encoded  # salted
    with pytest.raises(PinFormatError):
        hash_pin("12a4")


def test_pin_gate_locks_out_and_the_lock_is_persisted(store):
    from kiosk.staff_pin import PinCheck, PinGate, hash_pin

    now = [1000.0]
    pin_hash = hash_pin("8642", log2_n=10)
    gate = PinGate(store, pin_hash, max_attempts=3, lockout_s=60, clock=lambda: now[0])
    assert gate.check("0000").check is PinCheck.WRONG
    assert gate.check("0000").attempts_left == 1
    assert gate.check("0000").check is PinCheck.LOCKED
    assert gate.check("8642").check is PinCheck.LOCKED
    restarted = PinGate(store, pin_hash, 3, 60, clock=lambda: now[0])
    assert restarted.locked_for_s() == pytest.approx(60)
    now[0] += 61
    assert restarted.check("8642").ok
    now[0] = 0.0  # the clock jumped back: the lock never lasts longer than lockout_s
    for _ in range(3):
        restarted.check("0000")
    now[0] = -10_000.0
    assert restarted.locked_for_s() <= 60


def test_demo_pin_only_on_demo_data(demo_store, tmp_path):
    from kiosk.staff_pin import PinCheck, PinGate
    from kiosk.store import Store

    assert PinGate(demo_store, "", 5, 60).check("2468").ok
    real = Store.in_dir(tmp_path)
    try:
        assert PinGate(real, "", 5, 60).check("2468").check is PinCheck.DISABLED
    finally:
        real.close()


def test_staff_hash_pin_command(tmp_path):
    done = run_cli("staff", "hash-pin", "--stdin", input_text="97531\n", timeout_s=60)
    assert done.returncode == 0, done.stderr
    line = done.stdout.splitlines()[1]
    from kiosk.staff_pin import verify_pin

    assert verify_pin("97531", line.split('"')[1])
    bad = run_cli("staff", "hash-pin", "--stdin", input_text="12\n", timeout_s=60)
    assert bad.returncode == 2 and "4 to 12 digits" in bad.stderr


@pytest.mark.ui
def test_screenshot_command_renders_a_png(tmp_path):
    from PIL import Image

    out = tmp_path / "result.png"
    done = run_cli(
        "screenshot",
        "--screen",
        "result",
        "--demo-stamp",
        "forged",
        "--lang",
        "en",
        "--size",
        "640x480",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    image = Image.open(out).convert("RGB")
    assert image.size == (640, 480)
    # the red banner under the top bar
    r, g, b = image.getpixel((320, 80))
    assert r > 150 and g < 80 and b < 80


def test_every_camera_state_has_words_in_both_languages():
    from kiosk.viewmodels import CAMERA_STATE_TEXT, camera_state_text
    from scanner.camera import CameraState

    assert set(CAMERA_STATE_TEXT) == {s.value for s in CameraState}
    for state in CameraState:
        assert camera_state_text(state, "vi") != camera_state_text(state.value, "en")
    assert camera_state_text("melted", "en") == "Camera off"


def test_related_products_are_the_same_producers_first_then_the_communes(catalog):
    products = catalog.all()
    by_producer: dict = {}
    for p in products:
        by_producer.setdefault(p.producer_id, []).append(p)
    product = next(p for ps in by_producer.values() if len(ps) > 1 for p in ps)
    related = catalog.related(product)
    assert product.id not in [r.id for r in related]
    assert 1 <= len(related) <= 4
    same_producer = [r.producer_id == product.producer_id for r in related]
    assert same_producer == sorted(same_producer, reverse=True)  # the producer's come first
    assert all(
        r.producer_id == product.producer_id
        or (r.commune == product.commune and r.district == product.district)
        for r in related
    )
    card = ProductCardViewModel.from_product(product, "vi", related=related)
    assert card.related == tuple((r.id, r.name_vi) for r in related)


def test_the_rating_decision_is_written_as_the_office_writes_it(catalog):
    import dataclasses

    product = dataclasses.replace(
        catalog.product(101),
        rating_decision_no="1234/QĐ-UBND",
        rating_recognised_on="2024-06-30",
        producer_address="Bản Hua La, xã Hua La",
        producer_phone="0212 3852 123",
    )
    vi = ProductCardViewModel.from_product(product, "vi")
    assert vi.decision_text == "Quyết định số 1234/QĐ-UBND ngày 30/06/2024"
    assert (vi.labels["address"], vi.labels["phone"]) == ("Địa chỉ", "Điện thoại")
    assert (vi.producer_address, vi.producer_phone) == ("Bản Hua La, xã Hua La", "0212 3852 123")
    en = ProductCardViewModel.from_product(product, "en")
    assert en.decision_text == "Decision no. 1234/QĐ-UBND of 30 Jun 2024"
    # a date alone names no decision: the line is left out
    no_number = dataclasses.replace(product, rating_decision_no="")
    assert ProductCardViewModel.from_product(no_number, "vi").decision_text == ""


def test_a_report_says_what_a_genuine_stamp_looks_like(scans):
    from kiosk.printing.sample import stamp_domain
    from kiosk.settings import DEFAULT_STAMP_BASE_URL

    service, stamps = scans
    outcome = service.handle_text(stamps["forged"].text, "test")
    domain = stamp_domain(DEFAULT_STAMP_BASE_URL)
    assert domain == "ocop.sonla.gov.vn"
    vi = ResultViewModel.from_outcome(outcome, "vi", "0212 000 0000", "", stamp_domain=domain)
    assert vi.genuine_caption.startswith("Tem thật trông như thế này:")
    assert "ocop.sonla.gov.vn" in vi.genuine_caption and "0000 0000 0123" in vi.genuine_caption
    assert "0212\u00a0000\u00a00000" in vi.hotline_text  # the number stays on one line
    genuine = service.handle_text(stamps["genuine"].text, "test")
    assert ResultViewModel.from_outcome(genuine, "vi", stamp_domain=domain).genuine_caption == ""


def test_the_sample_genuine_stamp_is_struck_through_so_no_decoder_reads_it(tmp_path):
    """The sample is the station's own label (a stamp text in the stamp's spelling: the real
    density) with its QR struck through: unstruck, every decoder reads it; struck, none."""
    import numpy as np
    from PIL import Image

    from kiosk.printing.sample import sample_content, sample_png
    from kiosk.settings import DEFAULT_STAMP_BASE_URL
    from ocop.stamps.codec import stamp_prefix
    from printer.label import render_label_info
    from tests.ui.every_decoder import every_reading

    label = render_label_info(sample_content(DEFAULT_STAMP_BASE_URL, 123))
    unstruck = np.asarray(label.image.convert("L"))
    read = every_reading(unstruck)
    assert len(read) == 1 and read.pop().startswith(stamp_prefix(DEFAULT_STAMP_BASE_URL))
    path = sample_png(DEFAULT_STAMP_BASE_URL, 123, tmp_path)
    struck = np.asarray(Image.open(path).convert("L"))
    assert struck.shape == unstruck.shape
    assert every_reading(struck) == set()
    # only the QR changed: the number, the stars, the title and the footer are as printed
    rows, columns = np.nonzero(struck != unstruck)
    x0, y0, x1, y1 = label.qr_box
    assert len(rows) and x0 <= columns.min() and columns.max() < x1
    assert y0 <= rows.min() and rows.max() < y1
    assert sample_png(DEFAULT_STAMP_BASE_URL, 123, tmp_path) == path  # drawn once
