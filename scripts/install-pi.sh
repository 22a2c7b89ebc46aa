#!/usr/bin/env bash
# Install (or update, or remove) the OCOP Sơn La kiosk on Raspberry Pi OS 64-bit, Bookworm
# (Debian 12) or Trixie (Debian 13).
#
#   sudo scripts/install-pi.sh [--mode showroom|reststop|station] [--demo] [--no-start]
#   sudo scripts/install-pi.sh --uninstall [--purge]
#   scripts/install-pi.sh --dry-run [...]        print every action, change nothing (no root)
#
# What it sets up (each step skipped when already done, so running it again is an update):
#   Debian packages; system user `ocop` in video, render, input, lp, dialout; the program in
#   /opt/ocop-kiosk with its venv (--system-site-packages, for Debian's python3-picamera2;
#   the versions of constraints/tested.txt, numpy/OpenCV within constraints/pi-<codename>.txt);
#   /etc/ocop-kiosk/kiosk.toml and kiosk.env (only when absent); /var/lib/ocop-kiosk with an
#   initialised database; udev rule for USB thermal printers; journald and hardware-watchdog
#   drop-ins; screen blanking off; the kiosk on the display via SDL2 KMS/DRM on tty1 (console
#   boot, no desktop); ocop-kiosk.service and ocop-kiosk-sync.service enabled and started;
#   /usr/local/bin/ocop-kiosk for technicians (`sudo ocop-kiosk doctor`).
# --uninstall removes the program, units, rules and drop-ins and restores the console login
# and boot target, keeping /etc/ocop-kiosk and /var/lib/ocop-kiosk (the data) unless --purge.
# Details: docs/operations.md.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
. "$SRC/scripts/lib.sh"
APP_DIR=/opt/ocop-kiosk
VENV="$APP_DIR/.venv"
CONF_DIR=/etc/ocop-kiosk
DATA_DIR=/var/lib/ocop-kiosk
CACHE_DIR=/var/cache/ocop-kiosk
LOG_DIR=/var/log/ocop-kiosk
KIOSK_USER=ocop
KIOSK_GROUPS=(video render input lp dialout)
UNIT_DIR=/etc/systemd/system
UNITS=(ocop-kiosk.service ocop-kiosk-sync.service)
UDEV_RULE=/etc/udev/rules.d/60-ocop-printer.rules
JOURNALD_DROPIN=/etc/systemd/journald.conf.d/ocop-kiosk.conf
WATCHDOG_DROPIN=/etc/systemd/system.conf.d/ocop-kiosk-watchdog.conf
CLI_WRAPPER=/usr/local/bin/ocop-kiosk
STATE_FILE="$CONF_DIR/install-state"     # what we changed outside our own files
CMDLINE_TOKENS=(consoleblank=0 vt.global_cursor_default=0)
APT_PACKAGES=(python3 python3-venv python3-pip ca-certificates rsync sqlite3
              libgl1 libegl1 libgles2 libgbm1 libdrm2 libegl-mesa0 libgl1-mesa-dri
              libmtdev1 libzbar0 libusb-1.0-0 fonts-dejavu-core)

DRY_RUN=0; UNINSTALL=0; PURGE=0; MODE=""; DEMO=0; START=1; FORCE=0

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --uninstall) UNINSTALL=1 ;;
        --purge) PURGE=1 ;;
        --mode) MODE="${2:?--mode needs showroom, reststop or station}"; shift ;;
        --mode=*) MODE="${1#--mode=}" ;;
        --demo) DEMO=1 ;;
        --no-start) START=0 ;;
        --force) FORCE=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install-pi.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$MODE" in ""|showroom|reststop|station) ;;
    *) echo "install-pi.sh: --mode must be showroom, reststop or station" >&2; exit 2 ;; esac
[[ $PURGE -eq 1 && $UNINSTALL -eq 0 ]] && { echo "install-pi.sh: --purge goes with --uninstall" >&2; exit 2; }

say() { printf '[install-pi] %s\n' "$*"; }
skip() { printf '[install-pi] ok: %s\n' "$*"; }
warn() { printf '[install-pi] WARNING: %s\n' "$*" >&2; }

