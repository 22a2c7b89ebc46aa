"""`ocop-registry user add|list|disable|reset`: the office console's accounts
(registry/users.py). A password is typed twice at a prompt, read from standard input
(--password-stdin, for scripts) or generated (--generate: shown once). Disabling a user or
resetting their password ends their sessions. Each change writes its audit row."""

from __future__ import annotations

import argparse
import getpass
import sys

from registry import audit, sessions, users
from registry.admins import AdminRole
from registry.audit import AuditAction
from registry.cli_admin import CliDeps
from registry.users import UserError


def _password(args, deps: CliDeps) -> tuple[str, bool]:
    """The new password and whether it was generated (then it is printed once)."""
    if args.generate:
        return users.generate_password(), True
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    first = getpass.getpass(f"New password for {args.name}: ")
    if getpass.getpass("Again: ") != first:
        raise deps.cli_error("the two passwords differ; nothing changed")
    return first, False


def _change(deps: CliDeps, args, action: AuditAction, change, detail=None) -> None:
    database, _ = deps.open_registry(deps.config(args))
    try:
        with database.write() as conn:
            change(conn)
            audit.record(
                conn, audit.cli_actor(), action, f"user:{args.name}", audit.CLI_CLIENT, detail
            )
    except UserError as exc:
        raise deps.cli_error(str(exc)) from None


def _show(name: str, what: str, password: str, generated: bool) -> None:
    if generated:
        print(f"user {name} {what}. Password (shown only now):\n{password}")
    else:
        print(f"user {name} {what}")


def cmd_add(deps: CliDeps, args) -> int:
    role = AdminRole(args.role)
    password, generated = _password(args, deps)
    _change(
        deps,
        args,
        AuditAction.USER_ADD,
        lambda c: users.add(c, args.name, role, password, args.display_name),
        {"role": role.value},
    )
    _show(args.name, f"added with role {role.value}", password, generated)
    return 0


def cmd_list(deps: CliDeps, args) -> int:
    database, _ = deps.open_registry(deps.config(args))
    with database.read() as conn:
        rows = users.all_by_name(conn)
    for r in rows:
        state = (
            "disabled"
            if r.disabled
            else (f"locked until {r.locked_until}" if r.locked_until else "active")
        )
        print(
            f"{r.name}\t{r.display_name}\t{r.role.value}\t{state}\tcreated {r.created_at}\t"
            f"last sign-in {r.last_sign_in_at or 'never'}"
        )
    return 0


def cmd_disable(deps: CliDeps, args) -> int:
    _change(
        deps,
        args,
        AuditAction.USER_DISABLE,
        lambda c: sessions.end_all_of(c, users.disable(c, args.name)),
    )
    print(f"user {args.name} disabled; their sessions have ended")
    return 0


def cmd_reset(deps: CliDeps, args) -> int:
    password, generated = _password(args, deps)
    _change(
        deps,
        args,
        AuditAction.USER_RESET,
        lambda c: sessions.end_all_of(c, users.reset(c, args.name, password)),
    )
    _show(args.name, "has a new password (enabled, unlocked, signed out)", password, generated)
    return 0


def add_parser(sub, common: argparse.ArgumentParser, parser_class, deps: CliDeps) -> None:
    """Register `user ...` on the top-level subparsers."""
    group = sub.add_parser("user", help="office console accounts").add_subparsers(
        dest="user_command", metavar="ACTION", parser_class=parser_class, required=True
    )

    def bind(handler):
        return lambda args: handler(deps, args)

    def password_options(p) -> None:
        how = p.add_mutually_exclusive_group()
        how.add_argument("--generate", action="store_true", help="generate one; shown once")
        how.add_argument(
            "--password-stdin", action="store_true", help="read it from standard input"
        )

    p = group.add_parser(
        "add", parents=[common], help=f"add a user (password: {users.MIN_PASSWORD_CHARS}+ chars)"
    )
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=[r.value for r in AdminRole])
    p.add_argument("--display-name", default="", help="the name the console shows")
    password_options(p)
    p.set_defaults(handler=bind(cmd_add))
    p = group.add_parser("list", parents=[common], help="list users")
    p.set_defaults(handler=bind(cmd_list))
    p = group.add_parser("disable", parents=[common], help="refuse a user; ends their sessions")
    p.add_argument("name")
    p.set_defaults(handler=bind(cmd_disable))
    p = group.add_parser(
        "reset", parents=[common], help="new password (re-enables, unlocks, signs out)"
    )
    p.add_argument("name")
    password_options(p)
    p.set_defaults(handler=bind(cmd_reset))
