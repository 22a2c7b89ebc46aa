"""Browse in the real Kivy window: it opens on the kiosk's own district."""

from __future__ import annotations

import pytest


@pytest.fixture
def site_in(settings_with):
    return lambda district: settings_with("site", district=district)


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


# --- the search keyboard and the result names, at every window size ------------------------

SIZES = [(480, 800), (800, 480), (1920, 1080)]


def _rect(widget):
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def _overlap(a, b) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5


def _inside(inner, outer) -> bool:
    return (
        inner[0] >= outer[0] - 0.5
        and inner[1] >= outer[1] - 0.5
        and inner[2] <= outer[2] + 0.5
        and inner[3] <= outer[3] + 0.5
    )


@pytest.fixture(params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def window(ui, request):
    from kivy.core.window import Window

    old = Window.size
    Window.size = request.param
    ui.settle(0.3)
    yield request.param
    Window.size = old
    ui.settle(0.3)


def _search(ui, text: str):
    browse = _open_browse(ui)
    ui.tap(browse.ids.tab_search)
    assert ui.wait(lambda: browse.tab == "search", 3)
    ui.settle(0.2)
    ui.type_on(browse.ids.keyboard, text)
    assert ui.wait(lambda: bool(browse.results) and browse.query == text, 5)
    ui.settle(0.3)
    return browse


def test_keys_are_48dp_and_the_keyboard_covers_nothing(ui, window):
    from kivy.core.window import Window
    from kivy.metrics import dp

    browse = _search(ui, "bo sua")
    keyboard, field = browse.ids.keyboard, browse.ids.search_field
    keys = ui.keyboard_keys(keyboard)
    assert len(keys) >= 26 + 3, sorted(keys)
    small = [k for k, b in keys.items() if b.width < dp(48) - 0.5 or b.height < dp(48) - 0.5]
    assert not small, [(k, keys[k].size) for k in small]
    # the typed text is seen: the field shows it, and nothing is drawn over the field or tabs
    assert field.text.startswith("bo sua") and field in ui.visible_widgets()
    kb = _rect(keyboard)
    screen = _rect(browse)
    tabs = [browse.ids.tab_district, browse.ids.tab_group, browse.ids.tab_search]
    for widget in [field, *tabs]:
        assert not _overlap(kb, _rect(widget)), (widget, kb, _rect(widget))
        assert _inside(_rect(widget), screen), widget
    assert _inside(kb, screen) and _inside(kb, (0, 0, *Window.size))
    # the results are beside or below the keyboard, never under it, and one shows whole
    rv = browse.ids.rv
    assert not _overlap(kb, _rect(rv)) and rv.height >= 84 * ui.app.u


def _tiles(ui, browse):
    from kiosk.ui.screens.browse import ProductTile

    return [w for w in ui.visible_widgets(browse.ids.rv) if isinstance(w, ProductTile)]


def _check_names_wrap_by_words(ui, browse):
    tiles = _tiles(ui, browse)
    assert tiles
    names = {r["name"] for r in browse.results}
    wrapped = 0
    for tile in tiles:
        label = tile.ids.tile_name
        assert label.text in names and not label.shorten
        lines = ["".join(word.text for word in line.words) for line in label._label._cached_lines]
        # every word whole, on one line: the lines are the name's words in order
        assert " ".join(" ".join(lines).split()) == " ".join(label.text.split()), lines
        assert all(not line or set(line.split()) <= set(label.text.split()) for line in lines), (
            lines
        )
        wrapped += len([line for line in lines if line.strip()]) > 1
        # every line drawn inside the tile, above the stars and place
        assert label.texture_size[1] <= label.height + 0.5
        assert _inside(_rect(label), _rect(tile)), (label.text, _rect(label), _rect(tile))
        place = tile.ids.tile_place
        assert _rect(place)[3] <= _rect(label)[1] + 0.5
        assert "…" not in label.text and "..." not in label.text
    return wrapped


def test_result_names_wrap_by_words_never_cut(ui, window):
    browse = _search(ui, "bo sua")
    wrapped = _check_names_wrap_by_words(ui, browse)
    if window == (800, 480):  # the narrow results column beside the keyboard
        assert wrapped, "the long name should take more than one line here"
    # the district lists too
    ui.tap(browse.ids.tab_district)
    assert ui.wait(lambda: browse.tab == "district" and bool(browse.results), 5)
    ui.settle(0.3)
    _check_names_wrap_by_words(ui, browse)
