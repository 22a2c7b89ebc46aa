"""The registry's page text: a gettext catalog of its own (never the kiosk's).

msgids are English; registry/i18n/locale/<lang>/LC_MESSAGES/ocop_registry.po holds each
language, compiled to .mo next to it (``python -m registry.i18n.build``; ``--check`` runs in
the test suite). It falls back to the domain's catalog (ocop/i18n: verdicts, states), so
one gettext function translates everything a public page shows.

    from registry.i18n import translator
    _ = translator("vi")
    _("Look up")               # -> "Tra cứu"
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

import ocop.i18n
from ocop.i18n import N_  # noqa: F401  (registry code imports it here)

DOMAIN = "ocop_registry"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    return ocop.i18n.app_translations(DOMAIN, LOCALE_DIR, lang)


def translator(lang: str) -> Callable[[str], str]:
    """The gettext function for 'vi' or 'en' (anything else: English)."""
    return _translations(lang).gettext


def reload() -> None:
    """Drop cached catalogs (after `python -m registry.i18n.build`)."""
    ocop.i18n.reload()
    _translations.cache_clear()
