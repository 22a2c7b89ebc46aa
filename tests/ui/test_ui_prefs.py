"""Mode and default language chosen on the staff screen, kept in the store's meta table
(kiosk.ui_prefs), and the staff view-models behind the stopped-job panel and the lot keypad.
Plain Python: no window."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.printing.queue import needs_attention
from kiosk.settings import Language, Mode, Settings
from kiosk.ui_prefs import (
    META_LANGUAGE,
    META_MODE,
    Source,
    apply_prefs,
    load_prefs,
    save_language,
    save_mode,
)
from kiosk.viewmodels import (
    JobRecoveryViewModel,
    edit_lot,
    edit_query,
    pref_source_text,
    recovery_done_text,
)
from ocop.stamps.serials import serial_digits


def settings_with(mode: str = "showroom", lang: str = "vi") -> Settings:
    return dataclasses.replace(Settings(), mode=Mode(mode), language=Language(lang))


# --- kiosk.ui_prefs ---------------------------------------------------------------------------


def test_without_a_saved_choice_the_settings_file_decides(store):
    prefs = load_prefs(store, settings_with("reststop", "en"))
    assert (prefs.mode, prefs.mode_source) == ("reststop", Source.CONFIG)
    assert (prefs.language, prefs.language_source) == ("en", Source.CONFIG)


def test_a_saved_choice_wins_over_the_settings_file_and_survives_a_reopen(store, data_dir):
    save_mode(store, "station")
    save_language(store, "en")
    settings = settings_with("showroom", "vi")
    prefs = load_prefs(store, settings)
    assert (prefs.mode, prefs.mode_source) == ("station", Source.SAVED)
    assert (prefs.language, prefs.language_source) == ("en", Source.SAVED)
    assert (prefs.config_mode, prefs.config_language) == ("showroom", "vi")
    applied = apply_prefs(settings, store)
    assert applied.mode is Mode.STATION and applied.language is Language.EN
    # what a restart sees: a new connection to the same database
    from kiosk.store import Store

    reopened = Store.in_dir(data_dir)
    try:
        assert load_prefs(reopened, settings).mode == "station"
    finally:
        reopened.close()


def test_use_the_settings_files_value_forgets_the_choice(store):
    save_mode(store, "reststop")
    save_language(store, "en")
    save_mode(store, None)
    save_language(store, None)
    assert store.get_meta(META_MODE) is None and store.get_meta(META_LANGUAGE) is None
    prefs = load_prefs(store, settings_with("showroom", "vi"))
    assert prefs.mode_source is Source.CONFIG and prefs.language == "vi"


def test_the_command_line_wins_for_one_run_and_a_staff_choice_replaces_it(store):
    save_mode(store, "station")
    prefs = load_prefs(store, settings_with("showroom"), cli_mode="reststop", cli_language="en")
    assert (prefs.mode, prefs.mode_source) == ("reststop", Source.COMMAND_LINE)
    assert (prefs.language, prefs.language_source) == ("en", Source.COMMAND_LINE)
    chosen = prefs.with_mode("showroom")
    assert (chosen.mode, chosen.mode_source) == ("showroom", Source.SAVED)
    back = chosen.with_mode(None)
    assert (back.mode, back.mode_source) == ("showroom", Source.CONFIG)
    assert prefs.with_language(None).language == "vi"


def test_bad_values_are_refused_and_bad_stored_ones_ignored(store):
    with pytest.raises(ValueError):
        save_mode(store, "disco")
    with pytest.raises(ValueError):
        save_language(store, "fr")
    with store.transaction() as conn:  # e.g. written by an older or newer version
        store.set_meta(META_MODE, "disco", conn)
        store.set_meta(META_LANGUAGE, "", conn)
    prefs = load_prefs(store, settings_with("station", "en"))
    assert (prefs.mode, prefs.mode_source) == ("station", Source.CONFIG)
    assert (prefs.language, prefs.language_source) == ("en", Source.CONFIG)


def test_pref_source_texts_in_both_languages():
    assert pref_source_text("config", "Showroom", "en") == "From the settings file."
    assert pref_source_text("config", "", "vi") == "Theo tệp cấu hình."
    assert "Trạm in tem" in pref_source_text("saved", "Trạm in tem", "vi")
    assert pref_source_text("saved", "English", "en").startswith("Chosen on this kiosk")
    assert "command line" in pref_source_text("command_line", "English", "en")


# --- the stopped print job ------------------------------------------------------------------


def job(state="interrupted", printed=(1, 2, 3), pending=(6, 7), uncertain=(5,), count=6, error=""):
    from kiosk.printing.queue import JobState, JobView

    return JobView(
        id=12,
        product_id=101,
        lot="",
        count=count,
        state=JobState(state),
        error=error,
        printed=list(printed),
        pending=list(pending),
        uncertain=list(uncertain),
        void=[],
        created_at="",
        updated_at="",
    )


def test_a_failed_job_tells_staff_why():
    reason = "label cannot be printed: printer.label_height_mm: 20 mm, at least 28 mm needed"
    vm = JobRecoveryViewModel.build(job("failed", uncertain=(), error=reason), "Cà phê", "vi")
    assert vm.help.startswith("Lý do: " + reason)
    interrupted = JobRecoveryViewModel.build(job(error="connection lost"), "Coffee", "en")
    assert "Why" not in interrupted.help  # the steps say what happened


def test_serial_digits_match_the_number_printed_on_the_label():
    from kiosk.printing.queue import serial_text

    for serial in (1, 4, 123456, 10**12 - 1):
        assert serial_text(serial).endswith(serial_digits(serial))
    assert serial_digits(123456) == "0000 0012 3456"
    # 13-digit serials (up to 2**40) keep every digit on screen
    assert serial_digits(2**40 - 1).replace(" ", "") == str(2**40 - 1)


def test_recovery_view_model_check_then_continue():
    vm = JobRecoveryViewModel.build(job(), "Cà phê", "vi", others=1)
    assert vm.step == "check" and vm.title == "Lệnh in #12 bị dừng giữa chừng"
    assert vm.summary == "Đã in 3/6 tem" and vm.product == "Cà phê"
    assert [s.label for s in vm.uncertain] == ["Tem số 0000 0000 0005"]
    assert (vm.printed_text, vm.reprint_text) == ("Tem đã in ra", "In lại")
    assert vm.others == "Còn 1 lệnh in khác cần kiểm tra"
    en = JobRecoveryViewModel.build(job(uncertain=()), "Coffee", "en")
    assert en.step == "continue" and en.left == 2 and not en.others
    assert en.resume_text == "Resume printing" and en.cancel_text == "Cancel the rest"
    assert en.confirm_cancel_text == "Tap again to cancel 2 stamps"
    assert en.help.startswith("2 stamps are not printed yet")
    one = JobRecoveryViewModel.build(job(uncertain=(), pending=(7,)), "Coffee", "en")
    assert one.confirm_cancel_text == "Tap again to cancel 1 stamp"
    done = JobRecoveryViewModel.build(job(uncertain=(), pending=()), "Coffee", "en")
    assert done.resume_text == "Close the job"
    failed = JobRecoveryViewModel.build(job("failed", uncertain=()), "Coffee", "en")
    assert failed.title == "Print job #12 did not finish"


def test_which_jobs_need_a_decision():
    assert needs_attention(job())
    assert needs_attention(job("failed", uncertain=()))
    assert not needs_attention(job("failed", uncertain=(), pending=()))  # cancelled
    assert not needs_attention(job("done", uncertain=(), pending=()))
    assert not needs_attention(job("queued", uncertain=()))


def test_recovery_done_texts():
    assert (
        recovery_done_text("printed", "vi", serial=5) == "Tem số 0000 0000 0005 được tính là đã in."
    )
    assert recovery_done_text("reprint", "en", serial=5).endswith("will be printed again.")
    assert recovery_done_text("resume", "en", job_id=3) == "Print job #3 is back in the queue."
    assert recovery_done_text("cancel", "en", count=1) == "1 stamp cancelled."
    assert recovery_done_text("cancel", "vi", count=4) == "Đã huỷ 4 tem."


def test_lot_keypad_editing():
    assert edit_lot("2026-0", "5") == "2026-05"
    assert edit_lot("l", "a") == "lA"
    assert edit_lot("A-1/", "backspace") == "A-1"
    assert edit_lot("A-1/", "clear") == ""
    assert edit_lot("A", "?") == "A" and edit_lot("A", " ") == "A"
    assert edit_lot("X" * 40, "Y") == "X" * 40


def test_search_text_follows_the_keyboard():
    assert edit_query("moc", " ") == "moc " and edit_query("moc ", "c") == "moc c"
    assert edit_query("moc", "backspace") == "mo"
    assert edit_query("moc", "clear") == ""
    assert edit_query("x" * 40, "y") == "x" * 40  # at most 40 characters
