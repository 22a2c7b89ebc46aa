"""A real PostgreSQL streaming replica of the test cluster (scripts/start-test-postgres.sh),
for the read-replica tests: `pg_basebackup -R` from the primary into a folder of its own,
started on another port as the same user (trust authentication, 127.0.0.1 only), with a
replication slot of its own on the primary: other tests' CREATE / DROP DATABASE force
checkpoints that would otherwise remove WAL a stopped standby still needs. destroy() drops
the slot; one left by a killed run (its pid in the name, no longer alive) is dropped by
the next create().

The primary needs wal_level=replica, a WAL sender and a replication line in pg_hba.conf:
the script starts it with the first two and initdb --auth=trust writes the third."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.registry.server import PG_ENV, REPO_ROOT

START_TIMEOUT_S = 60
SLOT_PREFIX = "ocop_test_replica_"


def pg_bin() -> Path | None:
    """The newest Debian PostgreSQL server binaries (as the script picks them), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0)
    )
    if not found or not Path(found[-1], "pg_basebackup").exists():
        return None
    return Path(found[-1])


def primary_url() -> str:
    """The test cluster's URL: $OCOP_TEST_POSTGRES_URL, else the script starts it (it is
    idempotent). Skips only when the PostgreSQL binaries are missing."""
    if pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    url = os.environ.get(PG_ENV)
    if url:
        return url
    out = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "start-test-postgres.sh")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout.strip().splitlines()[-1]


def _run_as() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dsn(url: str) -> str:
    """A libpq connection string of a SQLAlchemy-style URL."""
    u = make_url(url.replace("postgresql+psycopg://", "postgresql://"))
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _drop_slot(primary: str, slot: str) -> bool:
    """Drop a replication slot unless a standby is using it; True when it is gone."""
    with psycopg.connect(dsn(primary), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)
        ).fetchall()
        if not rows:
            return True
        if rows[0][0]:
            return False
        conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        return True


def _drop_orphan_slots(primary: str) -> None:
    """The slots of replicas whose test process is gone (they would keep WAL forever)."""
    with psycopg.connect(dsn(primary), autocommit=True) as conn:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE %s",
                (SLOT_PREFIX + "%",),
            ).fetchall()
        ]
    for name in names:
        try:
            os.kill(int(name[len(SLOT_PREFIX) :].split("_")[0]), 0)
        except ProcessLookupError:
            _drop_slot(primary, name)
        except (ValueError, PermissionError):
            continue


@dataclass
class Replica:
    """A streaming standby of `primary` (a server URL; any database name in it is
    ignored): url_for(name) is the replica's URL of the same database."""

    primary: str
    folder: Path
    port: int
    slot: str

    @classmethod
    def create(cls, primary: str) -> Replica:
        _drop_orphan_slots(primary)
        folder = Path(tempfile.mkdtemp(prefix="ocop-test-pg-replica-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        u = make_url(primary)
        slot = f"{SLOT_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        replica = cls(primary, folder, _free_port(), slot)
        bin_dir = pg_bin()
        assert bin_dir is not None
        subprocess.run(
            [
                *_run_as(),
                str(bin_dir / "pg_basebackup"),
                "-h",
                u.host or "127.0.0.1",
                "-p",
                str(u.port or 5432),
                "-U",
                u.username or "postgres",
                "-D",
                str(folder / "data"),
                "-R",  # standby.signal + primary_conninfo: a streaming standby
                "-C",  # ... on a slot of its own (primary_slot_name)
                "-S",
                slot,
                "-X",
                "stream",
                "-c",
                "fast",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        replica.start()
        return replica

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        bin_dir = pg_bin()
        assert bin_dir is not None
        return subprocess.run(
            [*_run_as(), str(bin_dir / "pg_ctl"), "-D", str(self.folder / "data"), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=START_TIMEOUT_S + 10,
        )

    def start(self) -> None:
        # A standby needs max_connections at least the primary's (the script's 200).
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c max_connections=200 -c hot_standby=on"
        )
        result = self._pg_ctl(
            "-l", str(self.folder / "server.log"), "-w", "-t", str(START_TIMEOUT_S),
            "-o", options, "start", check=False,
        )  # fmt: skip
        if result.returncode != 0:
            log = (self.folder / "server.log").read_text(errors="replace")
            raise AssertionError(f"replica did not start: {result.stderr}\n{log}")

    def stop(self) -> None:
        """A clean stop (its clients get 'terminating connection' and EOF)."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        self._pg_ctl("-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        deadline = time.monotonic() + 10
        while not _drop_slot(self.primary, self.slot) and time.monotonic() < deadline:
            time.sleep(0.1)  # the walsender has not noticed the standby went yet

    def url_for(self, database: str) -> str:
        u = make_url(self.primary)
        return u.set(port=self.port, database=database).render_as_string(hide_password=False)

    def query(self, database: str, sql: str, *params):
        with psycopg.connect(dsn(self.url_for(database)), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def wait_replayed(self, primary_db_url: str, timeout_s: float = 30.0) -> None:
        """Until the replica has replayed everything the primary had written now."""
        with psycopg.connect(dsn(primary_db_url), autocommit=True) as conn:
            # The insert position: with synchronous_commit=off (the script) a commit may
            # still be in the WAL buffers, past pg_current_wal_lsn().
            (lsn,) = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                ((done,),) = self.query("postgres", "SELECT pg_last_wal_replay_lsn() >= %s", lsn)
            except psycopg.OperationalError:
                done = False
            if done:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica did not replay up to {lsn}")
            time.sleep(0.05)

    def pause_replay(self) -> None:
        """The standby stops applying WAL (it still receives it): a lag at will."""
        self.query("postgres", "SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.query("postgres", "SELECT pg_wal_replay_resume()")
