"""Problems with what an office writes (a catalog document, a CSV/XLSX row): one code per
kind of problem, its message in English as a msgid of the domain catalog (Vietnamese in
ocop/i18n/locale/vi/LC_MESSAGES/ocop.po), and where it is: a document path
(`products[3].gtin`) and, for a spreadsheet, the row (header = row 1) and column name.

One list of problems can so be shown in either language:

    problem.message("vi")  # "mã kiểm tra sai: 4006381333932"
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from ocop.clock import date_text
from ocop.i18n import N_, translator


class ProblemCode(enum.Enum):
    """value: the code (stable, for programs); template: the English msgid."""

    def __new__(cls, code: str, template: str) -> ProblemCode:
        member = object.__new__(cls)
        member._value_ = code
        member.template = template
        return member

    template: str

    # field checks (ocop.wire)
    REQUIRED = ("required", N_("required"))
    MISSING = ("missing", N_("missing {names}"))
    NOT_OBJECT = ("not_object", N_("expected an object"))
    NOT_LIST = ("not_list", N_("expected a list"))
    TOO_MANY = ("too_many", N_("more than {max_items} items ({count})"))
    NOT_TEXT = ("not_text", N_("expected text, got {got}"))
    TOO_LONG = ("too_long", N_("longer than {max_chars} characters ({length})"))
    BAD_CHARACTER = (
        "bad_character",
        N_("character U+{codepoint} at {position} is not allowed here"),
    )
    EMPTY = ("empty", N_("empty"))
    PATTERN = ("pattern", N_("expected {hint}, got {got}"))
    INT_RANGE = ("int_range", N_("expected an integer {lo}..{hi}, got {got}"))
    NOT_BOOL = ("not_bool", N_("expected true or false, got {got}"))
    NOT_CHOICE = ("not_choice", N_("expected one of {choices}, got {got}"))
    NOT_DIGITS = ("not_digits", N_("expected {what} in ASCII digits, got {got}"))
    DIGITS_RANGE = ("digits_range", N_("expected {lo}..{hi}, got {got}"))
    DATE_FORMAT = ("date_format", N_("expected a YYYY-MM-DD date, got {got}"))
    NOT_A_DATE = ("not_a_date", N_("{got} is not a calendar date"))
    YEAR_RANGE = ("year_range", N_("year {year} outside {lo}..{hi}"))
    GTIN_LENGTH = ("gtin_length", N_("expected {lengths} digits, got {length}"))
    GTIN_CHECK_DIGIT = ("gtin_check_digit", N_("{gtin}: wrong check digit"))
    # domain rules (registry/catalog.py)
    STARS = ("stars", N_("an OCOP rating is 3 to 5 stars, got {stars}"))
    VALID_UNTIL_BEFORE = ("valid_until_before", N_("valid_until is before recognised_on"))
    VALID_UNTIL_TOO_LATE = (
        "valid_until_too_late",
        N_(
            "{valid_until} is more than {months} months after recognition on "
            "{recognised_on}: at most {latest} (a rating may be shortened, never lengthened)"
        ),
    )
    UNKNOWN_DISTRICT = ("unknown_district", N_("unknown district {district!r} (Sơn La: {known})"))
    UNKNOWN_PRODUCER = ("unknown_producer", N_("unknown producer {producer!r}"))
    DUPLICATE = ("duplicate", N_("{value} also at {other}"))
    DUPLICATE_IN_ROW = ("duplicate_in_row", N_("{value} also in row {other_row}"))
    GTIN_TAKEN = ("gtin_taken", N_("{gtin} belongs to product {other_id}"))
    NO_MEDIA = ("no_media", N_("no media with hash {hash}"))
    OTHER = ("other", N_("{reason}"))
    # files (registry/catalog_import.py)
    FILE_TOO_LARGE = ("file_too_large", N_("the file is larger than {max_mib} MiB"))
    NOT_UTF8 = (
        "not_utf8",
        N_(
            "the file is not UTF-8 text (byte {position}): in Excel use Save As, "
            "“CSV UTF-8 (Comma delimited)”"
        ),
    )
    NOT_SPREADSHEET = (
        "not_spreadsheet",
        N_("not a CSV or XLSX file: {reason}"),
    )
    XLSX_TOO_LARGE = (
        "xlsx_too_large",
        N_("the workbook unpacks to more than {max_mib} MiB; refused"),
    )
    TOO_MANY_ROWS = ("too_many_rows", N_("more than {max_rows} rows"))
    EMPTY_FILE = ("empty_file", N_("the file has no header row"))
    UNKNOWN_COLUMN = ("unknown_column", N_("unknown column {column!r} (known: {known})"))
    MISSING_COLUMN = ("missing_column", N_("missing column {column!r}"))
    DUPLICATE_COLUMN = ("duplicate_column", N_("column {column!r} appears twice"))
    EXTRA_CELLS = ("extra_cells", N_("more cells than columns"))
    GTIN_AS_NUMBER = (
        "gtin_as_number",
        N_(
            "{text} is a GTIN that Excel shortened to a number: format the column as Text "
            "and type the full code"
        ),
    )
    FORMULA = (
        "formula",
        N_("a formula ({text}) is not accepted: type the value itself"),
    )
    PRODUCT_DIFFERS = (
        "product_differs",
        N_("product {key!r} differs from row {other_row} (same id, other product columns)"),
    )
    PRODUCER_DIFFERS = (
        "producer_differs",
        N_("producer {key!r} differs from row {other_row}"),
    )


@dataclass(frozen=True)
class Problem:
    """One problem. `path` is where it is in a document ('' for the whole file); `row` and
    `column` where it is in a spreadsheet (0 and '' when it is not about one)."""

    code: ProblemCode
    path: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    row: int = 0
    column: str = ""

    def message(self, lang: str) -> str:
        return translator(lang)(self.code.template).format(**self._shown())

    @property
    def message_en(self) -> str:
        return self.code.template.format(**self._shown())

    def _shown(self) -> dict[str, Any]:
        """The params as a person reads them: a day (a dt.date param) dd/mm/yyyy in either
        language, the way Vietnam writes dates (the params themselves stay dates)."""
        return {k: date_text(v) if isinstance(v, dt.date) else v for k, v in self.params.items()}

    @property
    def message_vi(self) -> str:
        return self.message("vi")

    def at(self, row: int, column: str) -> Problem:
        return Problem(self.code, self.path, self.params, row, column)

    def __str__(self) -> str:
        """The path form the JSON API has always answered with (`products[0].gtin: ...`);
        a spreadsheet's problem by its row and column."""
        if self.row:
            return f"row {self.row}, {self.column or '-'}: {self.message_en}"
        return f"{self.path}: {self.message_en}" if self.path else self.message_en

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "path": self.path,
            "code": self.code.value,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }


def problem(code: ProblemCode, path: str = "", **params: Any) -> Problem:
    return Problem(code, path, params)
