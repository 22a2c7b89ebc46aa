"""The high-water mark: the highest change sequence, serial counter and trust-list sequence
this registry ever committed, kept OUTSIDE the database in <data dir>/highwater.json, so
that a database that went backwards (restored from a backup, an old file copied over, a
PostgreSQL point-in-time restore) is noticed at the next start (registry/epoch.py).

File format (JSON object, one file, format 1):

    {"format": 1, "registry_id": "<hex>", "epoch": 3, "change_seq": 812, "serial": 40000,
     "trust_sequence": 17, "new_epoch_pending": "", "written_at": "2026-...Z",
     "sha256": "<hex of the canonical JSON of every other field>"}

Writes are atomic: a temporary file in the same folder, fsync, rename over the old one,
fsync of the folder. A kill -9 at any point leaves either the old file or the new one, whole;
a file that does not parse or whose sha256 does not match (a disk fault, a hand edit) is
`Unreadable`, and the start treats it as a database that went backwards (a new epoch is
always safe: it costs kiosks one full re-pull and the serial counter one gap).

Lagging is safe, leading is not: the file is written after the database commit, so a crash
between the two leaves the file BEHIND the database, and the next start simply raises it.
The file is never ahead of a database that did not go backwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FILENAME = "highwater.json"
LOCK_FILENAME = "highwater.lock"
FORMAT = 1
COUNTERS = ("change_seq", "serial", "trust_sequence")


class Unreadable(Exception):
    """The file exists but is not a whole, self-consistent high-water mark."""


@dataclass(frozen=True)
class Mark:
    registry_id: str
    epoch: int = 1
    change_seq: int = 0
    serial: int = 0
    trust_sequence: int = 0
    # A reason when `restore` announced a restore: the next start must begin a new epoch
    # whatever the counters say (written BEFORE the database is replaced).
    new_epoch_pending: str = ""
    written_at: str = ""

    def counters(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTERS}

    def raised(self, other: Mark) -> Mark:
        """This mark with each counter at least `other`'s (marks only ever go up)."""
        return dataclasses.replace(
            self, **{n: max(getattr(self, n), getattr(other, n)) for n in COUNTERS}
        )


def _digest(fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def path_in(data_dir: Path) -> Path:
    return Path(data_dir) / FILENAME


def read(data_dir: Path) -> Mark | None:
    """The stored mark; None when there is no file; Unreadable when it is damaged."""
    path = path_in(data_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a format 1 high-water mark")
        digest = data.pop("sha256", None)
        if digest != _digest(data):
            raise ValueError("checksum does not match")
        data.pop("format")
        mark = Mark(**data)
        if not isinstance(mark.registry_id, str) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for v in (mark.epoch, *mark.counters().values())
        ):
            raise ValueError("a field has the wrong type")
        return mark
    except (ValueError, TypeError) as exc:
        raise Unreadable(f"{path}: {exc}") from None


def write(data_dir: Path, mark: Mark) -> None:
    """Replace the file atomically and durably (see the module docstring)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    fields = {"format": FORMAT, **dataclasses.asdict(mark)}
    fields["sha256"] = _digest(fields)  # over every other field, `format` included
    body = json.dumps(fields, sort_keys=True, indent=1).encode("ascii") + b"\n"
    fd, tmp = tempfile.mkstemp(prefix=".highwater-", suffix=".tmp", dir=data_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path_in(data_dir))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def locked(data_dir: Path) -> Iterator[None]:
    """Exclusive lock for read-merge-write: `serve` and a CLI command may both raise the
    mark; without it the slower one could write back a lower value (harmless, see above,
    but the mark should be as high as it can)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK_FILENAME, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
