"""The systemd units: `systemd-analyze verify` clean, the promised settings present."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.helpers import INSTALLED_BIN, INSTALLER, SYSTEMD_DIR

UNITS = sorted(p.name for p in SYSTEMD_DIR.glob("*.service"))
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze missing: apt-get install systemd"
)


def test_the_three_units_exist():
    assert {"ocop-kiosk.service", "ocop-kiosk-sync.service", "ocop-registry.service"} <= set(UNITS)


def render(tmp_path: Path, text_by_name: dict[str, str] | None = None) -> Path:
    """Copies of the units whose ExecStart points at stub binaries that exist here (verify
    refuses a unit whose program is missing, and /opt/ocop-kiosk is not installed here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    units = tmp_path / "units"
    units.mkdir(exist_ok=True)
    for name in UNITS:
        text = (text_by_name or {}).get(name) or (SYSTEMD_DIR / name).read_text()
        for program in set(re.findall(re.escape(INSTALLED_BIN) + r"([\w.-]+)", text)):
            stub = bin_dir / program
            stub.write_text("#!/bin/sh\nexit 0\n")
            stub.chmod(0o755)
        (units / name).write_text(text.replace(INSTALLED_BIN, f"{bin_dir}/"))
    return units


def verify(units: Path, names: list[str]) -> tuple[int, list[str]]:
    out = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *names],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # verify exits 0 on unknown keys / bad values ("..., ignoring"): treat any message that
    # names one of our files as a failure.
    problems = [
        line
        for line in (out.stdout + out.stderr).splitlines()
        if any(name in line for name in names)
    ]
    return out.returncode, problems


@needs_systemd
@pytest.mark.parametrize("name", UNITS)
def test_unit_verifies(tmp_path, name):
    units = render(tmp_path)
    code, problems = verify(units, [name])
    assert code == 0 and not problems, "\n".join(problems)


@needs_systemd
def test_verify_catches_a_typo(tmp_path):
    """The check above is not vacuous: a misspelt directive is reported."""
    text = (
        (SYSTEMD_DIR / "ocop-kiosk.service")
        .read_text()
        .replace("ProtectSystem=strict", "ProtectSytem=strict")
    )
    units = render(tmp_path, {"ocop-kiosk.service": text})
    code, problems = verify(units, ["ocop-kiosk.service"])
    assert problems and "ProtectSytem" in "\n".join(problems)


@needs_systemd
@pytest.mark.parametrize(
    "name,limit",
    [("ocop-kiosk.service", 3.0), ("ocop-kiosk-sync.service", 2.0), ("ocop-registry.service", 2.0)],
)
def test_exposure_score(tmp_path, name, limit):
    units = render(tmp_path)
    out = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "security",
            "--offline=yes",
            f"--threshold={limit * 10:.0f}",
            "--no-pager",
            name,
        ],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=120,
    )
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout)
    assert score, out.stdout + out.stderr
    assert float(score.group(1)) <= limit, out.stdout


def parse(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None, dict_type=_MultiDict)
    parser.optionxform = str
    parser.read(SYSTEMD_DIR / name)
    return parser


class _MultiDict(dict):
    """systemd repeats keys (Environment=, After=): keep every value, newline-joined."""

    def __setitem__(self, key, value):
        if key in self and isinstance(value, list):
            self[key].extend(value)
            return
        super().__setitem__(key, value)


def values(unit: configparser.RawConfigParser, section: str, key: str) -> str:
    return unit.get(section, key, fallback="")


def test_kiosk_unit_promises():
    unit = parse("ocop-kiosk.service")
    service = dict(unit.items("Service"))
    assert service["Type"] == "notify"
    assert service["WatchdogSec"]
    assert service["Restart"] == "always"
    assert values(unit, "Unit", "StartLimitBurst") and values(unit, "Unit", "StartLimitIntervalSec")
    assert service["User"] == "ocop"
    groups = set(service["SupplementaryGroups"].split())
    assert {"video", "render", "input", "lp", "dialout"} <= groups
    for key in ("StateDirectory", "LogsDirectory", "ConfigurationDirectory"):
        assert service[key] == "ocop-kiosk"
    assert service["ProtectSystem"] == "strict"
    for key in ("ProtectHome", "NoNewPrivileges", "PrivateTmp"):
        assert service[key] == "yes"
    assert service["EnvironmentFile"] == "-/etc/ocop-kiosk/kiosk.env"
    assert "SDL_VIDEODRIVER=kmsdrm" in service["Environment"]
    # Settings that would cut the kiosk off its camera, display, touch or printer.
    for key in (
        "PrivateDevices",
        "DevicePolicy",
        "DeviceAllow",
        "ProtectClock",
        "PrivateUsers",
        "MemoryDenyWriteExecute",
        "DynamicUser",
    ):
        assert key not in service, key


def test_sync_unit_runs_the_sync_loop():
    service = dict(parse("ocop-kiosk-sync.service").items("Service"))
    assert service["ExecStart"].endswith("ocop-kiosk sync")
    assert service["Restart"] == "always"
    assert service["User"] == "ocop"
    assert service["StateDirectory"] == "ocop-kiosk"


@pytest.mark.parametrize("name", ["ocop-kiosk.service", "ocop-kiosk-sync.service"])
def test_a_configuration_error_is_not_restarted_in_a_loop(name):
    """Exit 2 (bad settings, a demo folder configured for a real registry) cannot be fixed
    by a restart: the unit must not loop on it (and wear the SD card)."""
    service = dict(parse(name).items("Service"))
    assert "2" in service["RestartPreventExitStatus"].split()


def test_installer_and_units_agree_on_paths():
    script = INSTALLER.read_text()
    assert "APP_DIR=/opt/ocop-kiosk" in script and INSTALLED_BIN.startswith("/opt/ocop-kiosk/")
    for name in ("ocop-kiosk.service", "ocop-kiosk-sync.service"):
        assert name in script
        assert f"ExecStart={INSTALLED_BIN}" in (SYSTEMD_DIR / name).read_text()
    assert "KIOSK_USER=ocop" in script


def test_udev_rule_lines_are_well_formed():
    rules = (SYSTEMD_DIR / "udev" / "60-ocop-printer.rules").read_text()
    lines = [ln for ln in rules.splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(lines) >= 5
    for line in lines:
        assert re.match(r'^SUBSYSTEM=="(usb|usbmisc)"', line), line
        assert 'GROUP="lp"' in line and 'MODE="0660"' in line, line
        assert line.count('"') % 2 == 0, line
    for vid_pid in ("0416", "5011", "0483", "5743", "04b8"):
        assert vid_pid in rules
