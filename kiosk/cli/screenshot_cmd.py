"""`ocop-kiosk screenshot`: render one screen headless (SDL offscreen) to a PNG.

    ocop-kiosk screenshot --screen result --demo-stamp genuine --lang en --out r.png
    ocop-kiosk screenshot --screen attract --mode reststop --size 1920x1080 --out a.png

By default it runs on a fresh temporary demo data folder, so the picture does not depend on
this machine's data; --live-data uses the configured data folder instead.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ocop.errors import UserError

SCREENS = ("attract", "scan", "result", "browse", "product", "staff_pin", "staff")
DEMO_STAMP_KEYS = ("genuine", "genuine4", "expired", "forged", "barcode", "not_ocop")


def register(sub) -> None:
    parser = sub.add_parser("screenshot", help="render a screen to a PNG (headless)",
                            description="Render one kiosk screen without a display (SDL "
                            "offscreen) with demo data and save it as a PNG.")
    parser.add_argument("--screen", required=True, choices=SCREENS)
    parser.add_argument("--lang", choices=("vi", "en"), default=None)
    parser.add_argument("--mode", choices=("showroom", "reststop", "station"), default=None)
    parser.add_argument("--size", metavar="WxH", default="800x480")
    parser.add_argument("--stamp", metavar="TEXT", help="result screen: the scanned text")
    parser.add_argument("--demo-stamp", choices=DEMO_STAMP_KEYS,
                        help="result/scan screen: one of the demo stamps")
    parser.add_argument("--product", type=int, help="product screen: product id")
    parser.add_argument("--tab", choices=("print", "queue", "sync", "settings",
                                          "district", "group", "search"),
                        help="staff or browse tab")
    parser.add_argument("--query", default="", help="browse search text")
    parser.add_argument("--idle-left", type=int, metavar="S", default=None,
                        help="show the idle countdown with S seconds left (1-10)")
    parser.add_argument("--live-data", action="store_true",
                        help="use the configured data folder, not a temporary demo one")
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
    from kiosk.ui.app import KioskApp
    from kiosk.ui.camera import DemoCameraSource, load_bgr, prepare_demo_stamps
    from kiosk.ui.capture import save_screenshot, settle, wait_for

    stamps = {s.key: s for s in prepare_demo_stamps(store, settings, data_dir)}
    want_camera = args.screen == "scan"
    source = DemoCameraSource(fps=30) if want_camera else None
    app = KioskApp(settings, store, data_dir, camera_source=source,
                   camera_is_demo=want_camera, start_camera=want_camera)
    app._run_prepare()
    try:
        settle(0.3)
        text = args.stamp
        if args.demo_stamp:
            if args.demo_stamp not in stamps:
                raise UserError("no demo stamps in this data folder")
            text = stamps[args.demo_stamp].text
        screen = args.screen
        if screen == "result":
            if not text:
                text = stamps["genuine"].text if "genuine" in stamps else ""
            outcome = app.services.scan.handle_text(text, "test")
            app.show_outcome(text, outcome)
        elif screen == "scan":
            # Stay on the scan screen: a deliberate per-instance override, not a stub bug.
            app.on_codes = lambda texts: None  # type: ignore[method-assign]
            app.go("scan")
            if text and args.demo_stamp:
                assert source is not None      # want_camera: the scan screen has one
                source.show(load_bgr(stamps[args.demo_stamp].path), hold_s=60)
            preview = app.screen("scan").ids.preview
            wait_for(lambda: preview.frames_shown > 2, 10)
            app.scan_busy = False
        elif screen == "product":
            pid = args.product or (app.services.catalog.featured(limit=1) or
                                   app.services.catalog.all(limit=1))[0].id
            app.show_product(pid)
        elif screen == "browse":
            browse = app.screen("browse")
            app.go("browse")
            tab = args.tab if args.tab in ("district", "group", "search") else "district"
            browse.show_tab(tab)
            if tab == "district":
                names = [d for d, _ in app.services.catalog.districts()]
                if "Mộc Châu" in names:
                    browse.pick("d:Mộc Châu")
            if tab == "search" and args.query:
                for ch in args.query.lower():
                    browse.on_key(ch)
            wait_for(lambda: bool(browse.results) or browse.results_title != "", 10)
        elif screen == "staff_pin":
            app.go("staff_pin")
        elif screen == "staff":
            app.staff_signed_in = True
            app.go("staff")
            staff = app.screen("staff")
            if args.tab in ("print", "queue", "sync", "settings"):
                staff.show_tab(args.tab)
            wait_for(lambda: staff.preview is not None, 10)
            wait_for(lambda: staff.printer_text != "", 6)
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
