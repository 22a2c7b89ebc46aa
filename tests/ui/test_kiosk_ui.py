"""The kiosk UI in a real Kivy window (SDL offscreen), driven like a person would.

One window per process: the `kiosk` fixture builds the app once; `ui` resets it to the attract
screen before each test. Frames come from the real scanner pipeline (capture thread ->
decode worker -> ScanService on a worker thread -> Clock -> result screen)."""

from __future__ import annotations

import re
import shutil

import pytest

pytestmark = pytest.mark.ui

VIETNAMESE = re.compile(
    r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE
)


# Proper names stay Vietnamese in English text.
PROPER_NAMES = (
    "Thành phố Sơn La",
    "Sơn La",
    "Hà Nội",
    "Điện Biên",
    "Vân Hồ",
    "Mộc Châu",
    "Yên Châu",
    "Mai Sơn",
    "Thuận Châu",
    "Quỳnh Nhai",
    "Mường La",
    "Bắc Yên",
    "Phù Yên",
    "Sông Mã",
    "Sốp Cộp",
    "Tiếng Việt",
)


def has_vietnamese(text: str) -> bool:
    for name in PROPER_NAMES:
        text = text.replace(name, "").replace(name.upper(), "")
    return bool(VIETNAMESE.search(text))


def result_vm(ui):
    return ui.screen("result").vm


# --- attract ------------------------------------------------------------------------------


def test_attract_shows_a_featured_product_and_a_call_to_scan(ui):
    screen = ui.screen("attract")
    assert screen.slide is not None
    ids = screen.ids
    assert ids.slide_name.text.replace("\u00a0", " ") == screen.slide.name  # no lone word
    assert ids.scan_button.text == "Quét tem"
    assert "camera" in ids.cta_text.text
    first = screen.slide.product_id
    screen.next_slide()
    ui.settle(0.6)
    assert screen.slide.product_id != first
    ui.tap(ids.card)
    assert ui.wait_screen("product")
    assert ui.screen("product").ids.detail.ids.detail_name.text == screen.slide.name


def test_reststop_mode_shows_the_ql6_route_in_order(ui):
    ui.app.mode = "reststop"
    ui.settle(0.3)
    screen = ui.screen("attract")
    # the last two words glued (no-break space): a wrapped title never ends on a lone "6"
    assert screen.ids.route_heading.text == "Sản phẩm OCOP dọc Quốc lộ\u00a06"
    districts = [d for _, _, d in screen.ids.route.stops]
    assert districts == [
        "Vân Hồ",
        "Mộc Châu",
        "Yên Châu",
        "Mai Sơn",
        "Thành phố Sơn La",
        "Thuận Châu",
    ]
    assert screen.ids.route.highlight == screen.slide.district
    assert screen.ids.route.height > 50


# --- scanning -----------------------------------------------------------------------------


def test_scan_of_a_replayed_genuine_stamp_shows_the_product_with_stars(ui, tmp_path):
    """camera.kind = replay over a folder holding one picture of a genuine stamp."""
    import dataclasses

    from kiosk.camera_choice import make_camera_source
    from kiosk.settings import CameraKind

    folder = tmp_path / "frames"
    folder.mkdir()
    shutil.copy(ui.stamps["genuine"].path, folder / "genuine.png")
    settings = dataclasses.replace(
        ui.settings,
        camera=dataclasses.replace(
            ui.settings.camera, kind=CameraKind.REPLAY, replay_path=str(folder), fps=15
        ),
    )
    source, is_demo = make_camera_source(settings, ui.data_dir)
    assert type(source).__name__ == "ReplaySource" and not is_demo
    app = ui.app
    app.restart_camera(source, is_demo=False)
    try:
        ui.tap(ui.screen("attract").ids.scan_button)
        assert ui.wait_screen("result", 15)
        vm = result_vm(ui)
        assert vm.verdict == "genuine"
        assert vm.card.product_id == 101
        detail = ui.screen("result").ids.detail.ids
        assert detail.detail_name.text == "Cà phê bột nguyên chất Bích Thao"
        assert detail.detail_stars.stars == 5
        assert detail.detail_stars.text.count("★") == 5
        assert detail.detail_valid.text.startswith("Chứng nhận đến")
        assert ui.screen("result").ids.banner.title == "Tem OCOP chính hãng"
        assert ui.screen("result").ids.banner.colour[:3] == pytest.approx(
            [0x0E / 255, 0x6B / 255, 0x3A / 255], abs=0.01
        )
    finally:
        app.restart_camera(ui.source, is_demo=True)
        ui.wait(lambda: app.camera_state == "scanning", 10)


def test_forged_stamp_gives_the_red_banner_and_no_product(ui):
    ui.tap(ui.screen("attract").ids.scan_button)
    assert ui.wait_screen("scan")
    ui.hold_stamp("forged")
    assert ui.wait_screen("result", 15)
    vm = result_vm(ui)
    assert vm.verdict == "forged"
    assert vm.tone == "bad" and vm.card is None
    banner = ui.screen("result").ids.banner
    assert banner.colour[:3] == pytest.approx([0xB4 / 255, 0x23 / 255, 0x18 / 255], abs=0.01)
    assert banner.icon == "✖"
    assert banner.title == "Tem có thể là giả"
    assert not any("★" in t for t in ui.texts())


def test_expired_rating_shows_no_stars(ui):
    ui.app.go("scan")
    assert ui.wait_screen("scan")
    ui.hold_stamp("expired")
    assert ui.wait_screen("result", 15)
    vm = result_vm(ui)
    assert vm.verdict == "genuine_rating_expired"
    assert vm.card is not None and vm.card.stars == 0
    detail = ui.screen("result").ids.detail.ids
    assert detail.detail_stars.text == ""
    assert "hết hạn" in detail.detail_note.text
    assert not any("★" in t for t in ui.texts())
    from kiosk.ui.theme import COLOURS

    assert ui.screen("result").ids.banner.colour == pytest.approx(COLOURS["amber"], abs=0.01)


def test_the_same_stamp_left_in_view_does_not_scan_again(ui):
    ui.app.go("scan")
    ui.hold_stamp("genuine4", hold_s=4.0)
    assert ui.wait_screen("result", 15)
    before = ui.store.query_one("SELECT count(*) FROM scans")[0]
    ui.settle(1.0)
    assert ui.store.query_one("SELECT count(*) FROM scans")[0] == before
    assert result_vm(ui).card.stars == 4


def test_idle_returns_to_attract_in_the_default_language(ui):
    ui.app.go("browse")
    assert ui.wait_screen("browse")
    ui.app.set_lang("en")
    browse = ui.screen("browse")
    browse.show_tab("search")
    for key in "che":
        browse.on_key(key)
    ui.app.idle_timeout_s = 1.0
    assert ui.wait_screen("attract", 5)
    assert ui.app.lang == "vi"
    # the next shopper does not find the last one's search
    ui.app.idle_timeout_s = 600.0
    ui.app.go("browse")
    assert ui.wait_screen("browse")
    assert (browse.tab, browse.query) == ("district", "")
    ok = ui.wait(lambda: browse.results and browse.selected.startswith("d:"), 5)
    assert ok, (browse.selected, len(browse.results), ui.app.sm.current, browse.tab)


def test_result_returns_to_attract_after_the_idle_timeout(ui):
    ui.app.go("scan")
    ui.hold_stamp("not_ocop")
    assert ui.wait_screen("result", 15)
    assert result_vm(ui).verdict == "not_ocop"
    ui.app.idle_timeout_s = 1.0
    assert ui.wait_screen("attract", 5)


def test_camera_going_away_and_coming_back(ui):
    ui.app.go("scan")
    assert ui.wait_screen("scan")
    status = ui.screen("scan").ids.camera_status
    ui.source.unplug()
    assert ui.wait(lambda: ui.app.camera_state in ("disconnected", "reconnecting"), 10)
    assert ui.wait(lambda: "camera" in status.text.lower(), 5)
    assert status.parent.opacity == 1
    ui.source.replug()
    assert ui.wait(lambda: ui.app.camera_state == "scanning", 10)
    ui.hold_stamp("genuine")
    assert ui.wait_screen("result", 15)
    assert result_vm(ui).verdict in ("genuine", "suspect_clone")


# --- browse -------------------------------------------------------------------------------


def test_browse_by_district_and_group_and_search_without_diacritics(ui):
    ui.tap(ui.screen("attract").ids.browse_button)
    assert ui.wait_screen("browse")
    browse = ui.screen("browse")
    browse.pick("d:Mộc Châu")
    assert ui.wait(
        lambda: browse.results and all("Mộc Châu" in r["place"] for r in browse.results), 5
    )
    ui.tap(browse.ids.tab_group)
    assert ui.wait(lambda: browse.tab == "group" and browse.results, 5)
    ui.tap(browse.ids.tab_search)
    assert browse.tab == "search"
    ui.type_on(browse.ids.keyboard, "moc chau")
    assert browse.query == "moc chau"
    assert ui.wait(
        lambda: (
            browse.results
            and all("Mộc Châu" in r["place"] or "Mộc Châu" in r["name"] for r in browse.results)
        ),
        5,
    )
    assert "Tìm thấy" in browse.ids.results_title.text


