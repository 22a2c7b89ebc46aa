"""What a scan means for the shopper: one Verdict, with a short message in Vietnamese and
English. The UI shows the message; only `genuine` may show the product's OCOP stars."""

from __future__ import annotations

import enum


class Verdict(enum.Enum):
    GENUINE = "genuine"
    GENUINE_RATING_EXPIRED = "genuine_rating_expired"
    GENUINE_UNKNOWN_PRODUCT = "genuine_unknown_product"
    FORGED = "forged"
    REVOKED = "revoked"
    SUSPECT_CLONE = "suspect_clone"
    NOT_OCOP = "not_ocop"
    PRODUCT_BARCODE = "product_barcode"

    @property
    def message_vi(self) -> str:
        return MESSAGES[self][0]

    @property
    def message_en(self) -> str:
        return MESSAGES[self][1]

    def message(self, language: str) -> str:
        return self.message_vi if language == "vi" else self.message_en

    @property
    def signature_valid(self) -> bool:
        """The stamp was signed by a trusted key (the product id and serial are real)."""
        return self in SIGNATURE_VALID

    @property
    def may_show_stars(self) -> bool:
        return self is Verdict.GENUINE


SIGNATURE_VALID = frozenset({Verdict.GENUINE, Verdict.GENUINE_RATING_EXPIRED,
                             Verdict.GENUINE_UNKNOWN_PRODUCT, Verdict.REVOKED,
                             Verdict.SUSPECT_CLONE})

# Verdicts whose earlier scans count towards the clone limit: the serial really came from a
# validly signed stamp. Forged variants claiming someone's serial never count.
COUNTED_FOR_CLONES = (Verdict.GENUINE, Verdict.GENUINE_RATING_EXPIRED,
                      Verdict.GENUINE_UNKNOWN_PRODUCT, Verdict.SUSPECT_CLONE)

MESSAGES: dict[Verdict, tuple[str, str]] = {
    Verdict.GENUINE: (
        "Tem chính hãng. Sản phẩm OCOP đã được xác thực.",
        "Genuine stamp. This OCOP product is verified."),
    Verdict.GENUINE_RATING_EXPIRED: (
        "Tem chính hãng, nhưng chứng nhận OCOP của sản phẩm đã hết hiệu lực hoặc bị thu hồi.",
        "Genuine stamp, but the product's OCOP rating has expired or been withdrawn."),
    Verdict.GENUINE_UNKNOWN_PRODUCT: (
        "Tem chính hãng. Máy này chưa có thông tin về sản phẩm; vui lòng thử lại sau khi "
        "cập nhật.",
        "Genuine stamp. This kiosk does not have the product's details yet; try again "
        "after the next update."),
    Verdict.FORGED: (
        "Tem không hợp lệ, có thể là tem giả. Vui lòng báo cho người bán hoặc cơ quan "
        "quản lý.",
        "Invalid stamp: it may be counterfeit. Please tell the seller or the authorities."),
    Verdict.REVOKED: (
        "Tem này đã bị thu hồi và không còn giá trị.",
        "This stamp has been revoked and is no longer valid."),
    Verdict.SUSPECT_CLONE: (
        "Cảnh báo: tem này có thể đã bị sao chép. Hãy kiểm tra kỹ sản phẩm.",
        "Warning: this stamp may have been copied. Check the product carefully."),
    Verdict.NOT_OCOP: (
        "Mã này không phải tem OCOP Sơn La.",
        "This code is not an OCOP Sơn La stamp."),
    Verdict.PRODUCT_BARCODE: (
        "Đây là mã vạch sản phẩm, không phải tem chống giả: không chứng minh được hàng "
        "chính hãng.",
        "This is a product barcode, not an anti-counterfeit stamp: it cannot prove the "
        "product is genuine."),
}
