"""Catalog look-ups on a generated 10k-product catalog: the project's Catalog against the
same queries written directly with sqlite3, in one run.

    .venv/bin/python bench/catalog.py [--products 10000] [--repeat 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog_data import generate_catalog, gtin_for
from kiosk.catalog import _PRODUCT_SQL, Catalog, fts_query
from kiosk.store import Store

QUERIES = [
    "moc chau",
    "MỘC CHÂU",
    "ca phe",
    "tra shan tuyet",
    "mat ong",
    "gao nep son la",
    "toi den",
    "đặc sản",
    "xoai say",
    "nam",
]


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def timed(fn, args_list) -> list[float]:
    samples = []
    for args in args_list:
        start = time.perf_counter()
        fn(*args)
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    if args.quick:
        args.repeat = min(args.repeat, 300)
    pin_one_core()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.in_dir(tmp)
        start = time.perf_counter()
        generate_catalog(store, args.products)
        build_s = time.perf_counter() - start
        catalog = Catalog(store)
        raw = sqlite3.connect(Path(tmp) / "kiosk.sqlite")
        rng = random.Random(1)
        ids = [(rng.randint(1, args.products),) for _ in range(args.repeat)]
        gtins = [(gtin_for(i),) for (i,) in ids]
        searches = [(QUERIES[i % len(QUERIES)],) for i in range(args.repeat // 4)]

        def raw_by_id(i):
            return raw.execute(_PRODUCT_SQL + " WHERE p.id = ?", (i,)).fetchone()

        def raw_by_gtin(g):
            return raw.execute(_PRODUCT_SQL + " WHERE p.gtin = ?", (g,)).fetchone()

        def raw_search(text):
            ids = [
                r[0]
                for r in raw.execute(
                    "SELECT rowid FROM products_fts WHERE products_fts MATCH ? "
                    "ORDER BY bm25(products_fts) LIMIT 50",
                    (fts_query(text),),
                )
            ]
            return raw.execute(
                _PRODUCT_SQL + f" WHERE p.id IN ({','.join('?' * len(ids))})", ids
            ).fetchall()

        rows = []
        for name, project_fn, raw_fn, inputs in [
            ("product by id", catalog.product, raw_by_id, ids),
            ("product by GTIN", catalog.by_gtin, raw_by_gtin, gtins),
            ("search (no diacritics)", catalog.search, raw_search, searches),
        ]:
            timed(project_fn, inputs[:50])  # warm up
            timed(raw_fn, inputs[:50])
            project = timed(project_fn, inputs)
            plain = timed(raw_fn, inputs)
            rows.append(
                (
                    name,
                    len(inputs),
                    statistics.median(project),
                    sorted(project)[int(len(project) * 0.95)],
                    statistics.median(plain),
                    statistics.median(project) / statistics.median(plain),
                )
            )
        hits = len(catalog.search("moc chau"))
        store.close()
    print(
        f"catalog: {args.products} products generated in {build_s:.1f} s; "
        f"'moc chau' finds {hits} (limit 50); one core"
    )
    print(
        f"{'query':<24}{'n':>6}{'project med us':>16}{'p95 us':>10}"
        f"{'sqlite3 med us':>16}{'ratio':>8}"
    )
    for name, n, med, p95, plain_med, ratio in rows:
        print(f"{name:<24}{n:>6}{med:>16.1f}{p95:>10.1f}{plain_med:>16.1f}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
