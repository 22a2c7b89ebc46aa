"""Fuzzed catalog replies through the whole pull path: real replies captured from a real
registry, mutated (field swaps, unicode oddities, wrong types, removed keys, duplicated list
items, truncated lists, strings and bytes), then parsed, checked and applied by the engine
on a real SQLite store. Every case must end in exactly one of two ways: applied (the cursor
moved and the rows say what the reply said), or refused with BadReply and the store exactly
as before. Any other exception is a hole in kiosk/sync/validate.py."""

from __future__ import annotations

import copy
import json
import random
import sqlite3

import pytest
import requests

from kiosk.sync import engine as engine_module
from kiosk.sync.client import RegistryClient
from kiosk.sync.engine import PullResult, SyncEngine
from kiosk.sync.errors import BadReply
from ocop.stamps.catalog_signature import sign_catalog_reply
from ocop.stamps.keys import load_private_key
from tests.sync.outcome import assert_rows_say
from tests.sync.paths import get_at, paths, set_at

API = "/api/v1"
SEED = 20261201
CASES_PER_BASELINE = 1000  # 2,000 in all
MIN_APPLIED_SHARE = 0.05  # the fuzzer must reach the write path, not only the checks
MIN_REFUSED_SHARE = 0.30

JUNK = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**31,
    2**63,
    2**70,
    1.5,
    float("nan"),
    "",
    " ",
    "x",
    "0",
    "１２",
    "²",
    [],
    {},
    [None],
    {"id": 1},
    "a" * 70,
    "-" * 5000,
]
ODD = [
    "\ud800",
    "\udfff",
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9f",
    "\t",
    "\n",
    "\r",
    "\u2028",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "e\u0301",
    "²",
    "٣",
    "５",
    "𝟗",
]
DATES = [
    "2024-02-30",
    "2023-02-29",
    "2024-13-01",
    "2024-00-10",
    "0000-01-01",
    "1989-12-31",
    "9999-12-31",
    "２０２４-01-01",
    "2024-1-01",
    "20240101",
    "2024-01-01 ",
    "2024-06-30",
    None,
]
DIGIT_LOOKALIKES = str.maketrans("0123456789", "０１２３４５６７８９")


class CannedRegistry(RegistryClient):
    """The transport replaced by canned bytes; parsing and everything after is the real
    client and engine."""

    def __init__(self, media: dict[str, bytes], list_key=None):
        super().__init__("http://canned.invalid", "token")
        self.body = b""
        self.media_bytes = media
        self.list_key = list_key

    def _request(self, method, path, **kwargs):
        if path == "/catalog/changes":
            return self._signed(self.body, kwargs["params"]["since"]), "application/json"
        if path.startswith("/media/"):
            return self.media_bytes.get(path[len("/media/") :], b"not this picture"), "image/png"
        raise AssertionError(f"unexpected request {method} {path}")

    def _signed(self, body: bytes, since: int) -> bytes:
        """The fuzzed reply as a (buggy) registry would send it: signed with its real
        list-signing key, so the checks behind the signature are what is fuzzed."""
        try:
            reply = json.loads(body)
        except ValueError:
            return body
        if not isinstance(reply, dict) or self.list_key is None:
            return body
        try:
            reply["catalog_signature"] = sign_catalog_reply(reply, since, self.list_key)
        except ValueError:  # NaN: no registry could sign it; sent unsigned
            return body
        return json.dumps(reply, ensure_ascii=True).encode()


def _list_key(registry):
    """The registry's list-signing key file (this module's registry delegates once)."""
    (path,) = (registry.data_dir / "keys").glob("list-*.key")
    return load_private_key(path)


# --- mutations ----------------------------------------------------------------------------


def _oddify(rng: random.Random, text: str) -> str:
    choice = rng.random()
    if choice < 0.2 and any(c.isdigit() for c in text):
        return text.translate(DIGIT_LOOKALIKES)
    if choice < 0.3:
        return rng.choice(DATES) or ""
    if choice < 0.4:
        return text[: rng.randrange(len(text) + 1)]
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(ODD) + text[at:]


def mutate(rng: random.Random, reply: dict) -> None:
    fields = [p for p in paths(reply) if p]
    texts = [p for p in fields if isinstance(get_at(reply, p), str)]
    path = rng.choice(texts if texts and rng.random() < 0.5 else fields)  # text: half
    value = get_at(reply, path)
    op = rng.randrange(8)
    if op == 0:
        set_at(reply, path, copy.deepcopy(rng.choice(JUNK)))
    elif op == 1 and isinstance(value, str):
        set_at(reply, path, _oddify(rng, value))
    elif op == 2:
        other = rng.choice(fields)
        if other[: len(path)] != path and path[: len(other)] != other:
            a, b = get_at(reply, path), get_at(reply, other)
            set_at(reply, path, b)
            set_at(reply, other, a)
    elif op == 3 and isinstance(get_at(reply, path[:-1]), dict):
        del get_at(reply, path[:-1])[path[-1]]
    elif op == 4 and isinstance(value, list) and value:
        value.append(copy.deepcopy(rng.choice(value)))  # a duplicate id / GTIN
    elif op == 5 and isinstance(value, list):
        del value[rng.randrange(len(value) + 1) :]
    elif op == 6:
        set_at(reply, path, rng.choice([str(value), [value], {"value": value}]))
    elif op == 7 and isinstance(value, str) and value:
        set_at(
            reply,
            path,
            rng.choice(
                [
                    int(value) if value.isascii() and value.isdigit() else value.upper(),
                    value * 3,
                    value.strip() + " ",
                ]
            ),
        )
    else:
        set_at(reply, path, rng.choice(DATES))


def mangled_body(rng: random.Random, reply: dict) -> bytes:
    reply = copy.deepcopy(reply)
    for _ in range(rng.randint(1, 3)):
        mutate(rng, reply)
    body = json.dumps(reply, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:  # truncated or garbled on the wire
        cut = rng.randrange(len(body))
        body = body[:cut] if rng.random() < 0.5 else body[:cut] + b"\xff" + body[cut + 1 :]
    return body


# --- outcome ------------------------------------------------------------------------------


def _assert_applied(kiosk, body: bytes) -> None:
    reply = json.loads(body)
    store = kiosk.store
    cursor = store.query_one("SELECT value FROM sync_state WHERE key = 'catalog_cursor'")[0]
    assert int(cursor) == reply["cursor"]
    assert_rows_say(store.query_one, reply)


def _run_cases(kiosk, client: CannedRegistry, reply: dict, rng: random.Random, cases: int):
    baseline = sqlite3.connect(":memory:")
    kiosk.store.conn.backup(baseline)
    before = kiosk.snapshot()
    applied = refused = 0
    holes = []
    for case in range(cases):
        client.body = mangled_body(rng, reply)
        try:
            kiosk.engine.pull_page(PullResult())
        except BadReply:
            refused += 1
            if kiosk.snapshot() != before:
                holes.append((case, "refused but the store changed", client.body[:300]))
        except Exception as exc:  # noqa: BLE001 - the point of the test
            holes.append((case, f"{type(exc).__name__}: {exc}"[:300], client.body[:300]))
        else:
            applied += 1
            try:
                _assert_applied(kiosk, client.body)
            except (AssertionError, ValueError, KeyError, TypeError) as exc:
                holes.append((case, f"applied wrongly: {exc!r}"[:300], client.body[:300]))
        baseline.backup(kiosk.store.conn)  # back to the start
    baseline.close()
    return applied, refused, holes


@pytest.fixture(scope="module")
def captured(registry):
    """Two real replies: the first page of a fresh sync (producers, media, products, the
    trust list), and a delta after updates (a GTIN moved), an addition and a deletion."""

    def changes(since, limit):
        answer = requests.get(
            f"{registry.url}{API}/catalog/changes",
            timeout=30,
            params={"since": since, "trust_sequence": 0, "limit": limit},
            headers={"Authorization": f"Bearer {registry.token}"},
        )
        answer.raise_for_status()
        return answer.json()

    whole = changes(0, 2000)  # a fresh kiosk's first (and only) page
    assert not whole["more"] and whole["products"] and whole["trust_list"]
    moved = registry.admin("GET", f"{API}/admin/products/101").json()["gtin"]
    for pid, gtin in ((101, None), (102, moved), (103, "4006381333931")):
        product = registry.admin("GET", f"{API}/admin/products/{pid}").json()
        product["name_en"] += " (new)"
        product["gtin"] = gtin
        assert registry.admin("PUT", f"{API}/admin/products/{pid}", json=product).ok
    assert registry.admin(
        "PUT",
        f"{API}/admin/products/790001",
        json={
            "name_vi": "Mận hậu",
            "group": 1,
            "producer": "htx-bich-thao",
            "ratings": [{"stars": 3, "recognised_on": "2025-01-10"}],
        },
    ).ok
    assert registry.admin("DELETE", f"{API}/admin/products/105").ok
    delta = changes(whole["cursor"], 100)
    media = {
        m["hash"]: requests.get(f"{registry.url}{API}/media/{m['hash']}", timeout=30).content
        for m in whole["media"]
    }
    return whole, delta, media


def _kiosk(make_kiosk, registry, media, monkeypatch):
    monkeypatch.setattr(engine_module, "make_renditions", lambda *a, **k: None)
    kiosk = make_kiosk(registry)
    client = CannedRegistry(media, _list_key(registry))
    kiosk.engine = SyncEngine(kiosk.store, kiosk.settings, kiosk.data_dir, client=client)
    return kiosk, client


@pytest.mark.slow
def test_fuzzed_replies_are_applied_or_refused(registry, make_kiosk, captured, monkeypatch):
    whole, delta, media = captured
    rng = random.Random(SEED)
    results = []

    # 1. The whole catalog into an empty kiosk.
    kiosk, client = _kiosk(make_kiosk, registry, media, monkeypatch)
    results.append(_run_cases(kiosk, client, whole, rng, CASES_PER_BASELINE))

    # 2. A delta into a kiosk that holds the whole catalog.
    kiosk, client = _kiosk(make_kiosk, registry, media, monkeypatch)
    client.body = json.dumps(whole).encode()
    assert not kiosk.engine.pull_page(PullResult())
    results.append(_run_cases(kiosk, client, delta, rng, CASES_PER_BASELINE))

    applied = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    holes = [h for r in results for h in r[2]]
    total = 2 * CASES_PER_BASELINE
    assert not holes, f"{len(holes)} of {total} cases neither applied nor refused: " + "\n".join(
        map(repr, holes[:5])
    )
    assert applied + refused == total
    assert applied >= MIN_APPLIED_SHARE * total and refused >= MIN_REFUSED_SHARE * total, (
        applied,
        refused,
    )
