"""The office's report (registry/reports.py) as spreadsheet files: XLSX with one sheet per
table, or one table as CSV (UTF-8 with BOM, as the catalog export). Headers in Vietnamese or
English, defined once here."""

from __future__ import annotations

from typing import Any

from registry import catalog_import
from registry.reports import Report

# table -> ((English header, Vietnamese header), ...); the report's tuples in this order
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "scans_per_day": (("day", "Ngày"), ("scans", "Lượt quét")),
    "per_product": (
        ("product_id", "Mã sản phẩm"),
        ("name", "Tên sản phẩm"),
        ("scans", "Lượt quét"),
    ),
    "per_district": (("district", "Huyện"), ("scans", "Lượt quét")),
    "per_verdict": (("verdict", "Kết quả kiểm tra"), ("scans", "Lượt quét")),
}


def table_rows(report: Report, table: str, lang: str = "vi") -> list[list[Any]]:
    header = [vi if lang == "vi" else en for en, vi in TABLES[table]]
    return [header, *([*row] for row in getattr(report, table))]


def report_file(report: Report, fmt: str, table: str, *, delimiter: str, lang: str) -> bytes:
    if fmt == "xlsx":
        return catalog_import.sheets_to_xlsx({t: table_rows(report, t, lang) for t in TABLES})
    rows = [[str(v) for v in row] for row in table_rows(report, table, lang)]
    return catalog_import.to_csv(rows, delimiter)
