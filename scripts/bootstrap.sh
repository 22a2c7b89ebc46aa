#!/usr/bin/env bash
# Set up everything the kiosk (and, with --test, its test suite) needs on Debian 12 (bookworm)
# or 13 (trixie), and the Raspberry Pi OS built on each (64-bit): Debian packages, Python >= 3.11
# with venv, .venv, the package with its extras. Safe to run again: it skips what is already
# there. Versions: those the test suite ran with (constraints/tested.txt); on Raspberry Pi OS
# the venv sees Debian's python3-picamera2 and keeps numpy/OpenCV to the release's limits
# (constraints/pi-<codename>.txt, in place of tested.txt's pins: scripts/lib.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
VENV="$ROOT/.venv"
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

say() { printf '[bootstrap] %s\n' "$*" >&2; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else say "need root for: $*"; exit 1; fi
}

# Debian packages: the SDL window (GL/EGL + Mesa), touch input, zbar for pyzbar, libusb for
# USB printers, a font with every Vietnamese glyph.
APT_PACKAGES=(libzbar0 libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri libmtdev1 libusb-1.0-0
              fonts-dejavu-core ca-certificates)
if [[ $WITH_TEST -eq 1 ]]; then
    # systemd-analyze verifies the unit files; PostgreSQL for the registry suite;
    # the linter for the shell scripts; faketime for a clock set back at boot (trusted time);
    # chromium for the browser tests (CSRF from another origin; the phone pages through
    # Playwright, tests/registry/test_phone_pages.py: the pip package only, this browser).
    APT_PACKAGES+=(systemd postgresql shellcheck faketime chromium)
fi

python_ok() {
    command -v python3 >/dev/null &&
        python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    pkg_installed "$pkg" || missing+=("$pkg")
done
python_ok || missing+=(python3 python3-venv python3-dev)
if [[ ${#missing[@]} -gt 0 ]]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
python_ok || { say "python3 >= 3.11 with venv is required"; exit 1; }

EXTRAS="registry"
[[ $WITH_TEST -eq 1 ]] && EXTRAS="test"
if [[ ! -x "$VENV/bin/python" ]]; then
    say "creating $VENV"
    # On a Raspberry Pi, picamera2 comes from Debian (python3-picamera2): let the venv see it.
    flags=()
    if has_os_picamera2; then flags+=(--system-site-packages); fi
    python3 -m venv "${flags[@]}" "$VENV"
fi
# The versions the suite was tested with; on Raspberry Pi OS numpy/OpenCV within what the
# OS's picamera2 was built against (install_constraints, scripts/lib.sh).
CONSTRAINTS="$VENV/ocop-constraints.txt"
install_constraints > "$CONSTRAINTS"
# Reinstall only when the package metadata (or the constraints) changed since the last install.
STAMP="$VENV/.ocop-installed-$EXTRAS"
HASH="$(cat "$ROOT/pyproject.toml" "$CONSTRAINTS" | sha256sum | cut -c1-16)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$HASH" ]]; then
    say "installing ocop-kiosk[$EXTRAS] into $VENV ($(constraints_summary))"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # lenient editable mode: modules added to kiosk/, scanner/, printer/, registry/ import
    # at once; a new top-level package goes into pyproject.toml, which reinstalls (STAMP).
    # (setuptools' "compat" mode, used before, is being removed.)
    "$VENV/bin/python" -m pip install -q -e "${ROOT}[${EXTRAS}]" -c "$CONSTRAINTS" \
        --config-settings editable_mode=lenient
    echo "$HASH" > "$STAMP"
fi
