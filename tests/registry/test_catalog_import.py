"""The office's spreadsheet import and export (registry/catalog_import.py) through a real
registry process: POST /api/v1/admin/catalog/import, GET .../catalog/export and the CLI,
on SQLite and PostgreSQL. Every problem at once, by row and column, in Vietnamese and
English; nothing written while there is one; a good file reaches a real kiosk's sync."""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile

import openpyxl
import pytest

from ocop.gtin import gtin_check_digit
from registry import catalog_import
from tests.sync.conftest import make_kiosk  # noqa: F401 - the fixture a kiosk syncs with

API = "/api/v1"
IMPORT = f"{API}/admin/catalog/import"
EXPORT = f"{API}/admin/catalog/export"


def _gtin(body12: str) -> str:
    return body12 + str(gtin_check_digit(body12))


def _ids(count: int) -> list[int]:
    """Product ids no other test of the module uses (one registry per module)."""
    base = 700_000 + (uuid.uuid4().int % 2_000) * 50
    return [base + i for i in range(count)]


def _csv(rows: list[list[str]], delimiter: str = ",", bom: bool = False, eol: str = "\n") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator=eol).writerows(rows)
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


def _post(registry, content: bytes, filename: str = "catalog.csv", dry_run: bool = True):
    return registry.admin(
        "POST",
        IMPORT,
        params={"dry_run": "1" if dry_run else "0"},
        files={"file": (filename, content, "application/octet-stream")},
    )


def _placed(reply) -> set[tuple[int, str, str]]:
    return {(p["row"], p["column"], p["code"]) for p in reply.json()["problems"]}


def _exists(registry, product_id: int) -> bool:
    return registry.admin("GET", f"{API}/admin/products/{product_id}").status_code == 200


# The Vietnamese headers, as the office's own template has them.
VI_HEADER = [
    "Mã sản phẩm",
    "Mã vạch GTIN",
    "Tên sản phẩm (tiếng Việt)",
    "Tên sản phẩm (tiếng Anh)",
    "Nhóm sản phẩm",
    "Huyện",
    "Mã chủ thể",
    "Tên chủ thể",
    "Loại chủ thể",
    "Số sao",
    "Ngày công nhận",
    "Hiệu lực đến",
]


def _planted(ids: list[int]) -> tuple[list[list[str]], set[tuple[int, str, str]]]:
    """A file with 9 planted errors (rows 3-11; row 2 is right) and the report it must give."""
    good_gtin = _gtin(f"893{ids[0]:09d}")
    bad_gtin = good_gtin[:-1] + str((int(good_gtin[-1]) + 1) % 10)

    def row(i, gtin="", name="Chè Shan tuyết", district="Mộc Châu", stars="4", on="01/06/2024"):
        return [str(ids[i]), gtin, name, "Tea", "2", district, "htx-bich-thao", "", "", stars, on]

    rows = [
        VI_HEADER,
        row(0, gtin=good_gtin) + [""],
        row(1, gtin=bad_gtin) + [""],
        row(2, on="2022-06-01") + ["2026-12-01"],  # 54 months after recognition
        row(3, stars="6") + [""],
        row(4, district="Huyện Không Có") + [""],
        row(5, name="") + [""],
        row(6, gtin=good_gtin) + [""],  # the GTIN of row 2
        row(7, on="31/02/2024") + [""],
        [str(ids[8]), "", "Mật ong", "", "1", "Mai Sơn", "hkd-moi", "Hộ Mới", "tập đoàn", "3"]
        + ["01/06/2024", ""],
        row(9) + [""],
    ]
    rows[10][3] = "x" * 301  # name_en: one beyond its limit
    expected = {
        (3, "Mã vạch GTIN", "gtin_check_digit"),
        (4, "Hiệu lực đến", "valid_until_too_late"),
        (5, "Số sao", "stars"),
        (6, "Huyện", "unknown_district"),
        (7, "Tên sản phẩm (tiếng Việt)", "empty"),
        (8, "Mã vạch GTIN", "duplicate_in_row"),
        (9, "Ngày công nhận", "not_a_date"),
        (10, "Loại chủ thể", "not_choice"),
        (11, "Tên sản phẩm (tiếng Anh)", "too_long"),
    }
    return rows, expected


