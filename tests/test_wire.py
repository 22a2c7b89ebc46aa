"""One wire schema (ocop.wire) for both ends of the catalog sync: the registry's writer
refuses exactly what a kiosk would refuse, at the same limit, and no field exists on one side
only. Real tables on both sides: a registry SQLite database and a kiosk Store."""

from __future__ import annotations

import copy
import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.catalog_write import apply_catalog_changes
from kiosk.store import Store
from kiosk.sync.errors import ReplyRefused
from kiosk.sync.validate import check_changes
from ocop import wire
from ocop.gtin import gtin_check_digit
from ocop.wire import Kind
from registry import catalog, db
from registry.dal import catalog as catalog_rows
from tests.sync.paths import render, set_at

_ids = itertools.count(1000)


def _fresh_gtin() -> str:
    """A GTIN-13 with a right check digit that no other test uses."""
    body = f"2{next(_ids):011d}"
    return body + str(gtin_check_digit(body))


@pytest.fixture(scope="module")
def registry_db(tmp_path_factory):
    database = db.Database(f"sqlite:///{tmp_path_factory.mktemp('registry')}/registry.sqlite")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    store = Store.in_dir(tmp_path_factory.mktemp("kiosk"))
    yield store
    store.close()


def _document() -> dict:
    """One producer and one product of its own (new ids each time), with one rating."""
    n = next(_ids)
    return {
        "producers": [{"id": f"coop-{n}", "name": "HTX", "kind": "cooperative"}],
        "products": [
            {
                "id": n,
                "name_vi": "Chè",
                "group": 2,
                "producer": f"coop-{n}",
                "ratings": [{"stars": 4, "recognised_on": "2024-01-01"}],
            }
        ],
    }


def _office_write(database, document) -> dict:
    """The registry's writer, as the admin API and `ocop-registry import` call it; returns
    the page a kiosk then gets (only this document's rows)."""
    with database.write() as conn:
        since = db.counter_value(conn, "change_seq")
        producers, media = catalog_rows.known_ids(conn)
        catalog_rows.write_catalog(
            conn, catalog.validate_catalog(document, known_producers=producers, known_media=media)
        )
    with database.read() as conn:
        page = catalog_rows.changes_since(conn, since, 1000)
    return page | {
        "registry_id": "r1",
        "trust_list_sequence": 0,
        "trust_list": None,
        "catalog_signature": "A" * 86 + "==",  # checked by the engine, not here
    }


def _kiosk_check(page, store=None) -> None:
    check_changes(page, 0, set(), set())
    if store is not None:
        with pytest.raises(_RolledBack), store.transaction() as tx:
            apply_catalog_changes(tx, page["producers"], page["products"], page["tombstones"])
            raise _RolledBack


class _RolledBack(Exception):
    pass


def _office_fields(record: wire.Record):
    """Fields with limits that the office writes (ids and hashes have patterns instead)."""
    return [
        f
        for f in record.fields
        if f.kind not in (Kind.LIST,) and f.pattern is None and f is not wire.UPDATED_AT
    ]


PREFIXES = {
    wire.PRODUCER: ("producers", 0),
    wire.PRODUCT: ("products", 0),
    wire.RATING: ("products", 0, "ratings", 0),
}
# (path, value at the limit, value one beyond it)
LIMIT_CASES = (
    [
        (PREFIXES[r] + (f.name,), "a" * f.max_chars, "a" * (f.max_chars + 1))
        for r in PREFIXES
        for f in _office_fields(r)
        # a district is one of Sơn La's by name (registry.geo), shorter than its limit
        if f.max_chars and f.name != "district"
    ]
    + [
        (PREFIXES[r] + (f.name,), f.hi, f.hi + 1)
        for r in PREFIXES
        for f in _office_fields(r)
        if f.kind is Kind.INT and f.name != "id"
    ]
    + [
        (PREFIXES[r] + (f.name,), f.choices[-1], "unknown")
        for r in PREFIXES
        for f in _office_fields(r)
        if f.kind is Kind.CHOICE
    ]
    + [
        (
            ("products", 0, "ratings", 0, "recognised_on"),
            f"{wire.MAX_YEAR}-12-31",
            f"{wire.MAX_YEAR + 1}-01-01",
        ),
        (
            ("products", 0, "ratings", 0, "valid_until"),
            f"{wire.MIN_YEAR}-01-01",
            f"{wire.MIN_YEAR - 1}-12-31",
        ),
        (("products", 0, "gtin"), "4006381333931", "4006381333932"),
        (("products", 0, "name_vi"), "Chè Shan tuyết", "Chè\nShan tuyết"),
        (("products", 0, "story_vi"), "Dòng 1\nDòng 2", "Dòng 1\x00"),
        (("producers", 0, "address"), "Bản Mòng", "Bản\x85Mòng"),
    ]
)


