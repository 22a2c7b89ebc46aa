"""README.md's "real registry" block works when pasted into bash: a real registry process on
127.0.0.1 and a real station data folder, every line as a newcomer would paste it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
BLOCK_INTRO = "And with a real registry on this machine"
# Bounds for a loaded CI machine, not speed claims.
BLOCK_TIMEOUT_S = 240
VENV_BIN = Path(sys.prefix) / "bin"


def readme_block(intro: str) -> str:
    """The first ```sh block after the paragraph that starts with `intro`."""
    text = README.read_text(encoding="utf-8")
    start = text.index(intro)
    match = re.search(r"^```sh\n(.*?)^```$", text[start:], re.S | re.M)
    assert match, f"no ```sh block after {intro!r}"
    return match.group(1)


@pytest.mark.slow
@pytest.mark.skipif(
    not (VENV_BIN / "ocop-registry").exists(), reason="the CLIs are not installed in this venv"
)
def test_real_registry_block_runs_when_pasted(tmp_path):
    block = readme_block(BLOCK_INTRO)
    assert "&\n" in block  # the registry runs in the background, as in the README
    # The block names `.venv/bin/...` from a clone: a clone's folder whose .venv is ours.
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / ".venv").symlink_to(sys.prefix)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCOP_KIOSK_")}
    env.update(TMPDIR=str(tmp_path), PYTHONPATH=str(REPO_ROOT))
    # A session of its own, so a hung block takes its background registry down with it.
    proc = subprocess.Popen(
        ["bash", "-c", block + '\necho "R=$R"\n'],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=BLOCK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"the README block did not finish in {BLOCK_TIMEOUT_S} s:\n{out}")
    finally:
        # whatever the block left running (the registry, if `kill` was not reached)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out
    assert re.search(r"listening on http://127\.0\.0\.1:\d+ ", out), out
    assert "Data folder " in out and " initialised." in out
    assert re.search(
        r"^pulled 27 products, .*trust list 1 .*; pushed \d+ new, 0 already known, "
        r"0 rejected$",
        out,
        re.M,
    ), out
    assert "block 1: 50 stamps for product 101, serials 1-50" in out
    assert "Job 1: done; printed 5 of 5 (serials 1-5)" in out
    last_sync = [line for line in out.splitlines() if line.startswith("pulled ")][-1]
    assert re.search(r"pushed [1-9]\d* new, 0 already known, 0 rejected$", last_sync), out
    assert "error" not in out.lower(), out
    # Everything it wrote is in the one folder the README names: nothing in a fixed path.
    folder = Path(re.search(r"^R=(.+)$", out, re.M).group(1))
    assert folder.parent == tmp_path
    assert {p.name for p in folder.iterdir()} >= {"registry", "station", "token", "root", "url"}
