"""The staff side in a real window, driven with taps: finishing a print job that stopped
part-way, the product search and the lot keypad, the hidden staff gesture, mode and default
language kept after a restart."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from tests.ui.stopped_job import make_stopped_job
from tests.ui.test_kiosk_ui import clear_lockout, sign_in

pytestmark = pytest.mark.ui


def record_threads(monkeypatch, obj, name, seen):
    """Wrap obj.name so each call notes the thread it ran on."""
    real = getattr(obj, name)

    def wrapper(*args, **kwargs):
        seen.append((name, threading.current_thread().name))
        return real(*args, **kwargs)

    monkeypatch.setattr(obj, name, wrapper)


def stamp_states(ui, job_id):
    return dict(ui.store.query("SELECT serial, state FROM stamps WHERE job_id = ?", (job_id,)))


def row_buttons(staff):
    rows = list(reversed(staff.queue_tab.ids.uncertain_list.children))
    return [(r.serial, r.ids.printed_button, r.ids.reprint_button) for r in rows]


def virtual_labels(ui):
    folder = ui.data_dir / "virtual-printer"
    return set(folder.glob("job-*.png")) if folder.exists() else set()


# --- a print job that stopped part-way ---------------------------------------------------------


def test_stopped_job_reprint_the_uncertain_label_then_resume(ui, monkeypatch):
    job_id = make_stopped_job(ui.store, ui.settings, ui.data_dir, count=6, printed=3)
    sign_in(ui)
    staff = ui.screen("staff")
    queue = ui.app.services.print_queue
    seen = []
    for name in ("resolve_uncertain", "resume", "cancel"):
        record_threads(monkeypatch, queue, name, seen)
    # the staff land on the printer tab: a stopped job waits for a decision
    assert ui.wait(lambda: staff.queue_tab.recovery is not None and staff.tab == "queue", 10)
    ui.settle(0.2)
    assert staff.ids.tab_queue.text.endswith("⚠")
    assert staff.queue_tab.ids.recovery_title.text == f"⚠ Lệnh in #{job_id} bị dừng giữa chừng"
    assert staff.queue_tab.ids.recovery_summary.text == "Đã in 3/6 tem"
    assert staff.queue_tab.ids.recovery_product.text == "Cà phê bột nguyên chất Bích Thao"
    [(serial, printed_button, reprint_button)] = row_buttons(staff)
    assert stamp_states(ui, job_id)[serial] == "printing"
    assert printed_button.text == "Tem đã in ra" and reprint_button.text == "In lại"
    # the number on the screen is the one printed under the QR code
    assert f"{serial:012d}"[-4:] in printed_button.parent.parent.ids.stamp_label.text
    assert staff.queue_tab.ids.recovery_actions.height == 0  # resume comes after the check

    ui.tap(reprint_button)
    assert ui.wait(
        lambda: (
            staff.queue_tab.recovery is not None and staff.queue_tab.recovery.step == "continue"
        ),
        10,
    )
    assert stamp_states(ui, job_id)[serial] == "reserved"
    assert "sẽ được in lại" in staff.queue_tab.ids.recovery_message.text
    assert staff.queue_tab.ids.resume_button.text == "Tiếp tục in"
    assert "Còn 3 tem chưa in" in staff.queue_tab.ids.recovery_help.text

    before = virtual_labels(ui)
    ui.tap(staff.queue_tab.ids.resume_button)
    assert ui.wait(lambda: queue.job(job_id).state.value == "done", 20)
    view = queue.job(job_id)
    assert len(view.printed) == 6 and not view.pending and not view.uncertain
    assert len(virtual_labels(ui) - before) == 3  # the reprint + the two left
    assert ui.wait(lambda: staff.queue_tab.recovery is None and staff.queue_tab.attention == 0, 10)
    assert staff.queue_tab.ids.recovery_pane.height == 0
    assert not staff.ids.tab_queue.text.endswith("⚠")
    # every queue change ran on a worker thread, never on the UI thread
    assert [n for n, _ in seen] == ["resolve_uncertain", "resume"]
    assert all(t != threading.main_thread().name for _, t in seen), seen


def test_stopped_job_it_printed_then_cancel_the_rest_needs_a_second_tap(ui, monkeypatch):
    job_id = make_stopped_job(ui.store, ui.settings, ui.data_dir, count=5, printed=1)
    sign_in(ui)
    staff = ui.screen("staff")
    queue = ui.app.services.print_queue
    seen = []
    record_threads(monkeypatch, queue, "cancel", seen)
    ui.app.set_lang("en")
    assert ui.wait(
        lambda: (
            staff.queue_tab.recovery is not None
            and staff.tab == "queue"
            and staff.queue_tab.recovery.title.startswith("Print job")
        ),
        10,
    )
    ui.settle(0.2)
    [(serial, printed_button, _)] = row_buttons(staff)
    assert printed_button.text == "It printed"
    ui.tap(printed_button)
    assert ui.wait(lambda: staff.queue_tab.recovery.step == "continue", 10)
    assert stamp_states(ui, job_id)[serial] == "printed"
    assert "counted as printed" in staff.queue_tab.ids.recovery_message.text
    outbox = ui.store.query_one(
        "SELECT count(*) FROM outbox WHERE kind = 'print' AND payload_json LIKE ?",
        (f'%"serial": {serial},%',),
    )[0]
    assert outbox == 1  # recorded once, as printed

    cancel = staff.queue_tab.ids.cancel_button
    assert cancel.text == "Cancel the rest"
    ui.tap(cancel)  # first tap only arms it
    assert staff.queue_tab.cancel_armed and cancel.text == "Tap again to cancel 3 stamps"
    ui.settle(0.3)
    assert queue.job(job_id).state.value == "interrupted" and not seen
    ui.tap(cancel)  # the second tap cancels
    assert ui.wait(
        lambda: staff.queue_tab.recovery is None and bool(staff.queue_tab.recovery_message), 10
    )
    view = queue.job(job_id)
    assert view.state.value == "failed" and len(view.void) == 3 and len(view.printed) == 2
    assert staff.queue_tab.recovery_message == "3 stamps cancelled."
    assert seen and seen[0][1] != threading.main_thread().name


def test_cancel_is_disarmed_by_another_action(ui):
    job_id = make_stopped_job(ui.store, ui.settings, ui.data_dir, count=3, printed=1, uncertain=0)
    sign_in(ui)
    staff = ui.screen("staff")
    assert ui.wait(
        lambda: (
            staff.queue_tab.recovery is not None
            and staff.queue_tab.recovery.job_id == job_id
            and staff.tab == "queue"
        ),
        10,
    )
    ui.settle(0.2)
    assert staff.queue_tab.recovery.step == "continue"
    ui.tap(staff.queue_tab.ids.cancel_button)
    assert staff.queue_tab.cancel_armed
    ui.tap(staff.ids.tab_print)
    assert not staff.queue_tab.cancel_armed
    ui.tap(staff.ids.tab_queue)
    ui.tap(staff.queue_tab.ids.cancel_button)  # armed again, not cancelled
    assert staff.queue_tab.cancel_armed
    assert ui.app.services.print_queue.job(job_id).state.value == "interrupted"
    ui.tap(staff.queue_tab.ids.cancel_button)
    assert ui.wait(lambda: ui.app.services.print_queue.job(job_id).state.value == "failed", 10)


def test_a_job_stopping_while_staff_watch_shows_its_steps(ui):
    """The print worker reports INTERRUPTED (the connection dropped mid-label) while the
    print tab is open: the printer tab opens on the steps for that job."""
    from kiosk.printing.queue import JobState, Progress

    sign_in(ui)
    staff = ui.screen("staff")
    assert ui.wait(lambda: staff.tab == "print" and staff.queue_tab.attention == 0, 5)
    job_id = make_stopped_job(ui.store, ui.settings, ui.data_dir, count=4, printed=2)
    staff._progress_from_worker(Progress(job_id, 2, 4, JobState.INTERRUPTED, "connection lost"))
    assert ui.wait(
        lambda: (
            staff.tab == "queue"
            and staff.queue_tab.recovery is not None
            and staff.queue_tab.recovery.job_id == job_id
        ),
        10,
    )
    assert "Bị gián đoạn" in staff.print_tab.progress_text
    queue = ui.app.services.print_queue
    queue.resolve_uncertain(job_id, queue.job(job_id).uncertain[0], printed=True)
    queue.cancel(job_id)


# --- product search and the lot keypad ----------------------------------------------------------


def test_product_search_finds_a_product_outside_the_first_ones(ui, monkeypatch):
    import kiosk.staff.print_tab as print_tab_module

    monkeypatch.setattr(print_tab_module, "DEFAULT_PRODUCTS", 5)
    sign_in(ui)
    staff = ui.screen("staff")
    staff.print_tab.vm.search_query = ""
    staff.print_tab.vm.found_products = []
    assert ui.wait(lambda: len(staff.print_tab.product_rows) == 5, 10)
    assert 114 not in [r["product_id"] for r in staff.print_tab.product_rows]
    searched = []
    record_threads(monkeypatch, ui.app.services.catalog, "search", searched)

    ui.tap(staff.print_tab.ids.product_search)
    assert staff.print_tab.editing == "search"
    ui.type_on(staff.print_tab.ids.search_keyboard, "ruou man")
    assert staff.print_tab.search_query == "ruou man"
    assert ui.wait(lambda: [r["product_id"] for r in staff.print_tab.product_rows] == [114], 10)
    assert staff.print_tab.ids.product_hint.text == "Tìm thấy 1 sản phẩm"
    assert searched and all(t != threading.main_thread().name for _, t in searched)

    ui.settle(0.2)
    [button] = [
        b
        for b in ui.visible_widgets(staff.print_tab.ids.product_rv)
        if getattr(b, "product_id", None) == 114
    ]
    old_preview = staff.print_tab.preview
    ui.tap(button)
    assert ui.wait(lambda: staff.print_tab.product_id == 114, 5)  # RecycleView: tap after delay
    assert staff.print_tab.editing == "" and staff.print_tab.product_name == "Rượu mận"
    assert ui.wait(lambda: staff.print_tab.preview is not old_preview, 10)

    ui.tap(staff.print_tab.ids.product_search)  # clear: the default list again
    ui.tap(ui.keyboard_keys(staff.print_tab.ids.search_keyboard)["✕"])
    assert ui.wait(lambda: len(staff.print_tab.product_rows) == 5, 10)
    ui.tap(staff.print_tab.ids.search_done)
    assert staff.print_tab.editing == ""


def test_lot_keypad_types_the_lot_that_is_printed(ui):
    from kiosk.ui.widgets import LotKeypad

    staff = ui.screen("staff")
    open_print_tab(ui)
    ui.tap(staff.print_tab.ids.lot_button)
    assert staff.print_tab.editing == "lot"
    pad: LotKeypad = staff.print_tab.ids.lot_keypad
    ui.tap(pad.key("clear"))
    assert staff.print_tab.lot == ""
    for value in ("L", "0", "7", "-", "A", "/", "2", "9", "backspace"):
        ui.tap(pad.key(value))
    assert staff.print_tab.lot == "L07-A/2"
    assert staff.print_tab.ids.lot_length.text == "7/40"
    for _ in range(40):  # at most 40 characters
        staff.print_tab.on_lot_key("X")
    assert len(staff.print_tab.lot) == 40
    for _ in range(33):
        staff.print_tab.on_lot_key("backspace")
    ui.tap(staff.print_tab.ids.lot_done)
    assert staff.print_tab.editing == "" and staff.print_tab.ids.lot_button.text.endswith(
        "\nL07-A/2"
    )
    ui.tap(staff.print_tab.ids.print_button)
    queue = ui.app.services.print_queue
    assert ui.wait(
        lambda: (
            queue.jobs(limit=1)
            and queue.jobs(limit=1)[0].lot == "L07-A/2"
            and queue.jobs(limit=1)[0].state.value == "done"
        ),
        20,
    )


def test_no_text_input_anywhere_in_the_kiosk_ui(ui):
    """A TextInput needs a physical keyboard and makes Kivy look for a clipboard provider
    ('Cutbuffer' CRITICAL on a kiosk without xclip/xsel)."""
    from kivy.uix.widget import Widget

    ui_dir = Path(__file__).resolve().parents[2] / "kiosk" / "ui"
    users = [
        p.name
        for p in ui_dir.rglob("*")
        if p.suffix in (".py", ".kv") and "TextInput" in p.read_text(encoding="utf-8")
    ]
    assert not users
    assert "kivy.uix.textinput" not in sys.modules

    def walk(w: Widget):
        yield w
        for child in w.children:
            yield from walk(child)

    from kiosk.ui.screen_registry import SCREEN_NAMES

    screens = [ui.app.screen(name) for name in SCREEN_NAMES]  # built on first use
    names = {type(w).__name__ for screen in screens for w in walk(screen)}
    assert "TextInput" not in names


# --- the hidden staff gesture ---------------------------------------------------------------


def test_holding_the_logo_opens_the_pin_pad_in_every_mode(ui):
    from kivy.tests import UnitTestTouch

    clear_lockout(ui)
    logo = ui.app.root.ids.topbar.ids.logo
    for mode, hold_s in (("reststop", 3.0), ("showroom", 0.5)):  # the real 3 s once
        ui.app.mode = mode
        logo.hold_s = hold_s
        ui.app.go_home()
        assert ui.wait_screen("attract")
        staff_button = ui.screen("attract").ids.staff_button
        assert staff_button.opacity == 0 and staff_button.disabled  # no visible way in
        # a short tap does nothing
        x, y = logo.to_window(*logo.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        ui.pump(3)
        assert logo.holding
        touch.touch_up()
        ui.pump(3)
        assert not logo.holding and logo.progress == 0
        assert ui.app.sm.current == "attract"
        # press and hold: the ring fills, then the PIN pad opens
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        if hold_s >= 1:
            assert ui.wait(lambda: logo.progress > 0, 5)
        assert ui.wait(lambda: ui.app.sm.current == "staff_pin", 10)
        touch.touch_up()
        assert ui.wait_screen("staff_pin")
        assert logo.progress == 0 and not logo.holding
        ui.app.go_home()
    logo.hold_s = 3.0


def test_sliding_off_the_logo_cancels_the_hold(ui):
    from kivy.tests import UnitTestTouch

    ui.app.mode = "showroom"
    logo = ui.app.root.ids.topbar.ids.logo
    x, y = logo.to_window(*logo.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    ui.pump(3)
    assert logo.holding
    touch.touch_move(x + 200, y)
    ui.pump(3)
    assert not logo.holding
    touch.touch_up()
    ui.pump(3)
    assert ui.app.sm.current == "attract"


# --- mode and default language kept after a restart -----------------------------------------------


def test_mode_and_default_language_survive_a_restart(ui):
    from kiosk.ui_prefs import META_LANGUAGE, META_MODE, Source, load_prefs

    sign_in(ui)
    staff = ui.screen("staff")
    ui.tap(staff.ids.tab_settings)
    ids = staff.settings_tab.ids
    assert ids.mode_source.ids.source_label.text == "Theo tệp cấu hình."
    assert ids.mode_source.ids.use_config.opacity == 0
    try:
        ui.tap(ids.mode_reststop)
        assert ui.app.mode == "reststop"
        assert ui.wait(lambda: ui.store.get_meta(META_MODE) == "reststop", 5)
        ui.tap(ids.lang_en)
        assert ui.app.lang == "en" and ui.app.default_lang == "en"
        assert ui.wait(lambda: ui.store.get_meta(META_LANGUAGE) == "en", 5)
        ui.settle(0.2)
        assert ids.mode_source.ids.source_label.text.startswith("Chosen on this kiosk")
        assert "The settings file says Stamp station." in ids.mode_source.ids.source_label.text
        assert ids.lang_source.ids.source_label.text.endswith("says Tiếng Việt.")
        assert ids.mode_source.ids.use_config.opacity == 1
        # idle: back to attract in the saved default language, not the settings file's
        ui.app.go_home(reset=True)
        assert ui.wait_screen("attract")
        assert ui.app.lang == "en"
        # a restart reads the saved choices over the settings file
        prefs = load_prefs(ui.store, ui.settings)
        assert (prefs.mode, prefs.mode_source) == ("reststop", Source.SAVED)
        assert (prefs.language, prefs.language_source) == ("en", Source.SAVED)
        from kivy.app import App

        from kiosk.ui.app import KioskApp

        try:
            restarted = KioskApp(
                ui.settings, ui.store, ui.data_dir, services=ui.app.services, start_camera=False
            )
            assert (restarted.mode, restarted.lang, restarted.default_lang) == (
                "reststop",
                "en",
                "en",
            )
        finally:
            App._running_app = ui.app
        # "use the settings file's value" forgets the saved choice
        ui.app.staff_signed_in = True
        ui.app.go("staff")
        assert ui.wait_screen("staff")
        ui.tap(staff.ids.tab_settings)
        ui.tap(ids.mode_source.ids.use_config)
        assert ui.app.mode == "station"
        assert ui.wait(lambda: ui.store.get_meta(META_MODE) is None, 5)
        ui.tap(ids.lang_source.ids.use_config)
        assert ui.app.lang == "vi" and ui.app.default_lang == "vi"
        assert ui.wait(lambda: ui.store.get_meta(META_LANGUAGE) is None, 5)
        ui.settle(0.2)
        assert ids.mode_source.ids.source_label.text == "Theo tệp cấu hình."
        assert ids.mode_source.ids.use_config.opacity == 0
    finally:
        with ui.store.transaction() as conn:
            conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (META_MODE, META_LANGUAGE))
        ui.app.prefs = load_prefs(ui.store, ui.settings)
        ui.app.default_lang = "vi"


# --- no staff callback outlives the screen ----------------------------------------------------


def test_sync_now_refresh_is_cancelled_when_staff_leave(ui, monkeypatch):
    """ "Sync now" reads the status again a second later; staff who sign out at once must not
    get that read on a screen (or an app) that is gone (it raised at the session's end)."""
    from kiosk.staff.sync_tab import SYNC_REFRESH_AFTER_S

    sign_in(ui)
    staff = ui.screen("staff")
    ui.tap(staff.ids.tab_sync)
    refreshed = []
    monkeypatch.setattr(staff.sync_tab, "refresh", lambda: refreshed.append(ui.app.sm.current))
    ui.tap(staff.sync_tab.ids.sync_button)
    ui.tap(staff.ids.sign_out)
    assert ui.wait_screen("attract")
    ui.settle(SYNC_REFRESH_AFTER_S + 0.5)
    assert refreshed == []
    # while staff stay, it does run
    sign_in(ui)
    ui.tap(staff.ids.tab_sync)
    refreshed.clear()  # opening the tab reads it
    ui.tap(staff.sync_tab.ids.sync_button)
    assert ui.wait(lambda: refreshed == ["staff"], SYNC_REFRESH_AFTER_S + 5)


def test_stopping_the_app_cancels_the_staff_callbacks(ui):
    sign_in(ui)
    staff = ui.screen("staff")
    tab = staff.queue_tab
    ran = []
    event = tab.schedule(lambda: ran.append(1), 0.2)
    staff.stop_callbacks()  # what KioskApp.on_stop does for every screen
    ui.settle(0.5)
    assert ran == [] and not event.is_triggered


def test_a_double_tap_on_print_makes_one_job(ui, monkeypatch):
    """Staff tap twice, 0.25 s apart, while the first job is still being created (the
    registry or the disk is slow): one job, one set of serials."""
    sign_in(ui)
    staff = ui.screen("staff")
    if staff.tab != "print":
        ui.tap(staff.ids.tab_print)
    tab = staff.print_tab
    tab.select_product(101)
    services = ui.app.services
    queue = services.print_queue
    real_submit = services.submit_print

    def slow_submit(*args):
        time.sleep(0.6)  # the job is created after both taps
        return real_submit(*args)

    monkeypatch.setattr(services, "submit_print", slow_submit)
    before = len(queue.jobs(limit=1000))
    ui.tap(tab.ids.print_button)
    assert tab.ids.print_button.disabled  # off while the job is on its way
    ui.settle(0.25)
    ui.tap(tab.ids.print_button)
    assert ui.wait(lambda: not tab.submitting, 10)
    assert ui.wait(lambda: queue.jobs(limit=1)[0].state.value == "done", 20)
    ui.settle(1.0)  # a second job, if any, would have been created by now
    assert len(queue.jobs(limit=1000)) == before + 1
    assert not tab.ids.print_button.disabled


# --- the count: presets and hold-to-repeat -------------------------------------------------


def open_print_tab(ui):
    sign_in(ui)
    staff = ui.screen("staff")
    if staff.tab != "print":
        ui.tap(staff.ids.tab_print)
    staff.print_tab.select_product(101)
    ui.pump(3)
    return staff.print_tab


def test_count_presets_set_the_count_in_one_tap_and_are_big_enough(ui):
    from kivy.metrics import dp

    from kiosk.staff.print_tab import MAX_COUNT, PRESET_COUNTS

    tab = open_print_tab(ui)
    assert max(PRESET_COUNTS) <= MAX_COUNT
    for i, count in enumerate(PRESET_COUNTS):
        button = tab.ids[f"preset_{i}"]
        assert button.width >= dp(48) - 0.5 and button.height >= dp(48) - 0.5
        ui.tap(button)
        assert tab.count == count and button.chosen
        assert tab.ids.count_label.text == str(count)
    for name in ("count_minus", "count_plus"):
        w = tab.ids[name]
        assert w.width >= dp(48) - 0.5 and w.height >= dp(48) - 0.5
    ui.tap(tab.ids.preset_2)  # 50 stamps: one tap, not 49
    assert tab.count == 50 and "50" in tab.ids.print_button.text


def test_holding_plus_repeats_faster_and_stops_on_release(ui):
    from kivy.tests import UnitTestTouch

    from kiosk.staff import print_tab

    tab = open_print_tab(ui)
    ui.tap(tab.ids.preset_0)  # 10
    ui.tap(tab.ids.count_plus)  # a tap is one step
    assert tab.count == 11
    plus = tab.ids.count_plus
    x, y = plus.to_window(*plus.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    ui.pump(2)
    assert tab.count == 12  # the press itself
    seen = []
    for _ in range(5):  # several repeat periods after the hold delay
        ui.settle(print_tab.HOLD_DELAY_S + 2 * print_tab.REPEAT_S)
        seen.append(int(tab.count))
    assert seen == sorted(seen) and seen[-1] > seen[0] > 12, seen  # kept rising while held
    # later repeats move faster than the first ones (steps of FAST_STEP)
    assert seen[-1] - seen[-2] > seen[1] - seen[0] or seen[-1] == print_tab.MAX_COUNT, seen
    touch.touch_up()
    ui.pump(2)
    held = int(tab.count)
    ui.settle(print_tab.HOLD_DELAY_S + 5 * print_tab.REPEAT_S)
    assert tab.count == held  # stopped on release
    # minus held runs down to 1 and no further
    minus = tab.ids.count_minus
    x, y = minus.to_window(*minus.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    assert ui.wait(lambda: tab.count == 1, 30)
    ui.settle(3 * print_tab.REPEAT_S)
    assert tab.count == 1
    touch.touch_up()
    ui.pump(2)
    assert tab.ids.count_minus._repeat_event is None


def test_typing_the_count_on_the_number_pad(ui):
    from kiosk.staff.print_tab import MAX_COUNT

    tab = open_print_tab(ui)
    ui.app.set_lang("en")  # the messages below in English, whatever ran before
    ui.pump(2)
    before = int(tab.count)
    ui.tap(tab.ids.count_label)
    assert tab.editing == "count" and tab.counting
    pad = tab.ids.count_pad
    ui.pump(3)
    ui.tap(pad.key("clear"))
    assert tab.count_problem == "Type how many stamps to print"
    for digit in "250":
        ui.tap(pad.key(digit))
    assert tab.count_field_text.startswith("250")
    assert tab.count_problem == f"At most {MAX_COUNT} stamps in one job"
    ui.tap(tab.ids.lot_done)  # refused: the pad stays open, the count is unchanged
    assert tab.editing == "count" and tab.count == before and not tab.can_print
    ui.tap(pad.key("clear"))
    ui.tap(pad.key("0"))
    assert tab.count_problem == "At least 1 stamp"
    ui.tap(pad.key("backspace"))
    for digit in "37":
        ui.tap(pad.key(digit))
    assert tab.count_problem == ""
    ui.tap(tab.ids.lot_done)
    assert tab.editing == "" and tab.count == 37 and tab.can_print
    assert "37" in tab.ids.print_button.text


# --- the lot's dates -----------------------------------------------------------------------


@pytest.fixture
def dates_cleared_after(ui):
    """The app lives for the whole session: the dates and count typed here must not
    reach the next test's print."""
    yield
    tab = ui.screen("staff").print_tab
    tab.vm.date_typed.clear()
    tab.vm.count = 1
    tab.refresh()


def type_date(ui, tab, field: str, digits: str):
    """Tap the NSX or HSD field, clear it and type the digits on the number pad, Done."""
    ui.tap(tab.ids.produced_button if field == "produced_on" else tab.ids.best_before_button)
    assert tab.editing == field and tab.numpad
    pad = tab.ids.count_pad
    ui.pump(2)
    ui.tap(pad.key("clear"))
    for digit in digits:
        ui.tap(pad.key(digit))
    ui.tap(tab.ids.lot_done)
    assert tab.editing == ""


def print_records(ui, job_id):
    import json

    rows = ui.store.query("SELECT payload_json FROM outbox WHERE kind = 'print'")
    return [r for r in map(json.loads, (row[0] for row in rows)) if r["job_id"] == job_id]


def test_lot_dates_typed_on_the_number_pad_go_on_the_label_and_the_print_record(
    ui, dates_cleared_after
):
    import datetime as dt

    from PIL import Image

    from kiosk.printing.queue import label_content, label_layout
    from ocop.lots import LotDates
    from printer import render_label

    tab = open_print_tab(ui)
    ui.app.set_lang("vi")  # Vietnamese first: the field names as staff read them
    ui.pump(2)
    assert tab.produced_empty and tab.best_before_empty
    ui.tap(tab.ids.produced_button)
    ui.pump(2)
    assert tab.ids.lot_title.text == "Ngày sản xuất (NSX)"
    ui.tap(tab.ids.lot_done)
    ui.app.set_lang("en")
    ui.pump(2)
    type_date(ui, tab, "produced_on", "01112026")
    type_date(ui, tab, "best_before", "01052027")
    assert tab.ids.produced_button.text.endswith("\n01/11/2026")
    assert tab.ids.best_before_button.text.endswith("\n01/05/2027")
    assert tab.dates_problem == "" and tab.can_print
    ui.tap(tab.ids.preset_0)  # 10 stamps... then back to 2 with the pad, fewer to print
    ui.tap(tab.ids.count_label)
    ui.tap(tab.ids.count_pad.key("clear"))
    ui.tap(tab.ids.count_pad.key("2"))
    ui.tap(tab.ids.lot_done)
    before = virtual_labels(ui)
    ui.tap(tab.ids.print_button)
    queue = ui.app.services.print_queue
    assert ui.wait(lambda: queue.jobs(limit=1) and queue.jobs(limit=1)[0].state.value == "done", 20)
    job = queue.jobs(limit=1)[0]
    row = ui.store.query_one(
        "SELECT produced_on, best_before FROM print_jobs WHERE id = ?", (job.id,)
    )
    assert tuple(row) == ("2026-11-01", "2027-05-01")
    records = print_records(ui, job.id)
    assert len(records) == 2
    assert {(r["lot"], r["produced_on"], r["best_before"]) for r in records} == {
        (job.lot, "2026-11-01", "2027-05-01")
    }
    # the printed label is the one drawn with the dates in its footer, not the one without
    printed = sorted(virtual_labels(ui) - before)
    assert len(printed) == 2
    serial = records[0]["serial"]
    text = ui.store.query_value("SELECT text FROM stamps WHERE serial = ?", (serial,))
    product = ui.app.services.catalog.product(101)
    dates = LotDates(dt.date(2026, 11, 1), dt.date(2027, 5, 1))

    def drawn(with_dates):
        content = label_content(product, 101, text, serial, job.lot, with_dates)
        return render_label(content, label_layout(ui.settings)).convert("1")

    paper = [Image.open(p).convert("1").tobytes() for p in printed]
    assert paper.count(drawn(dates).tobytes()) == 1
    assert drawn(None).tobytes() not in paper


def test_a_wrong_lot_date_is_named_beside_its_field_and_prints_nothing(ui, dates_cleared_after):
    tab = open_print_tab(ui)
    ui.app.set_lang("en")
    ui.pump(2)
    queue = ui.app.services.print_queue
    jobs_before = len(queue.jobs(limit=1000))
    from kivy.metrics import dp

    from kiosk.ui import theme

    for name in ("lot_button", "produced_button", "best_before_button"):
        field = tab.ids[name]  # big enough to hit, big enough to read
        assert field.width >= dp(48) - 0.5 and field.height >= dp(48) - 0.5, name
        assert field.font_size >= theme.FONT_LABEL * ui.app.u - 0.01, name
    type_date(ui, tab, "produced_on", "31022026")  # no 31 February
    assert tab.dates_problem == "Production date (NSX): not a real date (dd/mm/yyyy)"
    assert tab.ids.dates_problem.text == tab.dates_problem and tab.ids.dates_problem.height > 0
    assert not tab.can_print and tab.ids.print_button.disabled
    type_date(ui, tab, "produced_on", "0111202")  # one digit short
    assert tab.dates_problem == "Production date (NSX): type the whole date, dd/mm/yyyy"
    assert tab.ids.print_button.disabled
    type_date(ui, tab, "produced_on", "01112026")
    type_date(ui, tab, "best_before", "01102026")  # before production
    assert tab.dates_problem == "Best-before date is before the production date"
    assert tab.ids.print_button.disabled
    type_date(ui, tab, "best_before", "01011999")
    assert tab.dates_problem == "Best-before date (HSD): the year must be 2000 to 2100"
    type_date(ui, tab, "best_before", "")
    type_date(ui, tab, "produced_on", "01012099")  # in the future
    assert tab.dates_problem == "Production date is after today"
    ui.tap(tab.ids.print_button)  # disabled: nothing happens
    tab.print_now()  # and a tap that got through anyway prints nothing either
    ui.pump(5)
    assert len(queue.jobs(limit=1000)) == jobs_before
    ui.app.set_lang("vi")
    ui.pump(2)
    assert tab.dates_problem == "Ngày sản xuất sau ngày hôm nay"
    # cleared, a lot without dates prints as before
    type_date(ui, tab, "produced_on", "")
    assert tab.dates_problem == "" and not tab.ids.print_button.disabled
    ui.tap(tab.ids.print_button)
    assert ui.wait(lambda: len(queue.jobs(limit=1000)) == jobs_before + 1, 10)
    job = queue.jobs(limit=1)[0]
    row = ui.store.query_one(
        "SELECT produced_on, best_before FROM print_jobs WHERE id = ?", (job.id,)
    )
    assert tuple(row) == (None, None)
    assert ui.wait(lambda: queue.jobs(limit=1)[0].state.value == "done", 20)


def test_a_stamp_printed_with_lot_dates_shows_its_lot_line_on_the_result(ui, dates_cleared_after):
    """Print at this station with dates typed on the pad, scan a printed stamp: the result
    says "Số lô … · NSX … · HSD …"; a lot past its best-before date adds "HSD đã qua" in
    amber (read back from the window's pixels)."""
    import datetime as dt

    import numpy as np
    from kivy.core.window import Window
    from PIL import Image

    from kiosk.viewmodels import PALETTE

    today = ui.app.services.catalog.today
    produced, best_before = today - dt.timedelta(days=300), today - dt.timedelta(days=1)
    tab = open_print_tab(ui)
    ui.app.set_lang("vi")
    ui.pump(2)
    type_date(ui, tab, "produced_on", produced.strftime("%d%m%Y"))
    type_date(ui, tab, "best_before", best_before.strftime("%d%m%Y"))
    assert tab.can_print
    queue = ui.app.services.print_queue
    jobs_before = len(queue.jobs(limit=1000))
    ui.tap(tab.ids.print_button)
    assert ui.wait(lambda: len(queue.jobs(limit=1000)) == jobs_before + 1, 10)
    assert ui.wait(lambda: queue.jobs(limit=1)[0].state.value == "done", 20)
    job = queue.jobs(limit=1)[0]
    text = ui.store.query_value(
        "SELECT text FROM stamps WHERE job_id = ? ORDER BY serial LIMIT 1", (job.id,)
    )
    outcome = ui.app.services.scan.handle_text(text, "test")
    ui.app.show_outcome(text, outcome)
    assert ui.wait_screen("result", 10)
    ui.settle(0.3)
    detail = ui.screen("result").ids.detail
    lot = detail.ids.detail_lot
    line = (
        f"Số lô {job.lot} · NSX {produced:%d/%m/%Y} · HSD {best_before:%d/%m/%Y}\n"
        f"[b][color={PALETTE['amber']}]HSD đã qua[/color][/b]"
    )
    assert lot.text == line and lot.markup
    extra = detail.ids.detail_extra.text
    assert extra.startswith("Lần đầu tem này được quét")  # the scan count, the serial
    assert "\nSố sê-ri " in extra and "Số lô" not in extra
    # Without scrolling: right under the rating, inside the card's visible area (the
    # window is the 800x480 kiosk screen), amber pixels where it is drawn (markup drawn,
    # not shown as text).
    assert detail.ids.detail_scroll.scroll_y == 1
    scroll = detail.ids.detail_scroll
    _, lot_bottom = lot.to_window(lot.x, lot.y)
    _, scroll_bottom = scroll.to_window(scroll.x, scroll.y)
    assert lot.height > 0 and lot_bottom >= scroll_bottom, (lot_bottom, scroll_bottom)
    path = Window.screenshot(name=str(ui.data_dir / "lot-line.png"))
    x, y = lot.to_window(lot.x, lot.y)
    top = Window.height - (y + lot.height)
    box = (int(x), int(top), int(x + lot.width), int(top + lot.height))
    rgb = np.asarray(Image.open(path).convert("RGB").crop(box)).astype(int)
    amber = np.array([int(PALETTE["amber"][i : i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(rgb - amber).sum(axis=2) < 40).sum() > 30
    ui.app.go_home()
