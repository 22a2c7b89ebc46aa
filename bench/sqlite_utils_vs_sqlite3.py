"""sqlite-utils against the kiosk's own sqlite3 code, in one run, on the kiosk's real schema
(kiosk.store: WAL, synchronous=FULL, foreign keys, FTS5 kept by triggers):

    .venv/bin/python bench/sqlite_utils_vs_sqlite3.py [--products 2000] [--repeat 3]

(a) a catalog page of N products (with producers and ratings) written as the sync writes it
    (kiosk.catalog_write.apply_catalog_changes in one BEGIN IMMEDIATE transaction) against
    sqlite-utils upsert_all of the very same rows (read back from the kiosk's database, so
    sqlite-utils gets its normalisation for free) and against plain sqlite3 executemany of
    those rows, first as inserts, then as updates; and whether a page with one bad row
    changes nothing (all-or-nothing).
(b) a schema migration (add a column, rename a column of products) the way
    kiosk.store.migrations does it (ALTER TABLE in the migration's transaction with the
    user_version bump) against table.add_column + table.transform; what survives it.
(c) the search index: the kiosk's FTS5 over its folded search_text (created by the
    migration, rebuilt here) against enable_fts(create_triggers=True), and what each finds.
(d) the cost of `import sqlite_utils` in a fresh interpreter: -X importtime and RSS.

Prints a markdown table (docs/dependencies.md records a run and the decision).
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlite_utils

from bench.catalog import QUERIES, pin_one_core
from bench.catalog_data import ADJECTIVES, DISTRICTS, WORDS, gtin_for
from kiosk.catalog import fts_query
from kiosk.catalog_write import apply_catalog_changes
from kiosk.store import Store, apply_migrations
from kiosk.store.database import _split_sql
from kiosk.store.migrations import MIGRATIONS, Migration

# The migration measured in (b): the kind a release adds (a new column, a clearer name).
ADDED_COLUMN, RENAMED = "origin", ("subgroup", "subgroup_vi")
MIGRATION_SQL = (
    f"ALTER TABLE products ADD COLUMN {ADDED_COLUMN} TEXT NOT NULL DEFAULT '';\n"
    f"ALTER TABLE products RENAME COLUMN {RENAMED[0]} TO {RENAMED[1]};"
)
FTS_TRIGGERS = ("products_ai", "products_ad", "products_au")


def catalog_page(count: int, seed: int = 11, renamed: bool = False) -> dict:
    """A registry reply's producers and products (the shape kiosk.sync.validate checks)."""
    rng = random.Random(seed)
    producers = [
        {
            "id": f"p{d}",
            "name": f"HTX {district}",
            "kind": "cooperative",
            "district": district,
            # Set, not left to the writer's clock: the ways are compared row for row, and a
            # second boundary between two writes made them differ on a loaded machine.
            "updated_at": "2026-11-29T00:00:00Z",
        }
        for d, district in enumerate(DISTRICTS)
    ]
    products = []
    for i in range(1, count + 1):
        d = rng.randrange(len(DISTRICTS))
        name = f"{rng.choice(WORDS)} {rng.choice(ADJECTIVES)} {DISTRICTS[d]} {i}"
        products.append(
            {
                "id": i,
                "gtin": gtin_for(i),
                "name_vi": name + (" (mới)" if renamed else ""),
                "name_en": f"Product {i}",
                "group": rng.randint(1, 6),
                "producer": f"p{d}",
                "district": DISTRICTS[d],
                "subgroup": rng.choice(["chè", "cà phê", "mật ong"]),
                "story_vi": "Sản phẩm của vùng cao Sơn La. " * 4,
                "featured": i % 50 == 0,
                "updated_at": "2026-11-29T00:00:00Z",
                "ratings": [
                    {
                        "stars": rng.randint(3, 5),
                        "recognised_on": f"{rng.randint(2021, 2025)}-06-30",
                    }
                ],
            }
        )
    return {"producers": producers, "products": products}


def fresh_store(folder: Path) -> Store:
    folder.mkdir(parents=True)
    return Store.in_dir(folder)


def kiosk_apply(store: Store, page: dict) -> None:
    with store.transaction() as tx:
        apply_catalog_changes(tx, page["producers"], page["products"], [])


def table_rows(store: Store, table: str, drop: tuple = ()) -> list[dict]:
    return [
        {k: r[k] for k in r.keys() if k not in drop}  # noqa: SIM118 - a Row iterates values
        for r in store.query(f"SELECT * FROM {table} ORDER BY rowid")
    ]


