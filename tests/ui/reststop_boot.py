"""A rest-stop kiosk booted in a fresh process (its own real Kivy window, SDL offscreen) and
left alone: nothing touches the screen. Prints, as JSON lines, what the attract screen shows
at each slide change, for tests/ui/test_reststop.py.

    .venv/bin/python -m tests.ui.reststop_boot DATA_DIR SECONDS
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    data_dir, seconds = Path(argv[0]), float(argv[1])
    from kiosk.cli.run_cmd import configure_window, prepare_kivy_environment

    prepare_kivy_environment(data_dir / "kivy", headless=True)
    configure_window(fullscreen=False, size=(800, 480))
    from kiosk.demo.setup import set_up_demo
    from kiosk.settings import settings_from_dict
    from kiosk.store import Store

    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.in_dir(data_dir)
    set_up_demo(store, data_dir)
    settings = settings_from_dict(
        {
            "mode": "reststop",
            "site": {
                "road": "QL37",
                "district": "Bắc Yên",
                "showroom_name": "Điểm bán sản phẩm OCOP Bắc Yên",
                "showroom_address": "Thị trấn Bắc Yên",
                "showroom_distance_km": 2.5,
            },
            # the shortest idle timeout: a countdown on attract would show within the run
            "ui": {"attract_cycle_s": 1.0, "idle_timeout_s": 5.0},
        }
    )
    from kivy.base import EventLoop

    from kiosk.ui.app import KioskApp

    app = KioskApp(settings, store, data_dir, camera_source=None, start_camera=False)
    app._run_prepare()
    screen = app.screen("attract")
    last = -1
    warning = app.root.ids.idle_warning
    countdowns: set[float] = set()  # every countdown number seen, frame by frame
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        EventLoop.idle()
        if app.idle_countdown or warning.opacity:
            countdowns.add(app.idle_countdown)
        if screen.slides_shown != last:
            last = screen.slides_shown
            shown = {
                "shown": last,
                "screen": app.sm.current,
                "product": screen.slide.product_id if screen.slide else None,
                "info": screen.info.title if screen.info else None,
                "heading": screen.ids.route_heading.text,
                "countdowns": sorted(countdowns),
            }
            print(json.dumps(shown, ensure_ascii=False), flush=True)
    app.stop()
    EventLoop.idle()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
