"""Kiosk settings: TOML -> validated frozen dataclasses.

Where settings come from, first match wins: `--config FILE`, `$OCOP_KIOSK_CONFIG`,
/etc/ocop-kiosk/kiosk.toml, built-in defaults. A file with problems is rejected whole, with
every problem listed at once (unknown key with the closest valid name, wrong type, value out
of range, each with its dotted key path). A value the user wrote is never silently replaced by
a default.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError

SYSTEM_CONFIG_PATH = Path("/etc/ocop-kiosk/kiosk.toml")
SYSTEM_DATA_DIR = Path("/var/lib/ocop-kiosk")
ENV_CONFIG = "OCOP_KIOSK_CONFIG"
ENV_DATA_DIR = "OCOP_KIOSK_DATA"
ENV_REGISTRY_URL = "OCOP_KIOSK_REGISTRY_URL"
ENV_REGISTRY_TOKEN = "OCOP_KIOSK_REGISTRY_TOKEN"
ENV_ROOT_KEY = "OCOP_KIOSK_ROOT_KEY"

DEFAULT_STAMP_BASE_URL = "HTTPS://OCOP.SONLA.GOV.VN/S/"


class Mode(enum.Enum):
    SHOWROOM = "showroom"   # OCOP showroom: shoppers scan, browse
    RESTSTOP = "reststop"   # unattended QL6 rest-stop display: large type, route strip
    STATION = "station"     # stamp-printing station: staff mode available


class Language(enum.Enum):
    VI = "vi"
    EN = "en"


class CameraKind(enum.Enum):
    AUTO = "auto"           # Pi camera, else USB camera, else demo camera; see docs/scanning.md
    USB = "usb"
    PICAMERA = "picamera"
    REPLAY = "replay"


@dataclass(frozen=True)
class SiteSettings:
    name: str = "Điểm giới thiệu sản phẩm OCOP (demo)"
    district: str = "Mộc Châu"


@dataclass(frozen=True)
class CameraSettings:
    kind: CameraKind = CameraKind.AUTO
    device: str = "0"                 # USB: index ("0") or path ("/dev/video0")
    width_px: int = field(default=640, metadata={"min": 160, "max": 4096})
    height_px: int = field(default=480, metadata={"min": 120, "max": 4096})
    fps: int = field(default=30, metadata={"min": 1, "max": 120})
    replay_path: str = ""             # folder of images or a video; "" = bundled demo frames
    # one presence, one scan: a code counts again only after this long out of view
    gone_after_s: float = field(default=3.0, metadata={"min": 0.5, "max": 60.0})


@dataclass(frozen=True)
class PrinterSettings:
    uri: str = "virtual:"             # tcp://host:9100, usb://VID:PID, serial:///dev/ttyUSB0?baud=115200, file:///dev/usb/lp0
    width_mm: int = field(default=58, metadata={"choices": (58, 80)})
    label_height_mm: int = field(default=40, metadata={"min": 20, "max": 200})
    timeout_s: float = field(default=10.0, metadata={"min": 0.5, "max": 120.0})


@dataclass(frozen=True)
class RegistrySettings:
    url: str = ""                     # "" = offline / demo
    token: str = ""                   # station bearer token
    root_public_key: str = ""         # base64 Ed25519 public key pinned by this kiosk
    sync_interval_s: float = field(default=300.0, metadata={"min": 5.0, "max": 86400.0})
    timeout_s: float = field(default=20.0, metadata={"min": 1.0, "max": 300.0})


@dataclass(frozen=True)
class StampSettings:
    base_url: str = DEFAULT_STAMP_BASE_URL
    clone_scan_limit: int = field(default=20, metadata={"min": 1, "max": 1_000_000})


@dataclass(frozen=True)
class UiSettings:
    idle_timeout_s: float = field(default=45.0, metadata={"min": 5.0, "max": 3600.0})
    fullscreen: bool = True
    attract_cycle_s: float = field(default=6.0, metadata={"min": 1.0, "max": 120.0})


@dataclass(frozen=True)
class StaffSettings:
    pin_hash: str = ""                # "" = demo PIN 2468; see `ocop-kiosk staff hash-pin`
    max_attempts: int = field(default=5, metadata={"min": 1, "max": 100})
    lockout_s: float = field(default=300.0, metadata={"min": 1.0, "max": 86400.0})


@dataclass(frozen=True)
class Settings:
    mode: Mode = Mode.SHOWROOM
    language: Language = Language.VI
    data_dir: str = ""                # "" = $OCOP_KIOSK_DATA, /var/lib/ocop-kiosk or XDG state
    site: SiteSettings = SiteSettings()
    camera: CameraSettings = CameraSettings()
    printer: PrinterSettings = PrinterSettings()
    registry: RegistrySettings = RegistrySettings()
    stamps: StampSettings = StampSettings()
    ui: UiSettings = UiSettings()
    staff: StaffSettings = StaffSettings()
    source: str = field(default="built-in defaults", metadata={"internal": True})


# --- loading -------------------------------------------------------------------------------


def find_config_file(explicit: str | os.PathLike | None,
                     environ: typing.Mapping[str, str] = os.environ) -> Path | None:
    if explicit:
        return Path(explicit)
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG])
    if SYSTEM_CONFIG_PATH.is_file():
        return SYSTEM_CONFIG_PATH
    return None


def load_settings(config_path: str | os.PathLike | None = None,
                  environ: typing.Mapping[str, str] = os.environ) -> Settings:
    path = find_config_file(config_path, environ)
    if path is None:
        settings = Settings()
    else:
        settings = parse_settings_file(path)
    return _apply_environment(settings, environ)


def parse_settings_file(path: Path) -> Settings:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    return settings_from_dict(data, source=str(path))


def settings_from_dict(data: dict[str, Any], source: str = "<dict>") -> Settings:
    problems: list[str] = []
    settings = _build(Settings, data, "", problems)
    _check_values(settings, data, problems)
    if problems:
        raise ConfigError(source, problems)
    return dataclasses.replace(settings, source=source)


def _check_values(settings: Settings, data: dict[str, Any], problems: list[str]) -> None:
    """Checks of values the user wrote that need more than a type and a range."""
    written = data.get("printer") if isinstance(data.get("printer"), dict) else {}
    if "uri" in written and isinstance(written["uri"], str):
        from printer.uri import parse_printer_uri  # no python-escpos import: cheap
        try:
            parse_printer_uri(settings.printer.uri)
        except ValueError as exc:
            problems.append(f"printer.uri: {exc}")
    stamps = data.get("stamps") if isinstance(data.get("stamps"), dict) else {}
    if isinstance(stamps.get("base_url"), str):
        from kiosk.stamps.codec import normalise_base_url
        from kiosk.stamps.errors import StampConfigError
        try:
            normalise_base_url(stamps["base_url"])
        except StampConfigError as exc:
            problems.append(f"stamps.base_url: {exc}")


def _fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}


def _build(cls, data: Any, prefix: str, problems: list[str]):
    if not isinstance(data, dict):
        problems.append(f"{prefix.rstrip('.') or '(top level)'}: expected a table, "
                        f"got {_type_name(data)}")
        return cls()
    fields = _fields(cls)
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.5)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else \
                f" (valid keys: {', '.join(sorted(fields))})"
            problems.append(f"{path}: unknown key{hint}")
            continue
        hint_type = hints[key]
        if dataclasses.is_dataclass(hint_type):
            values[key] = _build(hint_type, value, f"{path}.", problems)
            continue
        converted = _convert(hint_type, value, path, fields[key].metadata, problems)
        if converted is not _INVALID:
            values[key] = converted
    return cls(**values)


_INVALID = object()


def _type_name(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _convert(hint: Any, value: Any, path: str, meta: typing.Mapping, problems: list[str]):
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        choices = [m.value for m in hint]
        if not isinstance(value, str) or value not in choices:
            problems.append(f"{path}: must be one of {', '.join(map(repr, choices))}, "
                            f"got {value!r}")
            return _INVALID
        return hint(value)
    if hint is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false, got {_type_name(value)} {value!r}")
            return _INVALID
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {_type_name(value)} {value!r}")
            return _INVALID
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number, got {_type_name(value)} {value!r}")
            return _INVALID
        value = float(value)
    elif hint is str:
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {_type_name(value)} {value!r}")
            return _INVALID
    if "choices" in meta and value not in meta["choices"]:
        problems.append(f"{path}: must be one of {', '.join(map(str, meta['choices']))}, "
                        f"got {value!r}")
        return _INVALID
    low, high = meta.get("min"), meta.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        problems.append(f"{path}: {value!r} is out of range ({low} to {high})")
        return _INVALID
    return value


def _apply_environment(settings: Settings, environ: typing.Mapping[str, str]) -> Settings:
    """Registry credentials may come from the environment (systemd EnvironmentFile)."""
    registry = settings.registry
    overrides = {
        "url": environ.get(ENV_REGISTRY_URL),
        "token": environ.get(ENV_REGISTRY_TOKEN),
        "root_public_key": environ.get(ENV_ROOT_KEY),
    }
    overrides = {k: v for k, v in overrides.items() if v}
    if overrides:
        settings = dataclasses.replace(settings,
                                       registry=dataclasses.replace(registry, **overrides))
    return settings


# --- data dir ------------------------------------------------------------------------------


def resolve_data_dir(settings: Settings, explicit: str | os.PathLike | None = None,
                     environ: typing.Mapping[str, str] = os.environ) -> Path:
    """--data-dir, then $OCOP_KIOSK_DATA, then the config's data_dir, then
    /var/lib/ocop-kiosk when writable, else $XDG_STATE_HOME/ocop-kiosk."""
    if explicit:
        return Path(explicit)
    if environ.get(ENV_DATA_DIR):
        return Path(environ[ENV_DATA_DIR])
    if settings.data_dir:
        return Path(settings.data_dir)
    if SYSTEM_DATA_DIR.is_dir() and os.access(SYSTEM_DATA_DIR, os.W_OK):
        return SYSTEM_DATA_DIR
    state_home = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "ocop-kiosk"


def settings_as_dict(settings: Settings) -> dict[str, Any]:
    """Plain dict (enums as values) for `config show` and docs."""
    def plain(obj):
        if dataclasses.is_dataclass(obj):
            return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                    if not f.metadata.get("internal")}
        if isinstance(obj, enum.Enum):
            return obj.value
        return obj
    return plain(settings)


__all__ = [n for n in dir() if not n.startswith("_") and n != "typing"]