# --- staff --------------------------------------------------------------------------------


def enter_pin(ui, pin: str):
    pad = ui.screen("staff_pin").ids.pinpad
    keys = {b.text: b for b in pad.children}
    for digit in pin:
        ui.tap(keys[digit])
    ui.tap(keys["OK"])
    ui.wait(lambda: not ui.screen("staff_pin").checking, 10)
    ui.settle(0.1)


def clear_lockout(ui):
    with ui.store.transaction() as conn:
        conn.execute("DELETE FROM meta WHERE key LIKE 'staff_pin_%'")


def test_wrong_pins_lock_out_and_the_lock_survives_a_restart(ui):
    clear_lockout(ui)
    try:
        ui.tap(ui.screen("attract").ids.staff_button)
        assert ui.wait_screen("staff_pin")
        message = ui.screen("staff_pin").ids.pin_message
        enter_pin(ui, "1111")
        assert "Còn 2 lần" in message.text
        enter_pin(ui, "2222")
        assert "Còn 1 lần" in message.text
        enter_pin(ui, "3333")
        assert "Thử lại sau" in message.text
        enter_pin(ui, "2468")  # the right PIN, but locked
        assert ui.app.sm.current == "staff_pin"
        assert not ui.app.staff_signed_in
        # a new gate over the same store (what a restart builds) is still locked
        from kiosk.staff_pin import PinCheck, PinGate

        gate = PinGate.from_settings(ui.store, ui.settings.staff)
        assert gate.check("2468").check is PinCheck.LOCKED
    finally:
        clear_lockout(ui)


def sign_in(ui):
    clear_lockout(ui)
    ui.app.go("staff_pin")
    assert ui.wait_screen("staff_pin")
    enter_pin(ui, "2468")
    assert ui.wait_screen("staff")


def test_printing_from_the_staff_screen_reaches_the_fake_printer(ui):
    sign_in(ui)
    staff = ui.screen("staff")
    assert ui.wait(lambda: staff.print_tab.preview is not None, 10)  # label preview rendered
    staff.print_tab.select_product(101)
    ui.tap(staff.print_tab.ids.count_plus)
    assert staff.print_tab.count == 2
    assert staff.print_tab.ids.print_button.text == "In 2 tem"
    folder = ui.data_dir / "virtual-printer"
    before = set(folder.glob("job-*.png")) if folder.exists() else set()
    ui.tap(staff.print_tab.ids.print_button)
    print_tab = staff.print_tab
    assert ui.wait(lambda: print_tab.progress_total == 2 and print_tab.progress_done == 2, 20)
    assert ui.wait(lambda: "Xong" in staff.print_tab.progress_text, 5)
    printed = sorted(set(folder.glob("job-*.png")) - before)
    assert len(printed) == 2
    # the label on "paper" carries a stamp that verifies as genuine for product 101
    from scanner import scan_paths

    texts = [t for r in scan_paths([printed[0]]) for t in r.texts]
    assert texts, "no QR code on the printed label"
    outcome = ui.app.services.scan.verify(texts[0])
    assert outcome.product_id == 101 and outcome.verdict.signature_valid
    ui.tap(staff.ids.tab_queue)
    assert ui.wait(lambda: staff.queue_tab.printer_text != "", 10)
    assert staff.queue_tab.printer_state == "ready"
    assert ui.wait(lambda: any("2/2" in w.text for w in staff.queue_tab.ids.job_list.children), 5)


def test_staff_can_switch_language_and_mode(ui):
    sign_in(ui)
    staff = ui.screen("staff")
    ui.tap(staff.ids.tab_settings)
    ui.tap(staff.settings_tab.ids.mode_reststop)
    assert ui.app.mode == "reststop"
    ui.tap(staff.settings_tab.ids.mode_source.ids.use_config)  # back to the settings file's
    assert ui.app.mode == "station"
    assert ui.wait(lambda: ui.store.get_meta("ui_mode_override") is None, 5)
    ui.tap(staff.ids.tab_sync)
    assert "Chưa kết nối máy chủ" in staff.sync_tab.ids.sync_status.text  # no registry
    ui.tap(staff.sync_tab.ids.sync_button)
    assert staff.sync_tab.sync_message
    ui.tap(staff.ids.sign_out)
    assert ui.wait_screen("attract")
    assert not ui.app.staff_signed_in


