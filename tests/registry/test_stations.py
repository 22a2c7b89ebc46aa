"""Station roles, bindings, quotas and lifecycle against a real registry process (SQLite and
PostgreSQL): what a kiosk token, an out-of-scope or over-quota station gets for stamp blocks,
concurrent requests at the quota edge, disable / enable / rotate-token / retire, and the
audit row each operation leaves."""

from __future__ import annotations

import threading
import uuid

import requests

from ocop.stations import BlockRefusal
from registry import audit, db

API = "/api/v1"
ADMIN = f"{API}/admin/stations"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _block(reg, token, product_id=101, count=3, request_id=None):
    return reg.station(
        "POST",
        f"{API}/stamp-blocks",
        token=token,
        json={
            "request_id": request_id or f"r-{uuid.uuid4().hex}",
            "product_id": product_id,
            "count": count,
        },
    )


def _refused(reply, reason: BlockRefusal) -> dict:
    assert reply.status_code == 403, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    body = reply.json()
    assert body["status"] == 403 and body["reason"] == reason.value and body["detail"]
    return body


def _issued(reg, name: str) -> int:
    """Stamps in the station's blocks, read from the registry's database itself."""
    database = db.Database(reg.db_url)
    try:
        with database.read() as conn:
            station_id = conn.execute(db.stations.select().where(db.stations.c.name == name)).one()
            return sum(
                r.count
                for r in conn.execute(
                    db.stamp_blocks.select().where(db.stamp_blocks.c.station_id == station_id.id)
                )
            )
    finally:
        database.dispose()


def _audit(reg, target: str) -> list[audit.AuditEntry]:
    database = db.Database(reg.db_url)
    try:
        with database.read() as conn:
            return [e for e in audit.recent(conn, limit=1000) if e.target == target]
    finally:
        database.dispose()


def _alerts(reg, name: str) -> list[dict]:
    return [a for a in reg.report()["block_alerts"] if a["station"] == name]


def _producer_products(reg) -> tuple[str, int, int]:
    """(the producer of product 101, another of its products or 101, a product of another
    producer) from the demo catalog."""
    producer = reg.admin("GET", f"{API}/admin/products/101").json()["producer"]
    same, other = 101, None
    for pid in range(102, 140):
        reply = reg.admin("GET", f"{API}/admin/products/{pid}")
        if reply.status_code != 200:
            continue
        if reply.json()["producer"] == producer:
            same = pid
        elif other is None:
            other = pid
    assert other is not None
    return producer, same, other


# --- roles and scope ----------------------------------------------------------------------


def test_a_kiosk_token_gets_403_for_blocks_but_still_syncs(registry):
    name = _name("reststop")
    token = registry.add_station(name, "Mộc Châu")  # a new station is a kiosk
    body = _refused(_block(registry, token), BlockRefusal.KIOSK_ROLE)
    assert "kiosk" in body["detail"]
    assert _issued(registry, name) == 0
    # What a kiosk does still works.
    assert registry.station("GET", f"{API}/catalog/changes", token=token).status_code == 200
    # The refusal is an alert in the admin reports JSON and on the reports page.
    (alert,) = _alerts(registry, name)
    assert alert["reason"] == "kiosk_role" and alert["attempts"] == 1
    assert alert["stamps_asked"] == 3 and alert["product_id"] == 101
    _refused(_block(registry, token), BlockRefusal.KIOSK_ROLE)
    assert _alerts(registry, name)[0]["attempts"] == 2  # counted, not one row per try
    page = requests.get(
        registry.url + "/reports", auth=("admin", registry.admin_token), timeout=10
    ).text
    assert f'data-station="{name}" data-reason="kiosk_role"' in page


def test_a_bound_station_mints_only_for_its_products_and_producers(registry):
    producer, same_producer, other = _producer_products(registry)
    by_product = _name("printer")
    token = registry.add_station(by_product, role="station", products=[101])
    assert _block(registry, token, 101).status_code == 200
    body = _refused(_block(registry, token, other), BlockRefusal.OUT_OF_SCOPE)
    assert str(other) in body["detail"]
    assert _issued(registry, by_product) == 3

    by_producer = _name("coop")
    token = registry.add_station(by_producer, role="station", producers=[producer])
    assert _block(registry, token, same_producer).status_code == 200
    _refused(_block(registry, token, other), BlockRefusal.OUT_OF_SCOPE)
    assert [a["reason"] for a in _alerts(registry, by_producer)] == ["out_of_scope"]
    # Binding to something the catalog does not hold is refused and changes nothing.
    bad = registry.admin("PATCH", f"{ADMIN}/{by_producer}", json={"products": [999_999]})
    assert bad.status_code == 422 and "999999" in bad.json()["detail"]
    assert registry.admin("GET", f"{ADMIN}/{by_producer}").json()["producers"] == [producer]


