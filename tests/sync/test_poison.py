"""Poison replies: a catalog page that is well-formed JSON but wrong in one field, sent by a
real registry through the fault proxy, pulled by a real `ocop-kiosk sync --once` process.

For every case: exit code 3 (not the crash code 1), the field named on stderr, nothing of
the page applied, the cursor where it was, the outbox still delivered (push runs after a
failed pull), and a saved state that says what happened (never `syncing`). Then the proxy
stops poisoning and the same kiosk takes the page."""

from __future__ import annotations

import copy
import json
import signal
import uuid

import pytest

from kiosk.catalog import Catalog
from kiosk.doctor import build_env, run_doctor, select_checks
from kiosk.doctor.checks import Status
from kiosk.sync import SyncState, read_sync_status
from kiosk.sync.errors import PageNotApplied
from tests.sync.conftest import run_kiosk_cli
from tests.sync.paths import render, set_at

API = "/api/v1"
EXIT_SYNC_FAILED = 3
VALID_GTIN = "4006381333931"  # check digit right, not in the demo catalog


def _index(reply: dict, product_id: int) -> int:
    return next(i for i, p in enumerate(reply["products"]) if p["id"] == product_id)


# Each poison changes a reply in place and returns the field the refusal must name.


def product_field(name: str, path: tuple, value):
    """A poison that sets one field of product 102 (the one the test changed)."""

    def poison(reply):
        i = _index(reply, 102)
        set_at(reply["products"][i], path, value)
        return render(path, f"products[{i}]")

    poison.__name__ = name
    return poison


def lone_surrogate_in_address(reply):
    producer = {
        "id": "htx-poison",
        "name": "HTX",
        "kind": "cooperative",
        "address": "Bản \udfff Mòng",
        "commune": "",
        "district": "",
        "phone": "",
    }
    reply["producers"].append(producer)
    return f"producers[{len(reply['producers']) - 1}].address"


def superscript_tombstone_id(reply):
    reply["tombstones"].append({"kind": "product", "id": "²"})  # "²".isdigit() is True
    return f"tombstones[{len(reply['tombstones']) - 1}].id"


def duplicate_gtin(reply):
    i = _index(reply, 102)
    reply["products"][i]["gtin"] = VALID_GTIN
    twin = copy.deepcopy(reply["products"][i])
    twin["id"] = 777_777
    reply["products"].append(twin)
    return f"products[{len(reply['products']) - 1}].gtin"


POISONS = [
    product_field("lone_surrogate_in_name", ("name_vi",), "Chè Shan \ud800"),
    lone_surrogate_in_address,
    product_field("control_character_in_name", ("name_en",), "Tea\x1b[2J"),
    superscript_tombstone_id,
    product_field("impossible_date", ("ratings", 0, "recognised_on"), "2024-02-30"),
    product_field("fullwidth_gtin", ("gtin",), "４００６３８１３３３９３１"),
    product_field("wrong_check_digit", ("gtin",), VALID_GTIN[:-1] + "2"),
    duplicate_gtin,
    # 2000000001012 is held by product 101 on the kiosk, which the page does not change.
    product_field("gtin_of_a_product_not_in_the_page", ("gtin",), "2000000001012"),
]


def _synced_kiosk(registry, faults, make_kiosk, **overrides):
    """A kiosk behind the proxy that holds the whole catalog, then a registry change to
    product 102 so that the next page is not empty, and two scans waiting to go out."""
    kiosk = make_kiosk(registry, url=faults.url, **overrides)
    report, _ = kiosk.engine.sync_once()
    assert report.ok, report.error
    product = registry.admin("GET", f"{API}/admin/products/102").json()
    product["name_en"] = f"Changed {uuid.uuid4().hex[:8]}"
    assert registry.admin("PUT", f"{API}/admin/products/102", json=product).ok
    kiosk.add_scans(2, serial=600_000 + uuid.uuid4().int % 100_000)
    return kiosk, product["name_en"]


def _cursor(kiosk) -> int:
    return int(
        kiosk.store.query_one("SELECT value FROM sync_state WHERE key = 'catalog_cursor'")[0]
    )


