"""Issue 17 item 2: the report aggregates (registry/aggregates.py) against a real registry
process on SQLite and PostgreSQL. Many seeded random uploads, with duplicates, whole
batches retried and the same batch sent twice at once, must leave the aggregate tables
equal to a recount from the raw events, the report equal to counts taken from the raw rows
in Python, and the clone detections made upload by upload equal to the rules run over each
serial's full history at the end."""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from registry import aggregates, clones, db
from registry.config import CloneRules
from tests.registry.server import backends, start_registry

API = "/api/v1"
DISTRICTS = ("Mộc Châu", "Sông Mã", "Yên Châu", "Quỳnh Nhai", "")
BARCODE = "8938505974192"  # a product barcode: a scan without a serial


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    registry = start_registry(tmp_path_factory.mktemp("aggregates"), request.param)
    yield registry
    registry.stop()


def _at(rng: random.Random) -> str:
    """A scan time within the last 400 days (some outside the 365-day report), or today."""
    ago = rng.choice([0, 0, 1, 2, 5, 29, 30, 31, 200, 364, 365, 399])
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=ago, minutes=rng.randrange(600))
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _upload(reg, token, items) -> list[str]:
    reply = reg.station("POST", f"{API}/uploads", token=token, json={"items": items})
    assert reply.status_code == 200, reply.text
    return [r["status"] for r in reply.json()["results"]]


def _aggregate_rows(conn, table) -> set[tuple]:
    return {tuple(r) for r in conn.execute(sa.select(table))}


def _raw(conn) -> list[sa.Row]:
    e, s = db.events, db.stations
    return list(
        conn.execute(
            sa.select(e.c.kind, e.c.day, e.c.product_id, e.c.verdict, s.c.district).select_from(
                e.join(s, s.c.id == e.c.station_id)
            )
        )
    )


def _expected_report(raw, days: int) -> dict:
    today = dt.datetime.now(dt.UTC).date()
    first = (today - dt.timedelta(days=days - 1)).isoformat()
    scans = [r for r in raw if r.kind == "scan" and first <= r.day <= today.isoformat()]
    prints = [
        r for r in raw if r.kind == "print" and r.day >= first and r.verdict in (None, "printed")
    ]
    return {
        "total_scans": len(scans),
        "total_prints": len(prints),
        "per_day": Counter(r.day for r in scans),
        "per_product": Counter(r.product_id for r in scans if r.product_id is not None),
        "per_district": Counter(r.district or "(chưa rõ / unknown)" for r in scans),
        "per_verdict": Counter(r.verdict or "?" for r in scans),
    }


def _got_report(reg, days: int) -> dict:
    reply = reg.admin("GET", f"{API}/admin/reports", params={"days": days})
    assert reply.status_code == 200, reply.text
    report = reply.json()
    return {
        "total_scans": report["total_scans"],
        "total_prints": report["total_prints"],
        "per_day": Counter({d: n for d, n in report["scans_per_day"] if n}),
        "per_product": Counter({pid: n for pid, _name, n in report["per_product"]}),
        "per_district": Counter(dict(report["per_district"])),
        "per_verdict": Counter(dict(report["per_verdict"])),
    }