@pytest.mark.parametrize(
    "path,at_limit,beyond", LIMIT_CASES, ids=[f"{render(c[0])}" for c in LIMIT_CASES]
)
def test_the_registry_refuses_what_a_kiosk_refuses_at_the_same_limit(
    registry_db, kiosk, path, at_limit, beyond
):
    where = render(path)
    document = _document()
    if path[-1] in ("recognised_on", "valid_until"):  # the other one too: in order
        for name in ("recognised_on", "valid_until"):
            set_at(document, (*path[:-1], name), at_limit)
    set_at(document, path, at_limit)
    page = _office_write(registry_db, document)  # at the limit: stored and served...
    _kiosk_check(page, kiosk)  # ...and the kiosk takes it

    document = _document()
    set_at(document, path, beyond)
    with pytest.raises(catalog.CatalogError) as caught:
        _office_write(registry_db, document)
    assert any(p.startswith(f"{where}: ") for p in caught.value.problems), caught.value
    poisoned = copy.deepcopy(page)
    set_at(poisoned, path, beyond)
    with pytest.raises(ReplyRefused, match=re.escape(f"{where}: ")):
        _kiosk_check(poisoned)


def test_a_rating_history_over_the_limit_is_refused_on_both_sides(registry_db):
    document = _document()
    rating = document["products"][0]["ratings"][0]
    document["products"][0]["ratings"] = [rating] * wire.MAX_RATINGS
    page = _office_write(registry_db, document)
    _kiosk_check(page)
    document = _document()
    document["products"][0]["ratings"] = [rating] * (wire.MAX_RATINGS + 1)
    with pytest.raises(catalog.CatalogError, match=re.escape("products[0].ratings: more")):
        _office_write(registry_db, document)
    page["products"][0]["ratings"].append(page["products"][0]["ratings"][0])
    with pytest.raises(ReplyRefused, match=re.escape("products[0].ratings: more")):
        _kiosk_check(page)


def test_the_registry_checks_gtin_check_digits_and_spellings(registry_db):
    document = _document()
    document["products"][0]["gtin"] = "4006381333932"
    with pytest.raises(catalog.CatalogError, match="4006381333932: wrong check digit"):
        _office_write(registry_db, document)
    # Two spellings of one trade item (UPC-A and its GTIN-13) in one document...
    document = _document()
    twin = copy.deepcopy(document["products"][0]) | {"id": next(_ids), "gtin": "036000291452"}
    document["products"][0]["gtin"] = "0036000291452"
    document["products"].append(twin)
    with pytest.raises(
        catalog.CatalogError, match=re.escape("products[1].gtin: 0036000291452 also at products[0]")
    ):
        _office_write(registry_db, document)
    # ...or one already held by another product: a typed refusal, not a UNIQUE error.
    gtin, document = _fresh_gtin(), _document()
    document["products"][0]["gtin"] = gtin
    held = _office_write(registry_db, document)["products"][0]["id"]
    document = _document()
    document["products"][0]["gtin"] = gtin
    with pytest.raises(
        catalog.CatalogError, match=re.escape(f"products[0].gtin: {gtin} belongs to product {held}")
    ):
        _office_write(registry_db, document)
    # The registry serves the one spelling kiosks store.
    document = _document()
    document["products"][0]["gtin"] = "00012345678905"
    assert _office_write(registry_db, document)["products"][0]["gtin"] == "0012345678905"


def test_gtins_may_move_between_products_of_one_document(registry_db, kiosk):
    first = _document()
    a, b = first["products"][0], copy.deepcopy(first["products"][0])
    b["id"] = next(_ids)
    gtin_a, gtin_b = a["gtin"], b["gtin"] = _fresh_gtin(), _fresh_gtin()
    first["products"].append(b)
    before = _office_write(registry_db, first)
    a["gtin"], b["gtin"] = gtin_b, gtin_a
    page = _office_write(registry_db, first)
    assert [p["gtin"] for p in page["products"]] == [gtin_b, gtin_a]
    check_changes(page, 0, {a["producer"]}, set(), {gtin_a: a["id"], gtin_b: b["id"]})
    with pytest.raises(_RolledBack), kiosk.transaction() as tx:
        for applied in (before, page):
            apply_catalog_changes(tx, applied["producers"], applied["products"], [])
        raise _RolledBack


def test_media_the_kiosk_would_refuse_is_not_stored(registry_db):
    import hashlib

    content = b"x" * 10
    good = catalog.Media(hashlib.sha256(content).hexdigest(), "image/png", content)
    wrong = [
        catalog.Media(good.hash, "image/gif", content),
        catalog.Media("0" * 64, "image/png", content),
        catalog.Media(hashlib.sha256(b"").hexdigest(), "image/png", b""),
    ]
    for media in wrong:
        with registry_db.write() as conn, pytest.raises(catalog.CatalogError):
            catalog_rows.write_media(conn, [media])
    with registry_db.write() as conn:
        assert catalog_rows.write_media(conn, [good]) == 1
    assert wire.MEDIA["size_bytes"].hi == wire.MAX_MEDIA_BYTES