def test_nine_planted_errors_are_all_reported_by_row_and_column_and_nothing_changes(registry):
    ids = _ids(10)
    rows, expected = _planted(ids)
    before = registry.admin("GET", f"{API}/catalog/changes", params={"since": 0}).json()
    reply = _post(registry, _csv(rows))
    assert reply.status_code == 422, reply.text
    assert _placed(reply) == expected
    by_row = {p["row"]: p for p in reply.json()["problems"]}
    # Days as the office writes them, in both languages: no ISO date in a message.
    assert "01/06/2027" not in by_row[4]["message_en"]
    assert by_row[4]["message_en"].startswith("01/12/2026 is more than 36 months")
    assert "01/06/2025" in by_row[4]["message_en"] and "01/06/2025" in by_row[4]["message_vi"]
    # A day that is not one is named as the office typed it, not in the ISO form.
    assert by_row[9]["message_en"] == "31/02/2024 is not a calendar date"
    for p in reply.json()["problems"]:
        for lang in ("message_en", "message_vi"):
            assert not re.search(r"\d{4}-\d{2}-\d{2}", p[lang]), p
    assert "sai số kiểm tra" in by_row[3]["message_vi"]
    assert by_row[3]["message_en"].endswith("wrong check digit")
    assert "3 đến 5 sao" in by_row[5]["message_vi"]
    assert "trùng với dòng 2" in by_row[8]["message_vi"]
    assert by_row[8]["message_en"].endswith("also in row 2")
    assert "dài quá 300 ký tự" in by_row[11]["message_vi"]
    assert all(p["message_vi"] != p["message_en"] for p in reply.json()["problems"])
    # Applying the same file is refused the same way and writes nothing.
    applied = _post(registry, _csv(rows), dry_run=False)
    assert applied.status_code == 422 and _placed(applied) == expected
    assert not any(_exists(registry, i) for i in ids)
    after = registry.admin("GET", f"{API}/catalog/changes", params={"since": 0}).json()
    assert after["cursor"] == before["cursor"]


def test_the_same_file_saved_by_excel_gives_the_same_report(registry):
    rows, expected = _planted(_ids(10))
    excel = _csv(rows, delimiter=";", bom=True, eol="\r\n")
    assert excel.startswith(b"\xef\xbb\xbf") and b";" in excel and b"\r\n" in excel
    reply = _post(registry, excel)
    assert reply.status_code == 422 and _placed(reply) == expected
    # ... and as an XLSX workbook
    workbook = openpyxl.Workbook()
    for r in rows:
        workbook.active.append(r)
    out = io.BytesIO()
    workbook.save(out)
    reply = _post(registry, out.getvalue(), "catalog.xlsx")
    assert reply.status_code == 422 and _placed(reply) == expected


def test_a_file_that_is_not_utf8_says_how_to_save_it(registry):
    rows, _ = _planted(_ids(10))
    cp1258 = _csv(rows).decode().encode("cp1258", errors="replace")
    reply = _post(registry, cp1258)
    assert reply.status_code == 422
    [found] = reply.json()["problems"]
    assert found["code"] == "not_utf8" and "CSV UTF-8" in found["message_vi"]


def test_unknown_and_missing_columns_are_named(registry):
    reply = _post(registry, _csv([["Mã sản phẩm", "Tên sp", "Nhóm sản phẩm"], ["1", "x", "1"]]))
    assert reply.status_code == 422
    problems = reply.json()["problems"]
    assert ("unknown_column", "Tên sp") in {(p["code"], p["column"]) for p in problems}
    missing = {p["message_en"] for p in problems if p["code"] == "missing_column"}
    assert missing == {
        "missing column 'Tên sản phẩm (tiếng Việt) / name_vi'",
        "missing column 'Mã chủ thể / producer'",
    }


GOOD_HEADER = ("id", "gtin", "name_vi", "group", "district", "producer", "producer_name")
GOOD_HEADER += ("producer_kind", "producer_district", "stars", "recognised_on", "valid_until")


def _good_rows(ids: list[int], producer: str) -> list[list[str]]:
    rows = [list(GOOD_HEADER)]  # a copy: tests add columns
    for n, i in enumerate(ids):
        rows.append(
            [str(i), _gtin(f"893{i:09d}"), f"Sản phẩm {n} – Mường La", "1", "Mường La"]
            + [producer, "Hợp tác xã Thử", "hợp tác xã", "Mường La", "4", "15/03/2024"]
            # shortened by hand: accepted; empty: recognised + 36 months
            + ["2026-03-15" if n == 0 else ""]
        )
    return rows


