"""Keeps the published trust list fresh while `ocop-registry serve` runs (issue 14).

Every trust list expires (RegistryConfig.trust_list_validity_s); a kiosk holding an expired
one says its revocation list is out of date. So the registry re-signs the same content
under the next sequence whenever less than half the validity remains (KeyRing.refresh),
checking every trust_refresh_check_s. `ocop-registry trust refresh` does the same from cron
for a registry that does not run `serve` continuously. On the same beat: retention's
prune (registry/retention.py; `ocop-registry prune` from cron otherwise).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from registry.db import Database
from registry.signing import KeyRing

log = logging.getLogger("registry.refresher")


class TrustRefresher:
    def __init__(
        self,
        database: Database,
        keyring: KeyRing,
        check_s: float,
        chores: tuple[Callable[[], object], ...] = (),
    ):
        self.database = database
        self.keyring = keyring
        self.check_s = check_s
        # Run on the same beat (e.g. registry/retention.py's prune): each on its own, a
        # failure logged and tried again next time.
        self.chores = chores
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trust-refresher", daemon=True)

    def start(self) -> TrustRefresher:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def refresh_once(self) -> int | None:
        with self.database.write() as conn:
            sequence = self.keyring.refresh(conn)
        if sequence is not None:
            log.info("trust list re-signed before expiry: sequence %s", sequence)
        return sequence

    def _run(self) -> None:
        while True:
            try:
                self.refresh_once()
            except Exception:
                log.exception("trust list refresh failed; retrying in %s s", self.check_s)
            for chore in self.chores:
                try:
                    chore()
                except Exception:
                    log.exception("%s failed; retrying in %s s", chore, self.check_s)
            if self._stop.wait(self.check_s):
                return


__all__ = ["TrustRefresher"]
