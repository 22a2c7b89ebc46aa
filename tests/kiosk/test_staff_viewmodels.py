"""The staff screen's view-models (kiosk/staff/), without a window: which columns show while
staff type, the texts, which jobs need a decision, the tab that opens."""

from __future__ import annotations

from types import SimpleNamespace

from kiosk.printing.overview import QueueOverview
from kiosk.printing.queue import JobState, JobView, needs_attention
from kiosk.staff.print_tab import Editing, PrintLayout, PrintTabModel
from kiosk.staff.queue_tab import QueueTabModel, RecoveryLook, job_cells, printer_light
from kiosk.staff.settings_tab import settings_view
from kiosk.staff.sync_tab import sync_answer_text, sync_lines
from kiosk.staff.tabs import choice_look, tab_after_jobs_read
from kiosk.ui_prefs import Source


def job(state="interrupted", printed=(1, 2, 3), pending=(6, 7), uncertain=(5,), job_id=12):
    return JobView(
        id=job_id,
        product_id=101,
        lot="",
        count=6,
        state=JobState(state),
        error="",
        printed=list(printed),
        pending=list(pending),
        uncertain=list(uncertain),
        void=[],
        created_at="",
        updated_at="",
    )


def product(pid, name):
    return SimpleNamespace(id=pid, name=lambda lang: name)


def test_the_columns_follow_what_staff_type():
    idle = PrintLayout.of(Editing.NONE, portrait=False)
    assert (idle.products.shown, idle.label.shown, idle.keyboard.shown, idle.lot.shown) == (
        True,
        True,
        False,
        False,
    )
    assert (idle.products.size_hint_x, idle.label.size_hint_x) == (0.42, 0.58)
    search = PrintLayout.of(Editing.SEARCH, portrait=False)
    assert (search.products.size_hint_x, search.keyboard.size_hint_x) == (0.4, 0.6)
    assert not search.label.shown and search.keyboard.size_hint_y == 1
    lot = PrintLayout.of(Editing.LOT, portrait=True)
    assert not lot.products.shown and lot.products.size_hint_x is None
    assert lot.lot.size_hint_x == 1
    tall = PrintLayout.of(Editing.SEARCH, portrait=True)
    assert tall.products.size_hint_x == 1 and tall.keyboard.size_hint_y is None
    assert tall.products_padding_u == (0, 0, 0, 8)


def test_print_tab_texts():
    vm = PrintTabModel(lot="")
    view = vm.view("en", portrait=False)
    assert view.search_text == "Search by name or place…" and not view.can_print
    assert view.lot_button_text == "none" and view.lot_length_text == "0/40"
    vm.default_products = [product(101, "Coffee"), product(103, "Tea")]
    assert vm.first_default() == 101
    vm.select(101, vm.find_product(101), "en")
    vm.editing = Editing.SEARCH
    vm.key_in_search("c")
    vm.key_in_lot("a")
    vm.change_count(+150)
    view = vm.view("vi", portrait=False)
    assert view.search_text == "c▏" and view.lot_field_text == "A▏"
    assert view.count == 100 and view.print_text == "In 100 tem" and view.can_print
    assert view.product_hint == "Không tìm thấy sản phẩm. Hãy gõ ít chữ hơn."
    vm.search_query = ""
    assert [r["selected"] for r in vm.view("en", False).product_rows] == [True, False]
    assert vm.first_default() is None  # a choice is kept


def test_one_rule_for_jobs_needing_a_decision():
    for j in (
        job(),
        job("failed", uncertain=()),
        job("failed", uncertain=(), pending=()),
        job("done", uncertain=(), pending=()),
        job("queued", uncertain=()),
        job("done", pending=()),
    ):
        assert needs_attention(j) == j.needs_attention
    assert needs_attention(job("done", pending=()))  # an uncertain label, whatever state
    assert not needs_attention(job("printing"))  # the worker is on it


def test_queue_tab_recovery_and_the_two_tap_cancel():
    vm = QueueTabModel()
    first, second = job(uncertain=(), job_id=3), job(job_id=4)
    vm.jobs_read(QueueOverview([second, first], [first, second], {101: "Coffee"}))
    assert vm.attention == 2 and vm.stopped_job is first
    vm.cancel_armed = True
    look = RecoveryLook.of(vm.recovery("en"), vm.cancel_armed)
    assert look.shown and look.actions_shown and look.cancel_text.startswith("Tap again")
    assert look.title.startswith("⚠ ") and look.others
    vm.jobs_read(QueueOverview([second], [second], {101: "Coffee"}))
    assert not vm.cancel_armed  # armed for another job: not valid now
    assert vm.recovery("en").step == "check"  # its uncertain label first
    assert not RecoveryLook.of(None, False).shown
    cells = job_cells(vm.overview, "en")
    assert [c.colour for c in cells] == ["ink", "red", "muted", "muted"] and cells[0].data
    assert job_cells(QueueOverview.empty(), "en")[0].text == "No print jobs yet."
    vm.recovery_note = ("error", "disk full", 0, 0)
    assert vm.note_text("en") == ("Could not do that: disk full", True)


