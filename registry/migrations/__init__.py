"""Schema migrations (Alembic), applied by the registry itself: `Database.migrate()` runs
`upgrade()` on every start of `ocop-registry` (serve, init-db and every other command).
There is no alembic.ini: the configuration is built here, and env.py plus versions/ ship
inside the package, so an installed wheel migrates the same way as a checkout.

What `upgrade()` does with each kind of database, in one transaction (a PostgreSQL
advisory lock keeps two starting registries from migrating at once; SQLite's BEGIN
IMMEDIATE does the same):
    empty                                    create everything (upgrade to head)
    alembic_version at a revision we know    upgrade to head (nothing when at head)
    alembic_version at a revision we don't   MigrationError: made by a newer registry
    registry tables, meta schema_version=1,  created by metadata.create_all before
      no alembic_version                     migrations existed: stamp BASELINE, upgrade
    other tables                             MigrationError: not a registry database

A new revision: add versions/NNNN_what.py (down_revision = the current head), change the
tables in registry/db.py to match, and run tests/registry/test_migrations.py (it checks
that the migrated schema equals registry.db.metadata on SQLite and PostgreSQL).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection, Engine

from ocop.errors import UserError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
BASELINE = "0001"  # the schema that metadata.create_all made before migrations
LEGACY_SCHEMA_VERSION = "1"  # what those databases hold in meta.schema_version
# Any constant: the key of the PostgreSQL advisory lock held while migrating.
PG_LOCK_KEY = 0x0C0B_2E61


class MigrationError(UserError):
    """A database this registry cannot run on; nothing was changed."""


def compare_server_default(
    context,
    inspected_column,
    metadata_column,
    inspected_default,
    metadata_default,
    rendered_metadata_default,
) -> bool | None:
    """Alembic's hook: SQLite reflects DEFAULT '' as "('')", which alembic would report as
    a changed default; False (no change) for that, None (alembic decides) otherwise."""
    if (
        context.dialect.name == "sqlite"
        and inspected_default is not None
        and rendered_metadata_default is not None
        and _unquote(inspected_default) == _unquote(rendered_metadata_default)
    ):
        return False
    return None


def include_name(name: str | None, type_: Any, parent_names: Any) -> bool:
    """Alembic's hook: the partitions of `events` on PostgreSQL and its index on id there
    (registry/partitions.py) are not in registry.db.metadata, so schema comparisons leave
    them out."""
    from registry.partitions import ID_INDEX, is_partition

    if type_ == "index":
        return name != ID_INDEX
    return not (type_ == "table" and name is not None and is_partition(name))


def _unquote(sql: str) -> str:
    sql = sql.strip()
    while sql.startswith("(") and sql.endswith(")"):
        sql = sql[1:-1].strip()
    if len(sql) >= 2 and sql[0] == sql[-1] == "'":
        sql = sql[1:-1]
    return sql


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an ini file; env.py migrates `connection`."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None, "registry/migrations/versions holds no revision"
    return head


def current_revisions(conn: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(conn).get_current_heads())


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision (see the module docstring)."""
    with engine.connect() as conn:
        conn.execution_options(ocop_write=True)  # SQLite: BEGIN IMMEDIATE
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            config = alembic_config(conn)
            _check_revisions(conn)
            if _is_pre_migration_registry(conn):
                log.info(
                    "adopting a registry database created before migrations as revision %s",
                    BASELINE,
                )
                command.stamp(config, BASELINE)
            before = current_revisions(conn)
            command.upgrade(config, "head")
            after = current_revisions(conn)
            if after != before:
                log.info(
                    "registry database migrated from %s to %s",
                    ", ".join(before) or "empty",
                    ", ".join(after),
                )


def _check_revisions(conn: Connection) -> None:
    script = script_directory()
    for revision in current_revisions(conn):
        try:
            known = script.get_revision(revision) is not None
        except CommandError:
            known = False
        if not known:
            raise MigrationError(
                f"the registry database is at schema revision {revision!r}, which this "
                f"ocop-registry does not know (its newest is {head_revision()!r}): it was "
                f"migrated by a newer ocop-registry; run that version, or restore a backup"
            )


def _is_pre_migration_registry(conn: Connection) -> bool:
    """True for a registry database created before migrations; MigrationError for tables
    that are not a registry's."""
    tables = set(sa.inspect(conn).get_table_names())
    if not tables or "alembic_version" in tables:
        return False
    if "meta" not in tables:
        raise MigrationError(
            f"the database holds tables ({', '.join(sorted(tables)[:5])}) "
            f"but is not an OCOP registry database (no 'meta' table)"
        )
    version = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar()
    if version != LEGACY_SCHEMA_VERSION:
        raise MigrationError(
            f"the registry database has schema_version {version!r} and no "
            f"migration history; only version {LEGACY_SCHEMA_VERSION!r} "
            f"can be adopted"
        )
    return True
