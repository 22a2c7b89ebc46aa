"""`ocop-kiosk run`: the kiosk app on this machine's settings (demo data when unconfigured)."""

from __future__ import annotations

from kiosk.store import DB_FILENAME


def register(sub) -> None:
    parser = sub.add_parser("run", help="run the kiosk",
                            description="Run the touchscreen kiosk. With no configuration it "
                            "uses the demo catalog, replayed camera frames and a virtual "
                            "printer.")
    parser.add_argument("--windowed", action="store_true", help="a window, not fullscreen")
    parser.set_defaults(handler=handle_run)


def ensure_demo_data(ctx) -> None:
    """An unconfigured kiosk (no data yet) starts on the demo catalog."""
    if not (ctx.data_dir / DB_FILENAME).exists():
        from kiosk.demo.setup import set_up_demo
        from kiosk.store import Store
        ctx.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store.in_dir(ctx.data_dir)
        try:
            print(f"First start: demo data in {ctx.data_dir}: {set_up_demo(store, ctx.data_dir)}")
        finally:
            store.close()


def handle_run(args, ctx) -> int:
    ensure_demo_data(ctx)
    # Until the touchscreen UI lands (issue 7) the kiosk runs its demo flow in the terminal.
    from kiosk.catalog import Catalog
    catalog = Catalog(ctx.store())
    print(f"OCOP Sơn La kiosk ({ctx.settings.mode.value}): {catalog.count()} products in "
          f"{ctx.data_dir}")
    for product in catalog.featured():
        stars = "★" * product.stars if product.stars else "-"
        print(f"  {product.id}  {product.name_vi}  ({product.district})  {stars}")
    return 0
