"""The kiosk as unattended signage: what it shows must follow the store and the calendar
without anybody touching it, and a stamp left on the counter must not count itself up."""

from __future__ import annotations

import ast
import datetime as dt

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.ui


def test_no_repeating_ui_callback_can_unschedule_itself():
    """Kivy drops an interval callback that returns False (the watchdog stopped after its
    first ping that way). Every repeat in kiosk/ goes through kiosk.ui.ticks.every."""
    offenders = []
    for path in sorted((REPO_ROOT / "kiosk").rglob("*.py")):
        if path.name == "ticks.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "schedule_interval":
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert offenders == []


def test_every_keeps_calling_whatever_the_callback_returns(ui):
    from kiosk.ui.ticks import every

    calls = []
    event = every(0, lambda: calls.append(1) or False)
    try:
        ui.settle(0.3)
    finally:
        event.cancel()
    assert len(calls) >= 5
    n = len(calls)
    ui.settle(0.2)
    assert len(calls) == n  # cancelled: no more calls


def test_leaving_attract_mid_fade_cancels_the_animation(ui):
    screen = ui.screen("attract")
    assert screen.cycling
    screen.next_slide()
    ui.pump(2)  # the fade-out has started
    ui.app.go("browse")
    assert ui.wait_screen("browse")
    assert not screen.cycling
    assert screen.ids.card.opacity == 1  # never left half-faded for the next visit
    ui.settle(0.6)
    assert screen.ids.card.opacity == 1
    ui.app.go_home()
    assert ui.wait_screen("attract")
    assert screen.cycling


@pytest.mark.slow
def test_slides_keep_rotating_while_nobody_touches_the_screen(ui):
    screen = ui.screen("attract")
    start, seen = screen.slides_shown, set()
    cycle_s = ui.app.attract_cycle_s
    ok = ui.wait(
        lambda: seen.add(screen.slide.product_id) or screen.slides_shown - start >= 3,
        4 * cycle_s + 2,
    )
    assert ok and len(seen) >= 3, (screen.slides_shown - start, seen)


@pytest.fixture
def frozen_day(ui):
    catalog = ui.app.services.catalog
    before = catalog._today
    yield lambda day: setattr(catalog, "_today", day)
    catalog._today = before
    ui.app._check_catalog()


def test_a_rating_that_expires_while_the_slides_run_loses_its_stars(ui, frozen_day):
    """Midnight passes on a rest-stop screen nobody touches: the next slide is drawn with
    the new day's rule (ratings are valid 36 months), without a restart or a touch."""
    screen = ui.screen("attract")
    assert any(s.stars for s in screen.vm.slides)
    frozen_day(dt.date(2099, 1, 1))  # every rating of the demo catalog has expired
    start = screen.slides_shown
    assert ui.wait(lambda: screen.slides_shown > start, ui.app.attract_cycle_s + 3)
    ui.settle(0.4)
    assert screen.slide is not None and screen.slide.stars == 0
    assert not any("★" in t for t in ui.texts())


def test_the_day_changing_refreshes_the_product_page_on_screen(ui, frozen_day):
    product_id = ui.screen("attract").vm.slides[0].product_id
    ui.app.show_product(product_id)
    assert ui.wait_screen("product")
    page = ui.screen("product")
    assert page.card.stars > 0
    frozen_day(dt.date(2099, 1, 1))
    ui.app._check_catalog()  # what the 30 s day check runs
    assert page.card.stars == 0


def test_a_sync_that_changes_the_catalog_refreshes_the_attract_screen(ui):
    """Sync (in this process or the separate sync unit) applies a page and saves its
    cursor: the screen shows the new name without anybody touching it."""
    from kiosk.sync.status import CURSOR_KEY, get_state, set_state

    screen = ui.screen("attract")
    shown = screen.slide.product_id
    store = ui.store
    old_name = store.query_one("SELECT name_vi FROM products WHERE id = ?", (shown,))[0]
    old_cursor = get_state(store.conn, CURSOR_KEY)
    try:
        with store.transaction() as conn:
            conn.execute(
                "UPDATE products SET name_vi = ? WHERE id = ?", ("Tên mới sau đồng bộ", shown)
            )
            set_state(conn, CURSOR_KEY, str(int(old_cursor or 0) + 1))
        ui.app._sync_changed(None)  # the sync loop's status callback
        ui.settle(0.2)
        assert any(s.name == "Tên mới sau đồng bộ" for s in screen.vm.slides)
    finally:
        with store.transaction() as conn:
            conn.execute("UPDATE products SET name_vi = ? WHERE id = ?", (old_name, shown))
            set_state(conn, CURSOR_KEY, old_cursor or "0")
        ui.app._check_catalog()


def _scans(ui) -> int:
    return ui.store.query_one("SELECT count(*) FROM scans")[0]


@pytest.mark.slow
def test_a_stamp_left_on_the_counter_is_one_scan_through_idle_resets(ui):
    """One presence, one scan: a stamp left in front of the camera through several idle
    returns to attract is counted once; taken away and shown again, it counts again."""
    before = _scans(ui)
    ui.app.idle_timeout_s = 2.0
    ui.hold_stamp("genuine", hold_s=14.0)
    assert ui.wait_screen("result", 15)
    assert ui.wait_screen("attract", 6)
    ui.settle(8.0)  # more idle periods with the stamp still in view
    assert ui.app.sm.current == "attract"
    assert _scans(ui) == before + 1
    # gone for longer than camera.gone_after_s, then shown again: a new scan
    ui.source.inner.clear()
    ui.settle(ui.settings.camera.gone_after_s + 1.0)
    ui.hold_stamp("genuine", hold_s=3.0)
    assert ui.wait_screen("result", 15)
    assert _scans(ui) == before + 2


def test_staff_see_clock_not_set_when_the_clock_is_behind_the_trusted_time(ui):
    """A Pi without RTC booted before NTP answered: staff are told, in Vietnamese."""
    from kiosk.trusted_time import META_LOCAL_MARK, META_SIGNED_TIME, record_signed_time

    store = ui.store
    saved = store.query(
        "SELECT key, value FROM meta WHERE key IN (?, ?)", (META_SIGNED_TIME, META_LOCAL_MARK)
    )
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    staff = ui.screen("staff")
    try:
        with store.transaction() as conn:
            record_signed_time(conn, ahead)  # a trust list signed 400 days from "now"
        staff.refresh_sync()
        assert "Đồng hồ chưa được đặt" in staff.sync_tab.sync_lines
    finally:
        with store.transaction() as conn:
            conn.execute(
                "DELETE FROM meta WHERE key IN (?, ?)", (META_SIGNED_TIME, META_LOCAL_MARK)
            )
            conn.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)", [tuple(row) for row in saved]
            )
    staff.refresh_sync()
    assert "Đồng hồ chưa được đặt" not in staff.sync_tab.sync_lines


def test_ctrl_q_quits_and_other_keys_do_not(ui, monkeypatch):
    from kivy.core.window import Window

    stops = []
    monkeypatch.setattr(ui.app, "stop", lambda *a: stops.append(1))
    Window.dispatch("on_key_down", ord("q"), 20, "q", [])
    assert stops == []
    Window.dispatch("on_key_down", ord("q"), 20, "q", ["ctrl"])
    assert stops == [1]
