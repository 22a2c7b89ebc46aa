#!/bin/sh
# `ocop-kiosk` for technicians (installed as /usr/local/bin/ocop-kiosk by install-pi.sh):
# runs the installed program with the services' settings, data folder and secrets, as the
# kiosk user when called through sudo, so `sudo ocop-kiosk doctor` tests what the kiosk sees.
set -eu
APP=/opt/ocop-kiosk/.venv/bin/ocop-kiosk
KIOSK_USER=ocop
export OCOP_KIOSK_CONFIG="${OCOP_KIOSK_CONFIG:-/etc/ocop-kiosk/kiosk.toml}"
export OCOP_KIOSK_DATA="${OCOP_KIOSK_DATA:-/var/lib/ocop-kiosk}"
export ESCPOS_CAPABILITIES_PICKLE_DIR="${ESCPOS_CAPABILITIES_PICKLE_DIR:-/var/cache/ocop-kiosk}"
if [ -r /etc/ocop-kiosk/kiosk.env ]; then
    set -a
    # shellcheck disable=SC1091
    . /etc/ocop-kiosk/kiosk.env
    set +a
fi
if [ "$(id -u)" -eq 0 ] && id "$KIOSK_USER" >/dev/null 2>&1; then
    exec runuser -u "$KIOSK_USER" -- "$APP" "$@"
fi
exec "$APP" "$@"
