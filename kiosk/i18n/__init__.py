"""Translations: gettext catalogs for Vietnamese (first) and English. No Kivy here.

msgids are English; kiosk/i18n/locale/<lang>/LC_MESSAGES/ocop_kiosk.po holds each language,
compiled to .mo next to it (``python -m kiosk.i18n.build``; a test checks they are in step).

    from kiosk.i18n import translator
    _ = translator("vi")
    _("Scan a stamp")          # -> "Quét tem"
    _("{n} products").format(n=3)

Strings are marked with ``_("...")`` in Python and ``app.tr("...", app.lang)`` in .kv files;
``N_("...")`` marks a string for extraction without translating it yet.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

from ocop.i18n import N_  # noqa: F401  (the one marker; kiosk code imports it from here)

DOMAIN = "ocop_kiosk"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang],
                               fallback=True)


def translator(lang: str) -> Callable[[str], str]:
    """The gettext function for a language ('vi' or 'en'); unknown languages -> English."""
    if lang not in LANGUAGES:
        lang = "en"
    return _translations(lang).gettext


def translate(message: str, lang: str) -> str:
    return translator(lang)(message)


def reload() -> None:
    """Drop cached catalogs (after `python -m kiosk.i18n.build`)."""
    _translations.cache_clear()
