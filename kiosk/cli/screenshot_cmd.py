"""`ocop-kiosk screenshot`: render one screen headless (SDL offscreen) to a PNG.

    ocop-kiosk screenshot --screen result --demo-stamp genuine --lang en --out r.png
    ocop-kiosk screenshot --screen attract --mode reststop --size 1920x1080 --out a.png

By default it runs on a fresh temporary demo data folder, so the picture does not depend on
this machine's data; --live-data uses the configured data folder instead.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.demo.stamps import DEMO_LABELS
from kiosk.staff import STAFF_TABS
from kiosk.ui.screen_registry import SCREEN_NAMES
from ocop.errors import UserError

if TYPE_CHECKING:
    from kiosk.demo.camera import DemoCameraSource

BROWSE_TABS = ("district", "group", "search")


def register(sub) -> None:
    parser = sub.add_parser(
        "screenshot",
        help="render a screen to a PNG (headless)",
        description="Render one kiosk screen without a display (SDL "
        "offscreen) with demo data and save it as a PNG.",
    )
    parser.add_argument("--screen", required=True, choices=SCREEN_NAMES)
    parser.add_argument("--lang", choices=("vi", "en"), default=None)
    parser.add_argument("--mode", choices=("showroom", "reststop", "station"), default=None)
    parser.add_argument("--size", metavar="WxH", default="800x480")
    parser.add_argument("--stamp", metavar="TEXT", help="result screen: the scanned text")
    parser.add_argument(
        "--demo-stamp",
        choices=tuple(DEMO_LABELS),
        help="result/scan screen: one of the demo stamps",
    )
    parser.add_argument("--product", type=int, help="product screen: product id")
    parser.add_argument(
        "--slide",
        type=int,
        metavar="N",
        help="attract screen: hold slide N (from 0) of the rotation",
    )
    parser.add_argument("--tab", choices=STAFF_TABS + BROWSE_TABS, help="staff or browse tab")
    parser.add_argument("--query", default="", help="browse search text")
    parser.add_argument(
        "--idle-left",
        type=int,
        metavar="S",
        default=None,
        help="show the idle countdown with S seconds left (1-10)",
    )
    parser.add_argument(
        "--live-data",
        action="store_true",
        help="use the configured data folder, not a temporary demo one",
    )
    parser.add_argument("--out", required=True, metavar="FILE.png")
    parser.set_defaults(handler=handle_screenshot)


def handle_screenshot(args, ctx) -> int:
    from kiosk.cli.run_cmd import (
        apply_overrides,
        configure_window,
        ensure_demo_data,
        parse_size,
        prepare_kivy_environment,
    )

    size = parse_size(args.size)
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise UserError("--out must name a .png file")
    tmp = None
    if args.live_data:
        ensure_demo_data(ctx)
        data_dir = ctx.data_dir
        store = ctx.store()
    else:
        from kiosk.demo.setup import set_up_demo
        from kiosk.store import Store

        tmp = Path(tempfile.mkdtemp(prefix="ocop-screenshot-"))
        data_dir = tmp / "data"
        data_dir.mkdir()
        store = Store.in_dir(data_dir)
        set_up_demo(store, data_dir)
    settings = apply_overrides(ctx.settings, args.mode, args.lang)
    prepare_kivy_environment((tmp or data_dir) / "kivy", headless=True)
    configure_window(fullscreen=False, size=size)
    try:
        render(settings, store, data_dir, args, out)
    finally:
        if tmp is not None:
            store.close()
            shutil.rmtree(tmp, ignore_errors=True)
    print(out)
    return 0


def render(settings, store, data_dir, args, out: Path) -> None:
    from kiosk.demo.camera import DemoCameraSource
    from kiosk.demo.stamps import prepare_demo_stamps
    from kiosk.ui.app import KioskApp
    from kiosk.ui.capture import save_screenshot, settle, wait_for

    stamps = {s.key: s for s in prepare_demo_stamps(store, settings, data_dir)}
    want_camera = args.screen == "scan"
    source = DemoCameraSource(fps=30) if want_camera else None
    app = KioskApp(
        settings,
        store,
        data_dir,
        camera_source=source,
        camera_is_demo=want_camera,
        start_camera=want_camera,
    )
    app._run_prepare()
    try:
        settle(0.3)
        text = args.stamp
        if args.demo_stamp:
            if args.demo_stamp not in stamps:
                raise UserError("no demo stamps in this data folder")
            text = stamps[args.demo_stamp].text
        SCREEN_SETUP[args.screen](app, args, Shot(stamps, source, text, wait_for))
        if args.idle_left:
            import time

            # as if the last touch was idle_timeout_s - S ago (the idle check counts it down)
            app._last_activity = time.monotonic() - (app.idle_timeout_s - args.idle_left - 0.9)
            wait_for(lambda: app.idle_countdown == args.idle_left, 5)
        settle(0.8)
        save_screenshot(out)
    finally:
        app.stop()
        from kivy.base import EventLoop

        EventLoop.idle()


@dataclass(frozen=True)
class Shot:
    """What a screen's set-up may use besides the app and the arguments."""

    stamps: dict  # key -> kiosk.demo.stamps.DemoStamp
    source: DemoCameraSource | None  # the demo camera (scan screen only)
    text: str | None  # the stamp text asked for (--stamp or --demo-stamp)
    wait_for: Callable