def su_apply(store: Store, rows: dict, atomic: bool = True) -> None:
    """The same rows through sqlite-utils, on the store's own connection (same PRAGMAs)."""
    db = sqlite_utils.Database(store.conn)

    def write():
        db["producers"].upsert_all(rows["producers"], pk="id")
        db["products"].upsert_all(rows["products"], pk="id")
        ids = [p["id"] for p in rows["products"]]
        db.execute(f"DELETE FROM ratings WHERE product_id IN ({','.join('?' * len(ids))})", ids)
        db["ratings"].insert_all(rows["ratings"])

    if atomic:
        with db.atomic():
            write()
    else:
        write()


def sqlite3_apply(store: Store, rows: dict) -> None:
    """The same ready rows with plain sqlite3 executemany: the floor for writing them."""
    with store.transaction() as tx:
        for table in ("producers", "products"):
            columns = list(rows[table][0])
            updates = ", ".join(f"{c}=excluded.{c}" for c in columns if c != "id")
            tx.executemany(
                f"INSERT INTO {table}({', '.join(columns)}) VALUES "
                f"({', '.join(':' + c for c in columns)}) "
                f"ON CONFLICT(id) DO UPDATE SET {updates}",
                rows[table],
            )
        tx.executemany(
            "DELETE FROM ratings WHERE product_id = ?", [(p["id"],) for p in rows["products"]]
        )
        columns = list(rows["ratings"][0])
        tx.executemany(
            f"INSERT INTO ratings({', '.join(columns)}) VALUES "
            f"({', '.join(':' + c for c in columns)})",
            rows["ratings"],
        )


WRITERS = {
    "kiosk": lambda store, rows, page: kiosk_apply(store, page),
    "sqlite-utils": lambda store, rows, page: su_apply(store, rows),
    "sqlite3-executemany": lambda store, rows, page: sqlite3_apply(store, rows),
}


def content(store: Store) -> tuple:
    """What a shopper can see: rows (without their own rowids) and what search finds."""
    found = [
        tuple(
            r[0]
            for r in store.query(
                "SELECT rowid FROM products_fts WHERE products_fts MATCH ? ORDER BY rowid",
                (fts_query(q),),
            )
        )
        for q in QUERIES
    ]
    return (
        table_rows(store, "producers"),
        table_rows(store, "products"),
        table_rows(store, "ratings", drop=("id",)),
        found,
    )


def median_s(fn, repeat: int) -> float:
    samples = []
    for n in range(repeat):
        samples.append(fn(n))
    return statistics.median(samples)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- (a) upserting a page -------------------------------------------------------------------


def bench_upsert(tmp: Path, count: int, repeat: int) -> dict:
    first, second = catalog_page(count), catalog_page(count, renamed=True)
    reference = fresh_store(tmp / "reference")
    kiosk_apply(reference, first)
    rows_first = {
        t: table_rows(reference, t, drop=("id",) if t == "ratings" else ())
        for t in ("producers", "products", "ratings")
    }
    kiosk_apply(reference, second)
    rows_second = {
        t: table_rows(reference, t, drop=("id",) if t == "ratings" else ())
        for t in ("producers", "products", "ratings")
    }

    def run(way: str, n: int) -> tuple[float, float, Store]:
        store = fresh_store(tmp / f"{way}-{n}")
        write = WRITERS[way]
        insert_s = timed(lambda: write(store, rows_first, first))
        update_s = timed(lambda: write(store, rows_second, second))
        return insert_s, update_s, store

    result = {}
    for way in WRITERS:
        runs = [run(way, n) for n in range(repeat)]
        result[way] = {
            "insert_s": statistics.median(r[0] for r in runs),
            "update_s": statistics.median(r[1] for r in runs),
            "same_content": content(runs[-1][2]) == content(reference),
        }
        for r in runs:
            r[2].close()
    # All or nothing: a page whose last product breaks a CHECK (id range) changes nothing.
    bad_page = catalog_page(count)
    bad_page["products"][-1]["id"] = 1 << 24
    bad_rows = {
        **rows_first,
        "products": [*rows_first["products"][:-1], {**rows_first["products"][-1], "id": 1 << 24}],
    }
    for way, write in (
        ("kiosk", lambda s: kiosk_apply(s, bad_page)),
        ("sqlite-utils", lambda s: su_apply(s, bad_rows)),
        ("sqlite-utils-bare", lambda s: su_apply(s, bad_rows, atomic=False)),
    ):
        store = fresh_store(tmp / f"bad-{way}")
        try:
            write(store)
            raised = False
        except sqlite3.Error:
            raised = True
        left = store.query_one("SELECT count(*) FROM products")[0]
        result.setdefault(way, {})["bad_page_rows_left"] = left
        result[way]["bad_page_raised"] = raised
        store.close()
    reference.close()
    return result


