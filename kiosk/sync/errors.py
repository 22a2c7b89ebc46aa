"""Sync errors. `retryable` tells the loop whether backing off and trying again can help."""

from __future__ import annotations

from kiosk.errors import UserError


class SyncError(Exception):
    retryable = True


class RegistryUnavailable(SyncError):
    """No answer, a timeout, a 5xx/429, a connection cut mid-reply: try again later."""


class BadReply(SyncError):
    """A reply that is not what the protocol promises (garbage, truncated JSON, wrong shape,
    a trust list that does not verify, media whose hash does not match). Nothing was
    changed; tried again later (a captive portal or a broken proxy may be in the way)."""


class SyncRejected(SyncError):
    """The registry refused the request (401/403/404/409/422): retrying the same request
    will not help until someone fixes the configuration or the data."""
    retryable = False

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class SyncNotConfigured(UserError):
    """registry.url, registry.token or registry.root_public_key is missing."""
