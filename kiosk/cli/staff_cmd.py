"""`ocop-kiosk staff hash-pin`: make the `staff.pin_hash` value for the settings file."""

from __future__ import annotations

import getpass
import sys

from ocop.errors import UserError


def register(sub) -> None:
    parser = sub.add_parser(
        "staff",
        help="staff PIN tools",
        description="Tools for the staff screens (printing, settings).",
    )
    staff_sub = parser.add_subparsers(dest="staff_command", metavar="ACTION")
    hp = staff_sub.add_parser(
        "hash-pin",
        help="hash a staff PIN for kiosk.toml",
        description="Read a PIN (4-12 digits) and print the line to put "
        "in the [staff] table of kiosk.toml. The PIN is read without "
        "echo from the terminal, or one line from standard input.",
    )
    hp.add_argument("--stdin", action="store_true", help="read the PIN from standard input")
    hp.set_defaults(handler=handle_hash_pin)
    parser.set_defaults(handler=lambda args, ctx: (parser.print_help(), 2)[1])


def _read_pin(use_stdin: bool) -> str:
    if use_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    first = getpass.getpass("New staff PIN: ")
    again = getpass.getpass("Repeat the PIN: ")
    if first != again:
        raise UserError("the two PINs differ")
    return first.strip()


def handle_hash_pin(args, ctx) -> int:
    from kiosk.staff_pin import PinFormatError, hash_pin

    pin = _read_pin(args.stdin)
    try:
        encoded = hash_pin(pin)
    except PinFormatError as exc:
        raise UserError(str(exc)) from None
    print("[staff]")
    print(f'pin_hash = "{encoded}"')
    return 0