# --- (b) a migration --------------------------------------------------------------------------


def _catalog_db(tmp: Path, name: str, count: int) -> Store:
    store = fresh_store(tmp / name)
    kiosk_apply(store, catalog_page(count))
    return store


def _after_migration(store: Store) -> dict:
    """What the kiosk relies on after a migration of products."""
    names = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    indexes = {
        r[0]
        for r in store.query(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'products' "
            "AND name NOT LIKE 'sqlite_autoindex%'"
        )
    }
    columns = {r[1] for r in store.query("PRAGMA table_info(products)")}
    # A product written after the migration must be found by search.
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO products(id, name_vi, group_code, producer_id, search_text) "
            "VALUES (9999999, 'x', 1, 'p0', 'sau di chuyen')"
        )
    found = store.query_one(
        'SELECT count(*) FROM products_fts WHERE products_fts MATCH \'"sau" "di" "chuyen"\''
    )[0]
    cascade = store.query_one(
        "SELECT count(*) FROM pragma_foreign_key_list('ratings') "
        "WHERE \"table\" = 'products' AND on_delete = 'CASCADE'"
    )[0]
    return {
        "triggers_kept": set(FTS_TRIGGERS) <= names,
        "indexes": sorted(indexes),
        "columns_ok": ADDED_COLUMN in columns
        and RENAMED[1] in columns
        and RENAMED[0] not in columns,
        "new_row_searchable": found == 1,
        "ratings_cascade": cascade == 1,
        "integrity": store.integrity_check(),
        "user_version": store.query_one("PRAGMA user_version")[0],
    }


def bench_migration(tmp: Path, count: int, repeat: int) -> dict:
    migrations = (
        *MIGRATIONS,
        Migration(MIGRATIONS[-1].version + 1, "bench: add and rename", MIGRATION_SQL),
    )

    def kiosk_way(n: int) -> float:
        store = _catalog_db(tmp, f"mig-kiosk-{n}", count)
        elapsed = timed(lambda: apply_migrations(store.conn, migrations))
        kiosk_way.after = _after_migration(store)
        store.close()
        return elapsed

    def su_way(n: int) -> float:
        store = _catalog_db(tmp, f"mig-su-{n}", count)
        db = sqlite_utils.Database(store.conn)

        def migrate():
            db["products"].add_column(ADDED_COLUMN, str, not_null_default="")
            db["products"].transform(rename={RENAMED[0]: RENAMED[1]})
            db.execute(f"PRAGMA user_version = {migrations[-1].version}")

        elapsed = timed(migrate)
        su_way.after = _after_migration(store)
        store.close()
        return elapsed

    result = {
        "kiosk": {"s": median_s(kiosk_way, repeat), **kiosk_way.after},
        "sqlite-utils": {"s": median_s(su_way, repeat), **su_way.after},
    }
    # The kiosk's rule: a migration and its user_version bump in one transaction.
    store = _catalog_db(tmp, "mig-su-in-transaction", count)
    db = sqlite_utils.Database(store.conn)
    try:
        with store.transaction():
            db["products"].transform(rename={RENAMED[0]: RENAMED[1]})
        refusal = ""
    except Exception as exc:  # noqa: BLE001 - what it raises is the finding
        refusal = f"{type(exc).__name__}"
    store.close()
    result["sqlite-utils"]["in_transaction"] = refusal or "ran"
    result["kiosk"]["in_transaction"] = "ran"
    return result


# --- (c) search index -----------------------------------------------------------------------


def _drop_fts(store: Store) -> None:
    with store.transaction() as tx:
        for trigger in FTS_TRIGGERS:
            tx.execute(f"DROP TRIGGER {trigger}")
        tx.execute("DROP TABLE products_fts")


def _kiosk_fts_sql() -> str:
    """The kiosk's own index statements, taken from its first migration."""
    sql = MIGRATIONS[0].sql
    start = sql.index("CREATE VIRTUAL TABLE products_fts")
    return sql[start : sql.index("CREATE TABLE ratings")]


