"""`ocop-kiosk sync`: talk to the provincial registry.

    ocop-kiosk sync               run the sync loop in the foreground (systemd service)
    ocop-kiosk sync --once        one round: pull, push, heartbeat; exit 0 ok, 3 failed (a
                                  refused catalog page or trust list too: the reason is on
                                  stderr and in `sync status`)
    ocop-kiosk sync status        the last known sync state (no network): idle, syncing,
                                  offline, error, refused, interrupted, not_configured
    ocop-kiosk sync block PRODUCT COUNT    request a block of pre-signed stamps (station)

Registry URL, station token and pinned root key come from the config ([registry]) or from
$OCOP_KIOSK_REGISTRY_URL, $OCOP_KIOSK_REGISTRY_TOKEN, $OCOP_KIOSK_ROOT_KEY.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

EXIT_SYNC_FAILED = 3


def register(sub) -> None:
    parser = sub.add_parser(
        "sync",
        help="sync with the provincial registry",
        description="Pull catalog and trust list changes, push scans, "
        "print records and heartbeats. Without --once: run until stopped "
        "(SIGTERM / Ctrl-C).",
    )
    parser.add_argument("--once", action="store_true", help="one round, then exit")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    actions = parser.add_subparsers(dest="sync_action", metavar="ACTION")
    status = actions.add_parser("status", help="last known sync state (no network)")
    status.add_argument("--json", action="store_true")
    block = actions.add_parser("block", help="request pre-signed stamps for a product")
    block.add_argument("product_id", type=int)
    block.add_argument("count", type=int)
    block.add_argument("--json", action="store_true")
    parser.set_defaults(handler=handle_sync)


def _engine(ctx):
    from kiosk.sync import SyncEngine

    return SyncEngine(ctx.store(), ctx.settings, ctx.data_dir)


def handle_sync(args, ctx) -> int:
    action = getattr(args, "sync_action", None)
    if action == "status":
        return _status(args, ctx)
    if action == "block":
        return _block(args, ctx)
    if args.once:
        return _once(args, ctx)
    return _loop(args, ctx)


def _status(args, ctx) -> int:
    from kiosk.sync import read_sync_status

    status = read_sync_status(ctx.store())
    if args.json:
        print(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(
        f"state:            {status.state.value} ({status.state.label_vi} / "
        f"{status.state.label_en})"
    )
    print(f"last success:     {status.last_success_at or 'never'}")
    print(f"last attempt:     {status.last_attempt_at or 'never'}")
    if status.offline_since:
        print(f"offline since:    {status.offline_since}")
    print(f"pending outbox:   {status.pending_outbox}")
    print(f"catalog cursor:   {status.catalog_cursor}")
    print(f"trust list:       {status.trust_list_sequence or 'none'}")
    if status.last_error:
        print(f"last error:       {status.last_error}")
    return 0


def _once(args, ctx) -> int:
    engine = _engine(ctx)
    report, status = engine.sync_once()
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "error": report.error,
                    "pull": report.pull.__dict__,
                    "push": report.push.__dict__,
                    "status": status.to_json(),
                },
                ensure_ascii=False,
            )
        )
    elif report.ok:
        print(report.summary())
    else:
        print(f"ocop-kiosk: {report.summary()}", file=sys.stderr)
    return 0 if report.ok else EXIT_SYNC_FAILED


def _block(args, ctx) -> int:
    from kiosk.i18n import translator
    from kiosk.sync import SyncError
    from kiosk.sync.errors import BlockRefused

    engine = _engine(ctx)
    try:
        engine.pull()  # the newest trust list first: the block is checked against it
        block_id = engine.request_stamp_block(args.product_id, args.count)
    except BlockRefused as exc:
        _ = translator(ctx.settings.language.value)
        print(f"ocop-kiosk: {_(exc.refusal.label_msgid)}\n({exc})", file=sys.stderr)
        return EXIT_SYNC_FAILED
    except SyncError as exc:
        print(f"ocop-kiosk: stamp block request failed: {exc}", file=sys.stderr)
        return EXIT_SYNC_FAILED
    row = ctx.store().query_one(
        "SELECT first_serial, last_serial FROM stamp_blocks WHERE id = ?", (block_id,)
    )
    if args.json:
        print(
            json.dumps(
                {
                    "block_id": block_id,
                    "product_id": args.product_id,
                    "count": args.count,
                    "first_serial": row[0],
                    "last_serial": row[1],
                }
            )
        )
    else:
        print(
            f"block {block_id}: {args.count} stamps for product {args.product_id}, serials "
            f"{row[0]}-{row[1]}"
        )
    return 0


def _loop(args, ctx) -> int:
    from kiosk.sync import SyncLoop
    from kiosk.trusted_time import ClockKeeper, clock_for

    engine = _engine(ctx)
    loop = SyncLoop(engine)
    keeper = ClockKeeper(clock_for(engine.store))
    stopped = threading.Event()

    def stop(signum, frame):
        stopped.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        keeper.start()
        loop.start()
        print(
            f"syncing with {ctx.settings.registry.url} every "
            f"{loop.interval_s:.0f} s (Ctrl-C to stop)",
            flush=True,
        )
        while not stopped.wait(1.0):
            pass
    finally:
        loop.stop(timeout_s=ctx.settings.registry.timeout_s + 5)
        keeper.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
