"""The kiosk's screens, defined once: name, widget class and kv files. The app builds its
ScreenManager from this list, `ocop-kiosk screenshot` offers exactly these names, and
tests/ui/test_screen_registry.py checks that nothing else names a screen.

Plain Python (no Kivy): the CLI reads the names before Kivy is configured.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

SCREENS_PACKAGE = "kiosk.ui.screens"


@dataclass(frozen=True)
class ScreenSpec:
    name: str  # the ScreenManager name, app.go(name)
    module: str  # under kiosk.ui.screens
    class_name: str
    kv_files: tuple[str, ...]  # under kiosk/ui/screens/, loaded in this order

    def widget_class(self) -> type:
        """The screen's class (imports Kivy: call it only from the UI)."""
        module = importlib.import_module(f"{SCREENS_PACKAGE}.{self.module}")
        return getattr(module, self.class_name)


# kv rules several screens share, loaded before the screens' own.
SHARED_KV_FILES = ("product_detail.kv",)

SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("attract", "attract", "AttractScreen", ("attract.kv",)),
    ScreenSpec("scan", "scan", "ScanScreen", ("scan.kv",)),
    ScreenSpec("result", "result", "ResultScreen", ("result.kv",)),
    ScreenSpec("browse", "browse", "BrowseScreen", ("browse.kv",)),
    ScreenSpec("product", "product", "ProductScreen", ("product.kv",)),
    ScreenSpec("staff_pin", "staff_pin", "StaffPinScreen", ("staff_pin.kv",)),
    # the staff screen: its tab bar and shared rules, then one widget (module + kv) per tab
    ScreenSpec(
        "staff",
        "staff",
        "StaffScreen",
        ("staff.kv", "staff_print.kv", "staff_queue.kv", "staff_sync.kv", "staff_settings.kv"),
    ),
)
SCREEN_NAMES = tuple(spec.name for spec in SCREENS)
_BY_NAME = {spec.name: spec for spec in SCREENS}


def screen_spec(name: str) -> ScreenSpec:
    """The screen called `name`; KeyError naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no screen called {name!r} (screens: {', '.join(SCREEN_NAMES)})") from None