def _search(store: Store, table: str) -> list[tuple]:
    return [
        tuple(
            r[0]
            for r in store.query(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid", (fts_query(q),)
            )
        )
        for q in QUERIES
    ]


def _raw_hits(store: Store) -> int:
    """enable_fts on the raw Vietnamese columns, unicode61 remove_diacritics 2: how many of
    QUERIES find anything (the kiosk folds đ->d itself; unicode61 does not)."""
    queries = [" ".join(f'"{t}"*' for t in q.lower().split()) for q in QUERIES]
    return sum(
        1
        for q in queries
        if store.query_one(
            "SELECT count(*) FROM products_raw_fts WHERE products_raw_fts MATCH ?", (q,)
        )[0]
    )


def bench_fts(tmp: Path, count: int, repeat: int) -> dict:
    def kiosk_way(n: int) -> float:
        store = _catalog_db(tmp, f"fts-kiosk-{n}", count)
        expected = _search(store, "products_fts")
        _drop_fts(store)

        def build():
            with store.transaction() as tx:
                for statement in _split_sql(_kiosk_fts_sql()):
                    tx.execute(statement)
                tx.execute("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")

        elapsed = timed(build)
        kiosk_way.same = _search(store, "products_fts") == expected
        store.close()
        return elapsed

    def su_way(n: int) -> float:
        store = _catalog_db(tmp, f"fts-su-{n}", count)
        expected = _search(store, "products_fts")
        _drop_fts(store)
        db = sqlite_utils.Database(store.conn)
        elapsed = timed(
            lambda: db["products"].enable_fts(
                ["search_text"], create_triggers=True, tokenize="unicode61"
            )
        )
        su_way.same = _search(store, "products_fts") == expected
        with store.transaction() as tx:  # its triggers keep the index in step?
            tx.execute("UPDATE products SET search_text = 'doi ten' WHERE id = 1")
        su_way.follows = (
            store.query_one(
                'SELECT count(*) FROM products_fts WHERE products_fts MATCH \'"doi" "ten"\''
            )[0]
            == 1
        )
        # Without the kiosk's folding: the raw columns, diacritics removed by the tokenizer.
        store.conn.execute(
            "CREATE TABLE products_raw AS SELECT id, name_vi, district FROM products"
        )
        db["products_raw"].enable_fts(
            ["name_vi", "district"], tokenize="unicode61 remove_diacritics 2"
        )
        db["products_raw"].populate_fts(["name_vi", "district"])
        su_way.raw_hits = _raw_hits(store)
        store.close()
        return elapsed

    kiosk_s, su_s = median_s(kiosk_way, repeat), median_s(su_way, repeat)
    store = _catalog_db(tmp, "fts-hits", count)
    kiosk_hits = sum(1 for found in _search(store, "products_fts") if found)
    store.close()
    return {
        "kiosk": {"s": kiosk_s, "same": kiosk_way.same, "hits": kiosk_hits},
        "sqlite-utils": {
            "s": su_s,
            "same": su_way.same,
            "follows": su_way.follows,
            "raw_hits": su_way.raw_hits,
        },
    }


# --- (d) import cost -----------------------------------------------------------------------

# sqlite-utils imports numpy when it is installed (for its type conversions); the kiosk has
# numpy loaded anyway (OpenCV), so the cost is also measured with numpy already imported.
_RSS = (
    "import {before}\n"
    "def rss():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmRSS:'): return int(line.split()[1])\n"
    "before = rss()\n"
    "import sqlite_utils\n"
    "print(rss() - before)\n"
)


