"""scripts/lint.sh, the static checks scripts/test runs before the tests: every check runs
even after one fails, the failed ones are named, and the exit code says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

PYPROJECT = """
[tool.ruff]
line-length = 100
[tool.mypy]
files = ["pkg"]
"""


def _project(tmp_path: Path, code: str) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO_ROOT / "scripts" / "lint.sh", tmp_path / "scripts" / "lint.sh")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(code, encoding="utf-8")
    return tmp_path


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", str(root / "scripts" / "lint.sh")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_clean_code_passes(tmp_path):
    result = _lint(_project(tmp_path, "def double(x: int) -> int:\n    return 2 * x\n"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[lint] all checks passed" in result.stdout


def test_every_failed_check_is_named_and_fails_the_run(tmp_path):
    # unused import (ruff check), spacing (ruff format), a str returned as int (mypy)
    code = "import os\ndef double(x:int)->int:\n    return 'two'\n"
    result = _lint(_project(tmp_path, code))
    assert result.returncode == 1
    assert "[lint] FAILED: [ruff check] [ruff format] [mypy]" in result.stdout


def test_the_test_command_runs_the_checks():
    script = (REPO_ROOT / "scripts" / "test").read_text(encoding="utf-8")
    assert 'bash "$ROOT/scripts/lint.sh"' in script
    assert (
        (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().endswith("./scripts/test")
    )