@pytest.mark.parametrize("poison", POISONS, ids=lambda f: f.__name__)
def test_poison_page_is_refused_and_push_still_runs(registry, faults, make_kiosk, poison):
    kiosk, new_name = _synced_kiosk(registry, faults, make_kiosk)
    before, cursor = kiosk.snapshot(), _cursor(kiosk)
    scans_before = registry.report()["total_scans"]
    expected = {}
    faults.mode = "poison"
    faults.poison = lambda reply: expected.setdefault("field", poison(reply))

    once = run_kiosk_cli("--config", str(kiosk.config_path), "sync", "--once")

    assert faults.poisoned >= 1
    assert once.returncode == EXIT_SYNC_FAILED, once.stderr
    assert expected["field"] in once.stderr, once.stderr
    assert "Traceback" not in once.stderr and "internal error" not in once.stderr
    assert kiosk.snapshot() == before  # nothing of the page
    assert _cursor(kiosk) == cursor
    assert kiosk.unsent() == 0  # push ran: scans and heartbeat sent
    assert registry.report()["total_scans"] == scans_before + 2
    status = read_sync_status(kiosk.store)
    assert status.state is SyncState.ERROR
    assert expected["field"] in status.last_error

    faults.mode = "proxy"  # the registry's data is fixed
    report, status = kiosk.engine.sync_once()
    assert report.ok, report.error
    assert Catalog(kiosk.store).product(102).name_en == new_name
    assert status.state is SyncState.IDLE and _cursor(kiosk) > cursor


PAGE_CRASH = """
from kiosk import catalog_write
real = catalog_write.replace_ratings
calls = []
def replace_ratings(conn, product_id, ratings):
    calls.append(product_id)
    if len(calls) == 2:
        raise RuntimeError("disk controller hiccup")
    real(conn, product_id, ratings)
catalog_write.replace_ratings = replace_ratings
"""


def test_a_page_that_fails_while_applied_is_rolled_back(registry, faults, make_kiosk):
    """The checks pass, the write fails half way (second product): the first product's
    upsert is undone with the rest, the failure is typed, push still runs."""
    kiosk, _ = _synced_kiosk(registry, faults, make_kiosk)
    product = registry.admin("GET", f"{API}/admin/products/103").json()
    product["name_en"] = f"Also changed {uuid.uuid4().hex[:8]}"
    assert registry.admin("PUT", f"{API}/admin/products/103", json=product).ok
    before, cursor = kiosk.snapshot(), _cursor(kiosk)

    once = run_kiosk_cli("--config", str(kiosk.config_path), "sync", "--once", prelude=PAGE_CRASH)

    assert once.returncode == EXIT_SYNC_FAILED, once.stderr
    assert "not applied" in once.stderr and "RuntimeError" in once.stderr
    assert "internal error" not in once.stderr
    assert kiosk.snapshot() == before and _cursor(kiosk) == cursor
    assert kiosk.unsent() == 0
    assert read_sync_status(kiosk.store).state is SyncState.ERROR


def test_page_not_applied_is_typed_in_process(registry, faults, make_kiosk, monkeypatch):
    from kiosk import catalog_write

    kiosk, _ = _synced_kiosk(registry, faults, make_kiosk)
    before = kiosk.snapshot()

    def boom(conn, product_id, ratings):
        raise KeyError("stars")

    monkeypatch.setattr(catalog_write, "replace_ratings", boom)
    with pytest.raises(PageNotApplied, match="rolled back") as caught:
        kiosk.engine.pull()
    assert isinstance(caught.value.__cause__, KeyError)
    assert kiosk.snapshot() == before


def test_gtins_swapped_between_two_products_apply(fresh_registry, make_kiosk):
    """A legitimate page that the UNIQUE index would trip over if applied in list order:
    101 and 106 swap GTINs at the registry (via a free GTIN, as its own index requires)."""
    reg = fresh_registry
    kiosk = make_kiosk(reg)
    assert kiosk.engine.sync_once()[0].ok
    a = reg.admin("GET", f"{API}/admin/products/101").json()
    b = reg.admin("GET", f"{API}/admin/products/106").json()
    gtin_a, gtin_b = a["gtin"], b["gtin"]
    for product, gtin in ((a, None), (b, gtin_a), (a, gtin_b)):
        product["gtin"] = gtin
        answer = reg.admin("PUT", f"{API}/admin/products/{product['id']}", json=product)
        assert answer.ok, answer.text
    report, status = kiosk.engine.sync_once()
    assert report.ok, report.error
    catalog = Catalog(kiosk.store)
    assert catalog.product(101).gtin == gtin_b and catalog.product(106).gtin == gtin_a


