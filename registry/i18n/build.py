"""Keep the registry's gettext catalogs in step with its code (the shared tooling in
ocop/i18n/catalogs.py; the same as the kiosk's command).

    python -m registry.i18n.build            # extract msgids, merge into each .po, compile .mo
    python -m registry.i18n.build --check    # exit 1 when a .po misses a msgid, a Vietnamese
                                             # string is untranslated, or a .mo is stale

Two catalogs (CATALOGS): the domain's (ocop/, `ocop.po`) and the registry's (registry/,
`ocop_registry.po`: the public pages' text), which falls back to the domain's at run time.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ocop.i18n import catalogs
from ocop.i18n.catalogs import OCOP_CATALOG, Catalog
from registry.i18n import DOMAIN, LOCALE_DIR

COMMAND = "python -m registry.i18n.build"
REGISTRY_DIR = Path(__file__).resolve().parent.parent
REGISTRY_CATALOG = Catalog(
    DOMAIN,
    LOCALE_DIR,
    (REGISTRY_DIR,),
    "OCOP Sơn La registry pages",
    below=OCOP_CATALOG,
    command=COMMAND,
)
CATALOGS = (OCOP_CATALOG, REGISTRY_CATALOG)


def problems() -> list[str]:
    return catalogs.problems(CATALOGS, COMMAND)


def build() -> None:
    catalogs.build(CATALOGS)


def main(argv: list[str] | None = None) -> int:
    return catalogs.main(CATALOGS, COMMAND, argv)


if __name__ == "__main__":
    sys.exit(main())
