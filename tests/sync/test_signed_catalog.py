"""Issue 14, item 9: catalog pages are signed by the registry's list-signing key; a proxy
that alters one product field is refused with a clear error and nothing changes."""

from __future__ import annotations

from kiosk.sync.errors import CatalogRefused
from kiosk.sync.status import SyncState
from tests.sync.faults import FaultServer


def _fake(reply: dict) -> None:
    """The attacker's edit: the first product becomes "FAKE" with 5 stars."""
    if reply["products"]:
        product = reply["products"][0]
        product["name_vi"] = "FAKE"
        for rating in product["ratings"]:
            rating["stars"] = 5


def _refused(kiosk, proxy, poison, state=SyncState.REFUSED, says="signature does not verify"):
    proxy.mode, proxy.poison = "poison", poison
    before = kiosk.snapshot()
    report, status = kiosk.engine.sync_once()
    assert not report.ok and status.state is state, status
    assert "catalog reply refused, nothing changed" in status.last_error
    assert says in status.last_error
    assert kiosk.snapshot() == before


def test_altered_catalog_page_is_refused_and_changes_nothing(registry, make_kiosk):
    proxy = FaultServer(registry.url)
    try:
        kiosk = make_kiosk(registry, url=proxy.url, name="behind-proxy")
        _refused(kiosk, proxy, _fake)  # a fresh kiosk: the list comes in the same reply
        assert kiosk.product_count() == 0
        proxy.mode = "proxy"
        report, _ = kiosk.engine.sync_once()
        assert report.ok and kiosk.product_count() > 0
        names = {r[0] for r in kiosk.store.query("SELECT name_vi FROM products")}
        assert "FAKE" not in names
        # A synced kiosk (the key comes from its stored list): altered, stripped or
        # replayed at another cursor, every page is refused.
        kiosk.store.conn.execute("UPDATE sync_state SET value = '0' WHERE key = 'catalog_cursor'")
        _refused(kiosk, proxy, _fake)
        # Stripped: the reply's shape check already names the missing field.
        _refused(
            kiosk,
            proxy,
            lambda reply: reply.pop("catalog_signature"),
            SyncState.ERROR,
            "missing catalog_signature",
        )
        _refused(kiosk, proxy, lambda reply: reply.update(more=not reply["more"]))
        assert "FAKE" not in {r[0] for r in kiosk.store.query("SELECT name_vi FROM products")}
    finally:
        proxy.stop()


def test_catalog_refused_is_a_refusal_not_offline():
    assert CatalogRefused.state is SyncState.REFUSED and not CatalogRefused.retryable
