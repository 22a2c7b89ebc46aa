"""Translatable labels in the domain: `N_` marks an English msgid for extraction
(`python -m kiosk.i18n.build` reads ocop/ too); the translation catalogs are the apps'."""


def N_(message: str) -> str:
    """Mark for extraction only."""
    return message