def test_printer_status_words_and_light():
    assert [printer_light(s) for s in ("ready", "paper_near_end", "unknown", "paper_out")] == [
        "green",
        "green",
        "amber",
        "red",
    ]
    vm = QueueTabModel(printing_ok=False, print_error="no printer.uri")
    assert vm.printer_texts("en") == ("unknown", "Printing is not available here", "no printer.uri")


def test_tabs_and_choices():
    assert choice_look(True) == choice_look(True, False)
    assert (choice_look(False).bg, choice_look(True).bg) == ("white", "green")
    assert choice_look(False, warn=True).line == "amber"
    assert tab_after_jobs_read("print", "", jump=True, waiting=True) == "queue"
    assert tab_after_jobs_read("print", "search", jump=True, waiting=True) == "print"
    assert tab_after_jobs_read("print", "", jump=False, waiting=True) == "print"
    assert tab_after_jobs_read("sync", "", jump=True, waiting=True) == "sync"


def test_sync_and_settings_texts():
    view = SimpleNamespace(
        label=lambda lang: "Offline", pending=3, last_success="", detail="timeout", failed=True
    )
    assert (
        sync_lines(view, "en", "Clock not set")
        == "Offline\n3 records waiting to be sent\ntimeout\nClock not set"
    )
    assert sync_answer_text("started", "en") == "Sync started."
    assert sync_answer_text("whatever", "en") == "Sync is not running"
    assert sync_answer_text(None, "en") == ""
    prefs = SimpleNamespace(
        language="en",
        language_source=Source.SAVED,
        config_language="vi",
        mode="station",
        mode_source=Source.CONFIG,
        config_mode="station",
    )
    settings = settings_view(prefs, "station", "en")
    assert settings.default_language == "en" and settings.lang_saved and not settings.mode_saved
    assert settings.lang_source_text.endswith("says Tiếng Việt.")


def test_every_job_state_has_staff_words_in_both_languages():
    from kiosk.printing.queue import JobState
    from kiosk.viewmodels import job_state_text

    for state in JobState:
        assert job_state_text(state.value, "vi") != job_state_text(state.value, "en")
    assert job_state_text("melted", "vi") == "melted"  # an unknown value is shown as is


def test_queue_rows_show_the_serial_range_as_the_label_groups_it():
    from kiosk.staff.queue_tab import serial_range_text

    wide = job(printed=range(101, 140), pending=range(140, 151), uncertain=())
    assert serial_range_text(wide) == "0000 0000 0101 \u2013 0000 0000 0150"
    assert serial_range_text(job(printed=(7,), pending=(), uncertain=())) == "0000 0000 0007"
    assert serial_range_text(job(printed=(), pending=(), uncertain=())) == ""
    cells = job_cells(QueueOverview([wide], [], {101: "Coffee"}), "vi")
    assert cells[2].text == "0000 0000 0101 \u2013 0000 0000 0150" and cells[2].data
    no_serials = job(printed=(), pending=(), uncertain=())
    assert len(job_cells(QueueOverview([no_serials], [], {101: "Coffee"}), "en")) == 2


def test_typed_count_is_checked_and_a_bad_one_changes_nothing():
    from kiosk.staff.print_tab import MAX_COUNT, PrintTabModel, count_problem

    assert count_problem("", "vi") == "Nhập số tem cần in"
    assert count_problem("0", "en") == "At least 1 stamp"
    assert count_problem(str(MAX_COUNT + 1), "vi") == f"Mỗi lần in tối đa {MAX_COUNT} tem"
    assert count_problem(str(MAX_COUNT), "en") == ""
    vm = PrintTabModel(printing_ok=True, product_id=101, count=7)
    vm.start_count()
    assert PrintLayout.of(vm.editing, portrait=False).lot.shown  # the keypad column
    for key in "1234":  # at most as many digits as MAX_COUNT has
        vm.key_in_count(key)
    assert vm.count_typed == "123" and not vm.finish_count("en") and vm.count == 7
    view = vm.view("en", portrait=False)
    assert view.counting and not view.can_print and view.count_problem
    vm.key_in_count("backspace")
    assert vm.finish_count("en") and vm.count == 12 and vm.editing is Editing.NONE


def test_lot_dates_need_a_lot_and_show_as_typed():
    import datetime as dt

    from kiosk.staff.print_tab import date_text
    from ocop.lots import LotDates

    assert date_text("") == "" and date_text("0111") == "01/11"
    assert date_text("01112026") == "01/11/2026"
    model = PrintTabModel.for_today(dt.date(2026, 12, 3))
    model.product_id = 101
    assert model.view("en", portrait=False).can_print
    model.date_typed[Editing.PRODUCED] = "01112026"
    assert model.dates("en") == ("", LotDates(dt.date(2026, 11, 1)))
    model.lot = ""  # the registry refuses dates without a lot: so does the station
    view = model.view("vi", portrait=False)
    assert view.dates_problem == "Có ngày thì phải có số lô: nhập số lô trước"
    assert not view.can_print
    model.date_typed[Editing.PRODUCED] = ""
    assert model.view("en", portrait=False).dates_problem == ""
