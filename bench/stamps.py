"""Stamp benchmark: verification speed against bare Ed25519, and QR sizes of issued stamps.

    .venv/bin/python bench/stamps.py [--verify-count 2000] [--rounds 7] [--qr-count 10000]
                                     [--seed 20261129] [--no-store]

1. Verifications per second, best of --rounds, interleaved in one run:
   - bare:      cryptography's Ed25519PublicKey.verify(signature, message) on the same bytes
   - verifier:  kiosk.stamps.StampVerifier.verify(text): parse + trust checks + signature, with
                in-memory catalog / scan-count lookups (the pure verify path; target <= 1.5x)
   - store:     the same verifier wired to SQLite by verifier_from_store (demo catalog,
                product, rating and scan-count queries per scan), for information
2. QR version distribution at error level M of --qr-count stamps with random fields over the
   whole ranges (key id 1..255, product id < 2**24, serial < 2**40, issue dates 2020..2199),
   each encoded as the printer does (printer.label.qr_matrix with the explicit segments of
   ocop.stamps.codec.stamp_qr_segments); target: all <= 6.
3. The candidate spellings of issue 15 (docs/stamp-format.md "Choice of spelling"): data bits
   incl. segment headers, and the smallest version at level M segno builds for them.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import segno

from kiosk.settings import Settings
from ocop.stamps.codec import (
    EPOCH,
    MAX_ISSUE_DAY,
    MAX_PRODUCT_ID,
    MAX_SERIAL,
    parse_stamp_text,
    qr_segment_bits,
    stamp_qr_segments,
)
from ocop.stamps.keys import private_key_from_seed
from ocop.stamps.signer import StampSigner, make_trust_list, signing_key_entry
from ocop.stamps.verdicts import Verdict
from ocop.stamps.verifier import ProductStatus, StampVerifier

BASE_URL = Settings().stamps.base_url
TARGET_RATIO = 1.5
TARGET_MAX_VERSION = 6
TODAY = dt.date(2026, 11, 29)


def _time_per_call_s(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items)


def bench_verify(count: int, rounds: int, seed: int, with_store: bool) -> list[tuple]:
    rng = random.Random(seed)
    key = private_key_from_seed(rng.randbytes(32))
    root = private_key_from_seed(rng.randbytes(32))
    signer = StampSigner(1, key, BASE_URL)
    texts = [
        signer.sign(101, serial, dt.date(2025, 6, 1))
        for serial in rng.sample(range(1, 10_000_000), count)
    ]
    trust = make_trust_list(
        root,
        sequence=2,  # above the demo list (another root)
        signing_keys=[signing_key_entry(1, key, dt.date(2020, 1, 1))],
    )
    verifier = StampVerifier(
        trust,
        BASE_URL,
        clone_scan_limit=20,
        product_lookup=lambda pid, today: ProductStatus(pid, True),
        scan_count=lambda serial: 0,
    )
    public = key.public_key()
    pairs = [
        (p.signature, p.signed_message) for p in (parse_stamp_text(t, BASE_URL) for t in texts)
    ]

    def bare(pair):
        public.verify(*pair)

    def ours(text):
        v = verifier.verify(text, today=TODAY)
        if v.verdict is not Verdict.GENUINE:
            raise AssertionError(v)

    candidates = [
        ("bare Ed25519 verify (cryptography)", bare, pairs),
        ("StampVerifier.verify (pure path)", ours, texts),
    ]
    if with_store:
        candidates.append(_store_candidate(texts, trust, root, key))
    best = {name: float("inf") for name, _, _ in candidates}
    for _ in range(rounds):
        for name, fn, items in candidates:
            best[name] = min(best[name], _time_per_call_s(fn, items))
    bare_s = best[candidates[0][0]]
    return [(name, best[name], best[name] / bare_s) for name, _, _ in candidates]


def _store_candidate(texts, trust, root, key):
    from kiosk.demo.setup import set_up_demo
    from kiosk.settings import settings_from_dict
    from kiosk.stamps.service import verifier_from_store
    from kiosk.stamps.trust_store import store_trust_list
    from kiosk.store import Store
    from ocop.stamps.keys import public_key_b64
    from ocop.stamps.trust import sign_trust_list

    tmp = tempfile.mkdtemp(prefix="ocop-bench-stamps-")
    store = Store.in_dir(tmp)
    set_up_demo(store, Path(tmp))
    root_b64 = public_key_b64(root)
    store_trust_list(store, sign_trust_list(trust, root), root_b64)
    settings = settings_from_dict({"registry": {"root_public_key": root_b64}})
    verifier = verifier_from_store(store, settings)

    def via_store(text):
        v = verifier.verify(text, today=TODAY)
        if v.verdict is not Verdict.GENUINE:
            raise AssertionError(v)

    return ("StampVerifier via Store (SQLite lookups)", via_store, texts)


def _random_stamps(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    key = private_key_from_seed(rng.randbytes(32))
    signers = {}
    texts = []
    for i in range(count):
        # Every 10th stamp takes the extreme values.
        if i % 10 == 0:
            k, p, s, d = 255, MAX_PRODUCT_ID, MAX_SERIAL, MAX_ISSUE_DAY
        else:
            k, p = rng.randint(1, 255), rng.randint(1, MAX_PRODUCT_ID)
            s, d = rng.randint(1, MAX_SERIAL), rng.randint(0, MAX_ISSUE_DAY)
        signer = signers.get(k) or signers.setdefault(k, StampSigner(k, key, BASE_URL))
        texts.append(signer.sign(p, s, EPOCH + dt.timedelta(days=d)))
    return texts


def _qr_version(text: str) -> tuple[int, str]:
    from printer.label import qr_matrix

    segments = stamp_qr_segments(text)
    _, version = qr_matrix.__wrapped__(text, segments)
    return version, "+".join(m for _, m in segments)


_MODES = {
    "byte": segno.consts.MODE_BYTE,
    "alphanumeric": segno.consts.MODE_ALPHANUMERIC,
    "numeric": segno.consts.MODE_NUMERIC,
}


def spelling_table() -> list[tuple[str, int, int]]:
    """(candidate, data bits incl. segment headers, smallest version at M) for issue 15."""
    b32 = "A" * 122
    digits = "9" * 184
    host = "OCOP.SONLA.GOV.VN/S/"
    candidates = {
        "legacy: HTTPS://HOST/S/ + base32, one alnum segment": [
            ("HTTPS://" + host + b32, "alphanumeric")
        ],
        "https:// byte + HOST/S/ alnum + base32 alnum": [
            ("https://", "byte"),
            (host + b32, "alphanumeric"),
        ],
        "https:// byte + HOST/S/ alnum + base32 as its own alnum segment": [
            ("https://", "byte"),
            (host, "alphanumeric"),
            (b32, "alphanumeric"),
        ],
        "https://host/s/ all lower, byte + base32 alnum": [
            ("https://" + host.lower(), "byte"),
            (b32, "alphanumeric"),
        ],
        "CHOSEN https:// byte + HOST/S/ alnum + 184 digits numeric": [
            ("https://", "byte"),
            (host, "alphanumeric"),
            (digits, "numeric"),
        ],
        "https://host/s/ all lower byte + 184 digits numeric": [
            ("https://" + host.lower(), "byte"),
            (digits, "numeric"),
        ],
    }
    rows = []
    for name, segments in candidates.items():
        bits = sum(qr_segment_bits(m, len(t)) for t, m in segments)
        qr = segno.make([(t, _MODES[m]) for t, m in segments], error="m", boost_error=False)
        rows.append((name, bits, int(qr.version)))
    return rows


def bench_qr(count: int, seed: int) -> tuple[collections.Counter, collections.Counter, int]:
    texts = _random_stamps(count, seed)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(_qr_version, texts, chunksize=250))
    lengths = collections.Counter(len(t) for t in texts)
    return (
        collections.Counter(v for v, _ in results),
        collections.Counter(m for _, m in results),
        max(lengths),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verify-count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--qr-count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--no-store", action="store_true", help="skip the SQLite row")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer rounds and 1,000 QR codes (bench/run_all --quick)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.qr_count = min(args.rounds, 3), min(args.qr_count, 1000)

    print(
        f"Stamp verification, {args.verify_count} stamps, best of {args.rounds} rounds "
        f"(python {sys.version.split()[0]})"
    )
    rows = bench_verify(args.verify_count, args.rounds, args.seed, not args.no_store)
    width = max(len(r[0]) for r in rows)
    print(f"{'path':<{width}}  {'us/verify':>9}  {'verify/s':>9}  {'vs bare':>7}")
    for name, per_s, ratio in rows:
        print(f"{name:<{width}}  {per_s * 1e6:9.1f}  {1 / per_s:9.0f}  {ratio:6.2f}x")
    pure_ratio = rows[1][2]
    verdict_ok = pure_ratio <= TARGET_RATIO
    print(
        f"target: pure verify path within {TARGET_RATIO}x of bare Ed25519: "
        f"{'OK' if verdict_ok else 'MISSED'} ({pure_ratio:.2f}x)"
    )

    print()
    print("Candidate spellings (version 6-M holds 864 data bits)")
    rows2 = spelling_table()
    width = max(len(r[0]) for r in rows2)
    print(f"{'spelling':<{width}}  {'bits':>5}  {'version@M':>9}")
    for name, bits, version in rows2:
        print(f"{name:<{width}}  {bits:>5}  {version:>9}")

    print()
    start = time.perf_counter()
    versions, modes, longest = bench_qr(args.qr_count, args.seed)
    took = time.perf_counter() - start
    print(
        f"QR version at level M of {args.qr_count} issued stamps (base URL {BASE_URL!r}, "
        f"{longest} chars; printer.label.qr_matrix with explicit segments, {took:.1f} s)"
    )
    print(f"{'version':>7}  {'stamps':>7}")
    for version in sorted(versions):
        print(f"{version:>7}  {versions[version]:>7}")
    print(f"modes: {dict(modes)}")
    qr_ok = max(versions) <= TARGET_MAX_VERSION
    print(f"target: all <= version {TARGET_MAX_VERSION}: {'OK' if qr_ok else 'MISSED'}")
    return 0 if verdict_ok and qr_ok else 1


if __name__ == "__main__":
    sys.exit(main())
