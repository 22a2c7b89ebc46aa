"""Whether a data folder holds demo data: one flag, meta 'demo' = '1', read and written only
through this module.

Set by the demo set-up (`ocop-kiosk init --demo`, or `ocop-kiosk run` on a first start with
no registry configured), cleared only by `ocop-kiosk init --force` (kiosk.demo.convert). What
depends on it: the demo staff PIN (kiosk.staff_pin), the staff screen's demo hints, and the
refusal to sync such a folder with a real registry (demo scans, demo stamps and demo keys
must never reach one).
"""

from __future__ import annotations

from ocop.errors import UserError

META_DEMO = "demo"
CONVERT_HINT = (
    "this data folder holds demo data; run `ocop-kiosk init --force` to convert it "
    "(drops demo products, demo keys, demo stamps and the demo PIN)"
)


class DemoDataError(UserError):
    """A demo data folder used with a real registry (exit 2: a person must decide)."""


def is_demo_data(store) -> bool:
    return store.get_meta(META_DEMO) == "1"


def set_demo_flag(store, conn, demo: bool) -> None:
    store.set_meta(META_DEMO, "1" if demo else "0", conn)


def registry_configured(settings) -> bool:
    """A registry URL or station token in the settings or the environment."""
    return bool(settings.registry.url.strip() or settings.registry.token.strip())


def refuse_demo_data(store) -> None:
    """Raise DemoDataError when the store holds demo data (before talking to a registry)."""
    if is_demo_data(store):
        raise DemoDataError(f"{store.path.parent}: {CONVERT_HINT}")


def refuse_demo_with_registry(settings, store) -> None:
    """`run`: a demo folder is fine on its own, not with a registry configured."""
    if registry_configured(settings):
        refuse_demo_data(store)
