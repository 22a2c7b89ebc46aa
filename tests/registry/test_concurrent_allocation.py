"""Issue 17: trust-list sequences and signing-key ids are allocated under a lock, so
concurrent publishes and key rotations through the admin API never collide (they answered
500, unique violations from max()+1, on PostgreSQL). A real registry process: PostgreSQL
with 2 worker processes, SQLite with one (its write lock serialises writers anyway)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from ocop.stamps.trust import verify_signed_trust_list
from registry.kek import ENV_KEK, generate_kek_text
from tests.registry.server import REPO_ROOT, start_registry

API = "/api/v1"
PUBLISHES = 10
ROTATIONS = 4
# Set to "" to run the test against a registry without --workers (the old code).
WORKERS = os.environ.get("OCOP_TEST_REGISTRY_WORKERS", "2")


@pytest.fixture(
    params=[
        ("sqlite", (), False),
        pytest.param(("postgres", ("--workers", WORKERS), False), marks=pytest.mark.postgres),
        # The keys in the database (a KEK): each rotation adds a wrapped key under the lock.
        pytest.param(("postgres", ("--workers", WORKERS), True), marks=pytest.mark.postgres),
    ],
    ids=["sqlite-1-worker", "postgres-2-workers", "postgres-2-workers-kek"],
)
def registry(request, tmp_path):
    backend, extra, with_kek = request.param
    env = {ENV_KEK: generate_kek_text()} if with_kek else {}
    reg = start_registry(
        tmp_path / "registry", backend, extra_args=extra if WORKERS else (), env=env
    )
    yield reg
    reg.stop()


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def test_concurrent_publishes_and_rotations_allocate_distinct_gapless_numbers(registry):
    if "--workers" in registry.proc.args:  # really served by that many processes
        assert len(_children(registry.proc.pid)) == int(WORKERS)
    start = verify_signed_trust_list(
        requests.get(registry.url + f"{API}/trust-list", timeout=10).content, registry.root_key
    )
    first_key = max(k.key_id for k in start.signing_keys)  # the pre-published next key

    def publish(i: int) -> requests.Response:  # each suspect list change publishes a list
        return registry.admin(
            "POST", f"{API}/admin/suspects", json={"serials": [900_000 + i], "reason": "test"}
        )

    def rotate(_: int) -> requests.Response:  # emergency: no waiting for the not-before day
        return registry.admin("POST", f"{API}/admin/keys/rotate?now=true")

    with ThreadPoolExecutor(PUBLISHES + ROTATIONS) as pool:
        publishes = [pool.submit(publish, i) for i in range(PUBLISHES)]
        rotations = [pool.submit(rotate, i) for i in range(ROTATIONS)]
        replies = [f.result() for f in publishes + rotations]

    failed = [(r.status_code, r.text[:200]) for r in replies if not 200 <= r.status_code < 300]
    assert failed == [], registry.log()[-3000:]
    sequences = sorted(r.json()["trust_list_sequence"] for r in replies)
    # Every request published exactly one list, in one run of numbers after the first.
    assert sequences == list(range(start.sequence + 1, start.sequence + 1 + len(replies)))
    # Each rotation moved on to its own key: the pre-published one, then each new one.
    key_ids = sorted(r.json()["key_id"] for r in replies[PUBLISHES:])
    assert key_ids == list(range(first_key, first_key + ROTATIONS))

    newest = verify_signed_trust_list(
        requests.get(registry.url + f"{API}/trust-list", timeout=10).content, registry.root_key
    )
    assert newest.sequence == sequences[-1]
    assert set(range(900_000, 900_000 + PUBLISHES)) <= set(newest.suspect_serials)
    # All keys ever used, plus the one pre-published after the last rotation; no gaps.
    assert sorted(k.key_id for k in newest.signing_keys) == list(
        range(1, first_key + ROTATIONS + 1)
    )


def test_sqlite_refuses_more_than_one_worker(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", "serve", "--workers", "2", "--port", "0"]
        + ["--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert result.returncode != 0
    assert "--workers above 1 needs PostgreSQL" in result.stderr
    data = tmp_path / "data"
    assert not data.exists() or list(data.iterdir()) == []  # refused before any database
