"""The Store glue: verifier from a store, station issuance from blocks, the demo registry."""

import datetime as dt
import os
import stat

import pytest

from kiosk.settings import Settings, settings_from_dict
from kiosk.stamps.demo import (
    DemoRegistry,
    create_demo_keys_and_trust,
    create_demo_trust,
    demo_mark_suspect,
    demo_revoke_key,
    demo_revoke_serials,
    load_demo_signer,
    rotate_demo_key,
)
from kiosk.stamps.service import (
    issue_stamps,
    pinned_root_key,
    receive_stamp_block,
    take_stamps,
    verifier_from_store,
)
from kiosk.stamps.trust_store import store_trust_list
from ocop.errors import UserError
from ocop.stamps.errors import KeyFileError, NoTrustList, StampsExhausted
from ocop.stamps.keys import load_private_key, save_private_key
from ocop.stamps.verdicts import Verdict
from tests.stamps.conftest import ISSUED, make_tl, signed

TODAY = dt.date(2026, 11, 29)  # the demo catalog: 101 rated 2024 (valid), 102 rated 2019


@pytest.fixture
def settings():
    return Settings()


@pytest.fixture
def demo(demo_store, data_dir, settings):
    return demo_store, data_dir, load_demo_signer(demo_store, data_dir, settings)


def test_demo_setup_creates_keys_trust_and_meta(demo_store, data_dir):
    keys_dir = data_dir / "keys"
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    for name in ("demo-root.key", "demo-signing-1.key"):
        assert stat.S_IMODE((keys_dir / name).stat().st_mode) == 0o600
    assert demo_store.get_meta("root_public_key")
    assert demo_store.query_one("SELECT sequence FROM trust_lists")[0] == 1
    # Idempotent: a second init keeps keys and list.
    before = (keys_dir / "demo-root.key").read_text()
    assert "trust list 1" in create_demo_keys_and_trust(demo_store, data_dir)
    assert (keys_dir / "demo-root.key").read_text() == before


def test_issue_and_verify_against_the_store(demo, settings):
    store, data_dir, signer = demo
    stamps = issue_stamps(store, 101, 3, demo_signer=signer)
    assert [s.serial for s in stamps] == [1, 2, 3]
    verifier = verifier_from_store(store, settings)
    v = verifier.verify(stamps[0].text, today=TODAY)
    assert v.verdict is Verdict.GENUINE and v.product_id == 101
    expired = issue_stamps(store, 102, 1, demo_signer=signer)[0]
    assert verifier.verify(expired.text, today=TODAY).verdict is Verdict.GENUINE_RATING_EXPIRED
    # 101's 2024 rating (until 2027-06-30) expires too, 36 months on.
    assert (
        verifier.verify(stamps[0].text, today=dt.date(2027, 7, 1)).verdict
        is Verdict.GENUINE_RATING_EXPIRED
    )
    unknown = issue_stamps(store, 4242, 1, demo_signer=signer)[0]
    assert verifier.verify(unknown.text).verdict is Verdict.GENUINE_UNKNOWN_PRODUCT
    gtin = store.query_one("SELECT gtin FROM products WHERE id = 101")[0]
    v = verifier.verify(gtin)
    assert v.verdict is Verdict.PRODUCT_BARCODE and v.product_id == 101
    rows = store.query("SELECT state FROM stamps")
    assert {r[0] for r in rows} == {"reserved"}


def test_clone_limit_counts_scans_at_this_kiosk(demo):
    store, data_dir, signer = demo
    text = issue_stamps(store, 101, 1, demo_signer=signer)[0].text
    verifier = verifier_from_store(store, settings_from_dict({"stamps": {"clone_scan_limit": 2}}))
    with store.transaction() as conn:
        # A forged variant claiming the serial does not count.
        conn.execute(
            "INSERT INTO scans(scanned_at, text, verdict, serial) VALUES "
            "('2026-11-29T00:00:00Z', 'x', 'forged', 1)"
        )
        for _ in range(2):
            conn.execute(
                "INSERT INTO scans(scanned_at, text, verdict, product_id, serial) "
                "VALUES ('2026-11-29T00:00:00Z', ?, 'genuine', 101, 1)",
                (text,),
            )
    assert verifier.verify(text, today=TODAY).verdict is Verdict.SUSPECT_CLONE


def test_station_without_demo_key_refuses_when_block_runs_out(demo):
    store, data_dir, signer = demo
    issue_stamps(store, 101, 4, demo_signer=signer)  # demo signs a block of 4
    with store.transaction() as conn:  # put 2 back as a station block
        conn.execute("UPDATE stamps SET state = 'available' WHERE serial IN (3, 4)")
    got = issue_stamps(store, 101, 1)  # no signer: from the block
    assert got[0].serial == 3
    with pytest.raises(StampsExhausted, match="only 1"):
        issue_stamps(store, 101, 2)
    # All or nothing: serial 4 is still available.
    assert store.query_one("SELECT state FROM stamps WHERE serial = 4")[0] == "available"
    assert issue_stamps(store, 101, 1)[0].serial == 4
    with pytest.raises(StampsExhausted):
        issue_stamps(store, 101, 1)


