"""`ocop-kiosk config check|show`: validate and print the effective settings."""

from __future__ import annotations

import json

from kiosk.settings import settings_as_dict


def register(sub) -> None:
    parser = sub.add_parser("config", help="check or show the settings")
    csub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    p = csub.add_parser("check", help="validate the settings file (all problems at once)")
    p.set_defaults(handler=handle_check)
    p = csub.add_parser("show", help="print the effective settings as JSON")
    p.set_defaults(handler=handle_show)


def handle_check(args, ctx) -> int:
    settings = ctx.settings  # raises ConfigError listing every problem
    print(f"OK: {settings.source} (mode {settings.mode.value}, data dir {ctx.data_dir})")
    return 0


def handle_show(args, ctx) -> int:
    data = settings_as_dict(ctx.settings)
    if data["registry"]["token"]:
        data["registry"]["token"] = "***"
    data["data_dir"] = str(ctx.data_dir)
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0
