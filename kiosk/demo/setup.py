"""Everything `init --demo` does: catalog, placeholder art, demo keys and trust list."""

from __future__ import annotations

from pathlib import Path

from kiosk.demo.seed import seed_demo_catalog
from kiosk.stamps.demo import create_demo_keys_and_trust
from kiosk.store import Store


def set_up_demo(store: Store, data_dir: Path) -> str:
    products = seed_demo_catalog(store, data_dir)
    return f"{products} products, {create_demo_keys_and_trust(store, data_dir)}"
