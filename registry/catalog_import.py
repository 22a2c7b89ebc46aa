"""The office's spreadsheets: import of CSV (UTF-8 with or without BOM, comma or semicolon,
as Excel saves it) and XLSX, and export of the catalog in the same columns.

One product per row with its producer's columns and one rating; a product with several
ratings takes one row per rating (same id, same product columns). Headers in Vietnamese
or English (COLUMNS, the one table); see docs/registry.md "Catalog import and export".

The rows become a catalog document checked by registry/catalog.py (the rules the JSON API
and the kiosks use), and each problem's document path (`products[3].gtin`) is turned back
into the spreadsheet's row (header = row 1) and the file's own column name. A dry run
writes the catalog in a transaction and rolls it back: the summary and the problems (a
GTIN held by a product outside the file) are exactly those of applying it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ocop.problems import Problem, ProblemCode, problem
from ocop.ratings import GROUP_NAMES
from registry import audit, catalog, db
from registry.audit import AuditAction
from registry.dal import catalog as catalog_rows

MAX_IMPORT_BYTES = 8 * 1024 * 1024  # the registry's request body limit (config.Limits)
MAX_XLSX_UNPACKED_BYTES = 64 * 1024 * 1024  # a zip bomb stops here, before openpyxl reads it
MAX_ROWS = 20_000
MAX_COLUMNS = 100
XLSX_MAGIC = b"PK\x03\x04"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    name: str  # the English header (and the CSV format's column name since the first one)
    vi: str  # the Vietnamese header
    field: str  # the wire field it fills (of the product, producer or rating)


PRODUCT, PRODUCER, RATING = "product", "producer", "rating"

COLUMNS_BY_RECORD: dict[str, tuple[Column, ...]] = {
    PRODUCT: (
        Column("id", "Mã sản phẩm", "id"),
        Column("gtin", "Mã vạch GTIN", "gtin"),
        Column("name_vi", "Tên sản phẩm (tiếng Việt)", "name_vi"),
        Column("name_en", "Tên sản phẩm (tiếng Anh)", "name_en"),
        Column("group", "Nhóm sản phẩm", "group"),
        Column("subgroup", "Phân nhóm", "subgroup"),
        Column("description_vi", "Mô tả (tiếng Việt)", "description_vi"),
        Column("description_en", "Mô tả (tiếng Anh)", "description_en"),
        Column("story_vi", "Câu chuyện sản phẩm (tiếng Việt)", "story_vi"),
        Column("story_en", "Câu chuyện sản phẩm (tiếng Anh)", "story_en"),
        Column("commune", "Xã", "commune"),
        Column("district", "Huyện", "district"),
        Column("featured", "Nổi bật", "featured"),
        Column("is_demo", "Dữ liệu mẫu", "is_demo"),  # the demo catalog's; 0 for real rows
        Column("image", "Tệp ảnh", "image"),
        Column("image_hash", "Mã ảnh", "image_hash"),
    ),
    PRODUCER: (
        Column("producer", "Mã chủ thể", "id"),
        Column("producer_name", "Tên chủ thể", "name"),
        Column("producer_kind", "Loại chủ thể", "kind"),
        Column("producer_commune", "Xã của chủ thể", "commune"),
        Column("producer_district", "Huyện của chủ thể", "district"),
        Column("producer_address", "Địa chỉ chủ thể", "address"),
        Column("producer_phone", "Điện thoại chủ thể", "phone"),
    ),
    RATING: (
        Column("stars", "Số sao", "stars"),
        Column("recognised_on", "Ngày công nhận", "recognised_on"),
        Column("valid_until", "Hiệu lực đến", "valid_until"),
        Column("rating_status", "Trạng thái", "status"),
        Column("level", "Cấp công nhận", "level"),
        Column("body", "Cơ quan công nhận", "body"),
        Column("decision_no", "Số quyết định", "decision_no"),
    ),
}
COLUMNS = tuple(c for cs in COLUMNS_BY_RECORD.values() for c in cs)
RECORD_OF = {c.name: r for r, cs in COLUMNS_BY_RECORD.items() for c in cs}
REQUIRED_COLUMNS = ("id", "name_vi", "group", "producer")
DATE_COLUMNS = ("recognised_on", "valid_until")
# Columns the export leaves out: `image` names a file beside a CSV on disk only.
EXPORTED = tuple(c for c in COLUMNS if c.name != "image")

# What an office may type for a value, beside its wire spelling.
PRODUCER_KIND_ALIASES = {
    "hợp tác xã": "cooperative",
    "htx": "cooperative",
    "tổ hợp tác": "coop_group",
    "doanh nghiệp": "company",
    "công ty": "company",
    "enterprise": "company",
    "hộ gia đình": "household",
    "hộ kinh doanh": "household",
    "hộ sản xuất": "household",
    "khác": "other",
}
BOOL_ALIASES = {"có": "1", "x": "1", "không": "0"}
GROUP_ALIASES = {
    _name.casefold(): str(code) for code, names in GROUP_NAMES.items() for _name in names
}
# Text a spreadsheet would run as a formula (CSV injection): escaped with a leading
# apostrophe on export, which the import takes off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SCIENTIFIC = re.compile(r"[0-9]+([.,][0-9]+)?[eE]\+?[0-9]+")  # 8,93505E+12: Excel's way
_DMY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def _header_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


HEADER_TO_COLUMN = {_header_key(c.name): c for c in COLUMNS} | {
    _header_key(c.vi): c for c in COLUMNS
}


# --- reading files ----------------------------------------------------------------------


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (spreadsheet row number, cells)


def read_table(content: bytes, filename: str = "") -> Table:
    """A CSV or XLSX file's cells as text; CatalogError for a file that is neither, too
    large, or not UTF-8."""
    if len(content) > MAX_IMPORT_BYTES:
        raise catalog.CatalogError(
            [problem(ProblemCode.FILE_TOO_LARGE, max_mib=MAX_IMPORT_BYTES // (1024 * 1024))]
        )
    if content.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(content)
    return _read_csv(content)


def _read_csv(content: bytes) -> Table:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise catalog.CatalogError(
            [problem(ProblemCode.NOT_UTF8, position=exc.start + 1)]
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _table(records)
    except csv.Error as exc:
        raise catalog.CatalogError(
            [problem(ProblemCode.NOT_SPREADSHEET, reason=str(exc))]
        ) from None


def _read_xlsx(content: bytes) -> Table:
    import openpyxl  # only the registry's import needs it

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise catalog.CatalogError(
            [problem(ProblemCode.NOT_SPREADSHEET, reason=str(exc))]
        ) from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise catalog.CatalogError(
            [problem(ProblemCode.XLSX_TOO_LARGE, max_mib=MAX_XLSX_UNPACKED_BYTES // (1024 * 1024))]
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise catalog.CatalogError(
            [problem(ProblemCode.NOT_SPREADSHEET, reason=f"{type(exc).__name__}: {exc}")]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        records = (
            [_xlsx_text(v) for v in values]
            for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        )
        return _table(records)
    finally:
        workbook.close()


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _table(records: Iterable[list[str]]) -> Table:
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    for number, cells in enumerate(records, start=1):
        if header is None:
            header = [c.strip() for c in cells]
            while header and not header[-1]:
                header.pop()
            continue
        if not any(c.strip() for c in cells):
            continue  # a blank row (Excel keeps some at the end)
        if len(rows) >= MAX_ROWS:
            raise catalog.CatalogError([problem(ProblemCode.TOO_MANY_ROWS, max_rows=MAX_ROWS)])
        rows.append((number, list(cells)))
    if not header:
        raise catalog.CatalogError([problem(ProblemCode.EMPTY_FILE)])
    return Table(header, rows)


# --- rows -> a catalog document -------------------------------------------------------


@dataclass
class Located:
    """A catalog document made of a table, and where each of its items came from."""

    document: dict
    header_of: dict[str, str]  # column name -> the file's header text
    product_rows: list[int] = field(default_factory=list)
    rating_rows: list[list[int]] = field(default_factory=list)
    producer_rows: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def place(self, p: Problem) -> Problem:
        """The problem at its spreadsheet row and column (already placed ones as they are)."""
        if p.row:
            return p
        m = re.fullmatch(
            r"(products|producers)\[([0-9]+)\](?:\.ratings\[([0-9]+)\])?(?:\.(\w+))?", p.path
        )
        if m is None:
            return p
        items, index, rating, name = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        if items == "producers":
            row = self.producer_rows[index]
            column = _column_name(PRODUCER, name)
        elif rating is not None:
            row = self.rating_rows[index][int(rating)]
            column = _column_name(RATING, name)
        else:
            row = self.product_rows[index]
            column = _column_name(PRODUCT, name) if name != "producer" else "producer"
        if p.code is ProblemCode.DUPLICATE and "index" in p.params:
            other_rows = self.producer_rows if items == "producers" else self.product_rows
            p = problem(
                ProblemCode.DUPLICATE_IN_ROW,
                p.path,
                value=p.params["value"],
                other_row=other_rows[p.params["index"]],
            )
        return p.at(row, self.header_of.get(column, column))


def _column_name(record: str, field_name: str | None) -> str:
    for c in COLUMNS_BY_RECORD[record]:
        if c.field == field_name:
            return c.name
    return ""


def _cell(text: str, column: str, row: int, problems: list[Problem], header: str) -> str:
    """A cell as the office meant it: stripped, an escaped formula unescaped, a formula
    refused, a dd/mm/yyyy date in ISO form, an alias in the wire spelling."""
    text = unicodedata.normalize("NFC", text).strip()
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_STARTS:
        return text[1:]
    if text.startswith("="):
        problems.append(problem(ProblemCode.FORMULA, text=f"{text:.40}").at(row, header))
        return ""
    folded = text.casefold()
    if column == "gtin" and _SCIENTIFIC.fullmatch(text):
        problems.append(problem(ProblemCode.GTIN_AS_NUMBER, text=text).at(row, header))
        return ""
    if column in DATE_COLUMNS:
        m = _DMY.fullmatch(text)
        if m:
            day, month, year = (int(g) for g in m.groups())
            try:
                return dt.date(year, month, day).isoformat()
            except ValueError:  # said as the office wrote it, not in the ISO form
                problems.append(problem(ProblemCode.NOT_A_DATE, got=text).at(row, header))
                return ""
    elif column == "producer_kind":
        return PRODUCER_KIND_ALIASES.get(folded, text)
    elif column in ("featured", "is_demo"):
        return BOOL_ALIASES.get(folded, text)
    elif column == "group":
        return GROUP_ALIASES.get(folded, text)
    return text


def table_to_document(table: Table) -> Located:
    header_problems: list[Problem] = []
    columns: list[Column | None] = []
    seen: set[str] = set()
    for text in table.header:
        column = HEADER_TO_COLUMN.get(_header_key(text))
        if column is None:
            header_problems.append(
                problem(
                    ProblemCode.UNKNOWN_COLUMN,
                    column=text,
                    known=", ".join(f"{c.vi} / {c.name}" for c in COLUMNS),
                ).at(1, text)
            )
        elif column.name in seen:
            header_problems.append(problem(ProblemCode.DUPLICATE_COLUMN, column=text).at(1, text))
        else:
            seen.add(column.name)
        columns.append(column)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            vi = next(c.vi for c in COLUMNS if c.name == name)
            header_problems.append(
                problem(ProblemCode.MISSING_COLUMN, column=f"{vi} / {name}").at(1, name)
            )
    if header_problems:
        raise catalog.CatalogError(header_problems)
    header_of = {c.name: text for c, text in zip(columns, table.header, strict=True) if c}
    located = Located({"producers": [], "products": []}, header_of)
    producers: dict[str, tuple[int, dict]] = {}
    products: dict[str, tuple[int, dict, dict]] = {}  # id -> (row, product, its columns)
    product_index: dict[str, int] = {}
    for number, cells in table.rows:
        if any(c.strip() for c in cells[len(columns) :]):
            located.problems.append(problem(ProblemCode.EXTRA_CELLS).at(number, ""))
            continue
        values: dict[str, dict[str, str]] = {PRODUCT: {}, PRODUCER: {}, RATING: {}}
        for column, text in zip(columns, cells, strict=False):
            if column is not None:
                values[RECORD_OF[column.name]][column.field] = _cell(
                    text, column.name, number, located.problems, header_of[column.name]
                )
        producer = values[PRODUCER]
        pid = producer.get("id", "")
        # A row with only the producer's id refers to a producer the registry holds; one
        # with its other columns describes it (and is checked and written).
        describes = any(v for k, v in producer.items() if k != "id")
        if not describes:
            pass
        elif pid in producers:
            first_row, first = producers[pid]
            if first != producer:
                located.problems.append(
                    problem(ProblemCode.PRODUCER_DIFFERS, key=pid, other_row=first_row).at(
                        number, header_of["producer"]
                    )
                )
        elif pid:
            producers[pid] = (number, producer)
            located.producer_rows.append(number)
        rating = {k: v for k, v in values[RATING].items() if v}
        product_columns = values[PRODUCT] | {"producer": pid}
        key = product_columns.get("id", "")
        if key and key in products:
            first_row, product, first_columns = products[key]
            if first_columns != product_columns:
                located.problems.append(
                    problem(ProblemCode.PRODUCT_DIFFERS, key=key, other_row=first_row).at(
                        number, header_of["id"]
                    )
                )
                continue
            index = product_index[key]
        else:
            product = {k: v for k, v in product_columns.items() if v or k in ("name_vi", "id")}
            product["ratings"] = []
            slot = key or f"row {number}"
            products[slot] = (number, product, product_columns)
            product_index[slot] = len(products) - 1
            located.product_rows.append(number)
            located.rating_rows.append([])
            index = len(products) - 1
        if rating:
            product["ratings"].append(rating)
            located.rating_rows[index].append(number)
    located.document = {
        "producers": [p for _, p in producers.values()],
        "products": [p for _, p, _ in products.values()],
    }
    return located


def load_spreadsheet_file(
    path: Path, known_producers: Iterable[str] = (), known_media: Iterable[str] = ()
) -> catalog.CatalogBatch:
    """A CSV/XLSX file on disk as a checked batch (pictures in `image` relative to it), or
    CatalogError with every problem by row and column."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise catalog.CatalogError([f"{path}: {exc.strerror}"]) from None
    located = table_to_document(read_table(content, path.name))
    problems = list(located.problems)
    try:
        batch = catalog.validate_catalog(
            located.document,
            known_producers=known_producers,
            known_media=known_media,
            source=str(path),
            base_dir=path.parent,
            place_from_producer=False,
        )
    except catalog.CatalogError as exc:
        problems += exc.details
    if problems:
        raise catalog.CatalogError(_placed(located, problems))
    return batch


