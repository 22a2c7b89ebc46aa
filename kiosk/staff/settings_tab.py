"""The staff settings tab: default language and mode (kept after a restart), where each
value comes from, and the way back to the settings file's value."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import translator
from kiosk.viewmodels import LANGUAGE_NAMES, mode_name, pref_source_text

LANGUAGE_CODES = ("vi", "en")
MODE_CODES = ("showroom", "reststop", "station")


@dataclass(frozen=True)
class SettingsView:
    default_language: str  # the selected default language (its button is filled)
    mode: str  # the mode running now
    lang_source_text: str
    mode_source_text: str
    lang_saved: bool  # chosen on this kiosk: "use the settings file's value"
    mode_saved: bool


def settings_view(prefs, mode: str, lang: str) -> SettingsView:
    """prefs: kiosk.ui_prefs.UiPrefs (None before the app read them)."""
    if prefs is None:
        return SettingsView("", mode, "", "", False, False)
    return SettingsView(
        default_language=prefs.language,
        mode=mode,
        lang_source_text=pref_source_text(
            prefs.language_source.value,
            LANGUAGE_NAMES.get(prefs.config_language, prefs.config_language),
            lang,
        ),
        mode_source_text=pref_source_text(
            prefs.mode_source.value, mode_name(prefs.config_mode, lang), lang
        ),
        lang_saved=prefs.language_source.value != "config",
        mode_saved=prefs.mode_source.value != "config",
    )


def not_saved_text(error: Exception, lang: str) -> str:
    _ = translator(lang)
    return _("Not saved: {error}. The change lasts until the kiosk restarts.").format(error=error)
