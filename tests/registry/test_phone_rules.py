"""The phone pages' small rules without a browser: language choice, dates, typed serials,
the hotline and report settings, the lookup limiter."""

from __future__ import annotations

import datetime as dt

import pytest

from ocop.errors import UserError
from registry import pages
from registry.config import RegistryConfig
from registry.lookups import LookupLimiter, SerialProblem, parse_serial


@pytest.mark.parametrize(
    "query,header,expected",
    [
        (None, None, "vi"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "vi-VN,vi;q=0.9,en;q=0.8", "vi"),
        (None, "fr-FR,en;q=0.5,vi;q=0.9", "vi"),
        (None, "fr-FR", "vi"),
        ("en", "vi", "en"),
        ("xx", "en", "en"),
    ],
)
def test_language_vietnamese_first(query, header, expected):
    assert pages.pick_language(query, header) == expected


def test_dates_are_day_month_year_in_vietnam():
    assert pages.date_text("2026-11-29") == "29/11/2026"
    assert pages.date_text(dt.date(2027, 1, 2)) == "02/01/2027"
    assert pages.date_text("2026-11-29T18:30:00Z") == "30/11/2026"  # 01:30 in Vietnam
    assert pages.date_text(None) == ""


def test_checks_text_singular_and_plural():
    assert pages.checks_text(1, "2026-11-29T01:00:00Z", "en") == (
        "Checked 1 time, first on 29/11/2026"
    )
    assert pages.checks_text(3, "2026-11-29T01:00:00Z", "en").startswith("Checked 3 times")
    assert pages.checks_text(2, "2026-11-29T01:00:00Z", "vi") == (
        "Đã kiểm tra 2 lần, lần đầu ngày 29/11/2026"
    )


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("0000 0012 3456", 123456),
        ("0000-0012-3456", 123456),
        ("1 0995 1162 7775", 2**40 - 1),
        ("", SerialProblem.EMPTY),
        ("12a4", SerialProblem.NOT_DIGITS),
        ("١٢٣", SerialProblem.NOT_DIGITS),  # Arabic-Indic digits are not label digits
        ("1 0995 1162 7776", SerialProblem.TOO_LONG),
        ("12345678901234", SerialProblem.TOO_LONG),
        ("0000 0000 0000", SerialProblem.ZERO),
    ],
)
def test_parse_serial(typed, expected):
    assert parse_serial(typed) == expected


def _config(tmp_path, **kw):
    return RegistryConfig(db_url="sqlite://", data_dir=tmp_path, **kw)


def test_hotline_and_report_settings(tmp_path):
    config = _config(tmp_path, hotline=" 0212  3856 000 ", report_url="mailto:ocop@sonla.gov.vn")
    assert config.hotline == "0212 3856 000" and config.hotline_uri == "tel:02123856000"
    assert config.official_domain == "ocop.sonla.gov.vn"
    for bad in ({"hotline": "call us"}, {"hotline": "12"}, {"report_url": "http://x.example"}):
        with pytest.raises(UserError):
            _config(tmp_path, **bad)
    with pytest.raises(UserError):
        _config(tmp_path, lookups_per_minute=0)


def test_lookup_limiter_per_client_and_minute():
    now = [0.0]
    limiter = LookupLimiter(2, clock=lambda: now[0])
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")
    now[0] = 61.0
    assert limiter.allow("a")
