"""The sync engine and `ocop-kiosk sync` refuse plain http to a registry off this machine
unless registry.allow_insecure_http is true (kiosk/settings.py: transport_problems)."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.settings import RegistrySettings, Settings
from kiosk.store import Store
from kiosk.sync import InsecureRegistryUrl, SyncEngine
from tests.sync.conftest import run_kiosk_cli


def _settings(url: str, allow: bool = False) -> Settings:
    # Built in code, not from a file: the engine must check by itself.
    return dataclasses.replace(
        Settings(),
        registry=RegistrySettings(
            url=url,
            token="t",
            root_public_key="qeWfuhsZIx3lOEFC/vjPFotFTEnd3dgIRPVU4+CS7QU=",
            allow_insecure_http=allow,
        ),
    )


def test_the_engine_refuses_to_start_on_remote_http(tmp_path):
    store = Store.in_dir(tmp_path)
    try:
        with pytest.raises(InsecureRegistryUrl, match="allow_insecure_http"):
            SyncEngine(store, _settings("http://192.0.2.10:8080"), tmp_path)
        engine = SyncEngine(store, _settings("http://192.0.2.10:8080", allow=True), tmp_path)
        engine.client.close()
        SyncEngine(store, _settings("http://127.0.0.1:9"), tmp_path).client.close()
    finally:
        store.close()


def test_the_sync_command_refuses_remote_http(tmp_path, registry):
    config = tmp_path / "k.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "d"}"\n[registry]\nurl = "http://192.0.2.10:1"\n'
        f'token = "{registry.token}"\nroot_public_key = "{registry.root_key}"\n',
        encoding="utf-8",
    )
    result = run_kiosk_cli("--config", str(config), "sync", "--once")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "allow_insecure_http" in result.stderr and "Traceback" not in result.stderr
