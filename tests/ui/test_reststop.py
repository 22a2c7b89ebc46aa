"""The rest-stop display (Mode.RESTSTOP): the site's road from settings with "you are here",
slides that keep the picture in portrait and landscape, slides for passers-by who hold no
product, and all of it rotating after boot with nobody touching the screen."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.ui.test_kiosk_ui import label_overflows

pytestmark = pytest.mark.ui

SIZES = [(800, 480), (480, 800), (1920, 1080)]
SHOWROOM = {
    "showroom_name": "Điểm giới thiệu và bán sản phẩm OCOP Mộc Châu",
    "showroom_address": "Thị trấn Nông trường Mộc Châu, huyện Mộc Châu",
    "showroom_distance_km": 3.0,
}


@pytest.fixture
def reststop(ui):
    """The kiosk in rest-stop mode at a site on `road` in `district`, with a showroom."""
    app = ui.app
    before = app.settings

    def configure(road="QL6", district="Mộc Châu", **site):
        from ocop.roads import Road

        fields = {"road": Road(road), "district": district, **SHOWROOM, **site}
        app.settings = dataclasses.replace(before, site=dataclasses.replace(before.site, **fields))
        app.mode = "reststop"
        ui.settle(0.1)
        ui.screen("attract").refresh()
        ui.settle(0.3)
        return ui.screen("attract")

    yield configure
    app.settings = before
    app.mode = "station"
    ui.screen("attract").refresh()


def test_the_route_is_the_sites_road_with_you_are_here(ui, reststop):
    screen = reststop("QL37", "Bắc Yên")
    assert screen.ids.route_heading.text == "Sản phẩm OCOP dọc Quốc lộ\u00a037"
    route = screen.ids.route
    assert [d for _, _, d in route.stops] == ["Phù Yên", "Bắc Yên", "Mai Sơn"]
    assert route.ends == ["Yên Bái", "Cò Nòi"]
    [tag] = [lbl for lbl in route._labels if lbl.text == "Bạn đang ở đây"]
    [name] = [lbl for lbl in route._labels if lbl.text == "Bắc Yên"]
    assert abs(tag.center_x - name.center_x) < 2  # over the site's own stop
    ui.app.set_lang("en")
    ui.settle(0.3)
    assert screen.ids.route_heading.text == "OCOP products along\u00a0QL37"


def test_every_road_of_the_scheme_is_one_table():
    from kiosk.viewmodels import QL6_DISTRICTS
    from ocop.roads import ROUTES, Road

    assert {r.value for r in ROUTES} == {"QL6", "QL37", "QL43", "QL4G"}
    assert ROUTES[Road.QL6].districts == QL6_DISTRICTS
    assert ROUTES[Road.QL4G].districts[-1] == "Sốp Cộp"


def _lines(label) -> list[str]:
    label.texture_update()
    return ["".join(w.text for w in line.words) for line in label._label._cached_lines]


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[ \u00a0]+", text.strip()) if w]


def _inside(widget, box, slack=1.0) -> bool:
    (x, y), (r, t) = (
        widget.to_window(widget.x, widget.y),
        widget.to_window(widget.right, widget.top),
    )
    (bx, by), (br, bt) = box
    return x >= bx - slack and y >= by - slack and r <= br + slack and t <= bt + slack


# body text >= 20 px * app.u; these are labels (captions, counts, tags): >= 18
LABEL_IDS = {"slide_group", "featured_title", "slide_dots", "staff_button"}


def _problems(ui, screen, where: str) -> list[str]:
    from kivy.core.window import Window

    from kiosk.ui.widgets import RouteStrip

    app, problems = ui.app, []
    u = app.u
    window = ((0, 0), Window.size)
    ids = {id(w.__self__): name for name, w in screen.ids.items()}
    route = screen.ids.route
    for label in _screen_labels(ui, screen):
        text = label.text[:30]
        floor = 18 if ids.get(id(label)) in LABEL_IDS or label.parent is route else 20
        if isinstance(label.parent, RouteStrip):
            floor = 18
        if label.font_size < floor * u - 0.01:
            problems.append(f"{where}: {text!r} {label.font_size / u:.1f} px/u < {floor}")
        why = label_overflows(label)
        if why:
            problems.append(f"{where}: {why}")
        if not _inside(label, window):
            problems.append(f"{where}: {text!r} is outside the window")
        if label.parent is route and not _inside(label, _box(route)):
            problems.append(f"{where}: {text!r} is outside the route strip")
        for part in ("card", "cta"):  # the slide and the call to scan
            box = screen.ids[part]
            if _within(label, box) and not _inside(label, _box(box)):
                problems.append(f"{where}: {text!r} is outside the {part}")
    card = screen.ids.card
    shown = [screen.ids.info_box if screen.info else screen.ids.slide_text]
    for inner in shown + [screen.ids.slide_dots, screen.ids.cta]:
        box = _box(card) if inner is not screen.ids.cta else window
        if inner.opacity and inner.height and not _inside(inner, box):
            problems.append(f"{where}: {ids[id(inner.__self__)]} overflows {box}")
    for name in ("slide_name", "info_title", "route_heading"):
        lines = _lines(screen.ids[name]) if screen.ids[name].text else []
        if len(lines) > 1 and len(_words(lines[-1])) < 2:
            problems.append(f"{where}: {name} ends on a lone word: {lines}")
    return problems


def _within(widget, ancestor) -> bool:
    while widget is not None and widget is not widget.parent:
        if widget is ancestor.__self__:
            return True
        widget = widget.parent
    return False


def _screen_labels(ui, screen):
    """The attract screen's own texts (the top bar is the shell's, checked elsewhere)."""
    from kivy.uix.label import Label

    return [w for w in ui.visible_widgets(screen) if isinstance(w, Label) and w.text.strip()]


def _box(widget):
    return widget.to_window(widget.x, widget.y), widget.to_window(widget.right, widget.top)


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_rest_stop_slides_keep_the_picture_and_fit_every_size(ui, reststop, size):
    from kivy.core.window import Window

    old = Window.size
    Window.size = size
    try:
        screen = reststop("QL6", "Mộc Châu")
        problems, areas = [], []
        for lang in ("vi", "en"):
            ui.app.set_lang(lang)
            ui.settle(0.2)
            screen.on_leave()  # hold each slide still while it is measured
            for index in range(min(8, len(screen.vm.sequence))):
                screen._show(index)
                ui.settle(0.15)
                where = f"{size[0]}x{size[1]} {lang} slide {index}"
                if screen.slide is not None:
                    image = screen.ids.slide_image
                    # the slide area: the window less the top bar and the route strip
                    slide_area = size[0] * (
                        size[1] - ui.app.root.ids.topbar.height - screen.ids.route_box.height
                    )
                    share = image.width * image.height / slide_area
                    of_window = image.width * image.height / (size[0] * size[1])
                    areas.append((where, round(share, 2), round(of_window, 2)))
                    if share < 0.25 or of_window < 0.12:
                        problems.append(
                            f"{where}: picture {image.size} is {share:.0%} of the slide area, "
                            f"{of_window:.0%} of the window"
                        )
                    assert screen.ids.stars.font_size >= 24 * ui.app.u
                problems += _problems(ui, screen, where)
            assert screen.vm.info  # the passers-by slides are measured too
            screen.on_enter()
        print("picture share (slide area, window):", sorted(set(a[1:] for a in areas)))
        assert not problems, "\n".join(problems)
    finally:
        Window.size = old
        ui.settle(0.3)


def test_passers_by_see_what_the_stars_mean_and_where_the_showroom_is(ui, reststop):
    screen = reststop()
    info = screen.vm.info
    assert [i.title for i in info] == ["Sao OCOP nghĩa là gì", "Mua sản phẩm OCOP gần đây"]
    stars, showroom = info
    assert [n for n, _ in stars.rows] == [5, 4, 3]
    assert "quốc gia" in stars.rows[0][1] and "tỉnh" in stars.rows[1][1]
    assert [t for _, t in showroom.rows] == [
        SHOWROOM["showroom_name"],
        SHOWROOM["showroom_address"],
        "Cách đây 3 km",
    ]
    screen.on_leave()
    screen._show(screen.vm.sequence.index(stars))
    ui.settle(0.3)
    texts = [t.replace("\u00a0", " ") for t in ui.texts()]
    assert "Sao OCOP nghĩa là gì" in texts
    from kiosk.ui.widgets import StarRow

    shown = [w.stars for w in ui.visible_widgets() if isinstance(w, StarRow)]
    assert sorted(shown) == [3, 4, 5]  # the shared StarRow widget, one per level
    assert screen.ids.slide_image.opacity == 0 or screen.ids.product_box.opacity == 0
    screen.on_enter()
    # no showroom configured: the stars slide still rotates, the showroom one is not made
    screen = reststop(showroom_name="")
    assert [i.title for i in screen.vm.info] == ["Sao OCOP nghĩa là gì"]


def test_a_rest_stop_rotates_after_boot_with_nobody_touching_it(tmp_path):
    """A fresh process, its own real Kivy window, nothing touched: the slides change every
    period, info slides among them (the last bug: after boot they never rotated)."""
    env = {**os.environ, "KIVY_NO_ARGS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.reststop_boot", str(tmp_path / "d"), "9"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shown = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(shown) >= 6, result.stdout  # >= 5 changes in 9 s at 1 s a slide
    assert [s["shown"] for s in shown] == list(range(len(shown)))
    assert all(s["screen"] == "attract" for s in shown)
    assert all(s["countdowns"] == [] for s in shown), shown  # no idle countdown on attract
    assert all(s["heading"] == "Sản phẩm OCOP dọc Quốc lộ\u00a037" for s in shown)
    products = {s["product"] for s in shown if s["product"]}
    infos = {s["info"] for s in shown if s["info"]}
    assert len(products) >= 4 and "Sao OCOP nghĩa là gì" in infos, shown