def test_a_good_file_dry_runs_then_applies_and_a_kiosk_sync_sees_it(registry, make_kiosk):  # noqa: F811
    ids = _ids(3)
    producer = f"htx-thu-{ids[0]}"
    content = _csv(_good_rows(ids, producer), delimiter=";", bom=True, eol="\r\n")
    kiosk = make_kiosk(registry)
    report, _ = kiosk.engine.sync_once()
    assert report.ok, report.error
    dry = _post(registry, content)
    assert dry.status_code == 200, dry.text
    assert dry.json()["summary"] == {
        "products": {"created": 3, "updated": 0, "unchanged": 0},
        "producers": {"created": 1, "updated": 0, "unchanged": 0},
        "ratings": {"created": 3, "updated": 0, "unchanged": 0},
    }
    assert dry.json()["applied"] is False and not _exists(registry, ids[0])
    applied = _post(registry, content, dry_run=False)
    assert applied.status_code == 200 and applied.json()["applied"] is True
    product = registry.admin("GET", f"{API}/admin/products/{ids[1]}").json()
    assert product["ratings"][0]["recognised_on"] == "2024-03-15"
    assert product["ratings"][0]["valid_until"] == "2027-03-15"  # 36 months
    first = registry.admin("GET", f"{API}/admin/products/{ids[0]}").json()
    assert first["ratings"][0]["valid_until"] == "2026-03-15"  # shortened by hand
    report, _ = kiosk.engine.sync_once()
    assert report.ok, report.error
    assert report.pull.products == 3 and report.pull.producers == 1
    names = dict(kiosk.store.query("SELECT id, name_vi FROM products WHERE id >= 700000"))
    assert {i: names.get(i) for i in ids} == {
        i: f"Sản phẩm {n} – Mường La" for n, i in enumerate(ids)
    }
    # The same file again: unchanged, and kiosks get nothing.
    again = _post(registry, content, dry_run=False).json()
    assert again["summary"]["products"] == {"created": 0, "updated": 0, "unchanged": 3}
    report, _ = kiosk.engine.sync_once()
    assert report.ok and report.pull.products == 0


def test_a_half_bad_file_applies_nothing(registry):
    ids = _ids(4)
    producer = f"htx-nua-{ids[0]}"
    rows = _good_rows(ids, producer)
    held = registry.admin("GET", f"{API}/admin/products/101").json()["gtin"]
    rows[4][1] = held  # the last row takes a GTIN product 101 holds: found at the write
    reply = _post(registry, _csv(rows), dry_run=False)
    assert reply.status_code == 422
    assert _placed(reply) == {(5, "gtin", "gtin_taken")}
    assert not any(_exists(registry, i) for i in ids)
    # nor the new producer of the good rows
    changes = registry.admin("GET", f"{API}/catalog/changes", params={"since": 0}).json()
    assert producer not in {p["id"] for p in changes["producers"]}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_is_unchanged(registry, fmt):
    [pid] = _ids(1)
    history = [  # a rating history: one row per rating in the file
        {"stars": 3, "recognised_on": "2019-05-01", "status": "expired"},
        {"stars": 4, "recognised_on": "2023-05-01", "valid_until": "2026-01-31"},
    ]
    story = 'Dòng một;\r\n"Dòng hai", có dấu phẩy, và =công thức'
    put = registry.admin(
        "PUT",
        f"{API}/admin/products/{pid}",
        json={"name_vi": "@Mận hậu", "group": 1, "producer": "htx-bich-thao", "ratings": history}
        | {"story_vi": story, "gtin": _gtin(f"893{pid:09d}")},
    )
    assert put.status_code == 200, put.text
    exported = registry.admin("GET", EXPORT, params={"format": fmt, "delimiter": "semicolon"})
    assert exported.status_code == 200, exported.text
    table = catalog_import.read_table(exported.content, f"x.{fmt}")
    assert [cells[0] for _, cells in table.rows].count(str(pid)) == 2
    if fmt == "csv":
        assert exported.content.startswith(b"\xef\xbb\xbf")
        assert "Tên sản phẩm (tiếng Việt)".encode() in exported.content
    reply = _post(registry, exported.content, f"catalog.{fmt}", dry_run=True)
    assert reply.status_code == 200, reply.text
    summary = reply.json()["summary"]
    assert summary["products"]["created"] == summary["products"]["updated"] == 0
    assert summary["producers"]["updated"] == summary["ratings"]["updated"] == 0
    assert summary["products"]["unchanged"] >= 28 and summary["ratings"]["unchanged"] >= 29
    assert registry.admin("DELETE", f"{API}/admin/products/{pid}").status_code == 200