def _show_attract(app, args, shot: Shot) -> None:
    if args.slide is not None:  # the app starts on it; else hold one slide of the rotation
        app.screen("attract").hold(args.slide)


def _show_result(app, args, shot: Shot) -> None:
    text = shot.text or (shot.stamps["genuine"].text if "genuine" in shot.stamps else "")
    outcome = app.services.scan.handle_text(text, "test")
    app.show_outcome(text, outcome)


def _show_scan(app, args, shot: Shot) -> None:
    from kiosk.demo.camera import load_bgr

    # Stay on the scan screen: a deliberate per-instance override (a subclass would rename
    # the app, and Kivy finds its layout by the class name).
    app.on_codes = lambda texts: None
    app.go("scan")
    if shot.text and args.demo_stamp and shot.source is not None:
        shot.source.show(load_bgr(shot.stamps[args.demo_stamp].path), hold_s=60)
    preview = app.screen("scan").ids.preview
    shot.wait_for(lambda: preview.frames_shown > 2, 10)
    app.scan_busy = False


def _show_product(app, args, shot: Shot) -> None:
    catalog = app.services.catalog
    app.show_product(args.product or (catalog.featured(limit=1) or catalog.all(limit=1))[0].id)


def _show_browse(app, args, shot: Shot) -> None:
    browse = app.screen("browse")
    app.go("browse")
    tab = args.tab if args.tab in BROWSE_TABS else "district"
    browse.show_tab(tab)
    if tab == "district":
        names = [d for d, _ in app.services.catalog.districts()]
        if "Mộc Châu" in names:
            browse.pick("d:Mộc Châu")
    if tab == "search" and args.query:
        for ch in args.query.lower():
            browse.on_key(ch)
    shot.wait_for(lambda: bool(browse.results) or browse.results_title != "", 10)


def _show_staff_pin(app, args, shot: Shot) -> None:
    app.go("staff_pin")


def _show_staff(app, args, shot: Shot) -> None:
    app.staff_signed_in = True
    app.go("staff")
    staff = app.screen("staff")
    if args.tab in STAFF_TABS:
        staff.show_tab(args.tab)
    shot.wait_for(lambda: staff.print_tab.preview is not None, 10)
    shot.wait_for(lambda: staff.queue_tab.printer_text != "", 6)


# How each registered screen is set up for its picture (tests check every screen has one).
SCREEN_SETUP: dict[str, Callable[..., None]] = {
    "attract": _show_attract,
    "scan": _show_scan,
    "result": _show_result,
    "browse": _show_browse,
    "product": _show_product,
    "staff_pin": _show_staff_pin,
    "staff": _show_staff,
}
