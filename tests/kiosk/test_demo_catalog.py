"""The demo catalog fills every row of the result card: each demo producer has an address
and a phone number, each rated product its decision number, all invented and marked so in
catalog.json's _about; the phone numbers can never reach a real line."""

from __future__ import annotations

import re

from kiosk.catalog import Catalog
from kiosk.demo.seed import load_demo_catalog, seed_demo_catalog
from kiosk.viewmodels import ProductCardViewModel
from tests.conftest import TODAY

# A Sơn La landline is 0212 and seven digits; the demo's have six: no real line answers.
FICTIONAL_PHONE = re.compile(r"0212 3\d\d \d{3}")


def test_every_demo_producer_has_a_sơn_la_address_and_a_fictional_phone():
    catalog = load_demo_catalog()
    assert "DEMO DATA, invented" in catalog["_about"]
    phones = []
    for producer in catalog["producers"]:
        assert producer["address"].endswith("tỉnh Sơn La"), producer["id"]
        assert producer["district"].removeprefix("Thành phố ") in producer["address"]
        if producer["commune"]:
            assert producer["commune"].lower() in producer["address"].lower()
        assert FICTIONAL_PHONE.fullmatch(producer["phone"]), producer["phone"]
        phones.append(producer["phone"])
    assert len(set(phones)) == len(phones)
    for product in catalog["products"]:
        for rating in product["ratings"]:
            if rating["stars"] is None:  # level pending: no decision to name
                assert "decision_no" not in rating
            else:
                issuer = "QĐ-BNN-VPĐP" if rating["stars"] == 5 else "QĐ-UBND"
                assert re.fullmatch(rf"\d+/{issuer}", rating["decision_no"]), product["id"]


def test_a_seeded_demo_product_card_shows_address_phone_and_decision(store, data_dir):
    seed_demo_catalog(store, data_dir)
    product = Catalog(store, today=TODAY).product(101)
    assert product is not None
    card = ProductCardViewModel.from_product(product, "vi")
    assert card.producer_address == "Xã Hua La, thành phố Sơn La, tỉnh Sơn La"
    assert card.producer_phone == "0212 312 518"
    assert card.decision_text == "Quyết định số 1849/QĐ-BNN-VPĐP ngày 30/06/2024"
