"""What a scan means for the shopper: one Verdict, and everything shown for it.

Each member carries its own presentation: a colour role (Tone), an icon, a title, a message
and, for a card without a product, a piece of advice. Titles and texts are English msgids,
translated by the domain catalog (ocop/i18n: Vietnamese first). The kiosk's result card and
the registry's stamp page both read them from here, so a new verdict is one member here plus
its translations. The sets a verdict belongs to are properties too: only `genuine` may show
the product's OCOP stars.
"""

from __future__ import annotations

from ocop.enums import EnumWithAttributes
from ocop.i18n import N_, translator
from ocop.tone import Tone

# Icons: glyphs DejaVu Sans has (the kiosk's font), plain text elsewhere.
_CHECK, _CROSS, _WARNING, _INFO = "\u2714", "\u2716", "\u26a0", "\u2139"

# Advice under a card that shows no product.
# The one instruction for a stamp that may be fake, copied or revoked; the kiosk shows the
# site's hotline and a report QR code beside it (kiosk.settings SiteSettings).
_REPORT_IT = N_("Do not trust this stamp. Call the hotline or scan the QR code to report it.")
_SCAN_THE_STAMP = N_("Scan the OCOP stamp on the product, not its barcode or another code.")
_AFTER_UPDATE = N_("This kiosk will know the product after its next update.")
_NEEDS_UPDATE = N_(
    "This stamp may be newer than this kiosk's list of keys. Try another kiosk or the "
    "phone check, or ask staff to update this kiosk."
)


class Verdict(EnumWithAttributes):
    # value (stored in scan logs and sent on the wire), tone, icon, title, message, advice
    GENUINE = (
        "genuine",
        Tone.OK,
        _CHECK,
        N_("Genuine OCOP stamp"),
        N_("Genuine stamp. This OCOP product is verified."),
        "",
    )
    GENUINE_RATING_EXPIRED = (
        "genuine_rating_expired",
        Tone.WARN,
        _WARNING,
        N_("Genuine stamp, OCOP rating expired"),
        N_("Genuine stamp, but the product's OCOP rating has expired or been withdrawn."),
        "",
    )
    GENUINE_UNKNOWN_PRODUCT = (
        "genuine_unknown_product",
        Tone.INFO,
        _CHECK,
        N_("Genuine stamp, product not on this kiosk yet"),
        N_(
            "Genuine stamp. This kiosk does not have the product's details yet; try again "
            "after the next update."
        ),
        _AFTER_UPDATE,
    )
    FORGED = (
        "forged",
        Tone.BAD,
        _CROSS,
        N_("This stamp may be fake"),
        N_("This stamp failed the check. Do not trust it: report it to the OCOP office."),
        _REPORT_IT,
    )
    # A well-formed stamp naming a key id this kiosk's trust list does not have: most likely
    # a key the registry started using after this kiosk's last sync (issue 14). Neither
    # genuine nor forged: the kiosk cannot tell yet, and must not accuse a real product.
    KEY_NOT_YET_KNOWN = (
        "key_not_yet_known",
        Tone.WARN,
        _INFO,
        N_("Cannot verify yet"),
        N_("Cannot verify yet: this kiosk needs an update."),
        _NEEDS_UPDATE,
    )
    REVOKED = (
        "revoked",
        Tone.BAD,
        _CROSS,
        N_("Revoked stamp"),
        N_("This stamp has been revoked and proves nothing. Report it to the OCOP office."),
        _REPORT_IT,
    )
    SUSPECT_CLONE = (
        "suspect_clone",
        Tone.ALERT,
        _WARNING,
        N_("Warning: possibly copied stamp"),
        N_("This stamp may have been copied. Check the product and report it to the OCOP office."),
        _REPORT_IT,
    )
    NOT_OCOP = (
        "not_ocop",
        Tone.NEUTRAL,
        "?",
        N_("Not an OCOP stamp"),
        N_("This code is not an OCOP Sơn La stamp."),
        _SCAN_THE_STAMP,
    )
    PRODUCT_BARCODE = (
        "product_barcode",
        Tone.INFO,
        _INFO,
        N_("Product barcode, not a stamp"),
        N_(
            "This is a product barcode, not an anti-counterfeit stamp: it cannot prove the "
            "product is genuine."
        ),
        _SCAN_THE_STAMP,
    )

    tone: Tone
    icon: str
    title: str  # msgid
    message_id: str  # msgid
    advice: str  # msgid, or "" for none

    def message(self, language: str) -> str:
        return translator(language)(self.message_id)

    @property
    def message_vi(self) -> str:
        return self.message("vi")

    @property
    def message_en(self) -> str:
        return self.message("en")

    @property
    def signature_valid(self) -> bool:
        """The stamp was signed by a trusted key (the product id and serial are real)."""
        return self in SIGNATURE_VALID

    @property
    def names_a_product(self) -> bool:
        """A verified signature or a GTIN names the product: the card may show it."""
        return self in NAMES_A_PRODUCT

    @property
    def may_show_stars(self) -> bool:
        return self is Verdict.GENUINE

    @property
    def asks_for_report(self) -> bool:
        """Fake, copied or revoked: the shopper is asked to report it (hotline, QR)."""
        return self in ASKS_FOR_REPORT


SIGNATURE_VALID = frozenset(
    {
        Verdict.GENUINE,
        Verdict.GENUINE_RATING_EXPIRED,
        Verdict.GENUINE_UNKNOWN_PRODUCT,
        Verdict.REVOKED,
        Verdict.SUSPECT_CLONE,
    }
)

# Verdicts whose earlier scans count towards the clone limit: the serial really came from a
# validly signed stamp. Forged variants claiming someone's serial never count.
COUNTED_FOR_CLONES = (
    Verdict.GENUINE,
    Verdict.GENUINE_RATING_EXPIRED,
    Verdict.GENUINE_UNKNOWN_PRODUCT,
    Verdict.SUSPECT_CLONE,
)

# A revoked stamp's product is not shown: the stamp no longer vouches for anything.
NAMES_A_PRODUCT = frozenset(
    {
        Verdict.GENUINE,
        Verdict.GENUINE_RATING_EXPIRED,
        Verdict.SUSPECT_CLONE,
        Verdict.PRODUCT_BARCODE,
    }
)

ASKS_FOR_REPORT = frozenset({Verdict.FORGED, Verdict.SUSPECT_CLONE, Verdict.REVOKED})


def verdict_title(value: str | None, language: str) -> str:
    """A stored verdict value (a scan's, a report's) in words: its member's title in
    `language`, the one label every page and report shows. A value that names no verdict
    (an old row, a missing one) comes back as it is, never guessed."""
    if not value:
        return "?"
    try:
        verdict = Verdict(value)
    except ValueError:
        return value
    return translator(language)(verdict.title)


__all__ = [
    "ASKS_FOR_REPORT",
    "COUNTED_FOR_CLONES",
    "NAMES_A_PRODUCT",
    "SIGNATURE_VALID",
    "Verdict",
    "verdict_title",
]