def test_rows_are_counted_as_the_spreadsheet_shows_them(registry):
    """A quoted cell with line breaks is one row: the next row's problem is at row 3."""
    ids = _ids(2)
    rows = _good_rows(ids, f"htx-r-{ids[0]}")
    rows[0].append("story_vi")
    rows[1].append("Dòng một\r\nDòng hai\r\nDòng ba")
    rows[2].append("")
    rows[2][1] = "12345678"  # a GTIN-8 with a wrong check digit
    reply = _post(registry, _csv(rows, eol="\r\n"))
    assert _placed(reply) == {(3, "gtin", "gtin_check_digit")}


def test_formulas_are_refused_on_import_and_escaped_on_export(registry):
    ids = _ids(2)
    rows = _good_rows(ids, f"htx-f-{ids[0]}")
    rows[1][2] = '=HYPERLINK("http://evil.example/","Bấm vào")'
    reply = _post(registry, _csv(rows))
    assert _placed(reply) == {(2, "name_vi", "formula")}
    # A name that starts like a formula (written through the JSON API) is exported escaped.
    put = registry.admin(
        "PUT",
        f"{API}/admin/products/{ids[1]}",
        json={"name_vi": "+84 Mận", "group": 1, "producer": "htx-bich-thao", "ratings": []},
    )
    assert put.status_code == 200, put.text
    for fmt in ("csv", "xlsx"):
        exported = registry.admin("GET", EXPORT, params={"format": fmt}).content
        table = catalog_import.read_table(exported, f"x.{fmt}")
        [cells] = [c for _, c in table.rows if c[0] == str(ids[1])]
        assert cells[2] == "'+84 Mận"
    assert registry.admin("DELETE", f"{API}/admin/products/{ids[1]}").status_code == 200


