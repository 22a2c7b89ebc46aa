"""The key-encryption key (KEK): the online private keys (stamp signing, list signing) are
stored in the database wrapped with it, so every process and host of one registry signs
with the same keys (issue 17). The offline root key is never wrapped: it stays offline.

Where the KEK comes from, first found wins: --kek-file FILE, $OCOP_REGISTRY_KEK, or the
systemd credential `ocop-registry-kek` ($CREDENTIALS_DIRECTORY/ocop-registry-kek, from
LoadCredential=). Its text is base64 of 32 random bytes (`ocop-registry kek generate`).

Wrapping is AES-256-GCM with a fresh 96-bit nonce; the associated data names the key
(name, purpose, public key), so a ciphertext copied onto another key's row does not decrypt.
The KEK id is a hash of the KEK (never the KEK): it says which KEK a row needs, so a wrong
KEK is refused by name before anything is decrypted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ocop.errors import UserError

ENV_KEK = "OCOP_REGISTRY_KEK"
CREDENTIAL_NAME = "ocop-registry-kek"  # systemd: LoadCredential=ocop-registry-kek:/etc/...
KEK_BYTES = 32
NONCE_BYTES = 12
_AD_PREFIX = b"ocop-registry/private-key/v1"


class KekError(UserError):
    """A KEK that cannot be read, or a wrapped key that does not decrypt."""


@dataclass(frozen=True)
class Kek:
    """A KEK; `source` says where it came from (for messages), never its value."""

    secret: bytes = field(repr=False)
    source: str = ""

    def __post_init__(self):
        if len(self.secret) != KEK_BYTES:
            raise KekError(
                f"the KEK from {self.source or 'input'} is {len(self.secret)} bytes; it must "
                f"be base64 of {KEK_BYTES} random bytes ('ocop-registry kek generate FILE')"
            )

    @property
    def id(self) -> str:
        """Which KEK this is: a hash prefix, safe to store and print."""
        return "kek-" + hashlib.sha256(b"ocop-registry kek id\0" + self.secret).hexdigest()[:16]

    def wrap(self, name: str, purpose: str, public_key: str, raw: bytes) -> tuple[bytes, bytes]:
        """(nonce, ciphertext) of a private key's raw bytes."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce, AESGCM(self.secret).encrypt(
            nonce, raw, _associated_data(name, purpose, public_key)
        )

    def unwrap(
        self, name: str, purpose: str, public_key: str, nonce: bytes, ciphertext: bytes
    ) -> bytes:
        try:
            return AESGCM(self.secret).decrypt(
                bytes(nonce), bytes(ciphertext), _associated_data(name, purpose, public_key)
            )
        except (InvalidTag, ValueError):
            raise KekError(
                f"private key {name!r} ({purpose}) does not decrypt with {self.id}: its row "
                "was altered or copied from another key; restore the table from a backup"
            ) from None


def _associated_data(name: str, purpose: str, public_key: str) -> bytes:
    return b"\0".join((_AD_PREFIX, purpose.encode(), name.encode(), public_key.encode()))


def parse_kek(text: str, source: str) -> Kek:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KekError(f"the KEK from {source} is not base64") from None
    return Kek(raw, source)


def generate_kek_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEK_BYTES)).decode("ascii")


def read_kek_file(path: Path) -> Kek:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise KekError(f"cannot read the KEK file {path}: {exc.strerror}") from None
    return parse_kek(text, str(path))


def load_kek(kek_file: str | Path | None = None, environ=os.environ) -> Kek | None:
    """The configured KEK, or None (private keys then stay files in the data folder)."""
    if kek_file:
        return read_kek_file(Path(kek_file))
    text = environ.get(ENV_KEK, "").strip()
    if text:
        return parse_kek(text, f"${ENV_KEK}")
    creds = environ.get("CREDENTIALS_DIRECTORY", "").strip()
    if creds and (Path(creds) / CREDENTIAL_NAME).exists():
        return read_kek_file(Path(creds) / CREDENTIAL_NAME)
    return None


__all__ = [
    "CREDENTIAL_NAME",
    "ENV_KEK",
    "Kek",
    "KekError",
    "generate_kek_text",
    "load_kek",
    "parse_kek",
    "read_kek_file",
]
