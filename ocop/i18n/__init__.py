"""Translatable labels of the domain, and the catalog that translates them.

msgids are English. `N_` marks a msgid for extraction without translating it; the enums in
ocop/ carry such msgids as their labels (a verdict's title, a state's label). This package
holds the *domain* catalog (`ocop/i18n/locale/<lang>/LC_MESSAGES/ocop.po`): the strings the
kiosk and the registry's pages both show. Apps add their own catalogs and fall back to this
one (kiosk.i18n). `python -m kiosk.i18n.build` keeps every catalog in step with the code.

    from ocop.i18n import translator
    translator("vi")(Verdict.FORGED.title)       # -> "Tem có thể là giả"
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DOMAIN = "ocop"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("vi", "en")  # Vietnamese first
DEFAULT_LANGUAGE = "vi"


def N_(message: str) -> str:
    """Mark for extraction only."""
    return message


@dataclass(frozen=True)
class Plural:
    """A msgid with plural forms: `one` is the msgid, `many` the msgid_plural (English).
    gettext's ngettext picks the form for a number by the catalog's Plural-Forms rule."""

    one: str
    many: str


def NP_(one: str, many: str) -> Plural:
    """Mark a msgid and its plural for extraction (an ngettext entry) without translating."""
    return Plural(one, many)


def supported(lang: str) -> str:
    """`lang` when it is one of LANGUAGES, else English (a visitor who reads neither)."""
    return lang if lang in LANGUAGES else "en"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The domain catalog for a language (a NullTranslations when it is missing)."""
    return gettext.translation(
        DOMAIN, localedir=str(LOCALE_DIR), languages=[supported(lang)], fallback=True
    )


def app_translations(domain: str, locale_dir: Path, lang: str) -> gettext.NullTranslations:
    """An app's catalog (kiosk, registry) for a language, falling back to the domain's
    (verdicts, states, ratings): the app's own strings first. Callers cache it."""
    catalog = gettext.translation(
        domain, localedir=str(locale_dir), languages=[supported(lang)], fallback=True
    )
    catalog.add_fallback(translations(lang))
    return catalog


def translator(lang: str) -> Callable[[str], str]:
    """The gettext function of the domain catalog; unknown languages -> English."""
    return translations(lang).gettext


def reload() -> None:
    """Drop cached catalogs (after the catalogs were rebuilt)."""
    translations.cache_clear()


__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "NP_",
    "N_",
    "Plural",
    "app_translations",
    "reload",
    "supported",
    "translations",
    "translator",
]
