import dataclasses

import pytest

from kiosk.errors import ConfigError
from kiosk.settings import (Language, Mode, Settings, load_settings, parse_settings_file,
                            resolve_data_dir, settings_from_dict)
from tests.conftest import REPO_ROOT, run_cli


def test_defaults_when_no_file():
    settings = load_settings(None, environ={})
    assert settings.mode is Mode.SHOWROOM
    assert settings.language is Language.VI
    assert settings.source == "built-in defaults"


def test_valid_file(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text('mode = "reststop"\nlanguage = "en"\n[camera]\nfps = 15\n'
                    '[printer]\nwidth_mm = 80\n', encoding="utf-8")
    settings = parse_settings_file(path)
    assert settings.mode is Mode.RESTSTOP and settings.language is Language.EN
    assert settings.camera.fps == 15 and settings.printer.width_mm == 80
    assert settings.source == str(path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.mode = Mode.STATION


def test_every_problem_reported_at_once():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({
            "mode": "museum",                       # bad choice
            "langauge": "vi",                       # typo
            "camera": {"fps": "fast", "widht_px": 1},  # wrong type + typo
            "printer": {"width_mm": 70},            # not 58/80
            "ui": {"idle_timeout_s": 1},            # out of range
            "staff": 3,                             # not a table
        })
    problems = info.value.problems
    text = "\n".join(problems)
    assert len(problems) == 7, text
    assert "mode: must be one of 'showroom', 'reststop', 'station', got 'museum'" in text
    assert "langauge: unknown key (did you mean 'language'?)" in text
    assert "camera.fps: expected an integer, got a string 'fast'" in text
    assert "camera.widht_px: unknown key (did you mean 'camera.width_px'?)" in text
    assert "printer.width_mm: must be one of 58, 80, got 70" in text
    assert "ui.idle_timeout_s: 1.0 is out of range (5.0 to 3600.0)" in text
    assert "staff: expected a table, got an integer" in text


def test_bool_is_not_an_int():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"camera": {"fps": True}, "ui": {"fullscreen": "yes"}})
    assert len(info.value.problems) == 2


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("mode = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_settings_file(bad)
    with pytest.raises(ConfigError, match="file not found"):
        parse_settings_file(tmp_path / "missing.toml")


def test_environment_order(tmp_path):
    path = tmp_path / "env.toml"
    path.write_text('mode = "station"\n', encoding="utf-8")
    settings = load_settings(None, environ={"OCOP_KIOSK_CONFIG": str(path),
                                            "OCOP_KIOSK_REGISTRY_URL": "http://r:1"})
    assert settings.mode is Mode.STATION
    assert settings.registry.url == "http://r:1"
    assert resolve_data_dir(settings, None, {"OCOP_KIOSK_DATA": "/x"}).as_posix() == "/x"
    assert resolve_data_dir(settings, "/y", {"OCOP_KIOSK_DATA": "/x"}).as_posix() == "/y"
    xdg = resolve_data_dir(Settings(), None, {"XDG_STATE_HOME": str(tmp_path)})
    assert xdg in (tmp_path / "ocop-kiosk", __import__("pathlib").Path("/var/lib/ocop-kiosk"))


@pytest.mark.parametrize("name", ["kiosk.toml", "showroom.toml", "reststop.toml",
                                  "station.toml"])
def test_shipped_config_files_are_valid(name):
    settings = parse_settings_file(REPO_ROOT / "config" / name)   # raises on any problem
    assert settings.source.endswith(name)


def test_cli_reports_all_problems_exit_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('mode = "x"\n[camera]\nfsp = 3\n', encoding="utf-8")
    result = run_cli("--config", str(path), "config", "check")
    assert result.returncode == 2
    assert "2 problem(s)" in result.stderr
    assert "Traceback" not in result.stderr
    assert "camera.fsp: unknown key (did you mean 'camera.fps'?)" in result.stderr


def test_documented_default_file_matches_built_in_defaults():
    documented = parse_settings_file(REPO_ROOT / "config" / "kiosk.toml")
    assert dataclasses.replace(documented, source="") == dataclasses.replace(Settings(),
                                                                             source="")


def test_values_checked_beyond_type_and_range():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"printer": {"uri": "lpt://1"},
                            "stamps": {"base_url": "http://example.com/s"},
                            "mode": "x"})
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 3, text
    assert "printer.uri: bad printer URI 'lpt://1': unknown scheme" in text
    assert "stamps.base_url:" in text and "must start with https://" in text
    ok = settings_from_dict({"printer": {"uri": "tcp://192.168.1.50:9100"}})
    assert ok.printer.uri == "tcp://192.168.1.50:9100"
