"""The office's report (registry/reports.py) as spreadsheet files: XLSX with one sheet per
table, or one table as CSV (UTF-8 with BOM, as the catalog export). Headers in Vietnamese or
English, defined once here."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

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


# The query rules of both routes to the exporter (GET /api/v1/admin/reports/export and the
# console's /console/reports/export): one set, so the two never accept different files.
FORMAT_PATTERN = "^(csv|xlsx)$"
TABLE_PATTERN = "^(" + "|".join(TABLES) + ")$"
DELIMITER_PATTERN = "^(" + "|".join(catalog_import.DELIMITERS) + ")$"
LANG_PATTERN = "^(vi|en)$"
MAX_DAYS = 366


def table_rows(report: Report, table: str, lang: str = "vi") -> list[list[Any]]:
    header = [vi if lang == "vi" else en for en, vi in TABLES[table]]
    return [header, *([*row] for row in getattr(report, table))]


def report_file(report: Report, fmt: str, table: str, *, delimiter: str, lang: str) -> bytes:
    if fmt == "xlsx":
        return catalog_import.sheets_to_xlsx({t: table_rows(report, t, lang) for t in TABLES})
    rows = [[str(v) for v in row] for row in table_rows(report, table, lang)]
    return catalog_import.to_csv(rows, delimiter)


def download(report: Report, fmt: str, table: str, *, delimiter: str, lang: str) -> Response:
    """The file as an attachment (`delimiter`: a catalog_import.DELIMITERS name)."""
    content = report_file(
        report, fmt, table, delimiter=catalog_import.DELIMITERS[delimiter], lang=lang
    )
    name = f"ocop-report-{report.last_day}" + (f"-{table}" if fmt == "csv" else "")
    return Response(
        content,
        media_type=catalog_import.EXPORT_FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )
