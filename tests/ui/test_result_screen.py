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


def screen_pixels(widget):
    """The widget's area of the real window, as grey pixels (numpy), from a screenshot."""
    import numpy as np
    from kivy.core.window import Window
    from PIL import Image

    path = Window.screenshot(name=str(widget_tmp() / "shot.png"))
    image = Image.open(path).convert("L")
    x, y = widget.to_window(widget.x, widget.y)
    top = Window.height - (y + widget.height)
    box = (int(x), int(top), int(x + widget.width), int(top + widget.height))
    return np.asarray(image.crop(box))


def widget_tmp():
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="result-shot-"))


def test_a_forged_stamp_says_it_may_be_fake_and_shows_the_hotline_and_a_report_qr(ui):
    import zxingcpp

    screen = show(ui, "forged")
    site = ui.app.settings.site
    assert screen.ids.banner.title == "Tem có thể là giả"
    ids = screen.ids
    assert site.hotline and site.hotline in ids.report_hotline.text.replace("\u00a0", " ")
    assert "Đường dây nóng" in ids.report_hotline.text
    assert "quét mã QR" in ids.report_advice.text
    assert ids.report_qr.get_root_window() is not None and ids.report_qr.width > 48
    ui.settle(0.3)
    found = zxingcpp.read_barcodes(screen_pixels(ids.report_qr))
    assert [r.text for r in found] == [site.report_url]
    ui.app.set_lang("en")
    ui.settle(0.2)
    assert screen.ids.banner.title == "This stamp may be fake"
    # the number never breaks across lines: no-break spaces inside it
    assert screen.ids.report_hotline.text == "Hotline: " + site.hotline.replace(" ", "\u00a0")


def test_the_sample_genuine_stamp_beside_a_report_does_not_scan_but_the_report_qr_does(ui):
    """A shopper who points a phone at the screen gets the report page, never the sample's
    stamp text: on the rendered frame, every decoder and step of scanner/ reads the report
    QR and nothing else, and reads nothing at all in the sample."""
    import numpy as np

    from kiosk.ui.capture import grab_image
    from tests.ui.every_decoder import every_reading

    screen = show(ui, "forged")
    ids = screen.ids
    sample = ids.genuine_wide if ids.genuine_wide.width else ids.genuine_below
    assert sample.get_root_window() is not None and sample.texture is not None
    assert sample.width > 150 * ui.app.u  # shown at its size, not a thumbnail
    ui.settle(0.3)
    frame = np.asarray(grab_image().convert("L"))

    def crop(widget):
        x, y = widget.to_window(widget.x, widget.y)
        top = frame.shape[0] - int(y + widget.height)
        return frame[max(0, top) : int(frame.shape[0] - y), int(x) : int(x + widget.width)]

    assert every_reading(crop(sample)) == set()
    report_url = ui.app.settings.site.report_url
    assert every_reading(crop(ids.report_qr)) == {report_url}
    assert every_reading(frame) == {report_url}
