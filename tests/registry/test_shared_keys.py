"""Issue 17: the online private keys in the database wrapped with a KEK, shared by every
registry process and host; stamp blocks signed outside the write transaction, a retried
request answered from the stored block. Real registry processes, a real SQLite file, a real
PostgreSQL (two processes with separate data folders on one database), and the attacker's
view: a dump without the KEK, a tampered row, a row moved to another key id, a wrong KEK."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from ocop.stamps.keys import load_private_key, private_key_raw
from ocop.stamps.trust import verify_signed_trust_list
from ocop.stamps.verdicts import SIGNATURE_VALID
from ocop.stamps.verifier import StampVerifier
from registry.config import DEFAULT_STAMP_BASE_URL
from registry.kek import ENV_KEK, generate_kek_text, parse_kek
from tests.registry.server import REPO_ROOT, backends, start_registry

API = "/api/v1"


def _block(reg, request_id: str | None = None, count: int = 5, token: str | None = None):
    return reg.station(
        "POST",
        f"{API}/stamp-blocks",
        token=token,
        json={
            "request_id": request_id or f"r-{uuid.uuid4().hex}",
            "product_id": 101,
            "count": count,
        },
    )


def _scan() -> dict:
    """A scan as a kiosk uploads it (of a stamp that is not an OCOP one: no block needed)."""
    return {
        "kind": "scan",
        "idempotency_key": f"scan-{uuid.uuid4().hex}",
        "payload": {
            "scanned_at": "2026-12-03T10:00:00Z",
            "text": "HTTPS://EXAMPLE.COM/X",
            "serial": None,
            "product_id": None,
            "verdict": "not_ocop",
        },
    }


def _no_quota(reg) -> None:
    """demo-station may receive 10,000-stamp blocks (its default day quota is 5,000)."""
    reg.cli("station", "set", "demo-station", "--per-day", "none", "--total", "none")


def _assert_genuine(reg, block: dict) -> None:
    """Every stamp verifies against the registry's published trust list."""
    signed = requests.get(reg.url + f"{API}/trust-list", timeout=10).content
    verifier = StampVerifier(
        verify_signed_trust_list(signed, reg.root_key), DEFAULT_STAMP_BASE_URL, 20
    )
    verdicts = {verifier.verify(text).verdict for text in block["stamps"]}
    assert verdicts <= SIGNATURE_VALID, verdicts


def _cli(*args: str, kek: str | None = None, data_dir: Path | None, db_url: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != ENV_KEK}
    if kek is not None:
        env[ENV_KEK] = kek
    where = ["--data-dir", str(data_dir)] if data_dir else []
    where += ["--db", db_url] if db_url else []
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args, *where],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=60,
    )


def _key_forms(raw: bytes) -> list[bytes]:
    """How a leaked private key could appear in a dump: raw, base64, hex (either case)."""
    return [raw, base64.b64encode(raw), raw.hex().encode(), raw.hex().upper().encode()]


# --- two hosts, one PostgreSQL ----------------------------------------------------------


@pytest.mark.postgres
def test_two_hosts_with_separate_data_folders_sign_with_the_key_rotated_on_the_first(tmp_path):
    kek = generate_kek_text()
    env = {ENV_KEK: kek}
    host_a = start_registry(tmp_path / "a", "postgres", ("--workers", "2"), env=env)
    host_b = None
    try:
        host_b = start_registry(tmp_path / "b", env=env, db_url=host_a.db_url)
        assert host_a.data_dir != host_b.data_dir
        token = host_b.token  # B's --demo start gave demo-station a new token
        # No online key file on either host (A's quick-start root.key stays a file).
        for host in (host_a, host_b):
            names = {p.name for p in (host.data_dir / "keys").glob("*.key")}
            assert names <= {"root.key"}, names
        for host in (host_a, host_b):
            reply = _block(host, token=token)
            assert reply.status_code == 200, reply.text
            assert reply.json()["key_id"] == 1
        rotated = host_a.admin("POST", f"{API}/admin/keys/rotate?now=true")
        assert rotated.status_code == 200, rotated.text
        new_key = rotated.json()["key_id"]
        assert new_key == 2
        for host in (host_b, host_a, host_b):  # B has never seen key 2 before
            reply = _block(host, token=token)
            assert reply.status_code == 200, (reply.text, host.log()[-2000:])
            block = reply.json()
            assert block["key_id"] == new_key
            _assert_genuine(host, block)
    finally:
        if host_b is not None:
            host_b.proc.terminate()
            host_b.proc.wait(10)
        host_a.stop()


