"""The doctor's check runner: small check functions, each isolated and time-limited.

A check is a function `(env) -> CheckResult | list[CheckResult]` registered with the names
of the lines it reports (one check may report two lines, e.g. printer + paper, both from the
same conversation with the device). The runner starts every check in its own thread and waits
for each until its deadline. An exception becomes a FAIL line naming it, a check that does not
finish in time becomes a FAIL line "no answer within N s": never a traceback, never a hang.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


class Status(enum.Enum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"  # not applicable here (no printer on a showroom kiosk, no registry...)


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str = ""
    hint: str = ""  # what to do about it (empty for OK)
    data: dict[str, Any] = field(default_factory=dict)  # numbers for --json / monitoring
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "hint": self.hint,
            "data": self.data,
            "duration_ms": round(self.duration_s * 1000),
        }


def ok(name: str, detail: str = "", **data) -> CheckResult:
    return CheckResult(name, Status.OK, detail, "", data)


def warn(name: str, detail: str, hint: str = "", **data) -> CheckResult:
    return CheckResult(name, Status.WARN, detail, hint, data)


def fail(name: str, detail: str, hint: str = "", **data) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, hint, data)


def skip(name: str, detail: str, **data) -> CheckResult:
    return CheckResult(name, Status.SKIP, detail, "", data)


CheckFn = Callable[[Any], "CheckResult | Sequence[CheckResult]"]


@dataclass(frozen=True)
class Check:
    names: tuple[str, ...]  # the lines this check reports, in order
    fn: CheckFn
    timeout_s: float | Callable[[Any], float] = 10.0
    hint_on_error: str = ""

    def timeout_for(self, env) -> float:
        return float(self.timeout_s(env) if callable(self.timeout_s) else self.timeout_s)


class _Run:
    def __init__(self, check: Check, env):
        self.check = check
        self.env = env
        self.results: list[CheckResult] | None = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.finished: float | None = None
        self.thread = threading.Thread(
            target=self._target, daemon=True, name=f"doctor-{check.names[0]}"
        )

    def _target(self) -> None:
        try:
            out = self.check.fn(self.env)
            self.results = [out] if isinstance(out, CheckResult) else list(out)
        except BaseException as exc:  # noqa: BLE001 - isolation is the point
            self.error = exc
        finally:
            self.finished = time.monotonic()


def run_checks(checks: Iterable[Check], env, *, parallel: bool = True) -> list[CheckResult]:
    """Run every check; results in the order the checks (and their names) were given."""
    runs = [_Run(check, env) for check in checks]
    if parallel:
        for run in runs:
            run.started = time.monotonic()
            run.thread.start()
    out: list[CheckResult] = []
    for run in runs:
        timeout_s = _safe_timeout(run.check, env)
        if not parallel:
            run.started = time.monotonic()
            run.thread.start()
        run.thread.join(max(0.0, run.started + timeout_s - time.monotonic()))
        out.extend(_collect(run, timeout_s))
    return out


def _safe_timeout(check: Check, env) -> float:
    try:
        return check.timeout_for(env)
    except Exception:  # noqa: BLE001 - a timeout that cannot be computed must not stop the doctor
        return 10.0


def _collect(run: _Run, timeout_s: float) -> list[CheckResult]:
    names = run.check.names
    if run.thread.is_alive():
        log.warning("doctor check %s still running after %.0f s", names[0], timeout_s)
        return [
            fail(
                name,
                f"no answer within {timeout_s:g} s",
                run.check.hint_on_error or "the device or server hangs; see the logs",
            )
            for name in names
        ]
    duration_s = (run.finished or time.monotonic()) - run.started
    if run.error is not None:
        exc = run.error
        log.error("doctor check %s raised", names[0], exc_info=exc)
        return [
            fail(
                name,
                f"check failed: {type(exc).__name__}: {exc}",
                run.check.hint_on_error or "a bug in the check; the log file has details",
            )
            for name in names
        ]
    results = {r.name: r for r in run.results or []}
    ordered = []
    for name in names:
        result = results.pop(name, None)
        if result is None:
            result = fail(name, "check reported nothing", "a bug in the check")
        ordered.append(dataclasses.replace(result, duration_s=duration_s))
    for extra in results.values():  # lines the check reported but did not declare
        ordered.append(dataclasses.replace(extra, duration_s=duration_s))
    return ordered


def overall(results: Sequence[CheckResult]) -> Status:
    statuses = {r.status for r in results}
    if Status.FAIL in statuses:
        return Status.FAIL
    if Status.WARN in statuses:
        return Status.WARN
    return Status.OK


__all__ = [
    "Check",
    "CheckFn",
    "CheckResult",
    "Status",
    "fail",
    "ok",
    "overall",
    "run_checks",
    "skip",
    "warn",
]