def test_take_stamps_inside_a_print_transaction(demo):
    store, data_dir, signer = demo
    issue_stamps(store, 101, 2, demo_signer=signer)
    with store.transaction() as conn:
        conn.execute("UPDATE stamps SET state = 'available'")
        now = "2026-11-29T00:00:00Z"
        job = conn.execute(
            "INSERT INTO print_jobs(product_id, count, created_at, updated_at) "
            "VALUES (101, 2, ?, ?)",
            (now, now),
        ).lastrowid
        got = take_stamps(conn, 101, 2, job_id=job)
    assert [r[0] for r in store.query("SELECT job_id FROM stamps ORDER BY serial")] == [job] * 2
    assert len(got) == 2


@pytest.mark.parametrize("product, count", [(0, 1), (2**24, 1), (101, 0), (101, -1)])
def test_issue_bad_arguments(demo, product, count):
    store, data_dir, signer = demo
    with pytest.raises(UserError):
        issue_stamps(store, product, count, demo_signer=signer)


def test_rotate_revoke_suspect_through_the_demo_registry(demo, settings):
    store, data_dir, signer = demo
    old = issue_stamps(store, 101, 3, demo_signer=signer, today=dt.date(2026, 6, 1))
    assert rotate_demo_key(store, data_dir, today=TODAY) == 2
    new_signer = load_demo_signer(store, data_dir, settings)
    assert new_signer.key_id == 2
    new = issue_stamps(store, 101, 2, demo_signer=new_signer, today=TODAY)
    verifier = verifier_from_store(store, settings)
    assert verifier.trust_list.sequence == 2
    for s in old + new:
        assert verifier.verify(s.text, today=TODAY).verdict is Verdict.GENUINE, s
    assert new[0].key_id == 2

    demo_revoke_serials(store, data_dir, 1, 1, "lost roll")
    demo_mark_suspect(store, data_dir, [2])
    demo_revoke_key(store, data_dir, 2, TODAY)
    verifier = verifier_from_store(store, settings)
    assert verifier.trust_list.sequence == 5
    verdicts = [verifier.verify(s.text, today=TODAY).verdict for s in old + new]
    assert verdicts == [
        Verdict.REVOKED,
        Verdict.SUSPECT_CLONE,
        Verdict.GENUINE,
        Verdict.REVOKED,
        Verdict.REVOKED,
    ]


def test_receive_stamp_block_checks_every_stamp(store, data_dir, keys, settings):
    settings = settings_from_dict({"registry": {"root_public_key": keys.root_b64}})
    store_trust_list(store, signed(keys, make_tl(keys)), keys.root_b64)
    texts = [keys.signer1.sign(101, s, ISSUED) for s in range(10, 15)]
    block = receive_stamp_block(store, settings, 101, texts)
    assert store.query_one(
        "SELECT first_serial, last_serial, source FROM stamp_blocks WHERE id = ?", (block,)
    )[:] == (10, 14, "registry")
    assert [s.serial for s in issue_stamps(store, 101, 5)] == [10, 11, 12, 13, 14]
    for bad in (
        [keys.signer1.sign(102, 20, ISSUED)],  # another product
        [keys.signer2.sign(101, 21, ISSUED)],  # unknown key
        [texts[0]],  # serial already held
        [keys.signer1.sign(101, 22, ISSUED)] * 2,
        [],
    ):
        with pytest.raises(UserError):
            receive_stamp_block(store, settings, 101, bad)
    assert store.query_one("SELECT count(*) FROM stamps")[0] == 5


def test_no_trust_list_is_a_clear_error(store, settings):
    with pytest.raises(NoTrustList, match="root public key"):
        verifier_from_store(store, settings)


def test_configured_root_wins_over_demo_meta(demo, keys):
    store, data_dir, signer = demo
    pinned = settings_from_dict({"registry": {"root_public_key": keys.root_b64}})
    assert pinned_root_key(pinned, store) == keys.root_b64
    with pytest.raises(NoTrustList):
        verifier_from_store(store, pinned)  # only demo lists are stored
    assert load_demo_signer(store, data_dir, pinned) is None


def test_demo_registry_needs_init(store, data_dir):
    with pytest.raises(UserError, match="init --demo"):
        DemoRegistry(store, data_dir)


def test_private_key_files(tmp_path, keys):
    path = tmp_path / "k" / "a.key"
    save_private_key(path, keys.k1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(KeyFileError, match="exists"):
        save_private_key(path, keys.k2)
    assert load_private_key(path).private_bytes_raw() == keys.k1.private_bytes_raw()
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        load_private_key(path)
    (tmp_path / "bad.key").write_text("not base64")
    os.chmod(tmp_path / "bad.key", 0o600)
    with pytest.raises(KeyFileError):
        load_private_key(tmp_path / "bad.key")


def test_create_demo_trust_refuses_foreign_meta_root(store, data_dir, keys):
    store.set_meta("root_public_key", keys.root_b64)
    with pytest.raises(KeyFileError):
        create_demo_trust(store, data_dir)