def test_slow_catalog_does_not_keep_scans_from_the_registry(registry, faults, make_kiosk):
    """The catalog reply times out on a slow link; the small upload still goes through."""
    kiosk = make_kiosk(registry, url=faults.url, timeout_s=1.0)
    kiosk.add_scans(3, serial=700_001)
    scans_before = registry.report()["total_scans"]
    faults.mode, faults.delay_s = "slow_catalog", 2.5
    report, status = kiosk.engine.sync_once()
    assert not report.ok and "pull:" in report.error
    assert report.push.accepted == 4  # 3 scans + the heartbeat
    assert kiosk.unsent() == 0 and registry.report()["total_scans"] == scans_before + 3
    assert status.state is SyncState.OFFLINE


def test_forged_trust_list_is_refused_not_offline(registry, faults, make_kiosk):
    from kiosk.ui.services import Services

    kiosk = make_kiosk(registry, url=faults.url)
    kiosk.add_scans(1, serial=700_002)
    before = kiosk.snapshot()
    faults.mode = "foreign_root"
    once = run_kiosk_cli("--config", str(kiosk.config_path), "sync", "--once")
    assert once.returncode == EXIT_SYNC_FAILED, once.stderr
    assert "trust list" in once.stderr
    assert kiosk.snapshot() == before and kiosk.unsent() == 0

    shown = run_kiosk_cli("--config", str(kiosk.config_path), "sync", "status")
    assert "refused" in shown.stdout
    assert SyncState.REFUSED.label_vi in shown.stdout
    assert SyncState.REFUSED.label_en in shown.stdout
    services = Services(kiosk.settings, kiosk.store, kiosk.data_dir)
    try:
        view = services.sync_status()
    finally:
        services.close()
    assert view.state == "refused" and view.failed and "trust list" in view.detail
    assert view.label("vi") == "Từ chối: máy chủ không đáng tin"
    doctor = run_doctor(
        build_env(str(kiosk.config_path), str(kiosk.data_dir)), select_checks(only=["last sync"])
    )
    line = {r.name: r for r in doctor}["last sync"]
    assert line.status is Status.FAIL and "root" in line.hint, line


KILL_DURING_PULL = """
import os, signal
from kiosk.sync.client import RegistryClient
def _die(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
RegistryClient.changes = _die
"""


def test_killed_round_is_interrupted_not_syncing_forever(registry, make_kiosk):
    kiosk = make_kiosk(registry, name="killed")
    killed = run_kiosk_cli(
        "--config", str(kiosk.config_path), "sync", "--once", prelude=KILL_DURING_PULL
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    stored = json.loads(
        kiosk.store.query_one("SELECT value FROM sync_state WHERE key = 'status'")[0]
    )
    assert stored["state"] == "syncing"  # what the killed process left
    shown = run_kiosk_cli("--config", str(kiosk.config_path), "sync", "status", "--json")
    status = json.loads(shown.stdout)
    assert status["state"] == "interrupted"
    assert "did not finish" in status["last_error"]
    doctor = run_doctor(
        build_env(str(kiosk.config_path), str(kiosk.data_dir)), select_checks(only=["last sync"])
    )
    assert (
        {r.name: r for r in doctor}["last sync"]
        .data.get("last_error", "")
        .startswith("the sync round started")
    )
    report, after = kiosk.engine.sync_once()
    assert report.ok and after.state is SyncState.IDLE


def test_a_running_round_is_syncing_for_other_readers(registry, make_kiosk):
    """The lock tells a live round from a dead one: while a round runs (here: inside its
    pull), a reader in another process sees `syncing`."""
    kiosk = make_kiosk(registry)
    seen = {}
    real = kiosk.engine.client.changes

    def changes(*args, **kwargs):
        if "state" not in seen:
            shown = run_kiosk_cli("--config", str(kiosk.config_path), "sync", "status", "--json")
            seen["state"] = json.loads(shown.stdout)["state"]
        return real(*args, **kwargs)

    kiosk.engine.client.changes = changes
    assert kiosk.engine.sync_once()[0].ok
    assert seen["state"] == "syncing"
