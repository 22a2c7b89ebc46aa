"""The console's Catalog pages on a 10k-product SQLite registry, in-process (the whole app:
middleware, session and role check, queries, Jinja2), beside the plain equivalent SQL query
with sqlite3 on the same file. Target: under 200 ms server time per page.

    .venv/bin/python bench/console_pages.py [--products 10000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog_data import DISTRICTS, WORDS, gtin_for
from ocop.text import fold
from registry import sessions, users
from registry.admins import AdminRole
from registry.api import create_app
from registry.cli import open_registry
from registry.config import RegistryConfig
from registry.dal import catalog as catalog_rows

PAGE_ROWS = 50
# (label, query string, the plain SQL's WHERE and parameters)
PAGES = [
    ("list, page 1", "", "1=1", ()),
    ("list, page 100", "page=100", "1=1", ()),
    (
        "search 'che ta xua'",
        "q=che+ta+xua",
        "(p.search_fold LIKE ? OR pr.search_fold LIKE ?)",
        ("%che ta xua%",) * 2,
    ),
    (
        "search 'MỘC CHÂU'",
        "q=M%E1%BB%98C+CH%C3%82U",
        "(p.search_fold LIKE ? OR pr.search_fold LIKE ?)",
        ("%moc chau%",) * 2,
    ),
    ("district Mộc Châu", "district=M%E1%BB%99c+Ch%C3%A2u", "p.district = ?", ("Mộc Châu",)),
    (
        "5 stars, Mộc Châu",
        "stars=5&district=M%E1%BB%99c+Ch%C3%A2u",
        "p.district = ? AND (SELECT r.stars FROM ratings r WHERE r.product_id = p.id "
        "ORDER BY coalesce(r.recognised_on, '') DESC, r.position DESC LIMIT 1) = 5",
        ("Mộc Châu",),
    ),
]


def fill(database, count: int, seed: int = 7) -> None:
    """`count` products of count/50 producers, each with one or two ratings, through the
    catalog's own write path (so the folded search columns are what production writes)."""
    rng = random.Random(seed)
    producers = [
        {
            "id": f"producer-{i}",
            "name": f"HTX {rng.choice(WORDS)} {rng.choice(DISTRICTS)} {i}",
            "kind": "cooperative",
            "district": rng.choice(DISTRICTS),
        }
        for i in range(max(1, count // 50))
    ]
    products = []
    for i in range(count):
        producer = rng.choice(producers)
        year = rng.choice((2022, 2023, 2024, 2025))
        ratings = [{"stars": rng.choice((3, 4, 5)), "recognised_on": f"{year}-06-30"}]
        if rng.random() < 0.3:
            ratings.insert(0, {"stars": 3, "recognised_on": f"{year - 3}-06-30"})
        products.append(
            {
                "id": 1000 + i,
                "gtin": gtin_for(i),
                "name_vi": f"{rng.choice(WORDS)} {rng.choice(DISTRICTS)} {i}",
                "group": rng.randint(1, 6),
                "producer": producer["id"],
                "district": producer["district"],
                "ratings": ratings,
            }
        )
    products[4242]["name_vi"] = "Chè Tà Xùa cổ thụ"
    for start in range(0, count, 2000):
        with database.write() as conn:
            catalog_rows.validate_and_write(
                conn,
                {
                    "producers": producers if start == 0 else [],
                    "products": products[start : start + 2000],
                },
            )


def plain_page(path: Path, where: str, params: tuple, offset: int) -> int:
    """The same page as one plain query (and the count) with sqlite3: what the database
    alone costs."""
    with sqlite3.connect(path) as conn:
        joined = "FROM products p JOIN producers pr ON pr.id = p.producer_id"
        conn.execute(f"SELECT count(*) {joined} WHERE {where}", params).fetchone()
        rows = conn.execute(
            f"SELECT p.id, p.name_vi, p.name_en, pr.name, p.district, p.gtin {joined} "
            f"WHERE {where} ORDER BY p.search_fold, p.id LIMIT ? OFFSET ?",
            (*params, PAGE_ROWS, offset),
        ).fetchall()
        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        conn.execute(
            f"SELECT * FROM ratings WHERE product_id IN ({marks}) ORDER BY product_id, position",
            ids,
        ).fetchall()
        return len(rows)


def timed_ms(fn, repeat: int, clock=time.perf_counter) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = clock()
        fn()
        samples.append((clock() - start) * 1e3)
    return samples


def p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    if args.quick:
        args.repeat = min(args.repeat, 10)
    from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "registry.sqlite"
        config = RegistryConfig(db_url=f"sqlite:///{db_path}", data_dir=Path(tmp))
        database, _ = open_registry(config)
        started = time.perf_counter()
        fill(database, args.products)
        fill_s = time.perf_counter() - started
        with database.write() as conn:
            user_id = users.add(conn, "bench", AdminRole.VIEWER, users.generate_password())
            session = sessions.start(conn, user_id, "bench", dt.datetime.now(dt.UTC))
        client = TestClient(create_app(config, database))
        client.cookies.set("ocop_session", session)
        print(
            f"console catalog pages, {args.products} products (filled in {fill_s:.1f} s), "
            f"{args.repeat} runs each, SQLite {sqlite3.sqlite_version}"
        )
        # Wall time, and CPU time of this process (what the page costs when the machine is
        # shared: wall time then includes waiting for a core).
        print(
            f"{'page':<22} {'rows':>5} {'page ms med':>12} {'p95':>7} {'cpu ms med':>11} "
            f"{'plain SQL ms':>13}"
        )
        worst, worst_median = 0.0, 0.0
        for label, query, where, params in PAGES:
            url = "/console/catalog" + (f"?{query}" if query else "")
            first = client.get(url)
            assert first.status_code == 200, first.text[:500]
            shown = first.text.count('<tr id="product-')
            pages = timed_ms(lambda url=url: client.get(url), args.repeat)
            cpu = timed_ms(lambda url=url: client.get(url), args.repeat, time.process_time)
            page_no = int(query.split("page=")[1]) if "page=" in query else 1
            offset = (page_no - 1) * PAGE_ROWS
            plain_rows = plain_page(db_path, where, params, offset)
            assert plain_rows == shown, (label, plain_rows, shown)
            plain = timed_ms(lambda w=where, p=params, o=offset: plain_page(db_path, w, p, o), 30)
            median = statistics.median(pages)
            worst = max(worst, p95(pages))
            worst_median = max(worst_median, median)
            print(
                f"{label:<22} {shown:>5} {median:>12.1f} {p95(pages):>7.1f} "
                f"{statistics.median(cpu):>11.1f} {statistics.median(plain):>13.1f}"
            )
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"worst median {worst_median:.1f} ms, worst p95 {worst:.1f} ms (target 200 ms; "
            f"load average {load:.1f} on {os.cpu_count()} CPUs)"
        )
        assert fold("Chè Tà Xùa") == "che ta xua"


if __name__ == "__main__":
    main()
