"""The result's first view, in the real window (issue 15): for every verdict (and the
'unavailable' case), in every mode, at 800x480, 480x800 and 1920x1080, in Vietnamese and
English, the verdict banner, the product's name, its stars or why there are none, its
producer and its origin are inside the window and the card's visible area, nothing covers
them, and no label's text is cut (its text taller or wider than its box).

A fake, copied or revoked stamp also shows what to do, the hotline, the report QR and a
sample genuine stamp with what to check on it.

One window, resized per case; each case walks every verdict in both languages. Outcomes
come from the demo stamps through the scan service where one exists (genuine, expired,
forged, a product barcode, another QR); the verdicts no demo picture gives (revoked,
copied, product not on this kiosk, key not yet known) are the genuine stamp's outcome with
that verdict, shown through the app's own path (app.show_outcome)."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.settings import Mode
from ocop.stamps.verdicts import Verdict
from tests.ui.test_kiosk_ui import check_layout

pytestmark = pytest.mark.ui

SIZES = [(800, 480), (480, 800), (1920, 1080)]
LANGUAGES = ("vi", "en")
UNAVAILABLE = "unavailable"
CASES = [v.value for v in Verdict] + [UNAVAILABLE]

# A producer row as long as real ones get: the card must still keep its first view.
LONG_ADDRESS = "Bản Hua La, xã Hua La, Thành phố Sơn La, tỉnh Sơn La"
PHONE = "0212 3852 123"
DECISION_NO = "1234/QĐ-UBND"

# demo stamp -> the verdict the scan service gives it
REAL_STAMPS = {
    "genuine": Verdict.GENUINE,
    "expired": Verdict.GENUINE_RATING_EXPIRED,
    "forged": Verdict.FORGED,
    "barcode": Verdict.PRODUCT_BARCODE,
    "not_ocop": Verdict.NOT_OCOP,
}
# verdicts no demo picture gives: (the verdict, keep the product, keep the serial)
MADE = {
    Verdict.REVOKED: (True, True),
    Verdict.SUSPECT_CLONE: (True, True),
    Verdict.GENUINE_UNKNOWN_PRODUCT: (False, True),
    Verdict.KEY_NOT_YET_KNOWN: (False, False),
}

_outcomes: dict[str, object] = {}


def outcomes(ui) -> dict:
    """verdict value -> a ScanOutcome; each demo stamp is scanned once per session (more
    scans of one serial would make it a copied stamp)."""
    if _outcomes:
        return _outcomes
    scan = ui.app.services.scan
    for key, verdict in REAL_STAMPS.items():
        outcome = scan.handle_text(ui.stamps[key].text, "test")
        assert outcome.verdict is verdict, (key, outcome.verdict)
        _outcomes[verdict.value] = outcome
    genuine = _outcomes[Verdict.GENUINE.value]
    for verdict, (keep_product, keep_serial) in MADE.items():
        verification = dataclasses.replace(
            genuine.verification,
            verdict=verdict,
            product_id=genuine.verification.product_id if keep_product else None,
            serial=genuine.verification.serial if keep_serial else None,
        )
        _outcomes[verdict.value] = dataclasses.replace(
            genuine,
            verification=verification,
            product=genuine.product if keep_product else None,
        )
    _outcomes[UNAVAILABLE] = dataclasses.replace(genuine, verification=None, product=None)
    assert sorted(_outcomes) == sorted(CASES)
    return _outcomes


@pytest.fixture
def long_producer_rows(ui):
    """Every producer with an address and a phone, every rating with a decision number,
    as the registry sends them; the demo store's own values come back after."""
    store = ui.store
    producers = [tuple(r) for r in store.query("SELECT id, address, phone FROM producers")]
    ratings = [tuple(r) for r in store.query("SELECT id, decision_no FROM ratings")]
    with store.transaction() as conn:
        conn.execute("UPDATE producers SET address = ?, phone = ?", (LONG_ADDRESS, PHONE))
        conn.execute("UPDATE ratings SET decision_no = ?", (DECISION_NO,))
    _outcomes.clear()  # outcomes carry the ProductView read at scan time
    yield
    with store.transaction() as conn:
        conn.executemany(
            "UPDATE producers SET address = ?, phone = ? WHERE id = ?",
            [(address, phone, pid) for pid, address, phone in producers],
        )
        conn.executemany(
            "UPDATE ratings SET decision_no = ? WHERE id = ?", [(d, rid) for rid, d in ratings]
        )
    _outcomes.clear()


