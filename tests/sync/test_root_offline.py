"""Issue 14, item 7, against a real registry process and real kiosk stores: the root key
lives offline (a file given on the command line), the registry signs with a delegated
list-signing key, and the root can hand over to a new root that kiosks then pin."""

from __future__ import annotations

import shutil
import subprocess
import sys

import requests

from kiosk.stamps.service import pinned_root_key, verifier_from_store
from kiosk.stamps.trust_store import newest_verified_row
from kiosk.sync.status import SyncState
from ocop.stamps.keys import generate_private_key, public_key_b64
from ocop.stamps.trust import verify_trust_envelope
from ocop.stamps.verdicts import Verdict
from tests.registry.server import REPO_ROOT


def _ok(kiosk):
    report, status = kiosk.engine.sync_once()
    assert report.ok, (report, status)
    return report


def _health(reg) -> dict:
    return requests.get(reg.url + "/api/v1/health", timeout=5).json()


def _envelope(reg) -> str:
    return requests.get(reg.url + "/api/v1/trust-list", timeout=5).text


def test_root_offline_delegate_and_rotate_root(fresh_registry, make_kiosk, tmp_path):
    reg = fresh_registry
    # Quick start put a root key in the data folder: the registry says so.
    assert any("root private key" in w for w in _health(reg)["warnings"])
    media = tmp_path / "usb"
    media.mkdir()
    root_file = media / "root.key"
    shutil.move(reg.data_dir / "keys" / "root.key", root_file)
    assert not (reg.data_dir / "keys" / "root.key").exists()
    assert _health(reg)["warnings"] == []

    kiosk = make_kiosk(reg, name="pins-first-root")
    _ok(kiosk)
    stamps = [
        r[0]
        for r in kiosk.store.query(
            "SELECT text FROM stamps WHERE block_id = ?",
            (kiosk.engine.request_stamp_block(101, 3),),
        )
    ]
    first_list_key = verify_trust_envelope(_envelope(reg), reg.root_key).list_public_key
    assert first_list_key and first_list_key != reg.root_key

    # Every publish works with no root key anywhere in the data folder.
    serial = verifier_from_store(kiosk.store, kiosk.settings).verify(stamps[0]).serial
    reg.cli("revoke", "serials", str(serial), str(serial))
    reg.cli("revoke", "suspect", str(serial + 1))
    reg.cli("trust", "refresh", "--force")
    reg.cli("key", "rotate", "--now")
    # A restart too (the background refresher runs in it).
    reg.cli("init-db")
    _ok(kiosk)
    verifier = verifier_from_store(kiosk.store, kiosk.settings)
    assert verifier.verify(stamps[0]).verdict is Verdict.REVOKED
    assert verifier.verify(stamps[1]).verdict is Verdict.SUSPECT_CLONE
    assert verifier.verify(stamps[2]).verdict is Verdict.GENUINE

    # A key that is not this registry's root cannot delegate.
    stranger = media / "stranger.key"
    refused = reg.cli("root", "delegate", "--root-key", str(stranger), check=False)
    assert refused.returncode == 2  # missing file
    reg.cli("root", "init", "--root-key", str(stranger), check=False)  # creates it, refuses
    refused = reg.cli("root", "delegate", "--root-key", str(stranger), check=False)
    assert refused.returncode == 2 and "not this registry's root" in refused.stderr

    # A new list-signing key for 20 days: published, and the registry warns (< 30 days).
    out = reg.cli("root", "delegate", "--root-key", str(root_file), "--days", "20").stdout
    assert "delegated until" in out
    second = verify_trust_envelope(_envelope(reg), reg.root_key)
    assert second.list_public_key not in (None, first_list_key)
    assert any("delegation ends" in w for w in _health(reg)["warnings"])
    _ok(kiosk)
    found = newest_verified_row(kiosk.store.conn, reg.root_key)
    assert found is not None and found[0].sequence == second.trust_list.sequence

    # Root rotation: the old root signs over; the kiosk (configured with the old root)
    # accepts the new one because the old one vouches for it, and pins it.
    new_root_file = media / "root-2.key"
    out = reg.cli(
        "root", "rotate", "--root-key", str(root_file), "--new-root-key", str(new_root_file)
    ).stdout
    assert "root handed over" in out
    new_root = reg.cli("root-key").stdout.strip()
    assert new_root != reg.root_key and new_root in out
    _ok(kiosk)
    assert pinned_root_key(kiosk.settings, kiosk.store) == new_root
    verifier = verifier_from_store(kiosk.store, kiosk.settings)
    assert verifier.verify(stamps[2]).verdict is Verdict.GENUINE
    # The old root is no longer enough: it cannot delegate any more.
    refused = reg.cli("root", "delegate", "--root-key", str(root_file), check=False)
    assert refused.returncode == 2 and "not this registry's root" in refused.stderr
    # A new kiosk configured with the new root works directly.
    newcomer = make_kiosk(reg, root_key=new_root, name="pins-new-root")
    _ok(newcomer)
    assert verifier_from_store(newcomer.store, newcomer.settings).verify(stamps[2]).verdict is (
        Verdict.GENUINE
    )


def test_kiosk_pinning_an_unrelated_root_refuses_the_registry(registry, make_kiosk):
    unrelated = public_key_b64(generate_private_key())
    kiosk = make_kiosk(registry, root_key=unrelated, name="unrelated-root")
    before = kiosk.snapshot()
    report, status = kiosk.engine.sync_once()
    assert not report.ok and status.state is SyncState.REFUSED
    assert kiosk.snapshot()["trust"] == before["trust"] == []


def test_root_init_on_a_fresh_registry_keeps_no_root_key_online(tmp_path):
    data = tmp_path / "data"
    root_file = tmp_path / "media" / "root.key"

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "registry.cli", *args, "--data-dir", str(data)],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=60,
        )

    made = cli("root", "init", "--root-key", str(root_file))
    assert made.returncode == 0, made.stderr
    assert root_file.exists() and (root_file.stat().st_mode & 0o777) == 0o600
    assert not (data / "keys" / "root.key").exists()
    assert list((data / "keys").glob("list-*.key"))
    shown = cli("root-key")
    assert shown.stdout.strip() in made.stdout
    assert "root private key" not in cli("init-db").stderr
    assert cli("revoke", "suspect", "7").returncode == 0
    again = cli("root", "init", "--root-key", str(root_file))
    assert again.returncode == 0 and "already" in again.stdout
    other = cli("root", "init", "--root-key", str(tmp_path / "other.key"))
    assert other.returncode == 2 and "root rotate" in other.stderr