def test_quotas_per_day_and_in_total(registry):
    name = _name("quota")
    token = registry.add_station(
        name, role="station", products=[101], quota_per_day=10, quota_total=15
    )
    first_id = f"r-{uuid.uuid4().hex}"
    first = _block(registry, token, count=6, request_id=first_id)
    assert first.status_code == 200
    body = _refused(_block(registry, token, count=5), BlockRefusal.DAILY_QUOTA)
    assert "Vietnam" in body["detail"] and "6 of its 10" in body["detail"]
    assert _block(registry, token, count=4).status_code == 200  # exactly the day's 10
    # The office lifts the day's limit; the total still holds.
    lifted = registry.admin("PATCH", f"{ADMIN}/{name}", json={"quota_per_day": None})
    assert lifted.status_code == 200 and lifted.json()["quota_per_day"] is None
    _refused(_block(registry, token, count=6), BlockRefusal.TOTAL_QUOTA)
    assert _block(registry, token, count=5).status_code == 200
    _refused(_block(registry, token, count=1), BlockRefusal.TOTAL_QUOTA)
    # A retry of a block already granted is the same block, quota used up or not.
    assert _block(registry, token, count=6, request_id=first_id).json() == first.json()
    assert _issued(registry, name) == 15
    info = registry.admin("GET", f"{ADMIN}/{name}").json()
    assert (info["issued_today"], info["issued_total"], info["quota_total"]) == (15, 15, 15)
    assert {a["reason"] for a in _alerts(registry, name)} == {"daily_quota", "total_quota"}
    # A new printing station's default quotas are finite.
    default = _name("default")
    registry.add_station(default, role="station", products=[101])
    info = registry.admin("GET", f"{ADMIN}/{default}").json()
    assert info["quota_per_day"] == 5_000 and info["quota_total"] == 100_000


