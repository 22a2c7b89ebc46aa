"""Retention of what the registry keeps only for a while: `ocop-registry prune`, and the
same every trust_refresh_check_s while `serve` runs (registry/refresher.py), so a registry
that runs continuously needs no cron job (one that does not: `prune` from cron, daily).

Stamp-block replies. A block's signed reply is stored (gzipped JSON, about 80 bytes a
stamp: 80 MB per million stamps) so that a request retried with the same request id is
answered with the same bytes and allocates nothing. A kiosk retries within seconds to
days (a lost reply, a crash, offline for a week); after block_reply_keep_days (default 30)
the reply is dropped and the block marked (stamp_blocks.reply_dropped_at). The block row
stays: its serials remain issued to the station (quotas, the phone page's look-up, the
lots feed). A retry after that is answered 410 Gone with the block's range, never signed
again, so a request id never yields a second set of serials, nor the same one twice after
the period (a stolen token cannot collect old blocks' stamps). The kiosk stops asking and
tells staff (kiosk/sync/engine.py): those serials are simply never printed.

The period is counted from the block's created_at by this host's clock. A clock that jumps
forward drops replies early: retries then get 410 and nothing is signed twice; a clock
that jumps back drops nothing until it has caught up.

Rate-limit counters (registry/ratelimit.py, PostgreSQL): rows whose window and lockout
have ended are deleted here too (and as they are written, so the table stays bounded).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry import audit, db, ratelimit
from registry.audit import AuditAction
from registry.config import RegistryConfig
from registry.dal import keys


@dataclass(frozen=True)
class Pruned:
    block_replies: int  # blocks whose stored reply was dropped
    limiter_rows: int  # rate-limit counters whose windows had ended


def block_reply_cutoff(keep_days: int, now: dt.datetime) -> str:
    """Blocks created before this (TIME_FORMAT) no longer keep their reply."""
    return (now - dt.timedelta(days=keep_days)).strftime(db.TIME_FORMAT)


def prune_block_replies(
    database: db.Database, keep_days: int, actor: str, now: dt.datetime | None = None
) -> int:
    """Drop the replies of blocks issued more than `keep_days` ago (audited when any)."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = block_reply_cutoff(keep_days, now)
    with database.write(raises_mark=False) as conn:
        dropped = keys.drop_block_replies(conn, cutoff, now.strftime(db.TIME_FORMAT))
        if dropped:
            audit.record(
                conn,
                actor,
                AuditAction.BLOCK_REPLIES_PRUNE,
                "stamp_blocks",
                audit.CLI_CLIENT,
                {"blocks": dropped, "issued_before": cutoff, "keep_days": keep_days},
            )
    return dropped


def prune(
    database: db.Database, config: RegistryConfig, actor: str, now: dt.datetime | None = None
) -> Pruned:
    """Everything this module keeps only for a while (module docstring)."""
    return Pruned(
        prune_block_replies(database, config.block_reply_keep_days, actor, now),
        ratelimit.prune_counters(database, config.rate_limit_max_clients),
    )
