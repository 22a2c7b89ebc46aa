import dataclasses

import pytest

from kiosk.settings import (
    Language,
    Mode,
    Settings,
    load_settings,
    parse_settings_file,
    resolve_data_dir,
    settings_from_dict,
)
from ocop.errors import ConfigError
from tests.conftest import REPO_ROOT, run_cli


def test_defaults_when_no_file():
    settings = load_settings(None, environ={})
    assert settings.mode is Mode.SHOWROOM
    assert settings.language is Language.VI
    assert settings.source == "built-in defaults"


def test_valid_file(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text(
        'mode = "reststop"\nlanguage = "en"\n[camera]\nfps = 15\n[printer]\nwidth_mm = 80\n',
        encoding="utf-8",
    )
    settings = parse_settings_file(path)
    assert settings.mode is Mode.RESTSTOP and settings.language is Language.EN
    assert settings.camera.fps == 15 and settings.printer.width_mm == 80
    assert settings.source == str(path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.mode = Mode.STATION


def test_every_problem_reported_at_once():
    with pytest.raises(ConfigError) as info:
        settings_from_dict(
            {
                "mode": "museum",  # bad choice
                "langauge": "vi",  # typo
                "camera": {"fps": "fast", "widht_px": 1},  # wrong type + typo
                "printer": {"width_mm": 70},  # not 58/80
                "ui": {"idle_timeout_s": 1},  # out of range
                "staff": 3,  # not a table
            }
        )
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
    settings = load_settings(
        None, environ={"OCOP_KIOSK_CONFIG": str(path), "OCOP_KIOSK_REGISTRY_URL": "https://r:1"}
    )
    assert settings.mode is Mode.STATION
    assert settings.registry.url == "https://r:1"
    assert resolve_data_dir(settings, None, {"OCOP_KIOSK_DATA": "/x"}).as_posix() == "/x"
    assert resolve_data_dir(settings, "/y", {"OCOP_KIOSK_DATA": "/x"}).as_posix() == "/y"
    xdg = resolve_data_dir(Settings(), None, {"XDG_STATE_HOME": str(tmp_path)})
    assert xdg in (tmp_path / "ocop-kiosk", __import__("pathlib").Path("/var/lib/ocop-kiosk"))


@pytest.mark.parametrize("name", ["kiosk.toml", "showroom.toml", "reststop.toml", "station.toml"])
def test_shipped_config_files_are_valid(name):
    settings = parse_settings_file(REPO_ROOT / "config" / name)  # raises on any problem
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
    assert dataclasses.replace(documented, source="") == dataclasses.replace(Settings(), source="")


def test_values_checked_beyond_type_and_range():
    with pytest.raises(ConfigError) as info:
        settings_from_dict(
            {
                "printer": {"uri": "lpt://1"},
                "stamps": {"base_url": "http://example.com/s"},
                "mode": "x",
            }
        )
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 3, text
    assert "printer.uri: bad printer URI 'lpt://1': unknown scheme" in text
    assert "stamps.base_url:" in text and "must start with https://" in text
    ok = settings_from_dict({"printer": {"uri": "tcp://192.168.1.50:9100"}})
    assert ok.printer.uri == "tcp://192.168.1.50:9100"


# --- values that would pass a type and a range check but break later -----------------------


def _leaf_fields(cls=Settings, prefix=""):
    """(dotted path, type) of every setting, found from the dataclasses themselves: a new
    field is covered by the tests below without editing them."""
    import typing

    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        if dataclasses.is_dataclass(hints[f.name]):
            yield from _leaf_fields(hints[f.name], f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", hints[f.name], f.metadata


FLOAT_PATHS = [path for path, hint, _meta in _leaf_fields() if hint is float]
TEXT_PATHS = [path for path, hint, _meta in _leaf_fields() if hint is str]


def _toml(path: str, literal: str) -> str:
    table, _, key = path.rpartition(".")
    return (f"[{table}]\n" if table else "") + f"{key} = {literal}\n"


def test_the_introspection_finds_the_settings():
    assert {"registry.timeout_s", "camera.gone_after_s", "staff.lockout_s"} <= set(FLOAT_PATHS)
    assert {"site.name", "printer.uri", "data_dir"} <= set(TEXT_PATHS)


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf", "+nan", "1e400"])
@pytest.mark.parametrize("path", FLOAT_PATHS)
def test_every_float_must_be_finite(tmp_path, path, literal):
    config = tmp_path / "k.toml"
    config.write_text(_toml(path, literal), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        parse_settings_file(config)
    shown = {"nan": "nan", "+nan": "nan", "inf": "inf", "1e400": "inf", "-inf": "-inf"}
    assert info.value.problems == [f"{path}: must be a finite number, got {shown[literal]}"]


def test_non_finite_floats_reported_with_every_other_problem():
    data = {}
    for path in FLOAT_PATHS:
        table, key = path.split(".")
        data.setdefault(table, {})[key] = float("nan")
    data["camera"]["fps"] = 0
    data["mode"] = "museum"
    with pytest.raises(ConfigError) as info:
        settings_from_dict(data)
    problems = info.value.problems
    assert len(problems) == len(FLOAT_PATHS) + 2, problems
    assert "camera.fps: 0 is out of range (1 to 120)" in problems


def test_a_huge_integer_for_a_float_is_refused():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"ui": {"idle_timeout_s": 10**400}})
    assert info.value.problems == ["ui.idle_timeout_s: must be a finite number, got inf"]


@pytest.mark.parametrize("path", TEXT_PATHS)
def test_every_text_setting_is_one_bounded_line(path):
    table, _, key = path.rpartition(".")

    def data(value):
        return {table: {key: value}} if table else {key: value}

    for value in ("a\nb", "x\x00y", "tab\there"):
        with pytest.raises(ConfigError) as info:
            settings_from_dict(data(value))
        assert info.value.problems[0].startswith(
            f"{path}: must be one line of text without control characters"
        )
    with pytest.raises(ConfigError) as info:
        settings_from_dict(data("x" * 100_000))
    assert info.value.problems[0].startswith(f"{path}: 100,000 characters, at most ")


def test_a_hostile_value_is_quoted_short():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"site": {"name": list(range(100_000))}, "camera": {"fps": "9" * 5000}})
    assert all(len(p) < 200 for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(
    "path,value,expected",
    [
        ("registry.url", "ftp://ocop.sonla.gov.vn", "must look like https://host[:port]"),
        ("registry.url", "https://", "must look like https://host[:port]"),
        ("registry.url", "http://host:99999", "not a valid URL"),
        ("registry.root_public_key", "not base64!", "root public key: not valid base64"),
        ("registry.root_public_key", "AAAA", "expected 32 bytes, got 3"),
        ("staff.pin_hash", "2468", "must look like 'scrypt$14$8$1$<salt>$<hash>'"),
        ("site.hotline", "call 0212", "digits, spaces and + . - ( ) only"),
        ("site.hotline", "12", "at least 3 digits"),
        ("site.report_url", "http://ocop.sonla.gov.vn/report", "must look like https://"),
        ("site.report_url", "https://ocop.sonla.gov.vn/a b", "must look like https://"),
    ],
)
def test_values_that_would_break_later_are_refused(path, value, expected):
    table, key = path.split(".")
    with pytest.raises(ConfigError) as info:
        settings_from_dict({table: {key: value}})
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"{path}: ")
    assert expected in info.value.problems[0]


