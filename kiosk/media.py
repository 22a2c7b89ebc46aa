"""Content-addressed media files: <data_dir>/media/<hash[:2]>/<hash><ext>."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from ocop.wire import MEDIA_EXTENSIONS


def media_path(data_dir: Path, sha256_hex: str, mime: str) -> Path:
    name = f"{sha256_hex}{MEDIA_EXTENSIONS.get(mime, '')}"
    return Path(data_dir) / "media" / sha256_hex[:2] / name


def store_media(
    conn: sqlite3.Connection,
    data_dir: Path,
    content: bytes,
    mime: str,
    origin: str = "registry",
    expected_sha256: str | None = None,
) -> str:
    """Write the file (atomically, fsynced) then its row; returns the hash.

    The file is written first so a row never points at a missing file; an orphan file after a
    crash is harmless and is reused by the next write of the same content.
    """
    digest = hashlib.sha256(content).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise ValueError(f"media content hash {digest} does not match {expected_sha256}")
    path = media_path(data_dir, digest, mime)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    conn.execute(
        "INSERT INTO media(hash, mime, size_bytes, origin) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(hash) DO NOTHING",
        (digest, mime, len(content), origin),
    )
    return digest


def find_media_file(conn: sqlite3.Connection, data_dir: Path, sha256_hex: str) -> Path | None:
    row = conn.execute("SELECT mime FROM media WHERE hash = ?", (sha256_hex,)).fetchone()
    if row is None:
        return None
    path = media_path(data_dir, sha256_hex, row[0])
    return path if path.exists() else None
