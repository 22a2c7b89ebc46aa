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


def latest_valid_until(recognised_on: str, valid_until: str | None) -> str:
    """A rating's last valid day: its valid_until, never past recognition + 36 months
    (an office may shorten a rating by hand, never lengthen it)."""
    cap = default_valid_until(dt.date.fromisoformat(recognised_on)).isoformat()
    return min(valid_until, cap) if valid_until else cap


def effective_rating_status(
    status: str | None,
    stars: int | None,
    valid_until: str | None,
    today: dt.date,
    recognised_on: str | None = None,
) -> RatingStatus:
    """`recognised_on`, when known, caps valid_until at 36 months: a row stored before the
    registry enforced the rule does not show stars past it."""
    if status is None:
        return RatingStatus.NONE
    if status == "revoked":
        return RatingStatus.REVOKED
    if recognised_on:
        valid_until = latest_valid_until(recognised_on, valid_until)
    if status == "expired" or (valid_until and valid_until < today.isoformat()):
        return RatingStatus.EXPIRED
    if stars is None:
        return RatingStatus.PENDING
    return RatingStatus.VALID
