"""What every command needs, loaded lazily: settings, data folder, store."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from kiosk.settings import Settings, load_settings, resolve_data_dir
from kiosk.store import DB_FILENAME, Store
from ocop.errors import UserError


class CliContext:
    def __init__(self, config_path: str | None = None, data_dir_arg: str | None = None):
        self.config_path = config_path
        self.data_dir_arg = data_dir_arg
        self._store: Store | None = None

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path)

    @cached_property
    def data_dir(self) -> Path:
        return resolve_data_dir(self.settings, self.data_dir_arg)

    def log_dir_or_none(self) -> Path | None:
        """Logs go to <data_dir>/logs when the data folder exists and is writable."""
        try:
            data_dir = self.data_dir
        except UserError:
            return None
        if data_dir.is_dir() and os.access(data_dir, os.W_OK):
            return data_dir / "logs"
        return None

    def store(self) -> Store:
        """The initialised store; a clear error when `init` has not been run."""
        if self._store is None:
            db_path = self.data_dir / DB_FILENAME
            if not db_path.exists():
                raise UserError(
                    f"no kiosk data in {self.data_dir}: run "
                    f"'ocop-kiosk init --demo' (or 'ocop-kiosk init') first"
                )
            self._store = Store(db_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