def test_concurrent_requests_cannot_both_take_the_last_of_a_quota(registry):
    name = _name("race")
    token = registry.add_station(
        name, role="station", products=[101], quota_per_day=None, quota_total=5
    )
    threads_n = 16
    barrier = threading.Barrier(threads_n)
    statuses: list[int] = []
    lock = threading.Lock()

    def ask():
        session = requests.Session()  # one connection each: real concurrent requests
        barrier.wait()
        reply = session.post(
            registry.url + f"{API}/stamp-blocks",
            headers={"Authorization": f"Bearer {token}"},
            json={"request_id": f"r-{uuid.uuid4().hex}", "product_id": 101, "count": 1},
            timeout=60,
        )
        with lock:
            statuses.append(reply.status_code)

    threads = [threading.Thread(target=ask) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 5 + [403] * (threads_n - 5)
    assert _issued(registry, name) == 5
    assert sum(a["attempts"] for a in _alerts(registry, name)) == threads_n - 5


# --- lifecycle ----------------------------------------------------------------------------


def _works(registry, token) -> bool:
    status = registry.station("GET", f"{API}/stations/me", token=token).status_code
    assert status in (200, 401)
    return status == 200


def test_disable_enable_and_rotate_token(registry):
    name = _name("life")
    token = registry.add_station(name, role="station", products=[101])
    reply = registry.admin("POST", f"{ADMIN}/{name}/disable", json={"reason": "lost"})
    assert reply.status_code == 200 and reply.json()["state"] == "disabled"
    for method, path in (
        ("GET", "/stations/me"),
        ("GET", "/catalog/changes"),
        ("POST", "/uploads"),
    ):
        kwargs = {"json": {"items": []}} if method == "POST" else {}
        got = registry.station(method, API + path, token=token, **kwargs)
        assert got.status_code == 401, (path, got.text)
    assert _block(registry, token).status_code == 401
    assert registry.admin("POST", f"{ADMIN}/{name}/enable").json()["state"] == "active"
    assert _works(registry, token)

    rotated = registry.admin("POST", f"{ADMIN}/{name}/rotate-token")
    new_token = rotated.json()["token"]
    assert not _works(registry, token)  # dead at once
    assert _works(registry, new_token) and _block(registry, new_token).status_code == 200

    assert registry.admin("POST", f"{ADMIN}/nobody-{name}/disable").status_code == 404
    actions = [e.action for e in _audit(registry, name)]
    assert actions[:4] == [
        "station.rotate_token",
        "station.enable",
        "station.disable",
        "station.add",
    ]
    for entry in _audit(registry, name):
        assert entry.actor == "bootstrap" and entry.client == "127.0.0.1"
    assert _audit(registry, name)[2].detail["reason"] == "lost"


def test_retire_revokes_only_unprinted_serials_and_is_final(registry):
    name = _name("stolen")
    token = registry.add_station(name, role="station", products=[101])
    block = _block(registry, token, count=6).json()
    first = block["first_serial"]
    printed = [first + 1, first + 2, first + 4]
    items = [
        {
            "kind": "print",
            "idempotency_key": f"print-{serial}",
            "payload": {
                "printed_at": "2026-12-01T08:00:00Z",
                "serial": serial,
                "product_id": 101,
                "status": "printed",
            },
        }
        for serial in printed
    ]
    assert registry.station("POST", f"{API}/uploads", token=token, json={"items": items}).ok
    result = registry.admin("POST", f"{ADMIN}/{name}/retire", json={"reason": "stolen"}).json()
    assert result["revoked"] == [[first, first], [first + 3, first + 3], [first + 5, first + 5]]
    assert result["revoked_count"] == 3 and result["printed_count"] == 3
    sequence = result["trust_list_sequence"]
    assert (
        requests.get(registry.url + f"{API}/health", timeout=5).json()["trust_list_sequence"]
        >= sequence
    )
    assert not _works(registry, token)
    for op in ("enable", "rotate-token", "retire"):
        assert registry.admin("POST", f"{ADMIN}/{name}/{op}").status_code == 409
    assert registry.admin("GET", f"{ADMIN}/{name}").json()["state"] == "retired"
    (entry,) = [e for e in _audit(registry, name) if e.action == "station.retire"]
    assert entry.detail["revoked_count"] == 3 and entry.detail["trust_list_sequence"] == sequence


def test_the_cli_runs_the_lifecycle_with_audit_rows(registry, tmp_path):
    name = _name("cli")
    token_file = tmp_path / "token"
    out = registry.cli(
        "station",
        "add",
        name,
        "--role",
        "station",
        "--products",
        "101",
        "--per-day",
        "7",
        "--total",
        "none",
        "--token-file",
        str(token_file),
    ).stdout
    assert "role station" in out and "product:101" in out and "total 0/no limit" in out
    token = token_file.read_text().strip()
    assert _block(registry, token, count=7).status_code == 200
    _refused(_block(registry, token, count=1), BlockRefusal.DAILY_QUOTA)
    listing = [
        line
        for line in registry.cli("station", "list").stdout.splitlines()
        if line.startswith(name + "\t")
    ]
    assert len(listing) == 1 and "\tactive\t" in listing[0] and "today 7/7" in listing[0]
    assert token not in registry.cli("station", "list").stdout
    assert "today 7/8" in registry.cli("station", "set", name, "--per-day", "8").stdout
    registry.cli("station", "disable", name, "--reason", "audit")
    assert not _works(registry, token)
    registry.cli("station", "enable", name)
    new_file = tmp_path / "token2"
    registry.cli("station", "rotate-token", name, "--token-file", str(new_file))
    assert not _works(registry, token) and _works(registry, new_file.read_text().strip())
    retired = registry.cli("station", "retire", name).stdout
    assert "0 unprinted" not in retired and "trust list" in retired
    # Bad input: one line, exit 2, nothing changed.
    for args in (
        ("station", "enable", name),  # retired
        ("station", "disable", f"no-{name}"),
        ("station", "set", name, "--per-day", "many"),
        ("station", "add", _name("x"), "--products", "999999", "--role", "station"),
    ):
        result = registry.cli(*args, check=False)
        assert result.returncode == 2 and "error" in result.stderr, (args, result.stderr)
    actions = [e.action for e in _audit(registry, name)]
    assert actions == [
        "station.retire",
        "station.rotate_token",
        "station.enable",
        "station.disable",
        "station.scope",
        "station.add",
    ]
    assert {e.client for e in _audit(registry, name)} == {"local"}
    assert all(e.actor.startswith("cli:") for e in _audit(registry, name))
