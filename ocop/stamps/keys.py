"""Ed25519 keys as base64 of the raw 32 bytes; private key files readable by the owner only.

Only the registry (and the local demo signer) holds private keys. Kiosks and stations hold
public keys: the pinned root in config, the signing keys inside the verified trust list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ocop.stamps.errors import KeyFileError

KEY_BYTES = 32
PRIVATE_KEY_MODE = 0o600
KEY_DIR_MODE = 0o700


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """Deterministic key from 32 seed bytes (test vectors, never production)."""
    if len(seed) != KEY_BYTES:
        raise KeyFileError(f"an Ed25519 seed is {KEY_BYTES} bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key_raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def public_key_raw(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_b64(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    return base64.b64encode(public_key_raw(key)).decode("ascii")


def _b64_32(text: str, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyFileError(f"{what}: expected base64 text")
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{what}: not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise KeyFileError(f"{what}: expected {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def load_public_key_b64(text: str, what: str = "public key") -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_b64_32(text, what))


def load_private_key_b64(text: str, what: str = "private key") -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_b64_32(text, what))


def fingerprint(public_key: Ed25519PublicKey | Ed25519PrivateKey | str) -> str:
    """SHA-256 of the raw public key, hex: names a root in trust lists and messages."""
    raw = (
        _b64_32(public_key, "public key")
        if isinstance(public_key, str)
        else public_key_raw(public_key)
    )
    return hashlib.sha256(raw).hexdigest()


def save_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write base64 of the raw key to a new file with mode 0600 (never overwrites)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=KEY_DIR_MODE)
    data = base64.b64encode(private_key_raw(key)) + b"\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_KEY_MODE)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key") from None
    try:
        os.fchmod(fd, PRIVATE_KEY_MODE)  # in case the umask widened nothing but to be sure
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    path = Path(path)
    try:
        st = path.stat()
        text = path.read_text("ascii")
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc}") from None
    if st.st_mode & 0o077:
        raise KeyFileError(
            f"key file {path} is readable by others (mode {st.st_mode & 0o777:o}); chmod 600 it"
        )
    return load_private_key_b64(text, what=str(path))