def show(ui, outcome):
    app = ui.app
    app.show_outcome(outcome.text, outcome)
    assert ui.wait_screen("result", 10)
    ui.settle(0.1)
    return ui.screen("result")


# --- geometry, in window coordinates ------------------------------------------------------


def window_box(widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def inside(box, outer, slack: float = 1.0) -> bool:
    return (
        box[0] >= outer[0] - slack
        and box[1] >= outer[1] - slack
        and box[2] <= outer[2] + slack
        and box[3] <= outer[3] + slack
    )


def overlap(a, b, slack: float = 1.0) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack


def drawn_box(widget):
    """The part of the widget the window shows: its box cut to every ScrollView it is in
    (None when nothing of it is shown)."""
    from kivy.uix.scrollview import ScrollView

    x0, y0, x1, y1 = window_box(widget)
    for holder in ancestors(widget):
        if isinstance(holder, ScrollView):
            sx0, sy0, sx1, sy1 = window_box(holder)
            x0, y0, x1, y1 = max(x0, sx0), max(y0, sy0), min(x1, sx1), min(y1, sy1)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def drawn_leaves(ui):
    """What is drawn on the window: the widgets without visible children (labels, images,
    buttons, the banner's parts), on the current screen, the top bar and anything put on
    the window itself (a keyboard, a popup), as (widget, the box of it that is shown)."""
    from kivy.core.window import Window
    from kivy.uix.layout import Layout

    roots = [ui.app.root.ids.topbar, ui.app.sm.current_screen]
    roots += [w for w in Window.children if w is not ui.app.root]
    leaves = []
    for root in roots:
        for widget in ui.visible_widgets(root):
            shown_children = [
                c for c in widget.children if c.opacity > 0 and c.width >= 1 and c.height >= 1
            ]
            box = drawn_box(widget)
            # an empty layout draws nothing unless it has a background of its own
            draws = not isinstance(widget, Layout) or len(widget.canvas.before.children) > 0
            if not shown_children and box is not None and draws:
                leaves.append((widget, box))
    return leaves


def ancestors(widget):
    """The widgets holding `widget`, nearest first (the window is its own parent)."""
    holder = widget.parent
    while holder is not None:
        yield holder
        if holder.parent is holder:
            return
        holder = holder.parent


def related(a, b) -> bool:
    """a is b, or one holds the other (by uid: ids are weak proxies)."""
    return (
        a.uid == b.uid
        or any(h.uid == b.uid for h in ancestors(a))
        or any(h.uid == a.uid for h in ancestors(b))
    )


def first_view_problems(ui, screen, where: str) -> list[str]:
    from kivy.core.window import Window
    from kivy.uix.scrollview import ScrollView

    window = (0, 0, Window.width, Window.height)
    vm = screen.vm
    ids, detail = screen.ids, screen.ids.detail.ids
    must_see = {"verdict banner": ids.banner}
    if vm.card is not None:
        must_see["name"] = detail.detail_name
        if vm.card.stars:
            must_see["stars"] = detail.detail_stars
        else:
            assert vm.card.rating_note, f"{where}: no stars and no reason"
            must_see["why no stars"] = detail.detail_note
        must_see["producer"] = detail.detail_producer
        must_see["origin"] = detail.detail_place
    elif vm.asks_for_report:
        must_see["what to do"] = ids.report_advice
    elif vm.advice:
        must_see["what to do"] = ids.no_product_help
    if vm.asks_for_report:
        must_see["what to do"] = ids.report_advice
        must_see["hotline"] = ids.report_hotline
        # the whole body is the report's: the QR and the sample are in view too (beside a
        # card they may be one scroll down: the card's facts come first)
        if vm.card is None:
            must_see["report QR"] = ids.report_qr
            must_see["genuine stamp caption"] = ids.genuine_caption
            sample = ids.genuine_wide if ids.genuine_wide.width else ids.genuine_below
            must_see["genuine stamp"] = sample
    problems = []
    leaves = drawn_leaves(ui)
    for what, widget in must_see.items():
        box = window_box(widget)
        if widget.get_root_window() is None or widget.opacity == 0 or widget.height < 1:
            problems.append(f"{where}: {what} is not drawn")
            continue
        if hasattr(widget, "text") and not widget.text.strip() and what != "stars":
            problems.append(f"{where}: {what} is empty")
        if not inside(box, window):
            problems.append(f"{where}: {what} {box} is outside the window")
        for scroll in ancestors(widget):
            if isinstance(scroll, ScrollView) and not inside(box, window_box(scroll)):
                problems.append(f"{where}: {what} is scrolled out of the first view")
        shown = drawn_box(widget)
        for other, other_box in leaves:
            if shown and not related(other, widget) and overlap(other_box, shown):
                problems.append(f"{where}: {what} is covered by {other!r}")
    return problems


@pytest.mark.parametrize("mode", [m.value for m in Mode])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_result_shows_its_facts_in_the_first_view(ui, long_producer_rows, size, mode):
    from kivy.core.window import Window

    old = Window.size
    Window.size = size
    ui.app.mode = mode  # the next test's reset() brings the station mode back
    try:
        ui.settle(0.3)
        found = outcomes(ui)
        problems = []
        for lang in LANGUAGES:
            ui.app.set_lang(lang)
            for case in CASES:
                screen = show(ui, found[case])
                assert screen.vm.verdict == case
                where = f"{size[0]}x{size[1]} {mode} {lang} {case}"
                problems += first_view_problems(ui, screen, where)
                problems += check_layout(ui, where)
        assert not problems, "\n".join(problems)
    finally:
        Window.size = old
        ui.settle(0.3)


def test_the_card_shows_the_producers_address_phone_decision_and_related_products(
    ui, long_producer_rows
):
    """The facts a shopper decides on, below the first view's essentials: and a related
    product's name opens that product's card."""
    found = outcomes(ui)
    screen = show(ui, found[Verdict.GENUINE.value])
    detail = screen.ids.detail.ids
    assert detail.detail_address.text == LONG_ADDRESS
    assert detail.detail_phone.text == PHONE
    recognised = found[Verdict.GENUINE.value].product.rating_recognised_on
    day, month, year = recognised[8:10], recognised[5:7], recognised[:4]
    assert detail.detail_decision.text == f"Quyết định số {DECISION_NO} ngày {day}/{month}/{year}"
    related_buttons = [b for b in detail.detail_related.children if b.text]
    product = found[Verdict.GENUINE.value].product
    assert 1 <= len(related_buttons) <= 4
    catalog = ui.app.services.catalog
    for button in related_buttons:
        other = catalog.product(button.product_id)
        assert other.id != product.id
        assert other.producer_id == product.producer_id or other.commune == product.commune
        assert button.text == other.name_vi
    ui.app.set_lang("en")
    ui.settle(0.2)
    assert detail.detail_decision.text.startswith(f"Decision no. {DECISION_NO} of ")
    # children are in reverse order: the last is the first name shown
    target = [b for b in detail.detail_related.children if b.text][-1]
    scroll = screen.ids.detail.ids.detail_scroll
    scroll.scroll_to(target, padding=0, animate=False)
    ui.settle(0.2)
    ui.tap(target)
    assert ui.wait_screen("product")
    product_screen = ui.screen("product")
    assert product_screen.product_id == target.product_id
    assert product_screen.ids.detail.ids.detail_name.text == catalog.product(
        target.product_id
    ).name("en")
