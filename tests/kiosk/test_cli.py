import json

from tests.conftest import run_cli


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("ocop-kiosk ")
    for args in (["--help"], ["init", "--help"], ["catalog", "search", "--help"]):
        assert run_cli(*args).returncode == 0


def test_demo_init_and_catalog_commands(tmp_path):
    data = str(tmp_path / "d")
    assert run_cli("--data-dir", data, "init", "--demo").returncode == 0
    # Running it again is harmless.
    assert run_cli("--data-dir", data, "init", "--demo").returncode == 0
    listing = run_cli("--data-dir", data, "catalog", "list", "--json")
    assert listing.returncode == 0
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert len(rows) >= 25
    for key in (
        "id",
        "gtin",
        "name_vi",
        "name_en",
        "producer",
        "commune",
        "district",
        "group",
        "stars",
        "rating_valid_until",
        "rating_status",
    ):
        assert key in rows[0]
    shown = json.loads(run_cli("--data-dir", data, "catalog", "show", "101", "--json").stdout)
    assert shown["name_vi"] == "Cà phê bột nguyên chất Bích Thao"
    found = run_cli("--data-dir", data, "catalog", "search", "MOC CHAU", "--json")
    assert all(json.loads(line)["district"] == "Mộc Châu" for line in found.stdout.splitlines())


def test_user_errors_exit_2(tmp_path):
    data = str(tmp_path / "d")
    missing = run_cli("--data-dir", data, "catalog", "list")
    assert missing.returncode == 2 and "init" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert run_cli("--data-dir", data, "init", "--demo").returncode == 0
    not_found = run_cli("--data-dir", data, "catalog", "show", "999")
    assert not_found.returncode == 2 and "no product" in not_found.stderr
    bad = run_cli("--data-dir", data, "catalog", "show", "abc")
    assert bad.returncode == 2
    assert run_cli("no-such-command").returncode == 2


def test_unexpected_error_exit_1_with_log(tmp_path):
    data = tmp_path / "d"
    assert run_cli("--data-dir", str(data), "init").returncode == 0
    # A database file replaced by garbage after init: a bug-class failure is logged.
    (data / "kiosk.sqlite").write_bytes(b"\0garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        (data / f"kiosk.sqlite{suffix}").unlink(missing_ok=True)
    result = run_cli("--data-dir", str(data), "catalog", "list")
    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr
