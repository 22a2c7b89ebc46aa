"""Run the real kiosk (`ocop-kiosk run`, in this process) with one fault injected later.

    python -m tests.deploy.watchdog_driver DATA_DIR FAULT AT_S [STOP_AFTER_S]

FAULT is what goes wrong AT_S seconds after the app started:
  freeze-ui     the UI thread sleeps (a hung main loop) until the process ends
  hang-decoder  the QR decoder never returns (a decoder stuck on one frame)
  hang-camera   the camera driver's read() never returns
  none          nothing (the control run)

Faults are injected at the boundary the kiosk cannot see into (the decoder library, the
camera driver, the UI thread itself); everything else is the shipped app. The stuck limits
are shortened to 2 s so a test sees the watchdog react within a few periods. The process
stops itself after STOP_AFTER_S (default 30).
"""

from __future__ import annotations

import os
import sys
import threading
import time

# Short enough to see within the test, long enough that one real decode or frame on a busy
# 2-core CI machine never counts as stuck (2.0 s did once: the first decode, under load).
STUCK_AFTER_S = 3.0


def main(argv: list[str]) -> int:
    data_dir, fault, at_s = argv[0], argv[1], float(argv[2])
    stop_after_s = float(argv[3]) if len(argv) > 3 else 30.0
    hang = threading.Event()

    def blocking(original):
        def wrapper(*args, **kwargs):
            while hang.is_set():
                time.sleep(0.05)  # never returns while the fault lasts
            return original(*args, **kwargs)

        return wrapper

    if fault == "hang-decoder":
        import scanner.decoders as decoders

        decoders.DecodePipeline.decode = blocking(decoders.DecodePipeline.decode)
    elif fault == "hang-camera":
        from kiosk.demo.camera import DemoCameraSource

        DemoCameraSource.read = blocking(DemoCameraSource.read)
    elif fault not in ("freeze-ui", "none"):
        raise SystemExit(f"unknown fault {fault!r}")

    from kiosk.cli.run_cmd import prepare_kivy_environment

    prepare_kivy_environment(os.path.join(data_dir, "kivy"), headless=True)
    import kiosk.ui.app as app_module

    app_module.CAMERA_STUCK_AFTER_S = app_module.DECODE_STUCK_AFTER_S = STUCK_AFTER_S
    from kivy.clock import Clock

    original_on_start = app_module.KioskApp.on_start

    def on_start(app):
        original_on_start(app)

        def inject(_dt):
            print(f"fault {fault} now", flush=True)
            if fault == "freeze-ui":
                time.sleep(stop_after_s)
            hang.set()

        Clock.schedule_once(inject, at_s)
        Clock.schedule_once(lambda _dt: app.stop(), stop_after_s)

    app_module.KioskApp.on_start = on_start
    from kiosk.cli.main import main as cli_main

    return cli_main(["--data-dir", data_dir, "run", "--windowed"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
