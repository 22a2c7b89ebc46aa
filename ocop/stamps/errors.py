"""Typed errors of the stamp package.

StampFormatError is internal: the verifier turns it into a verdict (`forged` or `not_ocop`),
it never reaches a shopper. The others are UserErrors: the CLI prints one line, exit 2.
"""

from __future__ import annotations

from ocop.errors import UserError


class StampFormatError(ValueError):
    """Text that is not a well-formed stamp.

    `under_prefix` tells the verifier whether the text claimed to be one of our stamps (it
    starts with our base URL, ignoring case): malformed content there is `forged`, anything
    else is `not_ocop`.
    """

    def __init__(self, message: str, *, under_prefix: bool):
        super().__init__(message)
        self.under_prefix = under_prefix


class StampConfigError(UserError):
    """A stamp setting (base URL) or stamp field outside what the format can carry."""


class KeyFileError(UserError):
    """A key file or key string that cannot be used."""


class TrustError(UserError):
    """A trust list rejected: unsigned, signed by an unknown root, tampered, malformed or older
    than the one already stored."""


class ForeignRootError(TrustError):
    """A trust list made for another root than the pinned one."""


class NoTrustList(TrustError):
    """No verified trust list is stored yet (run sync, import one, or `init --demo`)."""


class StampsExhausted(UserError):
    """The station's blocks of pre-signed stamps do not hold enough stamps for a request."""
