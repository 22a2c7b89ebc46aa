"""Sync benchmark: a real registry process on 127.0.0.1 and a kiosk store, side by side with
plain sqlite-utils inserts of the same rows.

    .venv/bin/python bench/sync.py [--products 10000] [--events 50000] [--keep]

Measures: initial sync of a catalog of N products (pull: HTTP, validation, media by hash,
one transaction per page, search index), a delta of 100 changed products, and the upload of
M scan events from the outbox (gzip batches of 1000, idempotency keys, sent_at per batch),
then a full resend of the same M events (as after a lost acknowledgement), which must store
nothing. Targets: initial sync <= 5 s, upload <= 10 s, zero duplicates.
The scans carry real signed stamps (20 blocks of 1000 from a printing station bound to 20
products): the registry verifies every one (registry/uploads.py) and runs the clone rules.
The sqlite-utils columns insert the same rows into an empty SQLite file with insert_all:
the floor for "just writing the rows", without network, validation or transactions per page;
the "Ed25519 verify" line is the floor for checking the same stamps' signatures with the
cryptography library alone (no parsing, no trust list).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlite_utils  # noqa: E402

TARGET_INITIAL_S = 5.0
TARGET_UPLOAD_S = 10.0
STAMPED_PRODUCTS = tuple(range(1, 21))  # the products the bench station prints for
DISTRICTS = [
    "Mộc Châu",
    "Vân Hồ",
    "Yên Châu",
    "Mai Sơn",
    "Sông Mã",
    "Thuận Châu",
    "Quỳnh Nhai",
    "Mường La",
    "Bắc Yên",
    "Phù Yên",
    "Sốp Cộp",
    "Thành phố Sơn La",
]


def make_images(folder: Path, count: int) -> list[str]:
    from PIL import Image

    names = []
    for i in range(count):
        img = Image.new("RGB", (120, 90), (30 + i * 9 % 200, 120, 200 - i * 7 % 180))
        buf = io.BytesIO()
        img.save(buf, "PNG")
        name = f"img{i}.png"
        (folder / name).write_bytes(buf.getvalue())
        names.append(name)
    return names


def make_catalog(folder: Path, products: int, rng: random.Random) -> dict:
    images = make_images(folder, 40)
    producers = [
        {
            "id": f"producer-{i}",
            "name": f"HTX sản xuất số {i}",
            "kind": rng.choice(["cooperative", "company", "household"]),
            "commune": f"xã {i}",
            "district": rng.choice(DISTRICTS),
        }
        for i in range(300)
    ]
    items = []
    for pid in range(1, products + 1):
        items.append(
            {
                "id": pid,
                "name_vi": f"Sản phẩm OCOP số {pid} – chè, cà phê, mật ong",
                "name_en": f"OCOP product {pid}",
                "group": rng.randint(1, 6),
                "subgroup": rng.choice(["tea", "coffee", "honey", "fruit", "craft"]),
                "producer": producers[pid % len(producers)]["id"],
                "story_vi": "Sản phẩm của vùng cao Sơn La. " * 4,
                "image": images[pid % len(images)],
                "ratings": [
                    {
                        "stars": rng.randint(3, 5),
                        "recognised_on": f"{rng.randint(2021, 2025)}-0{rng.randint(1, 9)}-15",
                    }
                ],
            }
        )
    return {"producers": producers, "products": items}


def registry_cli(*args, env=None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if result.returncode != 0:
        raise SystemExit(f"registry {args[0]} failed: {result.stderr}")
    return result.stdout


def start_registry(data_dir: Path, admin_token: str) -> tuple[subprocess.Popen, str]:
    url_file = data_dir / "url.txt"
    env = {**os.environ, "OCOP_REGISTRY_ADMIN_TOKEN": admin_token}
    with open(data_dir / "server.log", "wb") as server_log:  # the child keeps its own copy
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "registry.cli",
                "serve",
                "--data-dir",
                str(data_dir),
                "--port",
                "0",
                "--url-file",
                str(url_file),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if url_file.exists():
            url = url_file.read_text().strip()
            try:
                requests.get(url + "/api/v1/health", timeout=2).raise_for_status()
                return proc, url
            except requests.RequestException:
                pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("registry did not start")


def ed25519_floor(stamps: list[str], reg_dir: Path, count: int) -> float:
    """Seconds to check `count` of these stamps' signatures with cryptography alone: the
    signing key's public half, the signed bytes and signature cut out by the codec (not
    timed), then only Ed25519Verify."""
    from ocop.stamps.codec import normalise_base_url, parse_stamp_text
    from ocop.stamps.keys import load_private_key

    public = load_private_key(reg_dir / "keys" / "signing-1.key").public_key()
    parsed = [
        parse_stamp_text(s, normalise_base_url("https://ocop.sonla.gov.vn/s/")) for s in stamps
    ]
    started = time.perf_counter()
    for i in range(count):
        p = parsed[i % len(parsed)]
        public.verify(p.signature, p.signed_message)
    return time.perf_counter() - started


def sqlite_utils_rows(path: Path, table: str, rows: list[dict]) -> float:
    db = sqlite_utils.Database(path)
    started = time.perf_counter()
    db[table].insert_all(rows, batch_size=1000)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 products and 10,000 events (targets still shown)",
    )
    args = parser.parse_args()
    if args.quick:
        args.products, args.events = 2_000, 10_000
    rng = random.Random(20251129)
    tmp = Path(tempfile.mkdtemp(prefix="ocop-bench-sync-"))
    reg_dir, kiosk_dir = tmp / "registry", tmp / "kiosk"
    reg_dir.mkdir()
    kiosk_dir.mkdir()
    admin = uuid.uuid4().hex + uuid.uuid4().hex

    # Registry with a catalog of N products and one station.
    catalog = make_catalog(reg_dir, args.products, rng)
    (reg_dir / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False))
    started = time.perf_counter()
    registry_cli("import", str(reg_dir / "catalog.json"), "--data-dir", str(reg_dir))
    import_s = time.perf_counter() - started
    registry_cli(
        "station",
        "add",
        "bench",
        "--district",
        "Mộc Châu",
        "--role",
        "station",
        "--products",
        ",".join(str(p) for p in STAMPED_PRODUCTS),
        "--per-day",
        "none",
        "--total",
        "none",
        "--token-file",
        str(reg_dir / "token"),
        "--data-dir",
        str(reg_dir),
    )
    root = registry_cli("root-key", "--data-dir", str(reg_dir)).strip()
    token = (reg_dir / "token").read_text().strip()
    proc, url = start_registry(reg_dir, admin)
    rows = {}
    try:
        from kiosk.settings import settings_from_dict
        from kiosk.store import Store
        from kiosk.sync import SyncEngine

        settings = settings_from_dict(
            {"registry": {"url": url, "token": token, "root_public_key": root, "timeout_s": 120.0}}
        )
        store = Store.in_dir(kiosk_dir)
        engine = SyncEngine(store, settings, kiosk_dir)

        started = time.perf_counter()
        pulled = engine.pull()
        rows["initial"] = time.perf_counter() - started
        count = store.query_one("SELECT count(*) FROM products")[0]
        assert count == args.products, count

        # A delta: 100 products change (name and rating) in one admin request.
        changed = rng.sample(catalog["products"], 100)
        for p in changed:
            p["name_vi"] += " (mới)"
            p["ratings"][0]["stars"] = 5 if p["ratings"][0]["stars"] != 5 else 4
            p.pop("image")
        reply = requests.put(
            url + "/api/v1/admin/catalog",
            json={"products": changed},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=60,
        )
        reply.raise_for_status()
        assert reply.json()["updated"] == 100, reply.text
        started = time.perf_counter()
        delta = engine.pull()
        rows["delta"] = time.perf_counter() - started
        assert delta.products == 100, delta

        # Real stamps (not timed): 20 blocks of 1000, then M scans of them in the outbox,
        # written as the scan service would, then push.
        stamps = []
        for product_id in STAMPED_PRODUCTS:
            reply = requests.post(
                url + "/api/v1/stamp-blocks",
                json={"request_id": f"bench-{product_id}", "product_id": product_id, "count": 1000},
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
            )
            reply.raise_for_status()
            stamps += reply.json()["stamps"]
        now = "2026-11-29T10:00:00Z"
        events = [
            {
                "kind": "scan",
                "idempotency_key": f"scan-{i}-{uuid.uuid4().hex[:8]}",
                "payload_json": json.dumps(
                    {"scanned_at": now, "text": stamps[i % len(stamps)], "verdict": "genuine"}
                ),
                "created_at": now,
            }
            for i in range(args.events)
        ]
        with store.transaction() as tx:
            tx.executemany(
                "INSERT INTO outbox(kind, idempotency_key, payload_json, "
                "created_at) VALUES (:kind, :idempotency_key, :payload_json, "
                ":created_at)",
                events,
            )
        started = time.perf_counter()
        pushed = engine.push()
        rows["upload"] = time.perf_counter() - started
        store.conn.execute("UPDATE outbox SET sent_at = NULL")  # every ack "lost"
        started = time.perf_counter()
        resent = engine.push()
        rows["resend"] = time.perf_counter() - started
        reg = sqlite3.connect(reg_dir / "registry.sqlite")
        stored, distinct = reg.execute(
            "SELECT count(*), count(DISTINCT idempotency_key) FROM events WHERE kind = 'scan'"
        ).fetchone()
        reg.close()
        duplicates = stored - distinct + (stored - args.events)
        store.close()
    finally:
        proc.terminate()
        proc.wait(10)

    # The same rows with sqlite-utils directly.
    base = tmp / "sqlite-utils.db"
    product_rows = [
        {
            k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v)
            for k, v in p.items()
            if k != "image"
        }
        for p in catalog["products"]
    ]
    su_initial = sqlite_utils_rows(base, "products", product_rows)
    su_delta = sqlite_utils_rows(tmp / "su-delta.db", "products", product_rows[:100])
    su_events = sqlite_utils_rows(tmp / "su-events.db", "events", events)
    verify_floor_s = ed25519_floor(stamps, reg_dir, args.events)

    def ok(value, target):
        return "yes" if value <= target else "NO"

    print()
    print(
        f"registry import of {args.products} products (CLI, incl. start-up): "
        f"{import_s:.2f} s; initial pull: {pulled.pages} pages, {pulled.media} media"
    )
    print()
    header = f"{'operation':<34}{'sync (s)':>10}{'sqlite-utils (s)':>18}{'target':>10}{'met':>6}"
    print(header)
    print("-" * len(header))
    print(
        f"{f'initial sync, {args.products} products':<34}{rows['initial']:>10.2f}"
        f"{su_initial:>18.2f}{TARGET_INITIAL_S:>10.1f}{ok(rows['initial'], TARGET_INITIAL_S):>6}"
    )
    print(
        f"{'delta, 100 changed products':<34}{rows['delta']:>10.2f}{su_delta:>18.3f}"
        f"{'-':>10}{'':>6}"
    )
    print(
        f"{f'upload, {args.events} scan events':<34}{rows['upload']:>10.2f}"
        f"{su_events:>18.2f}{TARGET_UPLOAD_S:>10.1f}{ok(rows['upload'], TARGET_UPLOAD_S):>6}"
    )
    print(
        f"{f'Ed25519 verify, {args.events} stamps':<34}{'-':>10}{verify_floor_s:>18.2f}"
        f"{'-':>10}{'':>6}"
    )
    print(
        f"{f'resend after lost acks, {args.events}':<34}{rows['resend']:>10.2f}"
        f"{'-':>18}{'-':>10}{'':>6}"
    )
    print()
    print(
        f"uploaded: {pushed.accepted} accepted, {pushed.rejected} refused; "
        f"resend: {resent.duplicate} duplicate, "
        f"{resent.accepted} new; registry holds "
        f"{stored} scan rows for {args.events} events -> duplicates: {duplicates}"
    )
    if args.keep:
        print(f"files kept in {tmp}")
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    met = (
        pushed.rejected == 0
        and rows["initial"] <= TARGET_INITIAL_S
        and rows["upload"] <= TARGET_UPLOAD_S
        and duplicates == 0
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