def _id_of(product: dict) -> int:
    """The product id a row names (0 for a cell that is not a number: no stored product)."""
    text = str(product.get("id", ""))
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0


def keep_absent_columns(conn: Connection, located: Located) -> None:
    """A column the file does not have keeps what the registry holds (a file of ids, names
    and groups does not wipe the stories, pictures and ratings); an empty cell of a column
    it has clears the value."""
    present = set(located.header_of)

    def absent(record: str) -> list[str]:
        return [c.field for c in COLUMNS_BY_RECORD[record] if c.name not in present]

    product_fields = [f for f in absent(PRODUCT) if f != "image"]
    keep_ratings = not any(c.name in present for c in COLUMNS_BY_RECORD[RATING])
    products = located.document["products"]
    if product_fields or keep_ratings:
        stored = catalog_rows.products_by_id(conn, [_id_of(p) for p in products])
        for p in products:
            old = stored.get(_id_of(p))
            if old is None:
                continue
            for f in product_fields:
                p[f] = old[f]
            if keep_ratings:
                p["ratings"] = old["ratings"]
    producer_fields = absent(PRODUCER)
    if producer_fields:
        described = located.document["producers"]
        stored_producers = catalog_rows.producers_by_id(conn, [p["id"] for p in described])
        for p in described:
            old = stored_producers.get(p["id"])
            if old is not None:
                for f in producer_fields:
                    p[f] = old[f]


