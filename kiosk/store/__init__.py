"""Local SQLite store (the standard library's sqlite3): schema, migrations, connections."""

from kiosk.store.database import (
    DB_FILENAME,
    Store,
    StoreError,
    StoreFull,
    apply_migrations,
    schema_version,
)

__all__ = ["DB_FILENAME", "Store", "StoreError", "StoreFull", "apply_migrations", "schema_version"]
