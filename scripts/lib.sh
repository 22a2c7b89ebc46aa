# shellcheck shell=bash
# Shell functions shared by scripts/bootstrap.sh and scripts/install-pi.sh (sourced, not run).
#
# Test hooks (tests/deploy/test_installer.py): OCOP_OS_RELEASE replaces /etc/os-release and
# OCOP_PICAMERA2_DIR replaces the path of Debian's picamera2, so the choice of constraints
# can be checked for every release on any machine.

OCOP_SRC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The release's codename (bookworm, trixie, ...), empty when unknown.
os_codename() {
    local os_release="${OCOP_OS_RELEASE:-/etc/os-release}"
    [[ -r "$os_release" ]] || return 0
    # Read, not sourced: its other variables (NAME, VERSION, ...) must not land in ours.
    sed -n 's/^VERSION_CODENAME=["'"'"']\{0,1\}\([a-z0-9]*\).*/\1/p' "$os_release" | head -n1
}

# The supported releases are those with a constraints/pi-<codename>.txt (Debian 12 bookworm
# and 13 trixie, and the Raspberry Pi OS built on each).
constraints_for() { echo "$OCOP_SRC_ROOT/constraints/pi-$1.txt"; }
codename_supported() { [[ -n "$1" && -f "$(constraints_for "$1")" ]]; }
supported_codenames() {
    local f names=()
    for f in "$OCOP_SRC_ROOT"/constraints/pi-*.txt; do
        f="${f##*/pi-}"; names+=("${f%.txt}")
    done
    echo "${names[*]}"
}

# Debian's python3-picamera2 (Raspberry Pi OS): the venv must see it (--system-site-packages).
has_os_picamera2() {
    [[ -e "${OCOP_PICAMERA2_DIR:-/usr/lib/python3/dist-packages/picamera2}" ]]
}

# The pip constraints file that keeps the venv's numpy/OpenCV loadable next to the OS's
# picamera2 and simplejpeg (built against the release's own numpy). Prints nothing when the
# OS has no picamera2 (nothing to stay compatible with); warns when the release is unknown.
pi_constraints_file() {
    has_os_picamera2 || return 0
    local codename
    codename="$(os_codename)"
    if codename_supported "$codename"; then
        constraints_for "$codename"
    else
        echo "WARNING: no numpy/OpenCV limits for this release (${codename:-unknown};" \
             "known: $(supported_codenames)): the OS's picamera2 may not import in the venv" >&2
    fi
}

# The versions the test suite ran with, pinned with == (scripts/freeze-constraints.sh).
TESTED_CONSTRAINTS="$OCOP_SRC_ROOT/constraints/tested.txt"

# The pip constraints for this machine, on stdout: constraints/tested.txt, where the
# release's Pi limits (pi_constraints_file) replace the pins of the packages they name
# (pip refuses two different versions of one package, so the Pi file wins). One place for
# both installers; the package names compare as pip does (case, "-", "_", "." alike).
install_constraints() {
    local pi
    pi="$(pi_constraints_file)"
    if [[ -z "$pi" ]]; then cat "$TESTED_CONSTRAINTS"; return 0; fi
    awk 'function name(line) {
             sub(/[ \t]*#.*/, "", line)
             if (!match(line, /^[A-Za-z0-9._-]+/)) return ""
             line = tolower(substr(line, RSTART, RLENGTH)); gsub(/[-_.]+/, "-", line)
             return line
         }
         FNR == NR { n = name($0); if (n != "") limited[n] = 1; next }
         { n = name($0); if (n == "" || !(n in limited)) print }' "$pi" "$TESTED_CONSTRAINTS"
    echo "# ${pi#"$OCOP_SRC_ROOT"/}: this release's limits, in place of the pins above"
    grep -v '^[[:space:]]*#' "$pi" | grep -v '^[[:space:]]*$'
}

# What install_constraints is made of, for the installers' logs.
constraints_summary() {
    local pi
    pi="$(pi_constraints_file 2>/dev/null)"
    echo "versions of ${TESTED_CONSTRAINTS#"$OCOP_SRC_ROOT"/}${pi:+, limits of ${pi#"$OCOP_SRC_ROOT"/}}"
}

# Installed, under its own name or its Debian 13 "t64" name (libzbar0 -> libzbar0t64, which
# only Provides: libzbar0; dpkg-query does not resolve a virtual package).
pkg_installed() {
    local name
    for name in "$1" "${1}t64"; do
        dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed" &&
            return 0
    done
    return 1
}
