"""Sync errors. `retryable` tells the loop whether backing off and trying again can help;
`state` is what the kiosk shows after a round that ended with this error (the worst state
of a round's errors wins, see kiosk.sync.status.worst_state)."""

from __future__ import annotations

from kiosk.sync.status import SyncState
from ocop.errors import UserError
from ocop.stations import BlockRefusal


class SyncError(Exception):
    retryable = True
    state = SyncState.OFFLINE


class RegistryUnavailable(SyncError):
    """No answer, a timeout, a 5xx/429, a connection cut mid-reply: try again later."""


class BadReply(SyncError):
    """A reply that is not what the protocol promises (garbage, truncated JSON, a redirect,
    media whose hash does not match). Nothing was changed; tried again later (a captive
    portal or a broken proxy may be in the way). The subclasses below are refusals of a
    well-formed reply."""


class ReplyRefused(BadReply):
    """A well-formed reply whose content breaks the protocol's rules: a lone surrogate or a
    control character in a name, a date that is not in the calendar, a GTIN with a wrong
    check digit, the same GTIN twice. The message names every field (`products[3].gtin`).
    Nothing was changed; the same page comes again until the registry's data is fixed."""

    retryable = False
    state = SyncState.ERROR


class TrustListRefused(BadReply):
    """A trust list that does not verify under the pinned root (forged, signed by another
    root, or older than the stored one). Nothing was changed. Not 'offline': the kiosk is
    talking to a registry (or something in between) it must not trust."""

    retryable = False
    state = SyncState.REFUSED


class CatalogRefused(BadReply):
    """A catalog reply whose signature does not verify under the registry's list-signing key
    (from the trust list's delegation): altered in transit. Nothing was changed."""

    retryable = False
    state = SyncState.REFUSED


class PageNotApplied(SyncError):
    """A catalog page passed the checks but writing it failed (a rule the checks do not
    know, a local constraint, a bug): its transaction was rolled back, the cursor did not
    move. The cause is chained (`__cause__`) and logged with its traceback."""

    state = SyncState.ERROR


class SyncRejected(SyncError):
    """The registry refused the request (401/403/404/409/422): retrying the same request
    will not help until someone fixes the configuration or the data."""

    retryable = False
    state = SyncState.ERROR

    def __init__(self, message: str, status: int = 0, reason: str = ""):
        super().__init__(message)
        self.status = status
        self.reason = reason  # the problem's machine-readable `reason`, when it has one


class BlockRefused(SyncRejected):
    """The registry refused a stamp block (403): this kiosk is not a printing station, the
    product is outside the station's bindings, or its quota is used up; or (410) a retried
    request's block is so old the registry no longer keeps it. `refusal` says which; its
    label is what staff read (translated: `translator(lang)(exc.refusal.label_msgid)`)."""

    def __init__(self, message: str, refusal: BlockRefusal, status: int = 403):
        super().__init__(message, status, refusal.value)
        self.refusal = refusal


class SyncNotConfigured(UserError):
    """registry.url, registry.token or registry.root_public_key is missing."""


class InsecureRegistryUrl(SyncNotConfigured):
    """registry.url is http:// to a non-loopback host and allow_insecure_http is false."""
