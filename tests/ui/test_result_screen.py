"""The shopper's result screen in the real window: every result opens at its top, with the
verdict, name, stars, producer and origin in the first view."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ui


def show(ui, key: str):
    app = ui.app
    outcome = app.services.scan.handle_text(ui.stamps[key].text, "test")
    app.show_outcome(ui.stamps[key].text, outcome)
    assert ui.wait_screen("result", 10)
    ui.settle(0.2)
    return ui.screen("result")


def in_scroll_view(widget, scroll) -> bool:
    """The widget lies inside the ScrollView's visible area (window coordinates)."""
    x, y = widget.to_window(widget.x, widget.y)
    sx, sy = scroll.to_window(scroll.x, scroll.y)
    return (
        y >= sy - 1
        and y + widget.height <= sy + scroll.height + 1
        and x >= sx - 1
        and x + widget.width <= sx + scroll.width + 1
    )


def test_a_new_result_opens_at_the_top_not_where_the_last_shopper_scrolled(ui):
    screen = show(ui, "genuine")
    scroll = screen.ids.detail.ids.detail_scroll
    scroll.scroll_y = 0  # the previous shopper read the story to its end
    ui.settle(0.2)
    assert scroll.scroll_y == 0
    screen = show(ui, "genuine4")
    detail = screen.ids.detail.ids
    assert scroll.scroll_y == 1
    assert in_scroll_view(detail.detail_name, scroll)
    assert in_scroll_view(detail.detail_stars, scroll)
    assert detail.detail_stars.stars == 4


def test_the_idle_reset_also_scrolls_the_card_back_to_its_top(ui):
    screen = show(ui, "genuine")
    scroll = screen.ids.detail.ids.detail_scroll
    scroll.scroll_y = 0
    ui.settle(0.1)
    ui.app.go_home(reset=True)
    ui.wait_screen("attract")
    assert scroll.scroll_y == 1
