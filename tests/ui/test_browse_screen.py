"""Browse in the real Kivy window: it opens on the kiosk's own district."""

from __future__ import annotations

import dataclasses

import pytest


@pytest.fixture
def site_in(ui):
    """Set site.district in the app's settings; the original settings come back after."""
    app = ui.app
    original = app.settings

    def place(district: str):
        site = dataclasses.replace(original.site, district=district)
        app.settings = dataclasses.replace(original, site=site)

    yield place
    app.settings = original


def _open_browse(ui):
    ui.tap(ui.screen("attract").ids.browse_button)
    assert ui.wait_screen("browse")
    browse = ui.screen("browse")
    assert ui.wait(lambda: bool(browse.results), 5)
    ui.settle(0.2)
    return browse


def _selected_buttons(ui, browse):
    return [
        b
        for b in ui.visible_widgets(browse.ids.filter_list)
        if getattr(b, "selected", False) and b is not browse.ids.filter_list
    ]


def test_browse_opens_on_the_kiosks_own_district(ui, site_in):
    districts = [name for name, _n in ui.app.services.catalog.districts()]
    assert len(districts) >= 3
    home = districts[-1]  # the last listed: far from where the old code opened
    site_in(home)
    browse = _open_browse(ui)
    assert (browse.tab, browse.selected) == ("district", f"d:{home}")
    assert browse.results and all(home in r["place"] for r in browse.results)
    # its button is the one lit, and scrolled into view
    (lit,) = _selected_buttons(ui, browse)
    assert lit.text.startswith(home)
    scroll = browse.ids.filter_scroll
    x, y = lit.to_window(*lit.center)
    assert scroll.collide_point(*scroll.parent.to_widget(x, y))
    # the next shopper (idle return) starts there again, after another district was picked
    browse.pick(f"d:{districts[0]}")
    ui.app.go_home(reset=True)
    assert ui.wait_screen("attract")
    browse = _open_browse(ui)
    assert browse.selected == f"d:{home}"


def test_a_site_district_typed_differently_still_matches(ui, site_in):
    import unicodedata

    home = "Mộc Châu"
    assert home in [name for name, _n in ui.app.services.catalog.districts()]
    site_in("  " + unicodedata.normalize("NFD", home).upper() + " ")
    browse = _open_browse(ui)
    assert browse.selected == f"d:{home}"


def test_a_site_district_without_products_opens_on_the_first(ui, site_in):
    first = ui.app.services.catalog.districts()[0][0]
    site_in("Quỳnh Nhai (no products here)")
    browse = _open_browse(ui)
    assert browse.selected == f"d:{first}"
