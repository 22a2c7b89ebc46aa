"""The heartbeat's wire names: what a kiosk tells the registry about itself each sync round.
The kiosk builds it (kiosk.sync.heartbeat); the registry stores and shows it. Documented in
docs/sync-protocol.md ("Heartbeat").
"""

from __future__ import annotations

NOT_WATCHED = "not_watched"  # no process on this kiosk watches this device


class Field:
    """Heartbeat payload keys (the wire names). Ages are whole seconds, null when unknown."""

    AT = "at"  # when it was built (system clock, UTC)
    APP_VERSION = "app_version"
    UPTIME_S = "uptime_s"  # of the process that built it
    MODE = "mode"  # showroom | reststop | station
    SITE = "site"
    DISTRICT = "district"
    LAST_SYNC_AT = "last_sync_at"  # the previous successful round
    CAMERA = "camera"  # scanner CameraState value | not_watched
    CAMERA_IS_DEMO = "camera_is_demo"  # the demo camera: no real camera attached
    CAMERA_AGE_S = "camera_age_s"  # since that state was seen
    PRINTER = "printer"  # printer PrinterState value | not_watched
    PAPER = "paper"  # printer PaperState value | not_watched
    PRINTER_AGE_S = "printer_age_s"  # since the printer was last asked
    DISK_FREE_BYTES = "disk_free_bytes"  # on the data folder's filesystem
    TRUST_LIST_SEQUENCE = "trust_list_sequence"  # 0 = none
    TRUST_LIST_AGE_S = "trust_list_age_s"  # since its signed issued_at
    # The highest serial in this kiosk's stamp blocks (0 = none): a registry restored from
    # a backup raises its serial counter above it (registry/epoch.py).
    HIGHEST_SERIAL = "highest_serial"
    TRUST_LIST_EXPIRES_AT = "trust_list_expires_at"  # its signed expiry (null: none/version 1)
    TRUST_LIST_STALE = "trust_list_stale"  # expired by the kiosk's trusted clock (TrustFreshness)
    PENDING_OUTBOX = "pending_outbox"  # unsent outbox rows (without this heartbeat)
    PENDING_OUTBOX_OLDEST_AGE_S = "pending_outbox_oldest_age_s"
    CATALOG_CURSOR = "catalog_cursor"
    CLOCK = "clock"  # see clock_field()
