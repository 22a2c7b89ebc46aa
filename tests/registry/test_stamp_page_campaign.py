"""Issue 17 item 1, the stamp page for a campaign, against a real registry process (SQLite
and PostgreSQL): caching headers and ETag/304 per verdict, a revoked stamp never cacheable,
the view beacon, batched view writes (counted after a flush, kept over a clean shutdown, at
most a batch lost to kill -9), and the statements one view costs."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import uuid

import httpx
import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import event

from registry import db
from tests.registry.server import backends, fresh_postgres_db, start_registry

API = "/api/v1"
PHONE = "Mozilla/5.0 (Linux; Android 14) Mobile"


@pytest.fixture(scope="module", params=backends())
def reg(request, tmp_path_factory):
    r = start_registry(tmp_path_factory.mktemp("campaign"), request.param)
    yield r
    r.stop()


def _stamp(reg, product_id: int = 101, count: int = 1) -> tuple[list[str], int]:
    block = reg.issue_block(product_id, count)
    return [s.rsplit("/", 1)[1] for s in block["stamps"]], block["first_serial"]


def _get(reg, path: str, agent: str = PHONE, **headers) -> requests.Response:
    return requests.get(
        reg.url + path, headers={"User-Agent": agent, **headers}, timeout=10, allow_redirects=False
    )


def _views(db_url: str, serial: int) -> int:
    database = db.Database(db_url)
    try:
        with database.read() as conn:
            return conn.execute(
                sa.select(sa.func.count()).where(db.stamp_views.c.serial == serial)
            ).scalar_one()
    finally:
        database.dispose()


def _eventually(check, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _expired_product(reg) -> int:
    products = reg.station(
        "GET", f"{API}/catalog/changes", params={"since": 0, "limit": 5000}
    ).json()["products"]
    return next(
        p["id"]
        for p in products
        if p["ratings"] and max(r["valid_until"] or "" for r in p["ratings"]) < "2026-01-01"
    )


def _forged(code: str) -> str:
    """One signature digit changed."""
    return code[:-3] + ("1" if code[-3] != "1" else "2") + code[-2:]


def _cacheable(reply: requests.Response) -> str:
    """The ETag of a page a proxy may keep for a minute (asserts the headers)."""
    assert reply.status_code == 200, reply.text
    assert reply.headers["Cache-Control"] == "public, max-age=60"
    assert "Accept-Language" in reply.headers["Vary"]
    tag = reply.headers["ETag"]
    assert tag.startswith('"') and not tag.startswith("W/")  # strong
    return tag


def _never_cached(reply: requests.Response) -> None:
    assert reply.headers["Cache-Control"] == "no-store", reply.headers
    assert "ETag" not in reply.headers


def test_genuine_page_is_cacheable_with_an_etag_and_304(reg):
    (code,), serial = _stamp(reg)
    first = _get(reg, f"/S/{code}")
    tag = _cacheable(first)
    assert 'data-verdict="genuine"' in first.text
    # The same client again within the hour: the same view, the same bytes, 304.
    again = _get(reg, f"/S/{code}", **{"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == tag and again.headers["Cache-Control"] == "public, max-age=60"
    assert _get(reg, f"/S/{code}", **{"If-None-Match": f'"other", {tag}'}).status_code == 304
    # Another language is another page; another phone's view changes the count: new ETags.
    english = _get(reg, f"/S/{code}", **{"Accept-Language": "en", "If-None-Match": tag})
    assert english.status_code == 200 and _cacheable(english) != tag
    other = _get(reg, f"/S/{code}", agent="another phone", **{"If-None-Match": tag})
    assert other.status_code == 200 and _cacheable(other) != tag
    assert 'data-checks="2"' in other.text
    # The gzipped page and the plain one are two byte sequences: two strong ETags.
    plain = _get(reg, f"/S/{code}", **{"Accept-Encoding": "identity", "If-None-Match": tag})
    assert plain.status_code == 200 and _cacheable(plain) != tag
    assert _eventually(lambda: _views(reg.db_url, serial) == 2)


def test_expired_rating_is_cacheable_too(reg):
    (code,), _ = _stamp(reg, _expired_product(reg))
    reply = _get(reg, f"/S/{code}")
    assert 'data-verdict="genuine_rating_expired"' in reply.text
    _cacheable(reply)


def test_a_revoked_stamp_is_never_cacheable(reg):
    (code,), serial = _stamp(reg)
    tag = _cacheable(_get(reg, f"/S/{code}"))
    reg.cli("revoke", "serials", str(serial), str(serial), "--reason", "lost roll")
    # A phone (or proxy) revalidating its genuine copy gets the revoked page, not a 304.
    reply = _get(reg, f"/S/{code}", **{"If-None-Match": tag})
    assert reply.status_code == 200 and 'data-verdict="revoked"' in reply.text
    _never_cached(reply)
    assert _get(reg, f"/S/{code}", **{"If-None-Match": "*"}).status_code == 200
    # Its beacon does not count a view of a revoked stamp either.
    before = _views(reg.db_url, serial)
    assert _get(reg, f"/v/{code}", agent="fresh phone").status_code == 200
    time.sleep(0.6)  # two flush intervals
    assert _views(reg.db_url, serial) == before


def test_suspect_forged_and_malformed_pages_are_never_cached(reg):
    (code,), serial = _stamp(reg)
    reg.cli("revoke", "suspect", str(serial), "--reason", "test")
    reply = _get(reg, f"/S/{code}")
    assert 'data-verdict="suspect_clone"' in reply.text
    _never_cached(reply)
    reply = _get(reg, f"/S/{_forged(code)}")
    assert reply.status_code in (400, 404) and 'data-verdict="forged"' in reply.text
    _never_cached(reply)
    reply = _get(reg, "/S/NOT-A-STAMP")
    assert reply.status_code == 400
    _never_cached(reply)


def test_beacon_counts_the_view_of_a_kept_page(reg):
    (code,), serial = _stamp(reg)
    page = _get(reg, f"/S/{code}")
    assert f'<img id="beacon" src="/v/{code}"' in page.text
    beacon = _get(reg, f"/v/{code}")  # the page's own beacon: the same client and hour
    assert beacon.status_code == 200 and beacon.headers["Content-Type"] == "image/gif"
    assert beacon.headers["Cache-Control"] == "no-store" and beacon.content.startswith(b"GIF89a")
    # Two phones shown the page from a proxy's cache: only their beacons reach us.
    _get(reg, f"/v/{code}", agent="phone behind a proxy 1")
    _get(reg, f"/v/{code.lower()}", agent="phone behind a proxy 2")
    assert _eventually(lambda: _views(reg.db_url, serial) == 3)
    time.sleep(0.6)
    assert _views(reg.db_url, serial) == 3
    # The count on the page equals the views written.
    assert 'data-checks="3"' in _get(reg, f"/S/{code}").text
    # A forged code's beacon counts nothing.
    assert _get(reg, f"/v/{_forged(code)}", agent="phone 4").status_code == 200
    assert _get(reg, "/v/NOT-A-STAMP", agent="phone 5").status_code == 200
    time.sleep(0.6)
    assert _views(reg.db_url, serial) == 3


def _phones(reg, code: str, n: int) -> None:
    for i in range(n):
        assert _get(reg, f"/S/{code}", agent=f"phone {i}").status_code == 200


@pytest.mark.parametrize("backend", backends())
def test_views_survive_a_clean_shutdown(tmp_path, backend):
    """Nothing is written by time (an hour) or by size (10,000): only the shutdown writes."""
    reg = start_registry(
        tmp_path,
        backend,
        env={"OCOP_REGISTRY_VIEW_FLUSH_S": "3600", "OCOP_REGISTRY_VIEW_BATCH": "10000"},
    )
    try:
        (code,), serial = _stamp(reg)
        _phones(reg, code, 25)
        assert 'data-checks="26"' in _get(reg, f"/S/{code}", agent="phone 25").text
        assert _views(reg.db_url, serial) == 0  # all still queued
        reg.proc.send_signal(signal.SIGTERM)  # uvicorn's graceful shutdown, then re-raised
        assert reg.proc.wait(30) in (0, -signal.SIGTERM)
        assert _views(reg.db_url, serial) == 26
    finally:
        reg.stop()


@pytest.mark.parametrize("backend", backends())
def test_kill_9_loses_at_most_one_batch(tmp_path, backend):
    batch = 10
    reg = start_registry(
        tmp_path,
        backend,
        env={"OCOP_REGISTRY_VIEW_FLUSH_S": "3600", "OCOP_REGISTRY_VIEW_BATCH": str(batch)},
    )
    try:
        (code,), serial = _stamp(reg)
        _phones(reg, code, 25)
        assert _eventually(lambda: _views(reg.db_url, serial) >= 20)  # two full batches
        reg.proc.send_signal(signal.SIGKILL)
        reg.proc.wait(10)
        written = _views(reg.db_url, serial)
        assert 25 - batch < written <= 25, written
    finally:
        reg.stop()


# --- statements per view (in-process: the app on a real database, every statement seen) --


@pytest.fixture(params=backends())
def app_db(request, tmp_path):
    from registry import cli
    from registry.config import RegistryConfig

    cleanups = []
    if request.param == "postgres":
        url, drop = fresh_postgres_db()
        cleanups.append(drop)
    else:
        url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    config = RegistryConfig(db_url=url, data_dir=tmp_path, view_flush_s=3600, view_batch=10_000)
    database, _ = cli.open_registry(config)
    token = cli.set_up_demo(database, config)
    yield config, database, token
    database.dispose()
    for cleanup in cleanups:
        cleanup()


def test_one_statement_per_view_and_one_insert_per_batch(app_db):
    from registry.api import create_app

    config, database, token = app_db
    app = create_app(config, database)
    statements: list[tuple[str, str]] = []

    @event.listens_for(database.engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_args):
        statements.append((threading.current_thread().name, statement))

    async def run() -> None:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            auth = {"Authorization": f"Bearer {token}"}
            block = await client.post(
                f"{API}/stamp-blocks",
                headers=auth,
                json={"request_id": f"r-{uuid.uuid4().hex}", "product_id": 101, "count": 41},
            )
            codes = [s.rsplit("/", 1)[1] for s in block.json()["stamps"]]
            await client.get(f"/S/{codes[0]}", headers={"User-Agent": "warm"})  # fills caches
            statements.clear()
            for i, code in enumerate(codes[1:]):
                reply = await client.get(f"/S/{code}", headers={"User-Agent": f"phone {i}"})
                assert reply.status_code == 200 and 'data-checks="1"' in reply.text

    asyncio.run(run())
    on_request = [s for who, s in statements if who != "view-log"]
    assert len(on_request) == 40, on_request  # one SELECT per view, nothing written
    assert all(s.lstrip().upper().startswith("SELECT") for s in on_request)
    statements.clear()
    app.state.views.close()  # the shutdown's flush: one transaction for the 41 queued views
    inserts = [s for _, s in statements if "INSERT INTO stamp_views" in s]
    assert len(inserts) == 1
    with database.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.stamp_views)).scalar() == 41
