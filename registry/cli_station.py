"""`ocop-registry station ...`: the station lifecycle from the command line (registry/
stations.py does the work and writes the audit row, actor `cli:<os user>`).

    station add NAME [--district D] [--token-file F] [--role kiosk|station]
                [--producers ID,ID] [--products N,N] [--per-day N|none] [--total N|none]
    station list
    station set NAME [--role R] [--producers ID,..] [--products N,..] [--per-day N|none]
                [--total N|none]          (a list replaces that kind; "" clears it)
    station disable NAME [--reason R]     station enable NAME
    station rotate-token NAME [--token-file F]
    station retire NAME [--reason R]      (disable for good + revoke its unprinted serials)

Errors are ocop.errors.UserError: one line on stderr, exit 2 (registry/cli.py main).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ocop.errors import UserError
from ocop.stations import StationRole
from registry import audit, auth, stations
from registry.audit import CLI_CLIENT
from registry.config import DEFAULT_QUOTA_PER_DAY, DEFAULT_QUOTA_TOTAL
from registry.db import Database
from registry.signing import KeyRing

Opener = Callable[[argparse.Namespace], tuple[Database, KeyRing]]
NO_LIMIT = "none"


def _quota(text: str) -> int | None:
    if text.strip().lower() == NO_LIMIT:
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a number of stamps or {NO_LIMIT!r}, not {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError("a quota cannot be negative")
    return value


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _product_ids(text: str) -> list[int]:
    try:
        return [int(part) for part in _ids(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"product ids are numbers: {text!r}") from None


def _run(operation: Callable[[], Any]) -> Any:
    try:
        return operation()
    except (stations.StationNotFound, stations.StationStateError, ValueError) as exc:
        raise UserError(str(exc)) from None


def _write_or_print_token(name: str, token: str, token_file: str | None, what: str) -> None:
    if token_file:
        auth.write_secret_file(Path(token_file), token)
        print(f"station {name} {what}; token written to {token_file}")
    else:
        print(f"station {name} {what}. Its token (shown only now):\n{token}")


def _scope_text(info: stations.StationInfo) -> str:
    def quota(value: int | None) -> str:
        return "no limit" if value is None else str(value)

    bound = [f"producer:{p}" for p in info.producers] + [f"product:{p}" for p in info.products]
    return (
        f"role {info.role}, bound to {', '.join(bound) or 'nothing'}, "
        f"today {info.issued_today}/{quota(info.quota_per_day)}, "
        f"total {info.issued_total}/{quota(info.quota_total)}"
    )


def cmd_add(args, open_registry: Opener) -> int:
    database, _ = open_registry(args)

    def add():
        with database.write() as conn:
            return stations.add(
                conn,
                args.name,
                audit.cli_actor(),
                CLI_CLIENT,
                district=args.district,
                role=StationRole(args.role),
                producers=args.producers or (),
                products=args.products or (),
                quota_per_day=args.per_day,
                quota_total=args.total,
            )

    info, token = _run(add)
    _write_or_print_token(info.name, token, args.token_file, f"added ({_scope_text(info)})")
    return 0


def cmd_list(args, open_registry: Opener) -> int:
    database, _ = open_registry(args)
    with database.read() as conn:
        infos = stations.list_all(conn)
    for s in infos:
        print(
            f"{s.name}\t{s.district or '-'}\t{s.state}\t{_scope_text(s)}\t"
            f"last seen {s.last_seen_at or 'never'}"
        )
    return 0


def cmd_set(args, open_registry: Opener) -> int:
    database, _ = open_registry(args)
    kwargs: dict[str, Any] = {}
    if args.role is not None:
        kwargs["role"] = StationRole(args.role)
    for name in ("per_day", "total"):
        if getattr(args, name) is not _KEEP:
            kwargs[f"quota_{name}"] = getattr(args, name)
    if not kwargs and args.producers is None and args.products is None:
        raise UserError(
            "station set: give at least one of --role, --producers, --products, --per-day, --total"
        )

    def change():
        with database.write() as conn:
            return stations.set_scope(
                conn,
                args.name,
                audit.cli_actor(),
                CLI_CLIENT,
                producers=args.producers,
                products=args.products,
                **kwargs,
            )

    info = _run(change)
    print(f"station {info.name}: {_scope_text(info)}")
    return 0


def cmd_disable(args, open_registry: Opener) -> int:
    database, _ = open_registry(args)

    def disable():
        with database.write() as conn:
            return stations.disable(conn, args.name, audit.cli_actor(), CLI_CLIENT, args.reason)

    _run(disable)
    print(f"station {args.name} disabled: its token is refused from now on")
    return 0


def cmd_enable(args, open_registry: Opener) -> int:
    database, _ = open_registry(args)

    def enable():
        with database.write() as conn:
            return stations.enable(conn, args.name, audit.cli_actor(), CLI_CLIENT)

    _run(enable)
    print(f"station {args.name} enabled")
    return 0


def cmd_rotate_token(args, open_registry: Opener) -> int:
    database, _ = open_registry(args)

    def rotate():
        with database.write() as conn:
            return stations.rotate_token(conn, args.name, audit.cli_actor(), CLI_CLIENT)

    token = _run(rotate)
    _write_or_print_token(
        args.name, token, args.token_file, "has a new token (the old one is dead)"
    )
    return 0


def cmd_retire(args, open_registry: Opener) -> int:
    database, keyring = open_registry(args)

    def retire():
        with database.write() as conn:
            return stations.retire(
                conn, keyring, args.name, audit.cli_actor(), CLI_CLIENT, args.reason
            )

    result = _run(retire)
    ranges = ", ".join(f"{a}-{b}" for a, b in result.revoked[:20])
    more = f" (+{len(result.revoked) - 20} more)" if len(result.revoked) > 20 else ""
    published = (
        f"trust list {result.trust_list_sequence} published"
        if result.trust_list_sequence is not None
        else "nothing to revoke"
    )
    print(
        f"station {result.name} retired: {result.revoked_count} unprinted serials revoked "
        f"({ranges or 'none'}{more}); {result.printed_count} printed and reported stay "
        f"genuine; {published}"
    )
    return 0


class _Keep:
    """--per-day / --total not given to `station set`."""

    def __repr__(self) -> str:
        return "unchanged"


_KEEP = _Keep()


def register(station, common: argparse.ArgumentParser, open_registry: Opener) -> None:
    """The `station` subcommands on `station` (an argparse subparsers action)."""

    def bind(handler):
        return lambda args: handler(args, open_registry)

    def scope_options(p, defaults: bool) -> None:
        roles = [r.value for r in StationRole]
        p.add_argument(
            "--role",
            choices=roles,
            default=StationRole.KIOSK.value if defaults else None,
            help="kiosk (never stamps; the default for a new station) or station (prints)",
        )
        p.add_argument("--producers", type=_ids, metavar="ID,ID", help="producers it may stamp for")
        p.add_argument("--products", type=_product_ids, metavar="N,N", help="products it may stamp")
        p.add_argument(
            "--per-day",
            type=_quota,
            metavar="N|none",
            default=DEFAULT_QUOTA_PER_DAY if defaults else _KEEP,
            help=f"stamps per Vietnam day (new stations: {DEFAULT_QUOTA_PER_DAY})",
        )
        p.add_argument(
            "--total",
            type=_quota,
            metavar="N|none",
            default=DEFAULT_QUOTA_TOTAL if defaults else _KEEP,
            help=f"stamps in total (new stations: {DEFAULT_QUOTA_TOTAL})",
        )

    p = station.add_parser("add", parents=[common], help="add a station; prints its token")
    p.add_argument("name")
    p.add_argument("--district", default="")
    p.add_argument("--token-file", metavar="FILE", help="write the token here instead")
    scope_options(p, defaults=True)
    p.set_defaults(handler=bind(cmd_add))
    p = station.add_parser(
        "list", parents=[common], help="stations: role, state, bindings, quota use"
    )
    p.set_defaults(handler=bind(cmd_list))
    p = station.add_parser("set", parents=[common], help="change role, bindings, quotas")
    p.add_argument("name")
    scope_options(p, defaults=False)
    p.set_defaults(handler=bind(cmd_set))
    p = station.add_parser("disable", parents=[common], help="refuse its token until enabled")
    p.add_argument("name")
    p.add_argument("--reason", default="")
    p.set_defaults(handler=bind(cmd_disable))
    p = station.add_parser("enable", parents=[common], help="accept its token again")
    p.add_argument("name")
    p.set_defaults(handler=bind(cmd_enable))
    p = station.add_parser("rotate-token", parents=[common], help="new token; the old one dies")
    p.add_argument("name")
    p.add_argument("--token-file", metavar="FILE", help="write the new token here instead")
    p.set_defaults(handler=bind(cmd_rotate_token))
    p = station.add_parser(
        "retire", parents=[common], help="disable for good and revoke its unprinted serials"
    )
    p.add_argument("name")
    p.add_argument("--reason", default="")
    p.set_defaults(handler=bind(cmd_retire))


__all__ = ["register"]
