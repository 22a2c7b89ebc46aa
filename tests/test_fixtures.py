"""The shared test fixtures keep tests apart: demo_store is a copy of a session-wide demo
folder, and what one test does to its copy no other test (and not the template) sees."""

from __future__ import annotations

import os
import sqlite3

import pytest

from kiosk.store import DB_FILENAME
from tests.conftest import copy_data_dir


def _files(root):
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(DB_FILENAME)
    }


def _dump(db_path):
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


# Run twice, in order: if the second run saw the first run's changes, it would fail.
@pytest.mark.parametrize("turn", ["first", "second"])
def test_a_test_changing_its_demo_store_changes_no_other(demo_store, data_dir, demo_template, turn):
    template = _dump(demo_template / DB_FILENAME)
    products = demo_store.query_one("SELECT count(*) FROM products")[0]
    assert products > 0
    assert products == sum(line.startswith('INSERT INTO "products"') for line in template)
    media = sorted((data_dir / "media").rglob("*.png"))
    assert media and (demo_template / media[0].relative_to(data_dir)).exists()
    with demo_store.transaction() as tx:
        tx.execute("DELETE FROM ratings")
        tx.execute("DELETE FROM products")
    media[0].unlink()
    (data_dir / "keys" / "demo-root.key").write_bytes(b"spoiled")
    assert _dump(demo_template / DB_FILENAME) == template  # the template is untouched
    assert (demo_template / media[0].relative_to(data_dir)).exists()
    assert (demo_template / "keys" / "demo-root.key").read_bytes() != b"spoiled"


def test_the_copy_is_the_template_exactly(demo_template, tmp_path):
    """Every row, every file with its mode (keys stay 0600), and a -wal file's commits."""
    copy = copy_data_dir(demo_template, tmp_path / "copy")
    assert _dump(copy / DB_FILENAME) == _dump(demo_template / DB_FILENAME)
    assert _files(copy) == _files(demo_template)
    key = copy / "keys" / "demo-root.key"
    assert key.stat().st_mode & 0o777 == 0o600
    # A folder whose last commit is still only in its -wal file (a connection kept open,
    # no checkpoint): the copy holds that commit too.
    live = copy_data_dir(demo_template, tmp_path / "live")
    writer = sqlite3.connect(live / DB_FILENAME, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE products SET name_vi = 'Chè đổi' WHERE id = 101")
        assert os.path.getsize(str(live / DB_FILENAME) + "-wal") > 0
        again = copy_data_dir(live, tmp_path / "again")
    finally:
        writer.close()
    check = sqlite3.connect(again / DB_FILENAME)
    try:
        assert check.execute("SELECT name_vi FROM products WHERE id = 101").fetchone() == (
            "Chè đổi",
        )
    finally:
        check.close()