# --- language, touch targets, clipping ---------------------------------------------------------


def visit_every_screen(ui):
    """Yield once per screen (and staff tab) showing typical content."""
    app = ui.app
    yield "attract"
    app.go("scan")
    ui.wait_screen("scan")
    yield "scan"
    outcome = app.services.scan.handle_text(ui.stamps["genuine4"].text, "test")
    app.show_outcome(ui.stamps["genuine4"].text, outcome)
    ui.wait_screen("result")
    yield "result"
    outcome = app.services.scan.handle_text(ui.stamps["forged"].text, "test")
    app.show_outcome(ui.stamps["forged"].text, outcome)
    ui.settle(0.2)
    yield "result-forged"
    app.go("browse")
    ui.wait_screen("browse")
    ui.wait(lambda: bool(ui.screen("browse").results), 5)
    yield "browse"
    ui.screen("browse").show_tab("search")
    ui.settle(0.2)
    yield "browse-search"
    ui.screen("browse").show_tab("district")
    app.show_product(101)
    ui.wait_screen("product")
    yield "product"
    clear_lockout(ui)
    app.go("staff_pin")
    ui.wait_screen("staff_pin")
    yield "staff_pin"
    app.staff_signed_in = True
    app.go("staff")
    ui.wait_screen("staff")
    staff = ui.screen("staff")
    ui.wait(lambda: staff.print_tab.preview is not None, 10)
    for tab in ("print", "queue", "sync", "settings"):
        staff.show_tab(tab)
        ui.settle(0.2)
        yield f"staff-{tab}"
    yield from visit_staff_views(ui, staff)
    staff.show_tab("print")


def visit_staff_views(ui, staff):
    """The staff views behind taps: product search, lot keypad, a stopped print job (check,
    then resume or cancel with the cancel armed), a saved setting."""
    from tests.ui.stopped_job import make_stopped_job

    app = ui.app
    staff.show_tab("print")
    staff.print_tab.start_search()
    for ch in "ca phe":
        staff.print_tab.on_search_key(ch)
    staff.print_tab.run_search()
    ui.wait(lambda: 0 < len(staff.print_tab.product_rows) < 20, 5)
    yield "staff-print-search"
    staff.print_tab.on_search_key("clear")
    staff.print_tab.run_search()
    staff.print_tab.stop_search()
    staff.print_tab.start_lot()
    yield "staff-print-lot"
    staff.print_tab.stop_lot()
    queue = app.services.print_queue
    job_id = make_stopped_job(ui.store, ui.settings, ui.data_dir, count=4, printed=1)
    staff.show_tab("queue")
    queue_tab = staff.queue_tab
    ui.wait(lambda: queue_tab.recovery is not None and queue_tab.recovery.job_id == job_id, 5)
    yield "staff-queue-stopped"
    serial = queue.job(job_id).uncertain[0]
    queue.resolve_uncertain(job_id, serial, printed=False)
    staff.queue_tab.refresh_jobs()
    ui.wait(lambda: queue_tab.recovery is not None and queue_tab.recovery.step == "continue", 5)
    staff.queue_tab.show_recovery_note(("reprint", serial, job_id, 0))
    staff.queue_tab.cancel_rest()  # armed: the confirmation text is the longest
    yield "staff-queue-continue"
    staff.queue_tab.show_recovery_note(None)
    staff.disarm()
    queue.cancel(job_id)
    staff.queue_tab.refresh_jobs()
    ui.wait(lambda: staff.queue_tab.recovery is None, 5)
    staff.show_tab("settings")
    staff.settings_tab.choose_mode(app.mode)  # saved: "use the settings file's value" shows
    yield "staff-settings-saved"
    staff.settings_tab.choose_mode(None)
    ui.wait(lambda: ui.store.get_meta("ui_mode_override") is None, 5)


def translatable_labels(ui):
    from kiosk.ui.widgets import DataButton, DataLabel, FieldButton, LangButton

    out = {}
    for w in ui.labels():
        if isinstance(w, (DataLabel, DataButton, LangButton, FieldButton)) or w.text.endswith(
            "▏"
        ):  # what a person typed, with the cursor
            continue
        if w.__class__.__name__ in ("StarRow",) or not re.search(r"[A-Za-zÀ-ỹ]", w.text):
            continue
        out[id(w)] = (w, w.text)
    return out