def test_random_uploads_keep_the_aggregates_equal_to_a_recount(reg):
    rng = random.Random(17)
    tokens = [reg.token] + [
        reg.add_station(f"agg-{uuid.uuid4().hex[:6]}", district) for district in DISTRICTS
    ]
    blocks = [reg.issue_block(product_id, 12) for product_id in (101, 102)]
    stamps = [text for block in blocks for text in block["stamps"]]
    serials = [
        serial
        for block in blocks
        for serial in range(block["first_serial"], block["last_serial"] + 1)
    ]
    sent: list[tuple[str, list[dict]]] = []  # every batch, to resend
    accepted: set[tuple[str, str]] = set()
    for round_ in range(60):
        token = rng.choice(tokens)
        items = []
        for _ in range(rng.randint(1, 25)):
            kind = rng.random()
            if kind < 0.1 and token == reg.token:  # the demo station's own print records
                serial = rng.choice(serials)
                payload = {
                    "at": _at(rng),
                    "serial": serial,
                    "status": rng.choice(["printed", "void", None]),
                }
                items.append(
                    {
                        "kind": "print",
                        "idempotency_key": f"p-{uuid.uuid4().hex}",
                        "payload": payload,
                    }
                )
                continue
            text = BARCODE if kind < 0.2 else rng.choice(stamps)
            payload = {"scanned_at": _at(rng), "text": text}
            items.append(
                {"kind": "scan", "idempotency_key": f"s-{uuid.uuid4().hex}", "payload": payload}
            )
        mine = [b for t, b in sent if t == token]
        if mine and rng.random() < 0.4:  # items the kiosk never heard back about, resent
            items += rng.sample(rng.choice(mine), k=1)
        if round_ % 10 == 9:  # the same batch twice at once (two threads: a lost ack)
            results: list[list[str]] = []

            def send(token=token, items=items, results=results):
                results.append(_upload(reg, token, items))

            threads = [threading.Thread(target=send) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # Both may answer `accepted` (each checked the keys before the other stored
            # them): the INSERT stores each once, and only what it stored is counted.
            statuses = [
                "accepted" if "accepted" in pair else pair[0]
                for pair in zip(results[0], results[1], strict=True)
            ]
        else:
            statuses = _upload(reg, token, items)
        if rng.random() < 0.3:  # the whole batch retried: nothing new
            again = _upload(reg, token, items)
            assert set(again) <= {"duplicate", "rejected"}, again
        for item, status in zip(items, statuses, strict=True):
            if status == "accepted":
                accepted.add((token, item["idempotency_key"]))
        sent.append((token, items))

    engine = db.make_engine(reg.db_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(db.events)).scalar()
            assert stored == len(accepted)  # exactly once
            for table, select in aggregates.recount().items():
                recounted = {tuple(r) for r in conn.execute(select)}
                assert _aggregate_rows(conn, table) == recounted, table.name
            raw = _raw(conn)
            assert sum(1 for r in raw if r.kind == "print") > 0
            assert {r.day for r in raw if r.kind == "scan"} > {
                dt.datetime.now(dt.UTC).date().isoformat()
            }
            # Clone detection, upload by upload, equals the rules over all history now.
            rules = CloneRules()
            flagged_now = {serial for serial in serials if clones.findings(conn, serial, rules)}
            detected = set(
                conn.execute(sa.select(db.clone_detections.c.serial).distinct()).scalars()
            )
    finally:
        engine.dispose()
    assert flagged_now and flagged_now == detected
    for days in (1, 30, 366):
        assert _got_report(reg, days) == _expected_report(raw, days), days


def test_concurrent_uploads_of_many_stations_all_count(reg):
    """Eight stations upload at once, each batch touching shared aggregate rows (today's
    genuine scans, the same products and months) in a different order of items: no upload
    fails (no deadlock between the upserts) and the tables still equal the recount."""
    block = reg.issue_block(101, 40)
    tokens = [reg.add_station(f"conc-{uuid.uuid4().hex[:6]}", "Mai Sơn") for _ in range(8)]
    failures: list[str] = []

    def station(token: str, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(6):
            items = [
                {
                    "kind": "scan",
                    "idempotency_key": f"c-{uuid.uuid4().hex}",
                    "payload": {"scanned_at": _at(rng), "text": rng.choice(block["stamps"])},
                }
                for _ in range(rng.randint(5, 30))
            ]
            reply = reg.station("POST", f"{API}/uploads", token=token, json={"items": items})
            if reply.status_code != 200:
                failures.append(reply.text)

    threads = [threading.Thread(target=station, args=(t, i)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    engine = db.make_engine(reg.db_url)
    try:
        with engine.connect() as conn:
            for table, select in aggregates.recount().items():
                recounted = {tuple(r) for r in conn.execute(select)}
                assert _aggregate_rows(conn, table) == recounted, table.name
    finally:
        engine.dispose()


def test_a_period_is_its_whole_months_plus_the_days_at_its_ends():
    """aggregates.period_parts: every day of the period counted exactly once, from a whole
    month or a day range, and no day outside it (leap years, year ends, one-day periods)."""
    rng = random.Random(3)
    for _ in range(2000):
        first = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(1200))
        last = first + dt.timedelta(days=rng.choice([0, 1, 27, 29, 30, 31, 59, 364, 365, 400]))
        months, ranges = aggregates.period_parts(first.isoformat(), last.isoformat())
        days: Counter = Counter()
        for month in months:
            day = dt.date.fromisoformat(month + "-01")
            while day.isoformat()[:7] == month:
                days[day] += 1
                day += dt.timedelta(days=1)
        for a, b in ranges:
            day = dt.date.fromisoformat(a)
            while day <= dt.date.fromisoformat(b):
                days[day] += 1
                day += dt.timedelta(days=1)
        wanted = {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
        assert set(days) == wanted and set(days.values()) == {1}, (first, last)
        assert len(ranges) <= 2