@pytest.mark.postgres
def test_without_a_kek_the_second_host_has_no_key_and_says_so(tmp_path):
    """File mode (no KEK) is for one host: what the KEK fixes, and why the docs say so."""
    host_a = start_registry(tmp_path / "a", "postgres")
    host_b = None
    try:
        host_b = start_registry(tmp_path / "b", db_url=host_a.db_url)
        reply = _block(host_b, token=host_b.token)
        assert reply.status_code == 503
        assert "private key signing-1 is missing" in reply.text
    finally:
        if host_b is not None:
            host_b.proc.terminate()
            host_b.proc.wait(10)
        host_a.stop()


# --- the attacker's view ------------------------------------------------------------------


def test_key_files_move_into_the_database_and_a_dump_without_the_kek_reveals_none(tmp_path):
    data = tmp_path / "data"
    assert _cli("key", "rotate", "--now", data_dir=data).returncode == 0  # file mode first
    files = sorted((data / "keys").glob("*.key"))
    online = {p.name[:-4]: private_key_raw(load_private_key(p)) for p in files}
    assert set(online) >= {"signing-1", "signing-2", "signing-3"}
    online.pop("root")  # the quick-start root stays a file (production: offline)
    kek = generate_kek_text()
    moved = _cli("init-db", kek=kek, data_dir=data)
    assert moved.returncode == 0, moved.stderr
    assert sorted(p.name for p in (data / "keys").iterdir()) == ["root.key"]
    assert "moved private key" in moved.stderr

    db_file = data / "registry.sqlite"
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute("SELECT name, kek_id, nonce, ciphertext FROM private_keys").fetchall()
        dump = "\n".join(conn.iterdump()).encode()
    assert {r[0] for r in rows} == set(online)
    assert {r[1] for r in rows} == {parse_kek(kek, "test").id}
    raw_file = db_file.read_bytes() + b"".join(
        p.read_bytes() for p in data.glob("registry.sqlite-*")
    )
    for name, raw in online.items():
        for form in _key_forms(raw):
            assert form not in dump, name
            assert form not in raw_file, name
    # ... while the KEK opens them: the same keys as the files held.
    k = parse_kek(kek, "test")
    with sqlite3.connect(db_file) as conn:
        for name, purpose, public, nonce, ct in conn.execute(
            "SELECT name, purpose, public_key, nonce, ciphertext FROM private_keys"
        ):
            assert k.unwrap(name, purpose, public, nonce, ct) == online[name]
    # Serving with the KEK signs with those keys.
    reg = start_registry(tmp_path, env={ENV_KEK: kek})
    try:
        reply = _block(reg)
        assert reply.status_code == 200, reply.text
        _assert_genuine(reg, reply.json())
    finally:
        reg.stop()