@pytest.mark.slow
def test_language_switch_changes_every_visible_label(ui):
    failures = []
    for name in visit_every_screen(ui):
        ui.app.set_lang("vi")
        ui.settle(0.15)
        before = translatable_labels(ui)
        assert before, name
        ui.app.set_lang("en")
        ui.settle(0.2)
        after = translatable_labels(ui)
        for key, (widget, vi_text) in before.items():
            if widget.parent is None and key not in after:
                continue  # rebuilt for the new language: its replacement is in `after`
            if widget.text == vi_text:
                failures.append(f"{name}: unchanged {vi_text!r}")
        for _widget, en_text in after.values():
            if has_vietnamese(en_text):
                failures.append(f"{name}: Vietnamese left in English {en_text!r}")
        ui.app.set_lang("vi")
        ui.settle(0.1)
    assert not failures, "\n".join(failures)


def label_overflows(label) -> str | None:
    """Text that does not fit its label (wrapped text taller than the label, or a single line
    wider than it), measured with a fresh core label at the same settings."""
    from kivy.core.text import Label as PlainCoreLabel
    from kivy.core.text.markup import MarkupLabel

    CoreLabel = MarkupLabel if label.markup else PlainCoreLabel
    if not label.text.strip() or label.opacity == 0:
        return None
    if getattr(label, "shorten", False):
        return None
    width = label.text_size[0] if label.text_size[0] else None
    core = CoreLabel(
        text=label.text,
        font_size=label.font_size,
        font_name=label.font_name,
        bold=label.bold,
        markup=label.markup,
        text_size=(width, None),
        halign=label.halign,
        line_height=label.line_height,
        padding=label.padding,
    )
    core.refresh()
    w, h = core.texture.size if core.texture else (0, 0)
    if width and not label.markup:
        # a word wider than the line gets broken mid-word ("Huyệ/n"): that is clipped too
        for word in sorted(set(label.text.split()), key=len, reverse=True)[:3]:
            one = CoreLabel(
                text=word, font_size=label.font_size, font_name=label.font_name, bold=label.bold
            )
            one.refresh()
            if one.texture and one.texture.size[0] > width + 1:
                return f"{label.text[:40]!r}: the word {word!r} does not fit {width:.0f}px"
    if h > label.height + 2:
        return f"{label.text[:40]!r}: {h:.0f}px tall in {label.height:.0f}px"
    if width is None and w > label.width + 2:
        return f"{label.text[:40]!r}: {w:.0f}px wide in {label.width:.0f}px"
    return None


# Text allowed below FONT_LABEL, with the reason (issue 15: labels >= 18 px at 800x480).
SMALL_TEXT_EXCEPTIONS = {"OCOP": "the logotype inside the 46 px round logo, not read as text"}
# The messages a shopper reads: body size (>= FONT_BODY px at 800x480), by widget id.
MESSAGE_IDS = (
    "banner_message",
    "scan_help",
    "cta_text",
    "no_product_help",
    "report_advice",
    "detail_producer",
    "detail_place",
    "detail_group",
    "detail_story",
)


def font_problems(ui, name):
    from kiosk.ui.theme import FONT_BODY, FONT_LABEL

    u = ui.app.u
    problems = []
    message_labels = {}  # the kv ids of the screen and of the widgets on it
    for w in [ui.app.sm.current_screen, *ui.visible_widgets()]:
        for key, widget in getattr(w, "ids", {}).items():
            if key in MESSAGE_IDS:
                message_labels[id(widget)] = key
    for label in ui.labels():
        px = label.font_size / u
        if px < FONT_LABEL - 0.01 and label.text not in SMALL_TEXT_EXCEPTIONS:
            problems.append(f"{name}: {label.text[:30]!r} is {px:.1f} px < {FONT_LABEL} px")
        if id(label) in message_labels and px < FONT_BODY - 0.01:
            problems.append(
                f"{name}: message {message_labels[id(label)]} is {px:.1f} px < {FONT_BODY} px"
            )
    return problems


