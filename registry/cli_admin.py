"""`ocop-registry admin add|list|disable|rotate`: named admin credentials
(registry/admins.py). Each change writes its audit row (actor cli:<os user>)."""

from __future__ import annotations

import argparse
from pathlib import Path

from registry import admins, audit, auth
from registry.admins import AdminError, AdminRole
from registry.audit import AuditAction


class CliDeps:
    """What cli.py hands over (its set-up helpers), so this module does not import it."""

    def __init__(self, config, open_registry, cli_error):
        self.config, self.open_registry, self.cli_error = config, open_registry, cli_error


def _show_token(args, name: str, token: str, what: str) -> None:
    if args.token_file:
        auth.write_secret_file(Path(args.token_file), token)
        print(f"admin {name} {what}; token written to {args.token_file}")
    else:
        print(f"admin {name} {what}. Its token (shown only now):\n{token}")


def _change(deps: CliDeps, args, action: AuditAction, change) -> str | None:
    database, _ = deps.open_registry(deps.config(args))
    try:
        with database.write() as conn:
            result = change(conn)
            audit.record(
                conn,
                audit.cli_actor(),
                action,
                f"admin:{args.name}",
                audit.CLI_CLIENT,
                {"role": getattr(args, "role", None)} if action is AuditAction.ADMIN_ADD else {},
            )
    except AdminError as exc:
        raise deps.cli_error(str(exc)) from None
    return result


def cmd_add(deps: CliDeps, args) -> int:
    role = AdminRole(args.role)
    token = _change(deps, args, AuditAction.ADMIN_ADD, lambda c: admins.add(c, args.name, role))
    assert token is not None
    _show_token(args, args.name, token, f"added with role {role.value}")
    return 0


def cmd_list(deps: CliDeps, args) -> int:
    database, _ = deps.open_registry(deps.config(args))
    with database.read() as conn:
        rows = admins.all_by_name(conn)
    for r in rows:
        state = "disabled" if r.disabled else "active"
        print(
            f"{r.name}\t{r.role.value}\t{state}\tcreated {r.created_at}\t"
            f"last used {r.last_used_at or 'never'}"
        )
    return 0


def cmd_disable(deps: CliDeps, args) -> int:
    _change(deps, args, AuditAction.ADMIN_DISABLE, lambda c: admins.disable(c, args.name))
    print(f"admin {args.name} disabled")
    return 0


def cmd_rotate(deps: CliDeps, args) -> int:
    token = _change(deps, args, AuditAction.ADMIN_ROTATE, lambda c: admins.rotate(c, args.name))
    assert token is not None
    _show_token(args, args.name, token, "has a new token (the old one no longer works)")
    return 0


def add_parser(sub, common: argparse.ArgumentParser, parser_class, deps: CliDeps) -> None:
    """Register `admin ...` on the top-level subparsers."""
    group = sub.add_parser("admin", help="named admin credentials").add_subparsers(
        dest="admin_command", metavar="ACTION", parser_class=parser_class, required=True
    )

    def bind(handler):
        return lambda args: handler(deps, args)

    p = group.add_parser("add", parents=[common], help="add an admin; prints its token once")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=[r.value for r in AdminRole])
    p.add_argument("--token-file", metavar="FILE", help="write the token here instead")
    p.set_defaults(handler=bind(cmd_add))
    p = group.add_parser("list", parents=[common], help="list admins")
    p.set_defaults(handler=bind(cmd_list))
    p = group.add_parser("disable", parents=[common], help="refuse an admin's token")
    p.add_argument("name")
    p.set_defaults(handler=bind(cmd_disable))
    p = group.add_parser("rotate", parents=[common], help="new token for an admin (re-enables)")
    p.add_argument("name")
    p.add_argument("--token-file", metavar="FILE", help="write the token here instead")
    p.set_defaults(handler=bind(cmd_rotate))