@pytest.mark.postgres
def test_a_postgres_dump_without_the_kek_reveals_no_private_key(tmp_path):
    kek = generate_kek_text()
    reg = start_registry(tmp_path, "postgres", env={ENV_KEK: kek})
    try:
        assert _block(reg).status_code == 200
        k = parse_kek(kek, "test")
        import psycopg

        with psycopg.connect(reg.db_url) as conn:
            rows = conn.execute(
                "SELECT name, purpose, public_key, nonce, ciphertext FROM private_keys"
            ).fetchall()
        assert {r[0] for r in rows} >= {"signing-1", "signing-2"}
        raws = {r[0]: k.unwrap(r[0], r[1], r[2], bytes(r[3]), bytes(r[4])) for r in rows}
        dump = subprocess.run(
            ["pg_dump", "--data-only", "--inserts", reg.db_url],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        assert b"private_keys" in dump
        for name, raw in raws.items():
            for form in _key_forms(raw):
                assert form not in dump, name
    finally:
        reg.stop()


def _fresh_kek_registry(tmp_path) -> tuple[Path, str]:
    data = tmp_path / "data"
    kek = generate_kek_text()
    result = _cli("init-db", kek=kek, data_dir=data)
    assert result.returncode == 0, result.stderr
    return data, kek


def test_a_tampered_ciphertext_stops_the_start_naming_the_key(tmp_path):
    data, kek = _fresh_kek_registry(tmp_path)
    with sqlite3.connect(data / "registry.sqlite") as conn:
        (ct,) = conn.execute(
            "SELECT ciphertext FROM private_keys WHERE name='signing-1'"
        ).fetchone()
        flipped = bytes([ct[0] ^ 1]) + ct[1:]
        conn.execute("UPDATE private_keys SET ciphertext=? WHERE name='signing-1'", (flipped,))
    result = _cli("init-db", kek=kek, data_dir=data)
    assert result.returncode == 2
    assert "private key 'signing-1' (stamp-signing) does not decrypt" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_row_moved_to_another_key_id_is_refused(tmp_path):
    """Swap key 2's wrapped key into key 1's row: a valid ciphertext, the wrong name."""
    data, kek = _fresh_kek_registry(tmp_path)
    with sqlite3.connect(data / "registry.sqlite") as conn:
        nonce, ct, public = conn.execute(
            "SELECT nonce, ciphertext, public_key FROM private_keys WHERE name='signing-2'"
        ).fetchone()
        conn.execute(
            "UPDATE private_keys SET nonce=?, ciphertext=?, public_key=? WHERE name='signing-1'",
            (nonce, ct, public),
        )
    result = _cli("init-db", kek=kek, data_dir=data)
    assert result.returncode == 2
    assert "private key 'signing-1' (stamp-signing) does not decrypt" in result.stderr
    # Nor does keeping key 1's public key help (the associated data names both).
    with sqlite3.connect(data / "registry.sqlite") as conn:
        conn.execute("UPDATE signing_keys SET public_key=? WHERE key_id=1", (public,))
    assert _cli("init-db", kek=kek, data_dir=data).returncode == 2


def test_a_wrong_or_missing_kek_refuses_to_start_with_a_clear_message(tmp_path):
    data, kek = _fresh_kek_registry(tmp_path)
    right = parse_kek(kek, "x").id
    wrong = _cli("init-db", kek=generate_kek_text(), data_dir=data)
    assert wrong.returncode == 2
    assert f"wrong KEK: this registry's keys are encrypted with {right}" in wrong.stderr
    missing = _cli("init-db", data_dir=data)
    assert missing.returncode == 2
    assert f"encrypted with {right}: give that KEK" in missing.stderr
    short = _cli("init-db", kek=base64.b64encode(b"x" * 16).decode(), data_dir=data)
    assert short.returncode == 2 and "must be base64 of 32 random bytes" in short.stderr
    # `serve` refuses the same way, before listening (never a 500 later).
    serve = _cli("serve", "--port", "0", kek=generate_kek_text(), data_dir=data)
    assert serve.returncode == 2 and "wrong KEK" in serve.stderr
    assert "listening" not in serve.stdout


def test_kek_rotation_rewraps_every_key_and_retires_the_old_kek(tmp_path):
    data, old = _fresh_kek_registry(tmp_path)
    new_file = tmp_path / "new.kek"
    generated = _cli("kek", "generate", str(new_file), data_dir=None)
    assert generated.returncode == 0, generated.stderr
    assert oct(new_file.stat().st_mode & 0o777) == "0o600"
    new = parse_kek(new_file.read_text(), "new")
    with sqlite3.connect(data / "registry.sqlite") as conn:
        count = conn.execute("SELECT count(*) FROM private_keys").fetchone()[0]
    rotated = _cli("kek", "rotate", "--new-kek-file", str(new_file), kek=old, data_dir=data)
    assert rotated.returncode == 0, rotated.stderr
    assert f"{count} private keys re-wrapped with {new.id}" in rotated.stdout
    with sqlite3.connect(data / "registry.sqlite") as conn:
        assert {r[0] for r in conn.execute("SELECT kek_id FROM private_keys")} == {new.id}
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log")]
    assert "kek.rotate" in actions
    assert "wrong KEK" in _cli("init-db", kek=old, data_dir=data).stderr
    reg = start_registry(tmp_path, env={ENV_KEK: new_file.read_text()})
    try:
        reply = _block(reg)
        assert reply.status_code == 200, reply.text
        _assert_genuine(reg, reply.json())
    finally:
        reg.stop()


# --- stamp blocks: signed outside the transaction, retries answered from the store ---------


@pytest.fixture(params=backends())
def registry(request, tmp_path):
    reg = start_registry(tmp_path / "reg", request.param)
    yield reg
    reg.stop()


def test_a_retried_block_request_returns_the_same_bytes_and_allocates_nothing(registry):
    request_id = f"r-{uuid.uuid4().hex}"
    first = _block(registry, request_id, count=50)
    assert first.status_code == 200, first.text
    again = _block(registry, request_id, count=50)
    assert again.status_code == 200
    assert again.content == first.content
    after = _block(registry, count=1).json()
    assert after["first_serial"] == first.json()["last_serial"] + 1  # no second range
    conflict = _block(registry, request_id, count=51)
    assert conflict.status_code == 409


def test_a_retry_is_never_signed_again(tmp_path):
    """The signing key file gone (file mode): a new block cannot be signed, and reserves
    nothing; a retry of one already issued is still answered, from the stored reply."""
    reg = start_registry(tmp_path)
    request_id = f"r-{uuid.uuid4().hex}"
    first = _block(reg, request_id, count=20)
    assert first.status_code == 200
    reg.stop()
    key_file = reg.data_dir / "keys" / "signing-1.key"
    saved = key_file.read_bytes()
    key_file.unlink()
    reg = start_registry(tmp_path)
    try:
        again = _block(reg, request_id, count=20)
        assert again.status_code == 200, again.text
        assert again.content == first.content
        refused = _block(reg, count=5)
        assert refused.status_code == 503 and "signing-1 is missing" in refused.text
    finally:
        reg.stop()
    key_file.write_bytes(saved)
    key_file.chmod(0o600)
    reg = start_registry(tmp_path)
    try:
        nxt = _block(reg, count=1).json()
        assert nxt["first_serial"] == first.json()["last_serial"] + 1
    finally:
        reg.stop()


@pytest.mark.parametrize(
    "backend,extra",
    [
        ("sqlite", ()),
        pytest.param("postgres", ("--workers", "2"), marks=pytest.mark.postgres),
    ],
    ids=["sqlite", "postgres-2-workers"],
)
def test_concurrent_retries_of_a_big_block_get_one_range_and_identical_bytes(
    tmp_path, backend, extra
):
    reg = start_registry(tmp_path, backend, extra)
    try:
        _no_quota(reg)
        request_id = f"r-{uuid.uuid4().hex}"
        with ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(lambda _: _block(reg, request_id, 10_000), range(6)))
        assert [r.status_code for r in replies] == [200] * 6, [r.text[:200] for r in replies]
        assert len({r.content for r in replies}) == 1
        block = replies[0].json()
        assert block["count"] == 10_000 and len(set(block["stamps"])) == 10_000
        nxt = _block(reg, count=1).json()
        assert nxt["first_serial"] == block["last_serial"] + 1
    finally:
        reg.stop()


