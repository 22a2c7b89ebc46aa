"""OCOP rating rules (Decision 148/QĐ-TTg and 1162/QĐ-VPĐP-OCOP): product groups, the level
each star count is recognised at, the 36-month validity and a rating's effective status.

Star rule: stars may be shown only while the rating is valid: recognised at 3-5 stars, not
revoked, and `valid_until` (recognised + 36 months unless the decision says otherwise) not
passed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum

RATING_VALIDITY_MONTHS = 36
MIN_OCOP_STARS = 3

GROUP_NAMES = {  # Decision 148/QĐ-TTg product groups (vi, en)
    1: ("Thực phẩm", "Food"),
    2: ("Đồ uống", "Beverages"),
    3: ("Dược liệu và sản phẩm từ dược liệu", "Medicinal herbs and herbal products"),
    4: ("Thủ công mỹ nghệ", "Handicrafts"),
    5: ("Sinh vật cảnh", "Ornamental plants and animals"),
    6: (
        "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
        "Community and eco-tourism services",
    ),
}

LEVEL_BY_STARS = {3: "district", 4: "province", 5: "national"}


class RatingStatus(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    PENDING = "pending"  # recognised as OCOP, star level not known
    NONE = "none"  # no rating on record


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    # 29 Feb + 36 months -> 28 Feb: clamp to the month's last day.
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_valid_until(recognised_on: dt.date) -> dt.date:
    return add_months(recognised_on, RATING_VALIDITY_MONTHS)


def effective_rating_status(
    status: str | None, stars: int | None, valid_until: str | None, today: dt.date
) -> RatingStatus:
    if status is None:
        return RatingStatus.NONE
    if status == "revoked":
        return RatingStatus.REVOKED
    if status == "expired" or (valid_until and valid_until < today.isoformat()):
        return RatingStatus.EXPIRED
    if stars is None:
        return RatingStatus.PENDING
    return RatingStatus.VALID
