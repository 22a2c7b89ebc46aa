"""The stamp page and its beacon are answered ahead of the app's middleware stack
(registry/phone_paths.py): the same headers, gzip and error documents as every other
page, against a real registry process; HEAD, other methods and odd paths; a failure
inside the page answered as the app answers it."""

from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest
import requests

from registry.middleware import COMMON_HEADERS, HTML_CSP, OTHER_CSP

PHONE = {"User-Agent": "phone-paths test", "Accept-Language": "vi"}


def _code(registry) -> str:
    return registry.issue_block(count=1)["stamps"][0].rsplit("/", 1)[1]


def _security(headers) -> dict[str, str]:
    return {k.decode(): headers.get(k.decode()) for k in COMMON_HEADERS}


def test_stamp_page_has_the_stacks_headers_and_gzip(registry):
    code = _code(registry)
    page = requests.get(f"{registry.url}/S/{code}", headers=PHONE, timeout=30)
    index = requests.get(f"{registry.url}/", headers=PHONE, timeout=30)  # through the stack
    assert page.status_code == 200 and index.status_code == 200
    assert _security(page.headers) == _security(index.headers)
    assert all(_security(page.headers).values())
    assert page.headers["Content-Security-Policy"] == HTML_CSP
    assert page.headers["Content-Encoding"] == "gzip"  # requests sends Accept-Encoding: gzip
    assert page.headers["Vary"] == "Accept-Language, Accept-Encoding"
    assert page.headers["Cache-Control"] == "public, max-age=60" and page.headers["ETag"]
    plain = requests.get(
        f"{registry.url}/S/{code}", headers={**PHONE, "Accept-Encoding": "identity"}, timeout=30
    )
    assert "Content-Encoding" not in plain.headers
    assert int(plain.headers["Content-Length"]) == len(plain.content)
    assert plain.text == page.text  # the same client within the hour: the same view
    # The validator of the gzipped page is its own (a strong ETag names one byte sequence).
    assert plain.headers["ETag"] != page.headers["ETag"]
    again = requests.get(
        f"{registry.url}/S/{code}",
        headers={**PHONE, "If-None-Match": page.headers["ETag"]},
        timeout=30,
    )
    assert again.status_code == 304 and again.content == b""


def test_head_answers_like_get_without_a_body(registry):
    code = _code(registry)
    get = requests.get(f"{registry.url}/S/{code}", headers=PHONE, timeout=30)
    head = requests.head(f"{registry.url}/S/{code}", headers=PHONE, timeout=30)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_other_methods_get_405_and_change_nothing(registry):
    code = _code(registry)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        reply = requests.request(method, f"{registry.url}/S/{code}", headers=PHONE, timeout=30)
        assert reply.status_code == 405, method
        assert reply.headers["Allow"] == "GET, HEAD"
        assert reply.headers["Content-Type"].startswith("application/problem+json")
        assert reply.headers["Content-Security-Policy"] == OTHER_CSP
    first = requests.get(f"{registry.url}/S/{code}", headers=PHONE, timeout=30)
    assert 'data-checks="1"' in first.text  # the refused requests were not views


def test_lower_case_beacon_and_odd_paths(registry):
    code = _code(registry)
    lower = requests.get(f"{registry.url}/s/{code.lower()}", headers=PHONE, timeout=30)
    assert lower.status_code == 200 and 'data-checks="1"' in lower.text
    beacon = requests.get(f"{registry.url}/v/{code}", headers=PHONE, timeout=30)
    assert beacon.status_code == 200 and beacon.headers["Content-Type"] == "image/gif"
    assert beacon.headers["Cache-Control"] == "no-store"
    assert "Content-Encoding" not in beacon.headers  # 43 bytes: below the gzip minimum
    for path in (f"/S/{code}/extra", "/S/", "/v/", "/S"):
        reply = requests.get(f"{registry.url}{path}", headers=PHONE, timeout=30)
        assert reply.status_code == 404, path
        assert reply.headers["Content-Type"].startswith("application/problem+json")
    forged = requests.get(f"{registry.url}/S/{code[:-4]}AAAA", headers=PHONE, timeout=30)
    assert forged.status_code in (400, 404) and forged.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "failure, status", [(RuntimeError("a bug"), 500), ("signing", 503)], ids=["bug", "signing"]
)
def test_a_failure_inside_the_page_is_answered_as_the_app_answers(
    tmp_path, monkeypatch, failure, status
):
    """In process (the failure is planted in the page's one read): the problem document
    and status the app's handlers give, with the security headers."""
    from registry import cli
    from registry.api import create_app
    from registry.config import RegistryConfig
    from registry.dal import phone as phone_rows
    from registry.signing import SigningError

    config = RegistryConfig(db_url=f"sqlite:///{tmp_path / 'r.sqlite'}", data_dir=tmp_path)
    database, _ = cli.open_registry(config)
    token = cli.set_up_demo(database, config)
    app = create_app(config, database)
    error = SigningError("no usable signing key") if failure == "signing" else failure

    def broken(*_args, **_kwargs):
        raise error

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            block = await client.post(
                "/api/v1/stamp-blocks",
                headers={"Authorization": f"Bearer {token}"},
                json={"request_id": "failure-test", "product_id": 101, "count": 1},
            )
            code = block.json()["stamps"][0].rsplit("/", 1)[1]
            monkeypatch.setattr(phone_rows, "stamp_state", broken)
            return await client.get(f"/S/{code}")

    try:
        reply = asyncio.run(run())
    finally:
        app.state.views.close()
        database.dispose()
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.headers["content-security-policy"] == OTHER_CSP
    assert reply.json()["status"] == status
    assert "a bug" not in reply.text  # a bug's detail stays in the log


def test_gzip_of_the_fast_path_is_one_member(registry):
    code = _code(registry)
    raw = requests.get(f"{registry.url}/S/{code}", headers=PHONE, timeout=30, stream=True)
    body = raw.raw.read()
    assert body[:2] == b"\x1f\x8b"
    assert gzip.decompress(body).decode().startswith("<!doctype html")