# --- import -----------------------------------------------------------------------------


@dataclass
class ImportReport:
    problems: list[Problem]
    summary: catalog_rows.WriteSummary | None  # None when the file has problems
    applied: bool

    def to_json(self) -> dict:
        return {
            "applied": self.applied,
            "problems": [p.to_json() for p in self.problems],
            "summary": None if self.summary is None else summary_json(self.summary),
        }


def summary_json(summary: catalog_rows.WriteSummary) -> dict:
    return {kind: asdict(getattr(summary, kind)) for kind in ("products", "producers", "ratings")}


def audit_hook(actor: str, client: str, filename: str, sha256: str = "") -> AuditHook:
    """The audit row of an applied import (the API's and the console's alike): the file,
    the counts and the changed records' before and after."""

    def record(conn: Connection, summary: catalog_rows.WriteSummary) -> None:
        detail = {"file": filename[:100], **summary.audit_detail()}
        if sha256:
            detail["sha256"] = sha256
        audit.record(
            conn, actor, AuditAction.CATALOG_IMPORT, f"file:{filename[:100]}", client, detail
        )

    return record


class _DryRun(Exception):
    """Rolls a dry run's writes back."""


AuditHook = Callable[[Connection, catalog_rows.WriteSummary], None]


def import_catalog(
    database: db.Database,
    content: bytes,
    filename: str = "",
    *,
    apply: bool = False,
    audit: AuditHook | None = None,
) -> ImportReport:
    """Check a spreadsheet whole and, with `apply`, write it in one transaction (all or
    nothing; changed rows get new change sequence numbers, which kiosks pull on their next
    sync). Every problem is in the report, each by row and column."""
    try:
        located = table_to_document(read_table(content, filename))
    except catalog.CatalogError as exc:
        return ImportReport(exc.details, None, False)
    problems = list(located.problems)
    summary = None
    try:
        with database.write() as conn:
            producers, media = catalog_rows.known_ids(conn)
            keep_absent_columns(conn, located)
            try:
                batch = catalog.validate_catalog(
                    located.document,
                    known_producers=producers,
                    known_media=media,
                    place_from_producer=False,
                )
            except catalog.CatalogError as exc:
                problems += exc.details
                raise _DryRun from None
            if problems:
                raise _DryRun
            try:
                summary = catalog_rows.write_catalog(conn, batch)
            except catalog.CatalogError as exc:
                problems += exc.details
                raise _DryRun from None
            if not apply:
                raise _DryRun
            if audit is not None:
                audit(conn, summary)
    except _DryRun:
        pass
    placed = _placed(located, problems)
    return ImportReport(placed, None if placed else summary, apply and not placed)