def test_hostile_files_are_refused_with_a_clear_error(registry):
    big = b"id,name_vi,group,producer\r\n" + b"1,x,1,a\r\n" * (50 * 1024 * 1024 // 9)
    reply = _post(registry, big)
    assert reply.status_code == 413
    # A zip bomb: a tiny upload that unpacks to far more than any catalog.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<a/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 * 1024 * 1024))
    assert len(bomb.getvalue()) < 1024 * 1024
    reply = _post(registry, bomb.getvalue(), "bomb.xlsx")
    assert reply.status_code == 422
    assert [p["code"] for p in reply.json()["problems"]] == ["xlsx_too_large"]
    reply = _post(registry, b"PK\x03\x04 not really a zip", "broken.xlsx")
    assert [p["code"] for p in reply.json()["problems"]] == ["not_spreadsheet"]


def test_only_an_editor_imports_and_a_viewer_exports(registry, tmp_path):
    token_file = tmp_path / "viewer.token"
    name = f"viewer-{uuid.uuid4().hex[:8]}"
    registry.cli("admin", "add", name, "--role", "viewer", "--token-file", str(token_file))
    viewer = {"Authorization": f"Bearer {token_file.read_text().strip()}"}
    rows, _ = _planted(_ids(10))
    files = {"file": ("c.csv", _csv(rows), "text/csv")}
    assert registry.admin("POST", IMPORT, files=files, headers=viewer).status_code == 403
    assert registry.admin("GET", EXPORT, headers=viewer).status_code == 200
    stranger = {"Authorization": "Bearer not-a-token"}
    assert registry.admin("POST", IMPORT, files=files, headers=stranger).status_code == 401


def test_the_cli_prints_the_problem_table_and_exports(registry, tmp_path):
    rows, expected = _planted(_ids(10))
    path = tmp_path / "planted.csv"
    path.write_bytes(_csv(rows, delimiter=";", bom=True, eol="\r\n"))
    result = registry.cli("catalog", "import", str(path), "--apply", check=False)
    assert result.returncode == 1, result.stderr
    assert "nothing written" in result.stderr
    for row, column, _ in expected:
        assert any(
            line.split()[0] == str(row) and column[:28] in line
            for line in result.stdout.splitlines()
        ), (row, column, result.stdout)
    assert "sai số kiểm tra" in result.stdout
    out = tmp_path / "catalog.xlsx"
    registry.cli("catalog", "export", "--format", "xlsx", str(out))
    again = registry.cli("catalog", "import", str(out))
    assert "dry run, nothing written" in again.stdout
    assert "products: 0 new, 0 changed" in again.stdout


def test_a_formula_cell_of_a_workbook_is_refused(registry):
    ids = _ids(1)
    workbook = openpyxl.Workbook()
    for r in _good_rows(ids, f"htx-x-{ids[0]}"):
        workbook.active.append(r)
    workbook.active["C2"] = '=HYPERLINK("http://evil.example/","Bấm vào")'  # name_vi
    out = io.BytesIO()
    workbook.save(out)
    reply = _post(registry, out.getvalue(), "catalog.xlsx", dry_run=False)
    assert reply.status_code == 422 and _placed(reply) == {(2, "name_vi", "formula")}
    assert not _exists(registry, ids[0])


def test_the_report_exports_as_xlsx_sheets_and_csv_tables(registry):
    reply = registry.admin("GET", f"{API}/admin/reports/export", params={"format": "xlsx"})
    assert reply.status_code == 200, reply.text
    workbook = openpyxl.load_workbook(io.BytesIO(reply.content), read_only=True)
    assert workbook.sheetnames == ["scans_per_day", "per_product", "per_district", "per_verdict"]
    days = list(workbook["scans_per_day"].iter_rows(values_only=True))
    assert days[0] == ("Ngày", "Lượt quét") and len(days) == 31
    assert all(isinstance(n, int) for _, n in days[1:])
    reply = registry.admin(
        "GET",
        f"{API}/admin/reports/export",
        params={"format": "csv", "table": "per_district", "lang": "en", "delimiter": "semicolon"},
    )
    assert reply.status_code == 200 and reply.content.startswith(b"\xef\xbb\xbfdistrict;scans\r\n")
    bad = registry.admin("GET", f"{API}/admin/reports/export", params={"table": "secrets"})
    assert bad.status_code == 422


def test_a_gtin_that_excel_turned_into_a_number_says_so(registry):
    ids = _ids(1)
    rows = _good_rows(ids, f"htx-e-{ids[0]}")
    rows[1][1] = "8,93505E+12"  # a numeric column saved by Excel with a Vietnamese locale
    reply = _post(registry, _csv(rows, delimiter=";"))
    [found] = reply.json()["problems"]
    assert (found["row"], found["column"], found["code"]) == (2, "gtin", "gtin_as_number")
    assert "Văn bản (Text)" in found["message_vi"]


def test_a_file_without_some_columns_keeps_what_the_registry_holds(registry):
    """A file of ids, names and groups must not wipe stories, pictures and ratings."""
    coffee = registry.admin("GET", f"{API}/admin/products/101").json()
    assert coffee["story_vi"] and coffee["image_hash"] and coffee["ratings"]
    rows = [
        ["Mã sản phẩm", "Tên sản phẩm (tiếng Việt)", "Nhóm sản phẩm", "Mã chủ thể"],
        ["101", coffee["name_vi"], str(coffee["group"]), coffee["producer"]],
    ]
    reply = _post(registry, _csv(rows), dry_run=False)
    assert reply.status_code == 200, reply.text
    assert reply.json()["summary"]["products"] == {"created": 0, "updated": 0, "unchanged": 1}
    rows[1][1] = coffee["name_vi"] + " (mới)"
    reply = _post(registry, _csv(rows), dry_run=False)
    assert reply.json()["summary"]["products"]["updated"] == 1
    after = registry.admin("GET", f"{API}/admin/products/101").json()
    assert after["name_vi"] == coffee["name_vi"] + " (mới)"
    kept = ("story_vi", "image_hash", "ratings", "gtin", "district", "featured", "is_demo")
    assert {k: after[k] for k in kept} == {k: coffee[k] for k in kept}
    rows[1][1] = coffee["name_vi"]
    assert _post(registry, _csv(rows), dry_run=False).status_code == 200
