"""`ocop-kiosk doctor`: what is wrong with this kiosk, in one command.

    from kiosk.doctor import build_env, run_doctor
    results = run_doctor(build_env(config_path, data_dir_arg))

Each line is OK / WARN / FAIL / SKIP with a detail and, when not OK, a hint. Checks are
isolated (an exception is a FAIL line) and time-limited (kiosk.doctor.checks).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from kiosk.doctor.checks import Check, CheckResult, Status, overall, run_checks
from kiosk.doctor.probes import CHECK_NAMES, CHECKS, DoctorEnv


def build_env(
    config_path: str | None = None, data_dir_arg: str | None = None, **overrides
) -> DoctorEnv:
    """Settings and data folder as the kiosk would find them; a broken settings file is a
    result (the config line), not an exception."""
    from kiosk.settings import Settings, find_config_file, load_settings, resolve_data_dir
    from ocop.errors import ConfigError, UserError

    try:
        found = find_config_file(config_path)
        source = str(found) if found else "built-in defaults"
    except Exception as exc:  # noqa: BLE001
        source = f"? ({exc})"
    settings = error = None
    problems: list[str] = []
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        error = str(exc)
        problems = list(getattr(exc, "problems", []) or [error])
    except (UserError, OSError) as exc:
        error = str(exc)
        problems = [error]
    try:
        data_dir = resolve_data_dir(settings or Settings(), data_dir_arg)
    except Exception:  # noqa: BLE001
        data_dir = None
    return DoctorEnv(
        settings=settings,
        settings_error=error,
        settings_problems=problems,
        config_source=source,
        data_dir=Path(data_dir) if data_dir else None,
        **overrides,
    )


def select_checks(only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Check]:
    only, skip = set(only), set(skip)
    unknown = (only | skip) - set(CHECK_NAMES)
    if unknown:
        raise ValueError(
            f"unknown check(s): {', '.join(sorted(unknown))}; known: {', '.join(CHECK_NAMES)}"
        )
    return [c for c in CHECKS if (not only or only & set(c.names)) and not (skip & set(c.names))]


def run_doctor(env: DoctorEnv, checks: Sequence[Check] | None = None) -> list[CheckResult]:
    return run_checks(CHECKS if checks is None else checks, env)


__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "Check",
    "CheckResult",
    "DoctorEnv",
    "Status",
    "build_env",
    "overall",
    "run_doctor",
    "select_checks",
]
