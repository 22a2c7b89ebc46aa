"""Kiosk mode and default language chosen by staff on the touchscreen, kept across restarts.

The settings file (kiosk.toml) holds the installer's values. Staff may change the mode and
the default language on the staff screen; those choices are stored in the store's meta table
and win over the settings file at start-up, until staff choose "use the settings file's
value" (which deletes the stored choice). A one-run command-line flag (`run --mode/--lang`)
wins over both. No Kivy here.

    prefs = load_prefs(store, settings)          # what the kiosk starts with, and why
    prefs.mode, prefs.mode_source                # "reststop", Source.SAVED
    save_mode(store, "station")                  # staff tapped "Stamp station"
    save_mode(store, None)                       # back to the settings file's value
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

META_MODE = "ui_mode_override"
META_LANGUAGE = "ui_language_default"
MODES = ("showroom", "reststop", "station")
LANGUAGES = ("vi", "en")


class Source(enum.Enum):
    CONFIG = "config"  # the settings file (or its built-in default)
    SAVED = "saved"  # chosen by staff on this kiosk (meta table)
    COMMAND_LINE = "command_line"  # `ocop-kiosk run --mode/--lang`, this run only


@dataclass(frozen=True)
class UiPrefs:
    config_mode: str
    config_language: str
    saved_mode: str | None = None
    saved_language: str | None = None
    cli_mode: str | None = None
    cli_language: str | None = None

    @property
    def mode(self) -> str:
        return self.cli_mode or self.saved_mode or self.config_mode

    @property
    def language(self) -> str:
        return self.cli_language or self.saved_language or self.config_language

    @property
    def mode_source(self) -> Source:
        return _source(self.cli_mode, self.saved_mode)

    @property
    def language_source(self) -> Source:
        return _source(self.cli_language, self.saved_language)

    def with_mode(self, mode: str | None) -> UiPrefs:
        """After staff chose a mode (None: back to the settings file). A staff choice
        replaces a one-run command-line value too."""
        return _replace(self, saved_mode=_valid(mode, MODES), cli_mode=None)

    def with_language(self, language: str | None) -> UiPrefs:
        return _replace(self, saved_language=_valid(language, LANGUAGES), cli_language=None)


def _source(cli: str | None, saved: str | None) -> Source:
    if cli:
        return Source.COMMAND_LINE
    return Source.SAVED if saved else Source.CONFIG


def _replace(prefs: UiPrefs, **changes) -> UiPrefs:
    import dataclasses

    return dataclasses.replace(prefs, **changes)


def _valid(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _stored(store, key: str, allowed: tuple[str, ...]) -> str | None:
    value = store.get_meta(key)
    if value is None or value == "":
        return None
    if value not in allowed:
        log.warning("ignoring meta %s = %r (not one of %s)", key, value, ", ".join(allowed))
        return None
    return value


def load_prefs(
    store, settings, cli_mode: str | None = None, cli_language: str | None = None
) -> UiPrefs:
    """The settings file's values, the staff's stored choices (invalid ones ignored) and
    this run's command-line flags."""
    return UiPrefs(
        config_mode=settings.mode.value,
        config_language=settings.language.value,
        saved_mode=_stored(store, META_MODE, MODES),
        saved_language=_stored(store, META_LANGUAGE, LANGUAGES),
        cli_mode=_valid(cli_mode, MODES),
        cli_language=_valid(cli_language, LANGUAGES),
    )


def _save(store, key: str, value: str | None) -> None:
    with store.transaction() as conn:
        if value is None:
            conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            store.set_meta(key, value, conn)


def save_mode(store, mode: str | None) -> None:
    """Store the staff's mode (None: forget it, the settings file's value applies)."""
    _save(store, META_MODE, _valid(mode, MODES))
    log.info("kiosk mode %s", f"saved: {mode}" if mode else "back to the settings file")


def save_language(store, language: str | None) -> None:
    """Store the staff's default language (None: forget it)."""
    _save(store, META_LANGUAGE, _valid(language, LANGUAGES))
    log.info(
        "default language %s", f"saved: {language}" if language else "back to the settings file"
    )


def apply_prefs(settings, store):
    """Settings with the stored mode and default language applied over the file's values
    (for code that reads Settings rather than the app)."""
    import dataclasses

    from kiosk.settings import Language, Mode

    prefs = load_prefs(store, settings)
    return dataclasses.replace(settings, mode=Mode(prefs.mode), language=Language(prefs.language))
