"""Doctor output: a plain table (one line per check, the hint under every line that is not
OK) or one JSON object."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from typing import TextIO

from kiosk.doctor.checks import CheckResult, Status, overall


def render_table(results: Sequence[CheckResult], out: TextIO) -> None:
    name_w = max([len("check")] + [len(r.name) for r in results])
    width = shutil.get_terminal_size((100, 24)).columns
    out.write(f"{'status':<6}  {'check':<{name_w}}  detail\n")
    out.write(f"{'-' * 6}  {'-' * name_w}  {'-' * max(6, min(60, width - name_w - 10))}\n")
    for r in results:
        out.write(f"{r.status.value:<6}  {r.name:<{name_w}}  {r.detail}".rstrip() + "\n")
        if r.hint and r.status is not Status.OK:
            out.write(f"{'':<6}  {'':<{name_w}}  -> {r.hint}\n")
    counts = {s: sum(1 for r in results if r.status is s) for s in Status}
    out.write(
        f"\n{overall(results).value}: "
        + ", ".join(f"{counts[s]} {s.value}" for s in Status if counts[s])
        + "\n"
    )


def render_json(results: Sequence[CheckResult], out: TextIO) -> None:
    doc = {
        "status": overall(results).value,
        "ok": overall(results) is not Status.FAIL,
        "checks": [r.to_json() for r in results],
    }
    out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
