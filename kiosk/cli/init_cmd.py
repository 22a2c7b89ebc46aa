"""`ocop-kiosk init [--demo | --force]`: prepare a data folder, optionally with demo data;
`--force` converts a demo data folder into a real one (kiosk.demo.convert)."""

from __future__ import annotations

import os

from kiosk.demo.state import is_demo_data, registry_configured, set_demo_flag
from kiosk.store import DB_FILENAME, Store
from ocop.clock import utc_now_iso
from ocop.errors import UserError


def register(sub) -> None:
    parser = sub.add_parser(
        "init",
        help="prepare the data folder",
        description="Create the data folder and its database. With "
        "--demo, also load the demo catalog of real Sơn La OCOP products "
        "and create local demo keys so everything works offline.",
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--demo", action="store_true", help="load the demo catalog and create demo signing keys"
    )
    how.add_argument(
        "--force",
        action="store_true",
        help="convert a demo data folder for a real registry: drops demo "
        "products, demo keys, demo stamps and the demo PIN",
    )
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
    if args.demo and registry_configured(ctx.settings):
        raise UserError(
            "a registry is configured (registry.url / registry.token or "
            "$OCOP_KIOSK_REGISTRY_URL / $OCOP_KIOSK_REGISTRY_TOKEN): demo data "
            "must not be synced with it; use another --data-dir and a config "
            "without a registry for a demo"
        )
    store = Store(data_dir / DB_FILENAME)
    try:
        init_store(store)
        if args.demo:
            product_count = store.query_value("SELECT count(*) FROM products")
            if product_count and not is_demo_data(store):
                raise UserError(
                    f"{data_dir} already holds a real catalog; "
                    "use an empty --data-dir for demo data"
                )
            from kiosk.demo.setup import set_up_demo

            summary = set_up_demo(store, data_dir)
            print(f"Demo data ready in {data_dir}: {summary}")
        elif args.force:
            _convert(store, ctx)
        elif is_demo_data(store):
            print(
                f"Data folder {data_dir} already initialised with demo data. To use it "
                f"with a real registry, run 'ocop-kiosk init --force' (drops demo "
                f"products, demo keys, demo stamps and the demo PIN)."
            )
        else:
            state = "already initialised" if existed else "initialised"
            print(
                f"Data folder {data_dir} {state}. Configure the registry URL, station "
                f"token and root public key, then run 'ocop-kiosk sync'."
            )
    finally:
        store.close()
    return 0


def init_store(store: Store) -> None:
    """A new database gets its creation time and the demo flag off."""
    if store.get_meta("created_at") is None:
        with store.transaction() as conn:
            store.set_meta("created_at", utc_now_iso(), conn)
            set_demo_flag(store, conn, False)


def _convert(store: Store, ctx) -> None:
    data_dir = ctx.data_dir
    if not is_demo_data(store):
        print(f"Data folder {data_dir} holds no demo data: nothing to convert.")
        return
    from kiosk.demo.convert import convert_demo_data

    done = convert_demo_data(store, data_dir, ctx.settings.stamps.base_url)
    print(f"Converted {data_dir}: removed {done.summary()}.")
    if not ctx.settings.staff.pin_hash.strip():
        print(
            "The demo PIN no longer opens staff mode, and no staff PIN is set: staff mode "
            "stays off until you run 'ocop-kiosk staff hash-pin' and put its line in the "
            "[staff] table of the config file."
        )
    if not registry_configured(ctx.settings):
        print(
            "Next: configure the registry URL, station token and root public key, then "
            "run 'ocop-kiosk sync'."
        )
