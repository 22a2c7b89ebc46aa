"""The office console's languages and its one translation function.

The console's strings live in the registry's gettext catalog (registry/i18n,
`ocop_registry.po`), with the public pages' text: English msgids in the code and the
templates (`{{ _("...") }}`; a msgid held in a variable is marked N_ where it is written),
`{name}` placeholders filled after translation. Vietnamese is the console's first language.
"""

from __future__ import annotations

from registry.i18n import translator

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def gettext(lang: str, msgid: str, **values: object) -> str:
    """`msgid` in `lang` (English is the msgid itself), placeholders filled."""
    text = translator(lang)(msgid)
    return text.format(**values) if values else text


__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "gettext"]
