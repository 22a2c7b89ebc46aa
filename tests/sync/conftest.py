"""Sync fixtures: a real registry process, kiosk data folders pointing at it, a fault
server in front of it, and helpers that write outbox rows the way the app does."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.registry.server import (
    REPO_ROOT,
    Registry,
    kiosk_settings,
    start_registry,
    write_kiosk_config,
)
from tests.sync.faults import FaultServer


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


@pytest.fixture
def fresh_registry(tmp_path):
    reg = start_registry(tmp_path / "own-registry")
    yield reg
    reg.stop()


@pytest.fixture
def faults(registry):
    server = FaultServer(registry.url)
    yield server
    server.stop()


@dataclass
class Kiosk:
    data_dir: Path
    store: object
    settings: object
    engine: object
    config_path: Path
    registry: Registry | None = None

    def product_count(self) -> int:
        return self.store.query_one("SELECT count(*) FROM products")[0]

    def snapshot(self) -> dict:
        """Everything sync may change, to prove a failed round changed nothing."""
        q = self.store.query
        return {
            "products": [tuple(r) for r in q("SELECT * FROM products ORDER BY id")],
            "producers": [tuple(r) for r in q("SELECT * FROM producers ORDER BY id")],
            "ratings": [tuple(r) for r in q("SELECT * FROM ratings ORDER BY id")],
            "media": [tuple(r) for r in q("SELECT * FROM media ORDER BY hash")],
            "trust": [tuple(r) for r in q("SELECT sequence, signed_json FROM trust_lists")],
            "cursor": [
                tuple(r)
                for r in q(
                    "SELECT * FROM sync_state WHERE key IN ('catalog_cursor', 'registry_id')"
                )
            ],
            "stamps": [tuple(r) for r in q("SELECT * FROM stamps ORDER BY serial")],
        }

    def add_scans(
        self,
        count: int,
        serial: int = 1,
        product_id: int = 101,
        verdict: str = "genuine",
        text: str | None = None,
    ) -> list[str]:
        """Scans with their outbox rows in one transaction, as the scan service writes them.
        `text` the code read; by default a genuine stamp of (product_id, serial), signed
        with the registry's signing key 1 (the registry verifies every scan's text)."""
        keys = []
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if text is None:
            text = genuine_stamp(self.registry, product_id, serial)
        with self.store.transaction() as tx:
            for _ in range(count):
                key = f"scan-{uuid.uuid4().hex}"
                tx.execute(
                    "INSERT INTO scans(scanned_at, text, verdict, product_id, serial) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (now, text, verdict, product_id, serial),
                )
                tx.execute(
                    "INSERT INTO outbox(kind, idempotency_key, payload_json, "
                    "created_at) VALUES ('scan', ?, ?, ?)",
                    (
                        key,
                        json.dumps(
                            {
                                "scanned_at": now,
                                "text": text,
                                "serial": serial,
                                "product_id": product_id,
                                "verdict": verdict,
                            }
                        ),
                        now,
                    ),
                )
                keys.append(key)
        return keys

    def unsent(self) -> int:
        return self.store.query_one("SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0]


def genuine_stamp(reg: Registry | None, product_id: int, serial: int, key_id: int = 1) -> str:
    """A stamp the registry's own key signed (read from its key folder, as only a test may),
    for any serial: scans of stamps no block issued, as a copied stamp would be."""
    from ocop.stamps.keys import load_private_key
    from ocop.stamps.signer import StampSigner

    assert reg is not None, "this kiosk has no registry to sign stamps with"
    key = load_private_key(reg.data_dir / "keys" / f"signing-{key_id}.key")
    return StampSigner(key_id, key, "HTTPS://OCOP.SONLA.GOV.VN/S/").sign(
        product_id, serial, dt.date.today()
    )


@pytest.fixture
def make_kiosk(tmp_path):
    from kiosk.store import Store
    from kiosk.sync import SyncEngine

    made = []

    def make(
        reg: Registry,
        *,
        url: str | None = None,
        token: str | None = None,
        root_key: str | None = None,
        name: str | None = None,
        **overrides,
    ) -> Kiosk:
        data_dir = tmp_path / (name or f"kiosk-{len(made)}")
        data_dir.mkdir()
        args = (url or reg.url, token or reg.token, root_key or reg.root_key)
        settings = kiosk_settings(*args, data_dir=data_dir, **overrides)
        config = write_kiosk_config(
            data_dir.parent / f"{data_dir.name}.toml", *args, data_dir, **overrides
        )
        store = Store.in_dir(data_dir)
        kiosk = Kiosk(data_dir, store, settings, SyncEngine(store, settings, data_dir), config, reg)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.engine.client.close()
        kiosk.store.close()


# The CLI in a subprocess. kiosk/cli/main.py lists its command modules; until the sync
# command is listed there, add it here so these tests run either way.
_CLI = """
import sys
from kiosk.cli import main as m
if "kiosk.cli.sync_cmd" not in m.COMMAND_MODULES:
    m.COMMAND_MODULES = (*m.COMMAND_MODULES, "kiosk.cli.sync_cmd")
{prelude}
sys.exit(m.main(sys.argv[1:]))
"""


def run_kiosk_cli(
    *args: str, prelude: str = "", timeout_s: float = 120
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCOP_KIOSK_")}
    return subprocess.run(
        [sys.executable, "-c", _CLI.format(prelude=prelude), *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=timeout_s,
    )