def test_uploads_are_not_blocked_while_a_big_block_is_signed(tmp_path):
    """SQLite (one writer at a time): uploads during a 10,000-stamp block's signing wait
    for a short transaction, not for the signing (they waited ~0.5 s before)."""
    reg = start_registry(tmp_path)
    try:
        _no_quota(reg)
        _block(reg, count=1)  # warm up
        done = threading.Event()
        block_s: list[float] = []

        def big_block():
            try:
                t0 = time.perf_counter()
                reply = _block(reg, count=10_000)
                block_s.append(time.perf_counter() - t0)
                assert reply.status_code == 200, reply.text
            finally:
                done.set()

        upload_s = []
        worker = threading.Thread(target=big_block)
        worker.start()
        time.sleep(0.02)  # its first short transaction has committed
        while not done.is_set():
            t0 = time.perf_counter()
            reply = reg.station(
                "POST",
                f"{API}/uploads",
                json={"items": [_scan() for _ in range(10)]},
            )
            upload_s.append(time.perf_counter() - t0)
            assert reply.status_code == 200, reply.text
        worker.join()
        assert block_s, "the block request failed"
        assert len(upload_s) >= 3, (upload_s, block_s)
        # Each upload took a small part of the block's time, not all of it.
        assert max(upload_s) < 0.5 * block_s[0], (upload_s, block_s)
    finally:
        reg.stop()


def test_a_block_whose_signer_died_is_signed_by_the_next_retry(tmp_path):
    """The first request reserved the range and died before storing the reply: a retry
    within the lease waits; after it, the retry signs the same range (no second one)."""
    import datetime as dt

    from registry import db
    from registry import stations as station_rules
    from registry.cli import open_registry
    from registry.config import RegistryConfig
    from registry.dal import keys as key_rows
    from registry.dal import stations as station_rows
    from registry.signing import BLOCK_SIGNING_LEASE_S

    config = RegistryConfig(db_url=f"sqlite:///{tmp_path / 'r.sqlite'}", data_dir=tmp_path)
    database, keyring = open_registry(config)
    with database.write() as conn:
        station_rules.add(conn, "s1", "test", "local")
        station = station_rows.row_by_name(conn, "s1")
        died = keyring.claim_block(conn, station.id, "req-1", 101, 30)
    assert died.signer is not None and died.reply is None  # ... and never finished
    with database.write() as conn:
        waiting = keyring.claim_block(conn, station.id, "req-1", 101, 30)
    assert waiting.signer is None and waiting.wait_until is not None  # within the lease
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=BLOCK_SIGNING_LEASE_S + 1)
    with database.write() as conn:
        retry = keyring.claim_block(conn, station.id, "req-1", 101, 30, now=later)
    assert retry.signer is not None and retry.row.id == died.row.id
    body = keyring.finish_block(database, retry)
    with database.read() as conn:
        assert key_rows.block_reply(conn, died.row.id) == body
        assert db.counter_value(conn, "serial") == died.row.last_serial  # one range
    # The first signer coming back late stores nothing new and answers the stored reply.
    assert keyring.finish_block(database, died) == body
    with database.write() as conn:
        again = keyring.claim_block(conn, station.id, "req-1", 101, 30)
    assert again.reply == body
