"""Registry sync: catalog and trust list pull, outbox push, stamp blocks, background loop.

What other parts use:
    from kiosk.sync import SyncEngine, SyncLoop, SyncState, SyncStatus, read_sync_status
    engine = SyncEngine(store, settings, data_dir, camera_state=..., printer_state=...)
    loop = SyncLoop(engine, on_status=...); loop.start(); ...; loop.stop()
    loop.status                      # SyncStatus (state, last_success_at, pending_outbox...)
    read_sync_status(store)          # the persisted status, from any process (doctor, UI)
    engine.request_stamp_block(product_id, count)   # station: a new block of stamps
Protocol: docs/sync-protocol.md.
"""

from kiosk.sync.client import RegistryClient
from kiosk.sync.engine import PullResult, PushResult, SyncEngine, SyncReport, check_configured
from kiosk.sync.errors import (
    BadReply,
    BlockRefused,
    InsecureRegistryUrl,
    PageNotApplied,
    RegistryUnavailable,
    ReplyRefused,
    SyncError,
    SyncNotConfigured,
    SyncRejected,
    TrustListRefused,
)
from kiosk.sync.loop import SyncLoop, backoff_delay_s
from kiosk.sync.status import SyncState, SyncStatus, read_sync_status

__all__ = [
    "BadReply",
    "BlockRefused",
    "InsecureRegistryUrl",
    "PageNotApplied",
    "PullResult",
    "PushResult",
    "RegistryClient",
    "RegistryUnavailable",
    "ReplyRefused",
    "SyncEngine",
    "SyncError",
    "SyncLoop",
    "SyncNotConfigured",
    "SyncRejected",
    "SyncReport",
    "SyncState",
    "SyncStatus",
    "TrustListRefused",
    "backoff_delay_s",
    "check_configured",
    "read_sync_status",
]