def bench_import(repeat: int) -> dict:
    import_us, rss_kib, rss_numpy_kib = [], [], []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import sqlite_utils"],
            capture_output=True,
            text=True,
            check=True,
        )
        # "import time: self [us] | cumulative | imported package"
        top = [
            line for line in out.stderr.splitlines() if re.search(r"\|\s*sqlite_utils\s*$", line)
        ]
        import_us.append(int(top[-1].split("|")[1]))
        for before, samples in (("sqlite3", rss_kib), ("sqlite3, numpy", rss_numpy_kib)):
            samples.append(
                int(
                    subprocess.run(
                        [sys.executable, "-c", _RSS.format(before=before)],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
            )
    return {
        "import_ms": statistics.median(import_us) / 1000,
        "rss_mib": statistics.median(rss_kib) / 1024,
        "rss_after_numpy_mib": statistics.median(rss_numpy_kib) / 1024,
    }


# --- report ------------------------------------------------------------------------------------


def run(products: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="ocop-bench-su-") as tmp:
        tmp = Path(tmp)
        return {
            "upsert": bench_upsert(tmp / "a", products, repeat),
            "migration": bench_migration(tmp / "b", products, repeat),
            "fts": bench_fts(tmp / "c", products, repeat),
            "import": bench_import(repeat),
            "products": products,
            "sqlite_utils": sqlite_utils.__version__
            if hasattr(sqlite_utils, "__version__")
            else _version(),
        }


def _version() -> str:
    from importlib.metadata import version

    return version("sqlite-utils")


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def table(r: dict) -> str:
    up, mig, fts, imp, n = r["upsert"], r["migration"], r["fts"], r["import"], r["products"]
    k, s = mig["kiosk"], mig["sqlite-utils"]
    lines = [
        f"sqlite-utils {r['sqlite_utils']}, SQLite {sqlite3.sqlite_version}, {n} products, "
        "kiosk schema and PRAGMAs (WAL, synchronous=FULL, foreign keys), one core",
        "",
        "| case | kiosk (sqlite3) | sqlite-utils | notes |",
        "|---|---|---|---|",
        f"| (a) page of {n} products, insert | {up['kiosk']['insert_s'] * 1000:.0f} ms | "
        f"{up['sqlite-utils']['insert_s'] * 1000:.0f} ms | sqlite-utils and plain sqlite3 "
        "executemany get the kiosk's normalised rows (NFC, GTIN, search text) ready-made; "
        f"executemany: {up['sqlite3-executemany']['insert_s'] * 1000:.0f} ms |",
        f"| (a) same page again, update | {up['kiosk']['update_s'] * 1000:.0f} ms | "
        f"{up['sqlite-utils']['update_s'] * 1000:.0f} ms | executemany: "
        f"{up['sqlite3-executemany']['update_s'] * 1000:.0f} ms; same end state: "
        f"{yes(up['sqlite-utils']['same_content'])} / "
        f"{yes(up['sqlite3-executemany']['same_content'])} |",
        f"| (a) page with one bad row | {up['kiosk']['bad_page_rows_left']} rows left | "
        f"{up['sqlite-utils']['bad_page_rows_left']} rows left in db.atomic(); "
        f"{up['sqlite-utils-bare']['bad_page_rows_left']} without | all or nothing |",
        f"| (b) migration: add + rename a column | {k['s'] * 1000:.0f} ms | "
        f"{s['s'] * 1000:.0f} ms | ALTER TABLE vs add_column + transform (table rebuilt) |",
        f"| (b) FTS triggers kept | {yes(k['triggers_kept'])} | {yes(s['triggers_kept'])} | "
        f"new row searchable: {yes(k['new_row_searchable'])} / "
        f"{yes(s['new_row_searchable'])} |",
        f"| (b) indexes, ON DELETE CASCADE | {len(k['indexes'])}, {yes(k['ratings_cascade'])} "
        f"| {len(s['indexes'])}, {yes(s['ratings_cascade'])} | integrity {k['integrity']} / "
        f"{s['integrity']} |",
        f"| (b) inside the migration's transaction | {k['in_transaction']} | "
        f"{s['in_transaction']} | the kiosk bumps user_version in the same transaction |",
        f"| (c) build the search index | {fts['kiosk']['s'] * 1000:.0f} ms | "
        f"{fts['sqlite-utils']['s'] * 1000:.0f} ms | same results: "
        f"{yes(fts['kiosk']['same'])} / {yes(fts['sqlite-utils']['same'])}; triggers follow "
        f"an update: {yes(fts['sqlite-utils']['follows'])} |",
        f"| (c) {len(QUERIES)} shopper queries find something | {fts['kiosk']['hits']} | "
        f"{fts['sqlite-utils']['raw_hits']} on raw columns (remove_diacritics 2) | "
        "the kiosk folds đ and case itself (ocop.text.fold) |",
        f"| (d) import sqlite_utils | - | {imp['import_ms']:.0f} ms, "
        f"+{imp['rss_mib']:.1f} MiB RSS | fresh interpreter, after sqlite3; "
        f"+{imp['rss_after_numpy_mib']:.1f} MiB when numpy is loaded already (as in the "
        "kiosk) |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    pin_one_core()
    print(table(run(args.products, args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