def test_environment_values_are_checked_like_the_file():
    with pytest.raises(ConfigError) as info:
        load_settings(
            None,
            environ={
                "OCOP_KIOSK_REGISTRY_URL": "registry.local",
                "OCOP_KIOSK_REGISTRY_TOKEN": "abc\ndef",
            },
        )
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 2, text
    assert "$OCOP_KIOSK_REGISTRY_URL (registry.url): must look like" in text
    assert "$OCOP_KIOSK_REGISTRY_TOKEN (registry.token): must be one line" in text


# --- files that are not settings at all: exit 2, one line, never a traceback ----------------


def _check(config):
    return run_cli("--config", str(config), "config", "check")


def _refusal_line(result) -> str:
    """The one line a refused `config check` writes (exit 2, no traceback): what the test
    then asserts."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("a = " + "[" * 500 + "]" * 500, "nested too deeply"),
        ("a = " + "{b = " * 500 + "1" + "}" * 500, "nested too deeply"),
        ("[camera]\nfps = 1" + "0" * 5000 + "\n", "a number with more than 4300 digits"),
    ],
)
def test_hostile_toml_is_one_line_exit_2(tmp_path, text, expected):
    config = tmp_path / "hostile.toml"
    config.write_text(text, encoding="utf-8")
    assert expected in _refusal_line(_check(config))


def test_huge_or_binary_files_are_one_line_exit_2(tmp_path):
    huge = tmp_path / "huge.toml"
    huge.write_text("# comment\n" * 200_000, encoding="utf-8")
    assert "larger than 1,000,000 bytes" in _refusal_line(_check(huge))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b'mode = "\xff\xfe"\n')
    assert "not UTF-8 text (byte 8)" in _refusal_line(_check(binary))


# --- the label must hold a stamp --------------------------------------------------------------


def _label_config(tmp_path, width_mm, height_mm):
    config = tmp_path / f"label-{width_mm}x{height_mm}.toml"
    config.write_text(
        f"[printer]\nwidth_mm = {width_mm}\nlabel_height_mm = {height_mm}\n", encoding="utf-8"
    )
    return config


@pytest.mark.parametrize("width_mm,height_mm", [(58, 25), (58, 20), (80, 30), (80, 1)])
def test_config_check_refuses_a_label_too_small_for_a_stamp(tmp_path, width_mm, height_mm):
    result = _check(_label_config(tmp_path, width_mm, height_mm))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert (
        f"printer.label_height_mm: {height_mm} mm is too short for a stamp label on "
        f"{width_mm} mm paper: at least "
    ) in result.stderr


@pytest.mark.parametrize("width_mm", [58, 80])
def test_the_minimum_said_is_the_smallest_size_accepted(tmp_path, width_mm):
    import re

    refused = _check(_label_config(tmp_path, width_mm, 1))
    minimum = int(re.search(r"at least (\d+) mm", refused.stderr).group(1))
    ok = _check(_label_config(tmp_path, width_mm, minimum))
    assert ok.returncode == 0, ok.stderr
    assert f"stamp label {width_mm} x {minimum} mm, at least {minimum} mm needed" in ok.stdout
    below = _check(_label_config(tmp_path, width_mm, minimum - 1))
    assert below.returncode == 2 and f"at least {minimum} mm" in below.stderr


def test_label_problem_reported_with_the_other_problems():
    with pytest.raises(ConfigError) as info:
        settings_from_dict(
            {
                "printer": {"width_mm": 80, "label_height_mm": 30},
                "registry": {"timeout_s": float("nan")},
            }
        )
    assert len(info.value.problems) == 2
    assert info.value.problems[1].startswith("printer.label_height_mm: 30 mm is too short")


def test_kiosk_does_not_start_with_a_label_too_small(tmp_path):
    result = run_cli(
        "--config",
        str(_label_config(tmp_path, 58, 25)),
        "--data-dir",
        str(tmp_path / "d"),
        "run",
        "--windowed",
        timeout_s=60,
    )
    assert result.returncode == 2, result.stderr
    assert "printer.label_height_mm: 25 mm is too short" in result.stderr
    assert not (tmp_path / "d").exists()  # refused before demo data or a window


def _documented(lines: list[str], table: str, key: str) -> str:
    """The comments above `key` in `[table]` of config/kiosk.toml (a comment may serve the
    keys that follow it)."""
    section = f"[{table}]" if table else None
    inside = section is None
    for index, line in enumerate(lines):
        if line.startswith("["):
            inside = line.strip() == section
        elif inside and line.split("=")[0].strip() == key:
            comments = []
            for above in reversed(lines[:index]):
                if not above.strip() or above.startswith("["):
                    break
                if above.startswith("#"):
                    comments.append(above)
            return " ".join(comments)
    raise AssertionError(f"{table}.{key} is not in config/kiosk.toml")


def test_documented_file_states_every_limit():
    lines = (REPO_ROOT / "config" / "kiosk.toml").read_text(encoding="utf-8").splitlines()

    def number(value):
        return f"{value:g}" if isinstance(value, float) else str(value)

    for path, _hint, meta in _leaf_fields():
        if "min" not in meta or path == "printer.label_height_mm":
            continue
        table, _, key = path.rpartition(".")
        text = _documented(lines, table, key)
        assert f"{number(meta['min'])} to {number(meta['max'])}" in text.replace(",", ""), (
            f"{path}: config/kiosk.toml should say its range {meta['min']} to {meta['max']}"
        )
    from kiosk.printing.queue import label_minimum_mm

    label = _documented(lines, "printer", "label_height_mm")
    for width_mm in (58, 80):
        minimum = label_minimum_mm(settings_from_dict({"printer": {"width_mm": width_mm}}))
        assert f"{minimum} mm on {width_mm} mm paper" in label


# --- transport: no plain http to a registry off this machine unless allowed ----------------


@pytest.mark.parametrize(
    "url",
    [
        "http://registry.sonla.example:8080",
        "http://192.0.2.10",
        "http://[2001:db8::1]:8080",
        "HTTP://ocop.sonla.gov.vn",
    ],
)
def test_http_to_a_remote_registry_is_refused_unless_allowed(url):
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"registry": {"url": url}, "camera": {"fps": 0}})
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 2, text  # reported with every other problem
    assert "registry.url: plain http://" in text and "allow_insecure_http = true" in text
    allowed = settings_from_dict({"registry": {"url": url, "allow_insecure_http": True}})
    assert allowed.registry.allow_insecure_http is True


@pytest.mark.parametrize(
    "url",
    [
        "https://registry.sonla.example",
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://[::1]:9",
        "http://localhost:8080",
    ],
)
def test_https_and_loopback_http_need_no_permission(url):
    assert settings_from_dict({"registry": {"url": url}}).registry.url == url


def test_the_environment_url_follows_the_same_rule(tmp_path):
    environ = {"OCOP_KIOSK_REGISTRY_URL": "http://registry.sonla.example"}
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ=environ)
    assert "$OCOP_KIOSK_REGISTRY_URL (registry.url): plain http://" in str(info.value)
    allowed = tmp_path / "k.toml"
    allowed.write_text("[registry]\nallow_insecure_http = true\n", encoding="utf-8")
    settings = load_settings(allowed, environ=environ)
    assert settings.registry.url == "http://registry.sonla.example"
    result = run_cli("--config", str(tmp_path / "bad.toml"), "config", "check")
    assert result.returncode == 2
    (tmp_path / "bad.toml").write_text(
        '[registry]\nurl = "http://registry.sonla.example"\n', encoding="utf-8"
    )
    result = run_cli("--config", str(tmp_path / "bad.toml"), "config", "check")
    assert result.returncode == 2 and "allow_insecure_http" in result.stderr


def test_a_rest_stops_road_and_district_come_from_settings():
    from ocop.roads import Road

    settings = settings_from_dict(
        {"mode": "reststop", "site": {"road": "QL37", "district": "Bắc Yên"}}
    )
    assert settings.site.road is Road.QL37 and settings.site.district == "Bắc Yên"


def test_a_wrong_road_or_a_district_off_the_road_is_reported_with_the_other_errors():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"mode": "reststop", "site": {"road": "QL99"}, "ui": {"fps": 1}})
    text = "\n".join(info.value.problems)
    assert "site.road: must be one of 'QL6', 'QL37', 'QL43', 'QL4G', got 'QL99'" in text
    assert "ui.fps: unknown key" in text  # reported at once, not one at a time
    with pytest.raises(ConfigError) as info:
        settings_from_dict(
            {"mode": "reststop", "site": {"road": "QL6", "district": "Bắc Yên"}, "ui": {"x": 1}}
        )
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 2, text
    assert (
        "site.district: 'Bắc Yên' is not on QL6 (its districts in order: Vân Hồ, Mộc Châu, "
        "Yên Châu, Mai Sơn, Thành phố Sơn La, Thuận Châu); it is on QL37: set site.road"
    ) in text
    # a showroom in a district off every road is fine: it shows no route
    settings_from_dict({"mode": "showroom", "site": {"district": "Quỳnh Nhai"}})


def test_camera_position_is_validated_with_every_other_problem():
    from kiosk.settings import CameraPosition

    assert Settings().camera.position is CameraPosition.ABOVE
    for position in CameraPosition:
        chosen = settings_from_dict({"camera": {"position": position.value}})
        assert chosen.camera.position is position
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"camera": {"position": "top", "fps": 0}, "mode": "x"})
    problems = info.value.problems
    assert len(problems) == 3, problems
    assert (
        "camera.position: must be one of 'above', 'below', 'left', 'right', got 'top'" in problems
    )