# Every change to the machine goes through run: in --dry-run it is printed, not done.
quote() {  # shell-quote only what needs it, for readable logs
    local arg out=()
    for arg in "$@"; do
        if [[ "$arg" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=("$arg")
        else out+=("$(printf '%q' "$arg")"); fi
    done
    printf '%s' "${out[*]}"
}

run() {
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '[dry-run] %s\n' "$(quote "$@")"
    else
        printf '[install-pi] + %s\n' "$(quote "$@")"
        "$@"
    fi
}

# Write stdin to a file (atomically, with owner and mode), unless it already has that content.
put_file() {  # put_file DEST MODE OWNER:GROUP  < content
    local dest="$1" mode="$2" owner="$3" tmp
    tmp="$(mktemp)"
    cat > "$tmp"
    if [[ -f "$dest" ]] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"
        skip "$dest is up to date"
        return 1
    fi
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '[dry-run] write %s (mode %s, owner %s, %s bytes)\n' "$dest" "$mode" "$owner" \
            "$(wc -c < "$tmp" | tr -d ' ')"
        rm -f "$tmp"
        return 0
    fi
    run install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$dest"
    rm -f "$tmp"
    return 0
}

copy_if_absent() {  # copy_if_absent SRC DEST MODE OWNER:GROUP
    if [[ -e "$2" ]]; then skip "$2 exists (kept as is)"; return 0; fi
    run install -D -m "$3" -o "${4%%:*}" -g "${4##*:}" "$1" "$2"
}

have() { command -v "$1" >/dev/null 2>&1; }
pkg_available() { have apt-cache && apt-cache show "$1" >/dev/null 2>&1; }
user_exists() { getent passwd "$1" >/dev/null 2>&1; }
group_exists() { getent group "$1" >/dev/null 2>&1; }
in_group() { id -nG "$1" 2>/dev/null | tr ' ' '\n' | grep -qx "$2"; }
unit_known() { have systemctl && systemctl cat "$1" >/dev/null 2>&1; }
systemd_running() { [[ -d /run/systemd/system ]]; }

boot_cmdline() {
    local f
    for f in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
        [[ -f "$f" ]] && { echo "$f"; return 0; }
    done
    return 1
}

# --- preflight ---------------------------------------------------------------------------

preflight() {
    if [[ $DRY_RUN -eq 1 ]]; then
        say "dry run: printing every action, changing nothing"
    elif [[ $(id -u) -ne 0 ]]; then
        echo "install-pi.sh: run as root (sudo), or with --dry-run to see what it would do" >&2
        exit 1
    fi
    local codename="" arch model=""
    codename="$(os_codename)"
    arch="$(uname -m)"
    [[ -r /proc/device-tree/model ]] && model="$(tr -d '\0' < /proc/device-tree/model)"
    say "machine: ${model:-not a Raspberry Pi}, ${codename:-unknown OS}, $arch; source $SRC"
    local made_for
    made_for="Raspberry Pi OS 64-bit (aarch64), release $(supported_codenames | sed 's/ / or /g')"
    if [[ $UNINSTALL -eq 0 ]] && { ! codename_supported "$codename" || [[ "$arch" != "aarch64" ]]; }
    then
        if [[ $FORCE -eq 1 || $DRY_RUN -eq 1 ]]; then
            warn "made for $made_for; continuing anyway"
        else
            echo "install-pi.sh: made for $made_for (found ${codename:-?} $arch);" \
                 "--force to install anyway" >&2
            exit 1
        fi
    fi
    if [[ $UNINSTALL -eq 0 && ! -f "$SRC/pyproject.toml" ]]; then
        echo "install-pi.sh: $SRC is not an ocop-kiosk source tree" >&2; exit 1
    fi
}

# --- install steps -------------------------------------------------------------------------

install_packages() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do pkg_installed "$pkg" || missing+=("$pkg"); done
    # Pi camera support comes from Raspberry Pi OS; rpicam-apps-lite gives `rpicam-hello`
    # to test the camera by hand.
    for pkg in python3-picamera2 rpicam-apps-lite; do
        pkg_installed "$pkg" || { pkg_available "$pkg" && missing+=("$pkg"); } || true
    done
    if [[ ${#missing[@]} -eq 0 ]]; then skip "Debian packages installed"; return; fi
    run env DEBIAN_FRONTEND=noninteractive apt-get update -q
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
}

create_user() {
    local g
    for g in "${KIOSK_GROUPS[@]}"; do
        group_exists "$g" && continue
        run groupadd --system "$g"
    done
    if user_exists "$KIOSK_USER"; then
        skip "user $KIOSK_USER exists"
    else
        run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
            --shell /usr/sbin/nologin --comment "OCOP kiosk" "$KIOSK_USER"
    fi
    local missing=()
    for g in "${KIOSK_GROUPS[@]}"; do
        user_exists "$KIOSK_USER" && in_group "$KIOSK_USER" "$g" || missing+=("$g")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        run usermod --append --groups "$(IFS=,; echo "${missing[*]}")" "$KIOSK_USER"
    else
        skip "user $KIOSK_USER is in ${KIOSK_GROUPS[*]}"
    fi
}

source_hash() {  # what the installed venv was built from
    local parts=() part
    for part in pyproject.toml kiosk scanner printer registry config; do
        [[ -e "$SRC/$part" ]] && parts+=("$part")
    done
    (cd "$SRC" && find "${parts[@]}" \
        -type f ! -name '*.pyc' ! -path '*/__pycache__/*' 2>/dev/null | LC_ALL=C sort |
        xargs sha256sum | sha256sum | cut -c1-16)
}

install_program() {
    if [[ "$SRC" == "$APP_DIR" ]]; then
        skip "running from $APP_DIR itself: no copy"
    else
        # Code is root-owned: the kiosk user can run it, not change it.
        run mkdir -p "$APP_DIR"
        run rsync -a --delete --chown=root:root --chmod=go+rX,go-w --exclude=/.venv/ \
            --exclude=/.git/ --exclude=__pycache__/ --exclude='*.pyc' --exclude=/.pytest_cache/ \
            --exclude=/tests/ --exclude=/bench/ --exclude=/build/ --exclude='*.egg-info/' \
            "$SRC/" "$APP_DIR/"
    fi
    if [[ -x "$VENV/bin/python" ]]; then
        skip "venv $VENV exists"
    else
        run python3 -m venv --system-site-packages "$VENV"
    fi
    local hash stamp="$VENV/.ocop-source-hash" constraints="$VENV/ocop-constraints.txt"
    # The versions the suite was tested with; on Raspberry Pi OS numpy/OpenCV within what its
    # picamera2 and simplejpeg were built against (install_constraints, scripts/lib.sh).
    put_file "$constraints" 0644 root:root < <(install_constraints) || true
    say "pip constraints: $(constraints_summary)"
    # What the venv was built from: the source and the constraints it was installed with.
    hash="$( { source_hash; install_constraints 2>/dev/null; } | sha256sum | cut -c1-16)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
        skip "ocop-kiosk in $VENV is up to date ($hash)"
        return
    fi
    run "$VENV/bin/python" -m pip install -q --upgrade pip
    run "$VENV/bin/python" -m pip install -q "$APP_DIR" -c "$constraints"
    # Same version number, new code: reinstall the package itself (not its dependencies).
    run "$VENV/bin/python" -m pip install -q --no-deps --force-reinstall "$APP_DIR"
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '[dry-run] write %s (%s)\n' "$stamp" "$hash"
    else
        echo "$hash" > "$stamp"
    fi
}

install_config() {
    local example="$SRC/config/kiosk.toml"
    [[ -n "$MODE" ]] && example="$SRC/config/$MODE.toml"
    # 0755 as in the units' ConfigurationDirectoryMode; the files inside are 0640 root:ocop.
    run install -d -m 0755 -o root -g root "$CONF_DIR"
    copy_if_absent "$example" "$CONF_DIR/kiosk.toml" 0640 "root:$KIOSK_USER"
    copy_if_absent "$SRC/systemd/kiosk.env.example" "$CONF_DIR/kiosk.env" 0640 "root:$KIOSK_USER"
}

install_data_dir() {
    run install -d -m 0750 -o "$KIOSK_USER" -g "$KIOSK_USER" "$DATA_DIR" "$CACHE_DIR" "$LOG_DIR"
    if [[ -f "$DATA_DIR/kiosk.sqlite" ]]; then
        skip "database $DATA_DIR/kiosk.sqlite exists (kept; migrated by the app at start)"
        return
    fi
    local init=(init)
    [[ $DEMO -eq 1 ]] && init+=(--demo)
    run runuser -u "$KIOSK_USER" -- env OCOP_KIOSK_CONFIG="$CONF_DIR/kiosk.toml" \
        OCOP_KIOSK_DATA="$DATA_DIR" ESCPOS_CAPABILITIES_PICKLE_DIR="$CACHE_DIR" \
        "$VENV/bin/ocop-kiosk" "${init[@]}"
}

install_system_files() {
    local changed_udev=0 changed_journald=0 unit
    put_file "$UDEV_RULE" 0644 root:root < "$SRC/systemd/udev/60-ocop-printer.rules" &&
        changed_udev=1
    put_file "$JOURNALD_DROPIN" 0644 root:root < "$SRC/systemd/journald.conf.d/ocop-kiosk.conf" &&
        changed_journald=1
    put_file "$WATCHDOG_DROPIN" 0644 root:root \
        < "$SRC/systemd/system.conf.d/ocop-kiosk-watchdog.conf" || true
    put_file "$CLI_WRAPPER" 0755 root:root < "$SRC/systemd/ocop-kiosk-cli.sh" || true
    for unit in "${UNITS[@]}"; do
        put_file "$UNIT_DIR/$unit" 0644 root:root < "$SRC/systemd/$unit" || true
    done
    if [[ $changed_udev -eq 1 ]]; then
        run udevadm control --reload-rules
        run udevadm trigger --subsystem-match=usb --subsystem-match=usbmisc
    fi
    if [[ $changed_journald -eq 1 ]]; then
        run install -d -m 2755 -o root -g systemd-journal /var/log/journal
        systemd_running && run systemctl restart systemd-journald
    fi
    if systemd_running; then
        run systemctl daemon-reload
    else
        say "systemd is not running here (chroot/container): units enabled for next boot"
    fi
}

record_state() {  # record_state KEY VALUE: remembered for --uninstall
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '[dry-run] remember %s=%s in %s\n' "$1" "$2" "$STATE_FILE"
        return
    fi
    grep -q "^$1=" "$STATE_FILE" 2>/dev/null && return
    echo "$1=$2" >> "$STATE_FILE"
}

state_value() {
    [[ -r "$STATE_FILE" ]] || return 0
    sed -n "s/^$1=//p" "$STATE_FILE" | head -n1
}

setup_display() {
    # KMS/DRM: the kiosk draws on the display itself from tty1 (see docs/operations.md for
    # the desktop-autostart alternative). No desktop session, no login prompt on tty1.
    local target
    target="$(systemctl get-default 2>/dev/null || echo unknown)"
    if [[ "$target" != "multi-user.target" ]]; then
        record_state default_target "$target"
        run systemctl set-default multi-user.target
    else
        skip "boot target is multi-user.target (console, no desktop)"
    fi
    if [[ "$(systemctl is-enabled getty@tty1.service 2>/dev/null || true)" == "enabled" ]]; then
        record_state getty_tty1 enabled
        run systemctl disable getty@tty1.service
    else
        skip "no login prompt on tty1"
    fi
    # Screen blanking off: the kernel console (KMS) and, if present, raspi-config's setting
    # for desktop sessions.
    local cmdline token added=()
    if cmdline="$(boot_cmdline)"; then
        for token in "${CMDLINE_TOKENS[@]}"; do
            grep -qw -- "${token%%=*}=[^ ]*" "$cmdline" || added+=("$token")
        done
        if [[ ${#added[@]} -gt 0 ]]; then
            record_state cmdline_tokens "${added[*]}"
            run cp -p "$cmdline" "$cmdline.ocop-backup"
            run sed -i "1 s/\$/ ${added[*]}/" "$cmdline"
        else
            skip "$cmdline has ${CMDLINE_TOKENS[*]}"
        fi
    else
        warn "no /boot/firmware/cmdline.txt: add consoleblank=0 to the kernel command line"
    fi
    if have raspi-config; then
        # raspi-config's convention: 1 = off. get_blanking prints the current value.
        if [[ "$(raspi-config nonint get_blanking 2>/dev/null || true)" == "1" ]]; then
            skip "raspi-config: screen blanking off"
        else
            run raspi-config nonint do_blanking 1
        fi
    fi
}

enable_units() {
    local unit
    for unit in "${UNITS[@]}"; do
        if [[ "$(systemctl is-enabled "$unit" 2>/dev/null || true)" == "enabled" ]]; then
            skip "$unit enabled"
        else
            run systemctl enable "$unit"
        fi
    done
    if [[ $START -eq 1 ]] && systemd_running; then
        # --no-block: the kiosk is "started" only when its first screen is up (READY=1).
        run systemctl restart --no-block "${UNITS[@]}"
    fi
}

do_install() {
    install_packages
    create_user
    install_program
    install_config
    install_data_dir
    install_system_files
    setup_display
    enable_units
    say "done. Check with: sudo ocop-kiosk doctor   (reboot once to apply the kernel" \
        "command line and the hardware watchdog)"
}

# --- uninstall -----------------------------------------------------------------------------

do_uninstall() {
    local unit f removed_rule=0
    for unit in "${UNITS[@]}"; do
        if unit_known "$unit"; then
            run systemctl disable --now "$unit"
        else
            skip "$unit not installed"
        fi
    done
    for f in "${UNITS[@]/#/$UNIT_DIR/}" "$UDEV_RULE" "$JOURNALD_DROPIN" "$WATCHDOG_DROPIN" \
             "$CLI_WRAPPER"; do
        if [[ -e "$f" ]]; then
            run rm -f "$f"
            [[ "$f" == "$UDEV_RULE" ]] && removed_rule=1
        else
            skip "$f absent"
        fi
    done
    if systemd_running; then run systemctl daemon-reload; fi
    if [[ $removed_rule -eq 1 ]] && have udevadm; then run udevadm control --reload-rules; fi
    # Undo what we changed outside our own files, as remembered at install time.
    local target getty tokens cmdline token
    target="$(state_value default_target)"
    if [[ -n "$target" && "$target" != "unknown" ]]; then
        run systemctl set-default "$target"
    fi
    getty="$(state_value getty_tty1)"
    if [[ "$getty" == "enabled" ]]; then run systemctl enable getty@tty1.service; fi
    tokens="$(state_value cmdline_tokens)"
    if [[ -n "$tokens" ]] && cmdline="$(boot_cmdline)"; then
        for token in $tokens; do
            run sed -i "1 s/ ${token//./\\.}\\b//" "$cmdline"
        done
    fi
    if [[ -d "$APP_DIR" && "$SRC" != "$APP_DIR" ]]; then
        run rm -rf "$APP_DIR"
    else
        skip "$APP_DIR absent (or running from it: kept)"
    fi
    if [[ $PURGE -eq 1 ]]; then
        for f in "$CONF_DIR" "$DATA_DIR" "$CACHE_DIR" "$LOG_DIR"; do
            if [[ -e "$f" ]]; then run rm -rf "$f"; fi
        done
        if user_exists "$KIOSK_USER"; then run userdel "$KIOSK_USER"; fi
        say "purged: settings, data (database, keys, media), logs and user $KIOSK_USER"
    else
        if [[ -e "$STATE_FILE" ]]; then run rm -f "$STATE_FILE"; fi
        say "kept $CONF_DIR and $DATA_DIR (settings and data) and user $KIOSK_USER;" \
            "--uninstall --purge removes them"
    fi
}

preflight
if [[ $UNINSTALL -eq 1 ]]; then do_uninstall; else do_install; fi