def _placed(located: Located, problems: Iterable[Problem]) -> list[Problem]:
    """The problems at their rows and columns, in the file's order, one per cell."""
    placed = _one_per_cell(map(located.place, problems))
    return sorted(placed, key=lambda p: (p.row, p.column))


def _one_per_cell(problems: Iterable[Problem]) -> list[Problem]:
    """The first problem of each cell: a refused formula is not also an empty name."""
    seen: set[tuple[int, str]] = set()
    out = []
    for p in problems:
        cell = (p.row, p.column)
        if p.row and p.column and cell in seen:
            continue
        seen.add(cell)
        out.append(p)
    return out


def problem_table(problems: Sequence[Problem], lang: str) -> str:
    """The problems as a plain text table for a terminal (row, column, message)."""
    lines = [f"{'row':>5}  {'column':<28}  message"]
    for p in problems:
        lines.append(f"{p.row or '':>5}  {p.column:<28.28}  {p.message(lang)}")
    return "\n".join(lines)


# --- export -----------------------------------------------------------------------------


def export_rows(conn: Connection, lang: str = "vi") -> list[list[str]]:
    """The catalog as the import reads it: header, then one row per product and rating."""
    header = [c.vi if lang == "vi" else c.name for c in EXPORTED]
    rows = [header]
    producers = {
        r.id: catalog.producer_to_wire(r)
        for r in conn.execute(sa.select(db.producers).order_by(db.producers.c.id))
    }
    product_rows = list(conn.execute(sa.select(db.products).order_by(db.products.c.id)))
    ratings = catalog_rows.ratings_for(conn, [r.id for r in product_rows])
    for r in product_rows:
        product = catalog.product_to_wire(r, ratings.get(r.id, []))
        producer = producers.get(product["producer"], {})
        values = {
            PRODUCT: product,
            PRODUCER: producer,
        }
        for rating in product["ratings"] or [{}]:
            values[RATING] = rating
            rows.append([_export_text(values[RECORD_OF[c.name]].get(c.field)) for c in EXPORTED])
    return rows


def _export_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(rows: list[list[str]], delimiter: str = ",") -> bytes:
    """UTF-8 with a BOM (so Excel shows Vietnamese right), CRLF line ends."""
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[list[str]], title: str = "OCOP") -> bytes:
    return sheets_to_xlsx({title: rows})


def sheets_to_xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    """One sheet per table. Text cells are escaped like the CSV's (nothing is a formula);
    numbers stay numbers (a report's counts), GTINs are text and keep their digits."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title[:31])  # Excel's limit on a sheet's name
        for row in rows:
            sheet.append([v if isinstance(v, int) else _export_text(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_catalog(
    database: db.Database, fmt: str, *, delimiter: str = ",", lang: str = "vi"
) -> bytes:
    with database.read() as conn:
        rows = export_rows(conn, lang)
    if fmt == "xlsx":
        return to_xlsx(rows)
    return to_csv(rows, delimiter)


EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_MIME}
DELIMITERS = {"comma": ",", "semicolon": ";"}

__all__ = [
    "COLUMNS",
    "ImportReport",
    "export_catalog",
    "import_catalog",
    "problem_table",
    "read_table",
    "table_to_document",
]
