"""Registry fixtures: a real `ocop-registry serve --demo` process per test module and
backend (SQLite always; PostgreSQL when $OCOP_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import pytest

from tests.registry import chromium
from tests.registry.server import backends, start_registry
from tests.registry.test_phone_pages import ARGS


@pytest.fixture(scope="module", params=backends())
def registry(request, tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("registry"), request.param)
    yield reg
    reg.stop()


@pytest.fixture
def fresh_registry(request, tmp_path):
    """A registry of its own, for tests that change keys or revoke (SQLite)."""
    reg = start_registry(tmp_path / "own-registry")
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium (Playwright) per test module."""
    if not chromium.available():
        pytest.skip("no /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium.CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
