"""`ocop-kiosk config check|show`: validate and print the effective settings.

`check` also renders a test stamp label at the configured paper size, even when no file sets
it: a label that cannot hold a stamp is refused here, not found out by the first print job.
"""

from __future__ import annotations

import json

from kiosk.settings import check_label_settings, settings_as_dict
from ocop.errors import ConfigError


def register(sub) -> None:
    parser = sub.add_parser("config", help="check or show the settings")
    csub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    p = csub.add_parser("check", help="validate the settings file (all problems at once)")
    p.set_defaults(handler=handle_check)
    p = csub.add_parser("show", help="print the effective settings as JSON")
    p.set_defaults(handler=handle_show)


def handle_check(args, ctx) -> int:
    from kiosk.printing.queue import label_minimum_mm

    settings = ctx.settings  # raises ConfigError listing every problem
    problems = check_label_settings(settings)
    if problems:
        raise ConfigError(settings.source, problems)
    printer = settings.printer
    print(
        f"OK: {settings.source} (mode {settings.mode.value}, data dir {ctx.data_dir}; "
        f"stamp label {printer.width_mm} x {printer.label_height_mm} mm, at least "
        f"{label_minimum_mm(settings)} mm needed)"
    )
    return 0


def handle_show(args, ctx) -> int:
    data = settings_as_dict(ctx.settings)
    if data["registry"]["token"]:
        data["registry"]["token"] = "***"
    data["data_dir"] = str(ctx.data_dir)
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0