def check_layout(ui, name):
    from kivy.metrics import dp
    from kivy.uix.behaviors import ButtonBehavior

    problems = font_problems(ui, name)
    for w in ui.visible_widgets():
        if (
            isinstance(w, ButtonBehavior)
            and not w.disabled
            and w.__class__.__name__ != "TapCard"
            and (w.width < dp(48) - 0.5 or w.height < dp(48) - 0.5)
        ):
            problems.append(
                f"{name}: touch target {getattr(w, 'text', w)!r} {w.width:.0f}x{w.height:.0f}"
            )
    for label in ui.labels():
        why = label_overflows(label)
        if why:
            problems.append(f"{name}: {why}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("size", [(800, 480), (480, 800), (1920, 1080)])
def test_touch_targets_and_no_clipped_text(ui, size):
    from kivy.core.window import Window

    old = Window.size
    Window.size = size
    try:
        ui.settle(0.3)
        problems = []
        for lang in ("vi", "en"):
            ui.app.set_lang(lang)
            for name in visit_every_screen(ui):
                ui.app.set_lang(lang)
                ui.settle(0.15)
                problems += check_layout(ui, f"{size[0]}x{size[1]} {lang} {name}")
        assert not problems, "\n".join(problems)
    finally:
        Window.size = old
        ui.settle(0.3)


def test_an_expired_trust_list_adds_a_note_under_the_verdict(ui, monkeypatch):
    """A kiosk whose revocation list has expired (a withheld update, months offline) still
    checks signatures, but the shopper is told the list is out of date, on the screen."""
    import datetime as dt

    scan = ui.app.services.scan
    expires = scan._current_verifier().trust_list.expires()
    assert expires is not None  # the demo list is a version 2 list
    # The trusted clock one hour past the list's expiry (ratings judged by it too).
    monkeypatch.setattr(scan.clock, "now", lambda: expires + dt.timedelta(hours=1))
    ui.app.go("scan")
    assert ui.wait_screen("scan")
    ui.hold_stamp("genuine")
    assert ui.wait_screen("result", 15)
    screen = ui.screen("result")
    assert screen.vm.verdict.startswith("genuine")
    note = screen.ids.trust_note
    assert note.text == screen.vm.trust_note and "đã cũ" in note.text
    assert note.height > 0 and note.opacity > 0  # drawn, not only set
    assert note.text in ui.texts()


def test_counts_say_one_product_not_one_products(ui):
    """'1 products' was on the rest-stop route and the browse titles in English."""
    from kiosk.i18n import NP_
    from kiosk.viewmodels import count_text

    forms = NP_("{n} product in {place}", "{n} products in {place}")
    assert count_text(1, "en", forms, place="Mộc Châu") == "1 product in Mộc Châu"
    assert count_text(2, "en", forms, place="Mộc Châu") == "2 products in Mộc Châu"
    assert count_text(1, "vi", forms, place="Mộc Châu") == "1 sản phẩm ở Mộc Châu"
    ui.app.mode, ui.app.lang = "reststop", "en"  # the next test's reset() restores both
    ui.settle(0.3)
    route = ui.screen("attract").ids.route
    route.stops = [("Mộc Châu", 1, "Mộc Châu"), ("Yên Châu", 3, "Yên Châu")]
    ui.settle(0.2)
    texts = [label.text for label in route._labels]
    assert "1 product" in texts and "3 products" in texts, texts


def test_a_placeholder_picture_is_captioned_in_the_screens_language(ui):
    """Item 11: the demo picture said "Placeholder image" in English on Vietnamese screens.
    The picture has no text now; the caption under it is the screen's language."""
    product = ui.screen("attract").slide
    ui.app.show_product(product.product_id)
    assert ui.wait_screen("product")
    image = ui.screen("product").ids.detail.ids.detail_image
    caption = image.ids.image_caption
    assert ui.wait(lambda: image.texture is not None, 5)
    ui.settle(0.2)
    assert caption.text == "Ảnh minh họa" and caption in ui.visible_widgets()
    on_picture = [w.text for w in ui.visible_widgets(image) if hasattr(w, "text") and w.text]
    assert on_picture == ["Ảnh minh họa"]
    assert not any(has_english_word(t) for t in on_picture)
    # under the drawn picture's lower edge, inside it
    assert caption.y >= image.center_y - image.norm_image_size[1] / 2
    assert caption.top <= image.center_y
    source = image.source
    ui.app.set_lang("en")
    ui.settle(0.3)
    assert caption.text == "Illustration"
    assert image.source == source  # one picture for both languages: nothing to re-render


def has_english_word(text: str) -> bool:
    return bool(re.search(r"\b(placeholder|image|illustration|food|picture)\b", text, re.I))
