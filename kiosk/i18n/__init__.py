"""Translations: gettext catalogs for Vietnamese (first) and English. No Kivy here.

msgids are English; kiosk/i18n/locale/<lang>/LC_MESSAGES/ocop_kiosk.po holds each language
(the kiosk's own strings; the domain's come from ocop/i18n, the fallback), compiled to .mo
next to it (``python -m kiosk.i18n.build``; a test checks they are in step).

    from kiosk.i18n import translator
    _ = translator("vi")
    _("Scan a stamp")          # -> "Quét tem"
    ngettext = plural_translator("en")
    ngettext("{n} product", "{n} products", 3).format(n=3)   # -> "3 products"

Strings are marked with ``_("...")`` in Python and ``app.tr("...", app.lang)`` in .kv files;
``N_("...")`` marks a string for extraction without translating it yet, ``NP_("{n} product",
"{n} products")`` a msgid with its plural (kiosk.viewmodels.count_text translates it).
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

import ocop.i18n
from ocop.i18n import (  # noqa: F401  (kiosk code imports them here)
    DEFAULT_LANGUAGE,
    LANGUAGES,
    N_,
    NP_,
    Plural,
)

DOMAIN = "ocop_kiosk"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    return ocop.i18n.app_translations(DOMAIN, LOCALE_DIR, lang)


def translator(lang: str) -> Callable[[str], str]:
    """The gettext function for a language ('vi' or 'en'); unknown languages -> English."""
    return _translations(lang).gettext


def plural_translator(lang: str) -> Callable[[str, str, int], str]:
    """gettext's ngettext for a language: (msgid, msgid_plural, n) -> the form for n."""
    return _translations(lang).ngettext


def reload() -> None:
    """Drop cached catalogs (after `python -m kiosk.i18n.build`)."""
    ocop.i18n.reload()
    _translations.cache_clear()
