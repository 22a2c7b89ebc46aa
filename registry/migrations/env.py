"""Alembic environment: migrates the connection registry.migrations.upgrade() passes in
(there is no offline/SQL-script mode and no alembic.ini)."""

from __future__ import annotations

from alembic import context

from registry.db import metadata
from registry.migrations import compare_server_default, include_name

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through registry.migrations.upgrade()")

# render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
    compare_server_default=compare_server_default,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