# Values an office (or an attacker with the admin token) might send for any field.
ODD = [
    "",
    " ",
    "5",
    "-1",
    "yes",
    "0",
    "²",
    "\ud800",
    "a\x00b",
    "a\nb",
    "x\x85y",
    "2024-02-30",
    "2200-01-01",
    "1990-01-01",
    "4006381333932",
    "4006381333931",
    "036000291452",
    "Mộc Châu",
    "htx-a",
    "Bad Id",
    "other",
    "revoked",
    "pending",
    0,
    1,
    7,
    2**24,
    -3,
    1.5,
    True,
    None,
    [1],
    {"a": 1},
]
OFFICE_FIELDS = [(PREFIXES[r], f) for r in PREFIXES for f in _office_fields(r)]


def _near_limit(f):
    if not f.max_chars:
        return st.sampled_from(ODD)
    return st.integers(f.max_chars - 1, f.max_chars + 1).map(lambda n: "ấ" * n)


@st.composite
def office_documents(draw):
    document = _document()
    for prefix, f in draw(st.lists(st.sampled_from(OFFICE_FIELDS), max_size=4)):
        set_at(document, (*prefix, f.name), draw(st.sampled_from(ODD) | _near_limit(f)))
    return document


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=office_documents())
def test_what_the_registry_accepts_every_kiosk_accepts(registry_db, kiosk, document):
    """Refused with a typed error naming a field, or stored and then taken by a kiosk."""
    try:
        page = _office_write(registry_db, document)
    except catalog.CatalogError as exc:
        assert all(re.match(r"(producers|products)\[0\]", p) for p in exc.problems), exc
        return
    _kiosk_check(page, kiosk)


# --- no field on one side only ------------------------------------------------------------

KIOSK_ONLY = {
    "producers": set(),
    "media": {"origin"},
    "products": {"search_text"},
    "ratings": {"id", "product_id", "updated_at"},
}
REGISTRY_ONLY = {
    # search_fold: the console's diacritics-free search; contact_person: the office's own
    "producers": {"seq", "search_fold", "contact_person"},
    "media": {"seq", "content", "created_at"},
    "products": {"seq", "search_fold"},
    "ratings": {"id", "product_id", "position"},
    "tombstones": {"seq", "deleted_at"},
}
TABLES = {
    "producers": wire.PRODUCER,
    "media": wire.MEDIA,
    "products": wire.PRODUCT,
    "ratings": wire.RATING,
    "tombstones": wire.TOMBSTONE,
}


def _columns(record: wire.Record) -> set[str]:
    return {f.column_name for f in record.stored}


@pytest.mark.parametrize("table", KIOSK_ONLY)
def test_every_kiosk_catalog_column_is_a_wire_field(kiosk, table):
    columns = {row[1] for row in kiosk.query(f"PRAGMA table_info({table})")}
    assert columns - KIOSK_ONLY[table] == _columns(TABLES[table])


@pytest.mark.parametrize("table", REGISTRY_ONLY)
def test_every_registry_catalog_column_is_a_wire_field(table):
    columns = set(db.metadata.tables[table].c.keys())
    assert columns - REGISTRY_ONLY[table] == _columns(TABLES[table])


def test_what_the_registry_serves_the_kiosk_stores_field_by_field(registry_db, kiosk):
    """Every wire field of a served page, read back from the kiosk's columns."""
    document = _document()
    document["products"][0] |= {
        "gtin": "036000291452",
        "name_en": "Tea",
        "featured": True,
        "story_vi": "Truyện\nkể",
        "commune": "Mộc Châu",
    }
    document["producers"][0] |= {"phone": "0212 123", "address": "Bản Áng"}
    page = _office_write(registry_db, document)
    with wire_keys_are_exact(page):
        check_changes(page, 0, set(), set())
    with pytest.raises(_RolledBack), kiosk.transaction() as tx:
        apply_catalog_changes(tx, page["producers"], page["products"], page["tombstones"])
        for table, items in (("producers", page["producers"]), ("products", page["products"])):
            for item in items:
                row = tx.execute(f"SELECT * FROM {table} WHERE id = ?", (item["id"],)).fetchone()
                record = TABLES[table]
                stored = {f.name: row[f.column_name] for f in record.stored}
                assert stored == {
                    f.name: int(item[f.name]) if f.kind is Kind.BOOL else item[f.name]
                    for f in record.stored
                }
        ratings = tx.execute(
            "SELECT * FROM ratings WHERE product_id = ?", (page["products"][0]["id"],)
        ).fetchall()
        assert [{f: r[f] for f in wire.RATING.names} for r in ratings] == page["products"][0][
            "ratings"
        ]
        raise _RolledBack


class wire_keys_are_exact:
    """The served page's records have exactly the wire names (nothing extra, nothing
    missing)."""

    def __init__(self, page):
        self.page = page

    def __enter__(self):
        assert set(self.page) == set(wire.CHANGES.names)
        for name, record in (
            ("producers", wire.PRODUCER),
            ("products", wire.PRODUCT),
            ("media", wire.MEDIA),
            ("tombstones", wire.TOMBSTONE),
        ):
            for item in self.page[name]:
                assert list(item) == list(record.names), name
        for product in self.page["products"]:
            for rating in product["ratings"]:
                assert list(rating) == list(wire.RATING.names)

    def __exit__(self, *exc):
        return False
