"""Lot dates: what staff may type, and the label footer they print."""

from __future__ import annotations

import datetime as dt

import pytest

from ocop.lots import LotDateError, LotDateProblem, LotDates, check_lot_dates, parse_date

TODAY = dt.date(2026, 12, 2)


def problem(fn, *args):
    with pytest.raises(LotDateError) as err:
        fn(*args)
    return err.value.problem, err.value.field


def test_dates_are_typed_as_dd_mm_yyyy_and_must_be_real():
    assert parse_date("01/11/2026", "produced_on") == dt.date(2026, 11, 1)
    assert parse_date("  ", "produced_on") is None
    assert problem(parse_date, "31/02/2026", "best_before") == (
        LotDateProblem.NOT_A_DATE,
        "best_before",
    )
    assert problem(parse_date, "2026-11-01", "x")[0] is LotDateProblem.NOT_A_DATE
    assert problem(parse_date, "01/01/1900", "x")[0] is LotDateProblem.YEAR_OUT_OF_RANGE
    assert problem(parse_date, "01/01/9999", "x")[0] is LotDateProblem.YEAR_OUT_OF_RANGE


def test_production_not_after_today_and_best_before_not_before_production():
    made, best = dt.date(2026, 11, 1), dt.date(2027, 5, 1)
    assert check_lot_dates(made, best, TODAY) == LotDates(made, best)
    assert check_lot_dates(None, None, TODAY) == LotDates()
    assert check_lot_dates(made, made, TODAY).best_before == made  # same day is fine
    assert problem(check_lot_dates, dt.date(2026, 12, 3), None, TODAY) == (
        LotDateProblem.PRODUCED_IN_FUTURE,
        "produced_on",
    )
    assert problem(check_lot_dates, made, dt.date(2026, 10, 31), TODAY) == (
        LotDateProblem.BEST_BEFORE_FIRST,
        "best_before",
    )
    assert problem(check_lot_dates, None, dt.date(9999, 1, 1), TODAY)[0] is (
        LotDateProblem.YEAR_OUT_OF_RANGE
    )


def test_the_label_footer_says_nsx_and_hsd():
    made, best = dt.date(2026, 11, 1), dt.date(2027, 5, 1)
    assert LotDates(made, best).footer() == "NSX 01/11/2026 HSD 01/05/2027"
    assert LotDates(None, best).footer() == "HSD 01/05/2027"
    assert LotDates().footer() == ""
