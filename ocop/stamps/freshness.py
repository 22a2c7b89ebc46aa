"""Is the trust list a kiosk holds still fresh? One state, used by the result screen, the
staff screen, the sync status, the doctor and the heartbeat (issue 14: a withheld update
must show within one validity period).

A list is FRESH until its signed `expires_at` (judged by the kiosk's trusted clock) and
EXPIRED from then on. An expired list still verifies stamps (its signatures and keys are
as good as ever), but its revocations and suspect serials may be missing newer entries, so
the kiosk says so. A version 1 list (no expires_at) is EXPIRED from the start: it keeps
verifying until the kiosk syncs a list that carries an expiry.
"""

from __future__ import annotations

import datetime as dt

from ocop.enums import EnumWithAttributes
from ocop.i18n import N_
from ocop.tone import Tone


class TrustFreshness(EnumWithAttributes):
    # value (heartbeat, doctor JSON), tone, staff label msgid, shopper note msgid ("" = none)
    FRESH = ("fresh", Tone.OK, N_("Revocation list up to date"), "")
    EXPIRED = (
        "expired",
        Tone.WARN,
        N_("Revocation list out of date"),
        N_(
            "This kiosk's list of revoked stamps is out of date: a stamp revoked or copied "
            "recently may not show as such."
        ),
    )
    NONE = ("none", Tone.BAD, N_("No trust list"), "")

    tone: Tone
    label_msgid: str
    note_msgid: str

    @property
    def is_stale(self) -> bool:
        return self is not TrustFreshness.FRESH

    @classmethod
    def of(
        cls, expires_at: dt.datetime | None, now: dt.datetime, listed: bool = True
    ) -> TrustFreshness:
        """The state of a list expiring at `expires_at` (None: version 1, no expiry) at the
        trusted time `now`; `listed=False`: the kiosk holds no list at all."""
        if not listed:
            return cls.NONE
        if expires_at is None or now >= expires_at:
            return cls.EXPIRED
        return cls.FRESH


__all__ = ["TrustFreshness"]
