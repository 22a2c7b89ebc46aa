"""`ocop-kiosk` command line: global options, sub-command registry, error policy.

Each command group lives in its own module with `register(subparsers)`; its handlers take
`(args, ctx: CliContext)` and return an exit code.
Error policy: ocop.errors.UserError -> one line on stderr, exit 2; anything else -> traceback
to the log file, a short line on screen, exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from kiosk import __version__
from kiosk.cli.context import CliContext
from kiosk.logs import setup_logging
from ocop.errors import ConfigError, UserError

log = logging.getLogger("kiosk.cli")

# Command modules in help order. Each has register(subparsers).
COMMAND_MODULES = (
    "kiosk.cli.run_cmd",
    "kiosk.cli.init_cmd",
    "kiosk.cli.catalog_cmd",
    "kiosk.cli.stamp_cmd",
    "kiosk.cli.scan_cmd",
    "kiosk.cli.print_cmd",
    "kiosk.cli.sync_cmd",
    "kiosk.cli.doctor_cmd",
    "kiosk.cli.config_cmd",
    "kiosk.cli.staff_cmd",
    "kiosk.cli.screenshot_cmd",
)

EXIT_OK, EXIT_BUG, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors already; keep the message to one line + hint."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n(try '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ocop-kiosk",
        description="OCOP Sơn La kiosk and stamp station.",
    )
    parser.add_argument("--version", action="version", version=f"ocop-kiosk {__version__}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: $OCOP_KIOSK_CONFIG, "
        "/etc/ocop-kiosk/kiosk.toml, built-in defaults)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data folder (default: $OCOP_KIOSK_DATA, /var/lib/ocop-kiosk "
        "when writable, else ~/.local/state/ocop-kiosk)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    ctx = CliContext(config_path=args.config, data_dir_arg=args.data_dir)
    try:
        log_file = setup_logging(ctx.log_dir_or_none(), verbose=args.verbose)
        return int(args.handler(args, ctx) or 0)
    except ConfigError as exc:
        print(f"ocop-kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UserError as exc:
        print(f"ocop-kiosk: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ocop-kiosk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK  # output piped into `head`: not an error
    except Exception as exc:  # the last line of defence: a bug
        log.exception("unexpected error in %s", args.command)
        where = f" (details in {log_file})" if "log_file" in locals() and log_file else ""
        print(f"ocop-kiosk: internal error: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
        return EXIT_BUG
    finally:
        ctx.close()


def run() -> None:
    sys.exit(main())
