import datetime as dt

import pytest

from kiosk.catalog import Catalog, fts_query
from ocop.ratings import RatingStatus, add_months, effective_rating_status
from ocop.text import fold
from tests.conftest import TODAY


@pytest.fixture
def catalog(demo_store):
    return Catalog(demo_store, today=TODAY)


def test_fold():
    assert fold("MỘC CHÂU") == "moc chau"
    assert fold("Đá đỏ") == "da do"
    assert fold("  Sơn   La ") == "son la"


@pytest.mark.parametrize("query", ["moc chau", "MỘC CHÂU", "Moc Châu", "mộc"])
def test_search_ignores_diacritics_and_case(catalog, query):
    results = catalog.search(query)
    assert results and all(p.district == "Mộc Châu" or "Mộc" in p.name_vi for p in results)


def test_search_d_matches_dyet(catalog):
    names = [p.name_vi for p in catalog.search("tra cascara")]
    assert names == ["Trà cascara"]
    assert any(p.name_vi == "Mật ong đá Chiềng Lao" for p in catalog.search("mat ong da"))
    assert any("Đà" in p.name_vi for p in catalog.search("song da"))


def test_search_ranks_name_matches_first(catalog):
    results = catalog.search("toi den")
    assert {p.id for p in results[:2]} == {117, 119}


def test_search_rejects_fts_syntax_safely(catalog):
    assert catalog.search('"" OR * NEAR(') == [] or True  # must not raise
    assert fts_query("!!!") is None


def test_demo_catalog_facts(catalog):
    assert catalog.count() >= 25
    coffee = catalog.product(101)
    assert coffee.name_vi == "Cà phê bột nguyên chất Bích Thao"
    assert coffee.stars == 5 and coffee.rating_status == "valid"
    assert coffee.district == "Thành phố Sơn La" and coffee.group == 1
    expired = catalog.product(102)  # Trà cascara, 4 stars in 2019
    assert expired.stars is None and expired.rating_status == "expired"
    assert expired.rating_stars_on_record == 4
    pending = catalog.product(127)
    assert pending.stars is None and pending.rating_status == "pending"
    assert catalog.by_gtin("2000000001012").id == 101
    assert catalog.by_gtin("02000000001012").id == 101  # GTIN-14 form
    assert {p.id for p in catalog.by_district("Yên Châu")} >= {116, 117, 118, 119}
    assert all(p.group == 2 for p in catalog.by_group(2))
    assert catalog.featured()


def test_rating_rules():
    assert add_months(dt.date(2024, 2, 29), 36) == dt.date(2027, 2, 28)
    assert effective_rating_status("valid", 4, "2026-01-01", TODAY) is RatingStatus.EXPIRED
    assert effective_rating_status("revoked", 4, "2030-01-01", TODAY) is RatingStatus.REVOKED
    assert effective_rating_status("valid", 4, "2030-01-01", TODAY) is RatingStatus.VALID
    assert effective_rating_status(None, None, None, TODAY) is RatingStatus.NONE


def test_demo_images_are_stored_by_hash(demo_store, data_dir):
    import hashlib

    from kiosk.media import find_media_file

    product = Catalog(demo_store).product(101)
    path = find_media_file(demo_store.conn, data_dir, product.image_hash)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == product.image_hash


def test_gtin_spellings():
    from ocop.gtin import is_valid_gtin, normalize_gtin

    assert normalize_gtin("02000000001012") == "2000000001012"
    assert normalize_gtin("036000291452") == "0036000291452"  # UPC-A
    assert normalize_gtin("12345670") == "12345670"
    assert is_valid_gtin("2000000001012") and not is_valid_gtin("2000000001013")
    assert not is_valid_gtin("２０００") and not is_valid_gtin("abc")


def test_a_rating_stored_longer_than_36_months_shows_no_stars_past_them(demo_store):
    """Issue 16: a rating recognised 2022-06-01 with valid_until 2027-06-01 (stored before
    the registry refused it) showed its stars 54 months after recognition."""
    assert (
        effective_rating_status("valid", 4, "2027-06-01", dt.date(2025, 6, 1), "2022-06-01")
        is RatingStatus.VALID
    )
    assert (
        effective_rating_status("valid", 4, "2027-06-01", dt.date(2025, 6, 2), "2022-06-01")
        is RatingStatus.EXPIRED
    )
    demo_store.conn.execute(
        "UPDATE ratings SET recognised_on = '2022-06-01', valid_until = '2027-06-01' "
        "WHERE product_id = 101"
    )
    coffee = Catalog(demo_store, today=TODAY).product(101)  # TODAY: 2026-11-29
    assert coffee.stars is None and coffee.rating_status == "expired"
    from kiosk.stamps.service import product_status_lookup

    status = product_status_lookup(demo_store)(101, TODAY)
    assert status is not None and not status.rating_valid
