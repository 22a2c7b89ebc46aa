"""registry.db's dialect-specific statements: insert_ignore speaks SQLite and PostgreSQL,
and refuses any other database instead of emitting SQLite's dialect to it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, oracle, postgresql, sqlite

from registry import db
from tests.registry.server import backends, fresh_postgres_db


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_insert_ignore_compiles_for_its_dialect(dialect):
    statement = db.insert_ignore(dialect, db.meta).values(key="k", value="v")
    assert "ON CONFLICT DO NOTHING" in str(statement.compile(dialect=dialect))


@pytest.mark.parametrize("dialect", [mysql.dialect(), oracle.dialect(), "mssql"])
def test_insert_ignore_refuses_other_databases(dialect):
    name = dialect if isinstance(dialect, str) else dialect.name
    with pytest.raises(db.UnsupportedDialect, match=f"'{name}'.*sqlite and postgresql"):
        db.insert_ignore(dialect, db.meta)


@pytest.fixture(params=backends())
def database(request, tmp_path):
    if request.param == "sqlite":
        database = db.Database(f"sqlite:///{tmp_path / 'registry.sqlite'}")
        drop = None
    else:
        url, drop = fresh_postgres_db()
        database = db.Database(url)
    database.migrate()
    yield database
    database.dispose()
    if drop:
        drop()


def test_insert_ignore_keeps_the_first_row_on_a_real_database(database):
    with database.write() as conn:
        conn.execute(db.insert_ignore(conn, db.meta), [{"key": "k", "value": "first"}])
        conn.execute(
            db.insert_ignore(conn, db.meta),
            [{"key": "k", "value": "second"}, {"key": "k2", "value": "new"}],
        )
    with database.read() as conn:
        assert db.get_meta(conn, "k") == "first"
        assert db.get_meta(conn, "k2") == "new"
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(db.meta)
                .where(db.meta.c.key.in_(["k", "k2"]))
            ).scalar()
            == 2
        )
