"""Which gzip level for the registry's replies: a real 2,000-product catalog page (the feed's
default page, GET /api/v1/catalog/changes from a registry holding the generated catalog of
bench/sync.py) compressed at levels 1, 4, 6 and 9: size and milliseconds (median of runs,
one core), and the kiosk-side cost of the bytes (at 1 Mbit/s, a rest stop's 3G).

    .venv/bin/python bench/gzip_levels.py [--products 2000] [--runs 15]

registry/api.py uses the level this picks (GZIP_LEVEL) and compresses in a worker thread
above GZIP_THREAD_MIN_BYTES, so a catalog page never holds the event loop.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sync import make_catalog, registry_cli  # noqa: E402

LEVELS = (1, 4, 6, 9)
LINK_BITS_PER_S = 1_000_000


def catalog_page(products: int) -> bytes:
    """The uncompressed body of the first catalog page of a registry with `products`."""
    from fastapi.testclient import TestClient

    from registry.api import create_app
    from registry.config import RegistryConfig
    from registry.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        catalog = make_catalog(folder, products, random.Random(7))
        (folder / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False), "utf-8")
        data = folder / "data"
        registry_cli("import", str(folder / "catalog.json"), "--data-dir", str(data))
        url = f"sqlite:///{data / 'registry.sqlite'}"
        database = Database(url)
        admin = "bench-admin-token-" + "x" * 20
        config = RegistryConfig(
            db_url=url,
            data_dir=data,
            admin_token_hashes=frozenset({hashlib.sha256(admin.encode()).hexdigest()}),
        )
        app = create_app(config, database)
        with TestClient(app) as client:
            reply = client.get(
                f"/api/v1/catalog/changes?limit={products}",
                headers={"Authorization": f"Bearer {admin}", "Accept-Encoding": "identity"},
            )
            reply.raise_for_status()
            body = reply.content
        database.dispose()
    return body


def measure(body: bytes, runs: int) -> list[dict]:
    rows = []
    for level in LEVELS:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            out = gzip.compress(body, compresslevel=level, mtime=0)
            times.append((time.perf_counter() - started) * 1000)
        size = len(out)
        rows.append(
            {
                "level": level,
                "bytes": size,
                "ratio": size / len(body),
                "ms": statistics.median(times),
                "link_ms": size * 8 / LINK_BITS_PER_S * 1000,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    body = catalog_page(args.products)
    print(f"catalog page of {args.products} products: {len(body):,} bytes uncompressed")
    print("| level | gzip bytes | ratio | compress ms (median) | at 1 Mbit/s ms |")
    print("|---|---|---|---|---|")
    for r in measure(body, args.runs):
        print(
            f"| {r['level']} | {r['bytes']:,} | {r['ratio']:.3f} | {r['ms']:.1f} | "
            f"{r['link_ms']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
