"""Fixed keys and helpers for the stamp tests (seeds from RFC 8032 test vectors)."""

from __future__ import annotations

import datetime as dt
import os
from types import SimpleNamespace

import pytest

from ocop.stamps.keys import private_key_from_seed, public_key_b64
from ocop.stamps.signer import StampSigner, make_trust_list, signing_key_entry
from ocop.stamps.trust import sign_trust_list, verify_signed_trust_list
from ocop.stamps.verifier import ProductStatus, StampVerifier
from tests.conftest import run_cli

BASE_URL = "HTTPS://OCOP.SONLA.GOV.VN/S/"
SEED_KEY_1 = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
SEED_KEY_2 = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
SEED_ROOT = bytes.fromhex("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7")
SEED_OTHER_ROOT = bytes(range(32))
TODAY = dt.date(2026, 11, 29)
ISSUED = dt.date(2025, 6, 1)
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def keys():
    k1, k2 = private_key_from_seed(SEED_KEY_1), private_key_from_seed(SEED_KEY_2)
    root = private_key_from_seed(SEED_ROOT)
    other_root = private_key_from_seed(SEED_OTHER_ROOT)
    return SimpleNamespace(
        k1=k1,
        k2=k2,
        root=root,
        other_root=other_root,
        root_b64=public_key_b64(root),
        other_root_b64=public_key_b64(other_root),
        signer1=StampSigner(1, k1, BASE_URL),
        signer2=StampSigner(2, k2, BASE_URL),
    )


def make_tl(keys, sequence=1, **changes):
    fields = dict(signing_keys=[signing_key_entry(1, keys.k1, dt.date(2020, 1, 1))])
    fields.update(changes)
    return make_trust_list(keys.root, sequence=sequence, issued_at="2026-11-29T00:00:00Z", **fields)


def signed(keys, tl):
    return sign_trust_list(tl, keys.root)


@pytest.fixture
def trust_list(keys):
    return verify_signed_trust_list(signed(keys, make_tl(keys)), keys.root_b64)


class Catalog:
    """In-memory product lookup: {product_id: rating_valid}."""

    def __init__(self, products=None):
        self.products = {101: True, 102: False} if products is None else products

    def __call__(self, product_id, today):
        if product_id not in self.products:
            return None
        return ProductStatus(product_id, self.products[product_id])


def make_verifier(tl, *, limit=20, products=None, scans=None, gtins=None):
    scans = scans if scans is not None else {}
    gtins = gtins or {}
    return StampVerifier(
        tl,
        BASE_URL,
        limit,
        product_lookup=Catalog(products),
        scan_count=lambda s: scans.get(s, 0),
        gtin_lookup=gtins.get,
    )


@pytest.fixture
def verifier(trust_list):
    return make_verifier(trust_list)


def run_stamp_cli(*args, input_text=None, timeout_s=120):
    """`python -m kiosk ARGS` in a subprocess."""
    return run_cli(*args, input_text=input_text, timeout_s=timeout_s)
