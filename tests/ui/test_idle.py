"""The idle return to attract, as a shopper meets it: a quiet period, then a countdown over
the current screen that steps once a second, a Stay button that keeps the screen, and one
return to attract at 0. A rest-stop display nobody touches shows no countdown at all."""

from __future__ import annotations

import re
import time
from itertools import pairwise

import pytest

pytestmark = pytest.mark.ui

IDLE_S, COUNTDOWN_S = 7.0, 4.0  # short for the test; the kiosk's are 45 s and 10 s


class Watch:
    """Pumps frames and notes what the person sees: each countdown number when it appears
    (with its time) and each screen change."""

    def __init__(self, ui):
        self.ui, self.app = ui, ui.app
        self.warning = ui.app.root.ids.idle_warning
        self.numbers: list[tuple[float, int]] = []
        self.screens: list[str] = []
        self.app.sm.bind(current=self._screen)

    def _screen(self, _sm, name):
        self.screens.append(name)

    def shown(self) -> int:
        """The number on screen (0: no countdown), read from the widgets, checked against
        the sentence."""
        if self.warning.opacity == 0 or self.warning not in self.ui.visible_widgets(self.warning):
            return 0
        ids = self.warning.ids
        n = int(ids.idle_seconds.text)
        sentence = ids.idle_text.text
        assert f"{n}\u00a0" in sentence  # never wrapped between the number and its unit
        assert re.search(rf"\b{n} (giây|seconds?)$", sentence.replace("\u00a0", " ")), sentence
        return n

    def run(self, until, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.ui.pump()
            n = self.shown()
            if n and (not self.numbers or self.numbers[-1][1] != n):
                self.numbers.append((time.monotonic(), n))
            if until():
                return True
        return False

    def period(self) -> list[tuple[float, int]]:
        """The numbers seen since the last call."""
        seen, self.numbers = self.numbers, []
        return seen

    def close(self):
        self.app.sm.unbind(current=self._screen)


def assert_counts_down_each_second(seen, first=int(COUNTDOWN_S), last=1):
    assert [n for _t, n in seen] == list(range(first, last - 1, -1)), seen
    steps = [b - a for (a, _), (b, _) in pairwise(seen)]
    assert all(0.6 <= s <= 1.5 for s in steps), steps  # one a second, every second


@pytest.fixture
def watch(ui):
    w = Watch(ui)
    yield w
    w.close()


@pytest.mark.slow
def test_the_idle_countdown_steps_each_second_stay_keeps_the_screen_and_it_returns_once(
    ui, watch, monkeypatch
):
    app = ui.app
    returns = []
    go_home = app.go_home
    monkeypatch.setattr(
        app, "go_home", lambda *a, **kw: (returns.append(kw.get("reset")), go_home(*a, **kw))
    )
    app.go("browse")
    assert ui.wait_screen("browse")
    app.idle_timeout_s, app.idle_countdown_s = IDLE_S, COUNTDOWN_S
    app.poke()
    watch.screens.clear()
    ids = app.root.ids.idle_warning.ids

    # 1: a quiet period, then 4, 3, 2 on the browse screen; Stay keeps it
    quiet_until = time.monotonic() + IDLE_S - COUNTDOWN_S - 0.4
    assert not watch.run(lambda: watch.shown() > 0, quiet_until - time.monotonic())
    assert watch.run(lambda: watch.shown() == 2, 4)
    assert_counts_down_each_second(watch.period(), last=2)
    texts = [t.replace("\u00a0", " ") for t in ui.texts()]
    assert "Quay về màn hình chính sau 2 giây" in texts and "Ở lại" in texts, texts
    assert not any("second" in t or "Stay" in t for t in texts)  # Vietnamese screen
    stay = ids.stay_button
    assert stay.height >= 48 and stay.width >= 48  # dp at 800x480 (app.u == 1)
    assert stay in ui.visible_widgets()
    ui.tap(stay)
    ui.settle(0.2)
    assert watch.shown() == 0 and app.idle_countdown == 0
    assert app.sm.current == "browse" and watch.screens == []

    # 2: another idle period, the countdown again; a touch anywhere keeps the screen too
    stayed_at = time.monotonic()
    assert watch.run(lambda: watch.shown() == 3, IDLE_S + 1)
    seen = watch.period()
    assert seen[0][0] - stayed_at >= IDLE_S - COUNTDOWN_S - 0.4  # not at once: a quiet time
    assert_counts_down_each_second(seen, last=3)
    ui.tap(app.root.ids.topbar.ids.topbar_subtitle)
    ui.settle(0.2)
    assert watch.shown() == 0 and app.sm.current == "browse" and watch.screens == []

    # 3: left alone: 4, 3, 2, 1, then exactly one return to attract
    app.set_lang("en")
    assert watch.run(lambda: app.sm.current == "attract", IDLE_S + 2)
    seen = watch.period()
    assert_counts_down_each_second(seen)
    assert 0.6 <= time.monotonic() - seen[-1][0] <= 1.5  # "1" lasts its second too
    ui.settle(1.5)
    assert watch.screens == ["attract"] and returns == [True], (watch.screens, returns)
    assert app.lang == "vi" and watch.shown() == 0 and app.idle_countdown == 0


def test_the_countdown_speaks_english_in_english(ui, watch):
    app = ui.app
    app.go("browse")
    assert ui.wait_screen("browse")
    app.set_lang("en")
    app.idle_timeout_s, app.idle_countdown_s = 2.5, 2.5
    app.poke()
    assert watch.run(lambda: watch.shown() == 2, 3)
    texts = [t.replace("\u00a0", " ") for t in ui.texts()]
    assert "Returning to the start in 2 seconds" in texts and "Stay" in texts, texts
    assert watch.run(lambda: watch.shown() == 1, 2)
    assert "Returning to the start in 1\u00a0second" in ui.texts()
    assert ui.wait_screen("attract", 3)


def test_a_touch_under_the_countdown_does_not_reach_the_screen(ui, watch):
    """A shopper tapping the band to stay must not press what lies below it."""
    app = ui.app
    app.go("browse")
    assert ui.wait_screen("browse")
    app.idle_timeout_s, app.idle_countdown_s = 4.0, 2.0  # after the tap: 2 s without it
    app.poke()
    assert watch.run(lambda: watch.shown() > 0, 4)
    band = app.root.ids.idle_warning
    below = [
        w
        for w in ui.visible_widgets(app.sm.current_screen)
        if hasattr(w, "on_release") and band.collide_point(*w.to_window(*w.center))
    ]
    pressed = []
    for w in below:
        w.bind(on_release=lambda w: pressed.append(w))
    ui.tap(band.ids.idle_texts)
    ui.settle(0.2)
    assert pressed == [] and app.sm.current == "browse" and watch.shown() == 0


def test_a_rest_stop_left_alone_rotates_slides_with_no_countdown(ui, watch):
    app = ui.app
    app.mode = "reststop"
    app.idle_timeout_s, app.idle_countdown_s = 2.0, 1.5
    screen = ui.screen("attract")
    before = screen.slides_shown
    seen_countdown = []
    watch.run(lambda: seen_countdown.append(app.idle_countdown) and False, 5.0)
    assert screen.slides_shown >= before + 2  # attract_cycle_s = 2 in the UI tests
    assert set(seen_countdown) == {0} and watch.period() == [] and watch.screens == []
    assert app.sm.current == "attract"
