#!/usr/bin/env bash
# Static checks: ruff lint, ruff format check and mypy, all configured in pyproject.toml.
# Runs every check even after one fails, then names the failed ones; exit 1 if any failed,
# 2 if a tool is missing. Uses the project's .venv when there is one, else the PATH.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2

tool() {
    if [[ -x "$ROOT/.venv/bin/$1" ]]; then
        echo "$ROOT/.venv/bin/$1"
    elif command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    else
        echo "[lint] $1 is not installed (neither in .venv nor on PATH)" >&2
        return 1
    fi
}

RUFF="$(tool ruff)" || exit 2
MYPY="$(tool mypy)" || exit 2

failed=()
run() {
    local name="$1"
    shift
    echo "[lint] $name: $*"
    if ! "$@"; then
        failed+=("$name")
    fi
}

run "ruff check" "$RUFF" check .
run "ruff format" "$RUFF" format --check .
run "mypy" "$MYPY"

if ((${#failed[@]})); then
    printf '[lint] FAILED:'
    printf ' [%s]' "${failed[@]}"
    printf '\n'
    exit 1
fi
echo "[lint] all checks passed"
