"""`ocop-kiosk init [--demo]`: prepare a data folder (and optionally load demo data)."""

from __future__ import annotations

import os

from kiosk.clock import utc_now_iso
from kiosk.errors import UserError
from kiosk.store import DB_FILENAME, Store


def register(sub) -> None:
    parser = sub.add_parser("init", help="prepare the data folder",
                            description="Create the data folder and its database. With "
                            "--demo, also load the demo catalog of real Sơn La OCOP products "
                            "and create local demo keys so everything works offline.")
    parser.add_argument("--demo", action="store_true",
                        help="load the demo catalog and create demo signing keys")
    parser.set_defaults(handler=handle_init)


def handle_init(args, ctx) -> int:
    data_dir = ctx.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create data folder {data_dir}: {exc.strerror}") from None
    if not os.access(data_dir, os.W_OK):
        raise UserError(f"data folder {data_dir} is not writable")
    existed = (data_dir / DB_FILENAME).exists()
    store = Store(data_dir / DB_FILENAME)
    try:
        if store.get_meta("created_at") is None:
            with store.transaction() as conn:
                store.set_meta("created_at", utc_now_iso(), conn)
                store.set_meta("demo", "0", conn)
        if args.demo:
            product_count = store.query_one("SELECT count(*) FROM products")[0]
            if product_count and store.get_meta("demo") != "1":
                raise UserError(f"{data_dir} already holds a real catalog; "
                                "use an empty --data-dir for demo data")
            from kiosk.demo.setup import set_up_demo
            summary = set_up_demo(store, data_dir)
            print(f"Demo data ready in {data_dir}: {summary}")
        else:
            state = "already initialised" if existed else "initialised"
            print(f"Data folder {data_dir} {state}. Configure the registry URL, station "
                  f"token and root public key, then run 'ocop-kiosk sync'.")
    finally:
        store.close()
    return 0

