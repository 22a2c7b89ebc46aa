"""A lot's dates, as staff type them and as the label prints them: production date (NSX)
and best-before date (HSD), both optional. One rule set, used by the kiosk when staff
enter them and by the registry when a station reports them (registry/uploads.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ocop.enums import EnumWithAttributes
from ocop.i18n import N_

DATE_FORMAT = "%d/%m/%Y"  # how staff type and the label prints a date
# Years outside this window are typing mistakes, not products (a shelf life is years).
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


class LotDateProblem(EnumWithAttributes):
    """Why lot dates cannot be used; `message` is an English msgid."""

    message: str

    NOT_A_DATE = ("not_a_date", N_("{field}: not a real date (dd/mm/yyyy)"))
    YEAR_OUT_OF_RANGE = ("year_out_of_range", N_("{field}: the year must be 2000 to 2100"))
    PRODUCED_IN_FUTURE = ("produced_in_future", N_("Production date is after today"))
    BEST_BEFORE_FIRST = ("best_before_first", N_("Best-before date is before the production date"))


class LotDateError(ValueError):
    def __init__(self, problem: LotDateProblem, field: str = ""):
        super().__init__(f"{problem.value}: {field}")
        self.problem, self.field = problem, field


@dataclass(frozen=True)
class LotDates:
    produced_on: dt.date | None = None
    best_before: dt.date | None = None

    def footer(self) -> str:
        """The label's footer text ("NSX dd/mm/yyyy HSD dd/mm/yyyy"), "" without dates."""
        parts = []
        if self.produced_on:
            parts.append("NSX " + self.produced_on.strftime(DATE_FORMAT))
        if self.best_before:
            parts.append("HSD " + self.best_before.strftime(DATE_FORMAT))
        return " ".join(parts)


def parse_date(text: str, field: str) -> dt.date | None:
    """dd/mm/yyyy (as typed on the number pad) -> date; "" -> None."""
    text = text.strip()
    if not text:
        return None
    try:
        day = dt.datetime.strptime(text, DATE_FORMAT).date()
    except ValueError:
        raise LotDateError(LotDateProblem.NOT_A_DATE, field) from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise LotDateError(LotDateProblem.YEAR_OUT_OF_RANGE, field)
    return day


def check_lot_dates(
    produced_on: dt.date | None, best_before: dt.date | None, today: dt.date
) -> LotDates:
    """The dates if they make sense (today: the trusted day, kiosk/trusted_time.py), else
    LotDateError naming the first problem."""
    for day, field in ((produced_on, "produced_on"), (best_before, "best_before")):
        if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise LotDateError(LotDateProblem.YEAR_OUT_OF_RANGE, field)
    if produced_on is not None and produced_on > today:
        raise LotDateError(LotDateProblem.PRODUCED_IN_FUTURE, "produced_on")
    if produced_on is not None and best_before is not None and best_before < produced_on:
        raise LotDateError(LotDateProblem.BEST_BEFORE_FIRST, "best_before")
    return LotDates(produced_on, best_before)


__all__ = [
    "DATE_FORMAT",
    "EARLIEST_YEAR",
    "LATEST_YEAR",
    "LotDateError",
    "LotDateProblem",
    "LotDates",
    "check_lot_dates",
    "parse_date",
]
