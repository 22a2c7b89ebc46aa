"""`ocop-kiosk run`: the touchscreen kiosk on this machine's settings (demo data when
unconfigured, the demo camera when no camera exists, the virtual printer by default)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kiosk import __version__
from kiosk.store import DB_FILENAME
from ocop.errors import UserError

log = logging.getLogger("kiosk.run")


def register(sub) -> None:
    parser = sub.add_parser(
        "run",
        help="run the kiosk",
        description="Run the touchscreen kiosk. With no configuration it "
        "uses the demo catalog, the demo camera (demo stamps to hold up) "
        "when no camera is found, and a virtual printer.",
    )
    parser.add_argument("--windowed", action="store_true", help="a window, not fullscreen")
    parser.add_argument(
        "--size",
        metavar="WxH",
        default=None,
        help='window size with --windowed (default 800x480, the 7" Pi '
        "touchscreen; 480x800 for portrait)",
    )
    parser.add_argument(
        "--mode", choices=("showroom", "reststop", "station"), help="override the configured mode"
    )
    parser.add_argument("--lang", choices=("vi", "en"), help="override the default language")
    parser.set_defaults(handler=handle_run)


def ensure_demo_data(ctx) -> None:
    """An unconfigured kiosk (no data yet) starts on the demo catalog; one with a registry
    configured starts empty (the sync fetches the catalog) and never on demo data. A demo
    folder with a registry configured is refused (kiosk.demo.state)."""
    from kiosk.demo.state import refuse_demo_with_registry, registry_configured

    if not (ctx.data_dir / DB_FILENAME).exists():
        from kiosk.store import Store

        ctx.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store.in_dir(ctx.data_dir)
        try:
            if registry_configured(ctx.settings):
                from kiosk.cli.init_cmd import init_store

                init_store(store)
                print(
                    f"First start: empty data folder {ctx.data_dir}; the sync fetches the "
                    f"catalog from {ctx.settings.registry.url or 'the registry'}"
                )
            else:
                from kiosk.demo.setup import set_up_demo

                print(
                    f"First start: demo data in {ctx.data_dir}: {set_up_demo(store, ctx.data_dir)}"
                )
        finally:
            store.close()
    refuse_demo_with_registry(ctx.settings, ctx.store())


def start_log_file(ctx, *, verbose: bool) -> Path | None:
    """The CLI set logging up before a first start created the data folder, so without a
    file: now that the folder exists, log to <data>/logs/ocop-kiosk.log as well."""
    from kiosk.logs import setup_logging

    return setup_logging(ctx.log_dir_or_none(), verbose=verbose)


def warn_if_no_display(environ=os.environ) -> None:
    """SDL would fall back to rendering offscreen without a word: say it, and go on (tests,
    benches and screenshots run headless on purpose; a kiosk's unit always has its screen)."""
    from kiosk.display import headless_message, missing_display_reason

    reason = missing_display_reason(environ)
    if reason:
        log.warning("%s", headless_message(reason))


def parse_size(text: str | None, default: tuple[int, int] = (800, 480)) -> tuple[int, int]:
    if not text:
        return default
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"size must look like 800x480, got {text!r}") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise UserError(f"size {text} is out of range")
    return w, h


def prepare_kivy_environment(kivy_home: Path, *, headless: bool = False) -> None:
    """Kivy reads these at import: set them before anything imports kivy."""
    os.environ["KIVY_NO_ARGS"] = "1"  # our argv is not Kivy's
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # logging goes through kiosk.logs
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")  # not xclip/xsel (absent on a kiosk)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
    Path(os.environ["KIVY_HOME"]).mkdir(parents=True, exist_ok=True)


def tune_process(environ=os.environ) -> dict:
    """Before Kivy, the GL driver or any thread starts (`run` and bench/ui.py call it first):
    glibc malloc settings (kiosk.heap.tune_malloc: 2 arenas, mmap for blocks >= 1 MiB).
    llvmpipe's thread count (LP_NUM_THREADS) is left alone: with kiosk.ui.render's frame
    throttle, 0 threads measured within noise at the same 30 frames/s.
    Returns what was applied (for logs and the bench)."""
    from kiosk.heap import tune_malloc

    return tune_malloc(environ)


def configure_window(*, fullscreen: bool, size: tuple[int, int]) -> None:
    from kivy.config import Config

    from kiosk.ui.render import multisamples_for

    Config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
    else:
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    Config.set("kivy", "window_icon", "")
    # No MSAA on software GL (llvmpipe: 4x the rasterizing per frame); a GPU keeps Kivy's
    # default. See kiosk/ui/render.py and docs/ui.md ("Performance").
    samples = multisamples_for()
    if samples is not None:
        Config.set("graphics", "multisamples", str(samples))


def apply_overrides(settings, mode: str | None, lang: str | None):
    import dataclasses

    from kiosk.settings import Language, Mode

    if mode:
        settings = dataclasses.replace(settings, mode=Mode(mode))
    if lang:
        settings = dataclasses.replace(settings, language=Language(lang))
    return settings


def handle_run(args, ctx) -> int:
    tune_process()
    ensure_demo_data(ctx)
    log_file = start_log_file(ctx, verbose=getattr(args, "verbose", False))
    settings = ctx.settings  # the file's values: the staff screen shows where each comes from
    fullscreen = settings.ui.fullscreen and not args.windowed
    log.info(
        "ocop-kiosk %s starting: data %s, log %s, mode %s, %s",
        __version__,
        ctx.data_dir,
        log_file,
        args.mode or settings.mode.value,
        "full screen" if fullscreen else "windowed",
    )
    warn_if_no_display()
    size = parse_size(args.size)
    prepare_kivy_environment(ctx.data_dir / "kivy")
    configure_window(fullscreen=fullscreen, size=size)
    from kiosk.ui.app import KioskApp

    # --mode/--lang win for this run over the staff's saved choice and the file.
    app = KioskApp(settings, ctx.store(), ctx.data_dir, cli_mode=args.mode, cli_lang=args.lang)
    app.run()
    return 0
