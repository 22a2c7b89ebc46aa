"""Station roles and the reasons a registry refuses a stamp block: both sides use them (the
registry stores and checks the role, its 403 problem names the reason; the kiosk shows the
reason's label to staff).

A `kiosk` (a showroom or a rest stop) pulls the catalog and uploads scans and heartbeats; it
never receives stamp blocks. A `station` (a printing station) receives blocks only for the
producers and products the office bound it to, within its quotas.
"""

from __future__ import annotations

from ocop.enums import EnumWithAttributes
from ocop.i18n import N_

# The 403 problem's machine-readable field naming a BlockRefusal (docs/registry.md).
REFUSAL_REASON_FIELD = "reason"


class StationRole(EnumWithAttributes):
    KIOSK = ("kiosk", N_("Kiosk (no stamp printing)"))
    STATION = ("station", N_("Stamp printing station"))

    label_msgid: str

    @property
    def may_stamp(self) -> bool:
        return self is StationRole.STATION


class BlockRefusal(EnumWithAttributes):
    """Why POST /stamp-blocks refused a block (the problem's `reason`: a 403, or the 410 of
    REPLY_GONE); labels are for staff."""

    KIOSK_ROLE = (
        "kiosk_role",
        N_("This kiosk may not print stamps (it is not a printing station)"),
    )
    OUT_OF_SCOPE = ("out_of_scope", N_("This station may not print stamps for this product"))
    DAILY_QUOTA = ("daily_quota", N_("This station has used up today's stamp quota"))
    TOTAL_QUOTA = ("total_quota", N_("This station has used up its total stamp quota"))
    # Not a 403: the 410 to a retry of a block issued so long ago that the registry no
    # longer keeps its reply (registry/retention.py). Its serials are never printed.
    REPLY_GONE = (
        "reply_gone",
        N_(
            "The registry no longer keeps this old stamp block; its serials will not be "
            "printed. Request a new block"
        ),
    )

    label_msgid: str


__all__ = ["REFUSAL_REASON_FIELD", "BlockRefusal", "StationRole"]
