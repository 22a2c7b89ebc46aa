"""The audit log module on a real database: a row per operation, in the operation's own
transaction (rolled back with it), newest first, filtered by action."""

from __future__ import annotations

import pytest

from registry import audit, db
from registry.audit import AuditAction


@pytest.fixture
def database(tmp_path):
    database = db.Database(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    database.migrate()
    yield database
    database.dispose()


def test_rows_newest_first_with_detail(database):
    with database.write() as conn:
        audit.record(conn, "cli:root", AuditAction.STATION_ADD, "rest-stop-ql6", "local")
        audit.record(
            conn, "lan", AuditAction.SERIALS_REVOKE, "1-10", "10.0.0.7", {"reason": "stolen"}
        )
    with database.read() as conn:
        entries = audit.recent(conn)
        only_adds = audit.recent(conn, action=AuditAction.STATION_ADD)
    assert [e.action for e in entries] == ["serials.revoke", "station.add"]
    assert entries[0].detail == {"reason": "stolen"} and entries[0].client == "10.0.0.7"
    assert [e.target for e in only_adds] == ["rest-stop-ql6"]


def test_a_rolled_back_operation_leaves_no_row(database):
    with pytest.raises(RuntimeError), database.write() as conn:
        audit.record(conn, "lan", AuditAction.KEY_ROTATE)
        raise RuntimeError("the operation failed after its audit row")
    with database.read() as conn:
        assert audit.recent(conn) == []


def test_cli_actor_names_the_os_user():
    assert audit.cli_actor().startswith("cli:")
