"""`ocop-kiosk doctor [--json]`: check this kiosk and say what is wrong, one line per check.

Exit code 0 when nothing FAILed (WARN and SKIP lines are allowed), 1 when any check FAILed.
What each line means and what to do: docs/operations.md ("Doctor").
"""

from __future__ import annotations

import sys

from ocop.errors import UserError

EXIT_FAILED = 1


def register(sub) -> None:
    from kiosk.doctor import CHECK_NAMES

    names = ", ".join(n.replace(" ", "-") for n in CHECK_NAMES)
    parser = sub.add_parser(
        "doctor",
        help="check settings, data, camera, printer, registry, clock and sync",
        description="Check everything a kiosk needs and print OK / WARN / FAIL / SKIP with a "
        "hint per problem. Exit code 1 when any check fails. On an installed "
        "kiosk run it as 'sudo ocop-kiosk doctor' (it then runs as the kiosk "
        f"user). Checks: {names}.",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="CHECK",
        help="run only this check (repeatable), e.g. --only camera",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="CHECK",
        help="leave this check out (repeatable), e.g. --skip camera while "
        "the kiosk holds the camera",
    )
    parser.set_defaults(handler=handle_doctor)


def _names(values: list[str]) -> list[str]:
    return [v.strip().lower().replace("-", " ").replace("_", " ") for v in values]


def handle_doctor(args, ctx) -> int:
    from kiosk.doctor import build_env, overall, run_doctor, select_checks
    from kiosk.doctor.checks import Status
    from kiosk.doctor.report import render_json, render_table

    try:
        checks = select_checks(_names(args.only), _names(args.skip))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    env = build_env(ctx.config_path, ctx.data_dir_arg)
    results = run_doctor(env, checks)
    if args.json:
        render_json(results, sys.stdout)
    else:
        render_table(results, sys.stdout)
    sys.stdout.flush()
    return EXIT_FAILED if overall(results) is Status.FAIL else 0
