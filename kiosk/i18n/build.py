"""Keep the kiosk's gettext catalogs in step with the code (ocop/i18n/catalogs.py does the
work; the registry has its own command, registry.i18n.build).

    python -m kiosk.i18n.build            # extract msgids, merge into each .po, compile .mo
    python -m kiosk.i18n.build --check    # exit 1 when a .po misses a msgid, a Vietnamese
                                          # string is untranslated, or a .mo is stale

Two catalogs (CATALOGS): the domain's (ocop/, `ocop.po`: verdicts, states, ratings; the
registry's pages use it too) and the kiosk's (kiosk/ui, kiosk/viewmodels.py, ...,
`ocop_kiosk.po`), which falls back to the domain's at run time.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk.i18n import DOMAIN, LOCALE_DIR
from ocop.i18n import catalogs
from ocop.i18n.catalogs import (  # noqa: F401  (the tooling's names, as before the move)
    OCOP_CATALOG,
    Catalog,
    Entry,
    Message,
    extract,
    header,
    mo_bytes,
    nplurals,
    read_po,
    write_po,
)

COMMAND = "python -m kiosk.i18n.build"
KIOSK_DIR = Path(__file__).resolve().parent.parent
KIOSK_CATALOG = Catalog(
    DOMAIN,
    LOCALE_DIR,
    tuple(
        KIOSK_DIR / name
        for name in (
            "ui",
            "staff",
            "demo/stamps.py",
            "viewmodels.py",
            "trusted_time.py",
            "sync/status.py",
            "printing/queue.py",
        )
    ),
    "OCOP Sơn La kiosk",
    below=OCOP_CATALOG,
)
CATALOGS = (OCOP_CATALOG, KIOSK_CATALOG)


def problems(catalog_set: Sequence[Catalog] = CATALOGS) -> list[str]:
    return catalogs.problems(catalog_set, COMMAND)


def build(catalog_set: Sequence[Catalog] = CATALOGS) -> None:
    catalogs.build(catalog_set)


def main(argv: list[str] | None = None) -> int:
    return catalogs.main(CATALOGS, COMMAND, argv)


if __name__ == "__main__":
    sys.exit(main())
