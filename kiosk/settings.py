"""Kiosk settings: TOML -> validated frozen dataclasses.

Where settings come from, first match wins: `--config FILE`, `$OCOP_KIOSK_CONFIG`,
/etc/ocop-kiosk/kiosk.toml, built-in defaults. A file with problems is rejected whole, with
every problem listed at once (unknown key with the closest valid name, wrong type, value out
of range, each with its dotted key path). A value the user wrote is never silently replaced by
a default.

Every value has its limits beside its field (`metadata`: min/max, choices, max_chars); a
float must also be finite (TOML spells nan and inf), a string one line of text. Values that
need more than that (printer URI, stamp base URL, registry URL and key, PIN hash, and whether
the configured label can hold a stamp) are checked by the code that later uses them, so a
file that passes `config check` does not fail later. A file that is not settings at all (not
UTF-8, not TOML, nested too deeply, too big) is one clear problem, never a traceback.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import os
import sys
import tomllib
import typing
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocop.errors import ConfigError
from ocop.paper import PAPER_WIDTHS_MM
from ocop.roads import ROUTES, Road

SYSTEM_CONFIG_PATH = Path("/etc/ocop-kiosk/kiosk.toml")
SYSTEM_DATA_DIR = Path("/var/lib/ocop-kiosk")
ENV_CONFIG = "OCOP_KIOSK_CONFIG"
ENV_DATA_DIR = "OCOP_KIOSK_DATA"
ENV_REGISTRY_URL = "OCOP_KIOSK_REGISTRY_URL"
ENV_REGISTRY_TOKEN = "OCOP_KIOSK_REGISTRY_TOKEN"
ENV_ROOT_KEY = "OCOP_KIOSK_ROOT_KEY"

DEFAULT_STAMP_BASE_URL = "HTTPS://OCOP.SONLA.GOV.VN/S/"
MAX_CONFIG_BYTES = 1_000_000  # a real settings file is ~4 KB; bigger is the wrong file
MAX_TEXT_CHARS = 4096  # any text setting without its own max_chars
SHOWN_VALUE_CHARS = 60  # a bad value is quoted in a problem up to this length


class Mode(enum.Enum):
    SHOWROOM = "showroom"  # OCOP showroom: shoppers scan, browse
    RESTSTOP = "reststop"  # unattended QL6 rest-stop display: large type, route strip
    STATION = "station"  # stamp-printing station: staff mode available


class Language(enum.Enum):
    VI = "vi"
    EN = "en"


class CameraKind(enum.Enum):
    AUTO = "auto"  # Pi camera, else USB camera, else demo camera; see docs/scanning.md
    USB = "usb"
    PICAMERA = "picamera"
    REPLAY = "replay"


class CameraPosition(enum.Enum):
    """Where the camera sits, seen from the shopper: the scan screen points there."""

    ABOVE = "above"
    BELOW = "below"
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class SiteSettings:
    name: str = field(default="Điểm giới thiệu sản phẩm OCOP (demo)", metadata={"max_chars": 120})
    district: str = field(default="Mộc Châu", metadata={"max_chars": 60})
    # rest stops: the national road the site is on (ocop.roads); its district must be on it
    road: Road = Road.QL6
    # the slide for passers-by without a product: where the nearest OCOP showroom is
    # ("" = that slide is not shown; the stars slide still is)
    showroom_name: str = field(default="", metadata={"max_chars": 120})
    showroom_address: str = field(default="", metadata={"max_chars": 160})
    showroom_distance_km: float = field(default=0.0, metadata={"min": 0.0, "max": 1000.0})
    # Where a shopper reports a fake, copied or revoked stamp (the result screen shows both):
    # the OCOP office's phone line ("" = the screen says to ask the staff) and a page whose
    # address the screen draws as a QR code ("" = no QR). Demo placeholders: set the office's.
    hotline: str = field(default="0212 000 0000", metadata={"max_chars": 24})
    report_url: str = field(default="https://ocop.sonla.gov.vn/report", metadata={"max_chars": 512})


@dataclass(frozen=True)
class CameraSettings:
    kind: CameraKind = CameraKind.AUTO
    # USB: an index ("0") or a path ("/dev/video0")
    device: str = field(default="0", metadata={"max_chars": 256})
    width_px: int = field(default=640, metadata={"min": 160, "max": 4096})
    height_px: int = field(default=480, metadata={"min": 120, "max": 4096})
    fps: int = field(default=30, metadata={"min": 1, "max": 120})
    # a folder of images or a video; "" = the bundled demo frames
    replay_path: str = field(default="", metadata={"max_chars": MAX_TEXT_CHARS})
    # one presence, one scan: a code counts again only after this long out of view
    gone_after_s: float = field(default=3.0, metadata={"min": 0.5, "max": 60.0})
    # where the camera is, seen from the shopper facing the screen
    position: CameraPosition = CameraPosition.ABOVE


@dataclass(frozen=True)
class PrinterSettings:
    # tcp://host:9100, usb://VID:PID, serial:///dev/ttyUSB0?baud=115200, file:///dev/usb/lp0
    uri: str = field(default="virtual:", metadata={"max_chars": 512})
    width_mm: int = field(default=58, metadata={"choices": PAPER_WIDTHS_MM})
    # The shortest label that holds a stamp is not a number here: printer.label measures it
    # for the paper width (check_label_settings); 1..200 only keeps the value sane.
    label_height_mm: int = field(default=40, metadata={"min": 1, "max": 200})
    timeout_s: float = field(default=10.0, metadata={"min": 0.5, "max": 120.0})


@dataclass(frozen=True)
class RegistrySettings:
    url: str = field(default="", metadata={"max_chars": 2048})  # "" = offline / demo
    token: str = field(default="", metadata={"max_chars": 4096})  # station bearer token
    # base64 Ed25519 public key pinned by this kiosk (44 characters)
    root_public_key: str = field(default="", metadata={"max_chars": 64})
    sync_interval_s: float = field(default=300.0, metadata={"min": 5.0, "max": 86400.0})
    timeout_s: float = field(default=20.0, metadata={"min": 1.0, "max": 300.0})
    # http:// to a registry that is not on this machine sends the token and takes catalog
    # data unprotected: refused unless this is true (doctor warns). Loopback is always ok.
    allow_insecure_http: bool = False


@dataclass(frozen=True)
class StampSettings:
    base_url: str = field(default=DEFAULT_STAMP_BASE_URL, metadata={"max_chars": 64})
    clone_scan_limit: int = field(default=20, metadata={"min": 1, "max": 1_000_000})


@dataclass(frozen=True)
class UiSettings:
    idle_timeout_s: float = field(default=45.0, metadata={"min": 5.0, "max": 3600.0})
    fullscreen: bool = True
    attract_cycle_s: float = field(default=6.0, metadata={"min": 1.0, "max": 120.0})


@dataclass(frozen=True)
class StaffSettings:
    # "" = demo PIN 2468; see `ocop-kiosk staff hash-pin`
    pin_hash: str = field(default="", metadata={"max_chars": 512})
    max_attempts: int = field(default=5, metadata={"min": 1, "max": 100})
    lockout_s: float = field(default=300.0, metadata={"min": 1.0, "max": 86400.0})


@dataclass(frozen=True)
class Settings:
    mode: Mode = Mode.SHOWROOM
    language: Language = Language.VI
    # "" = $OCOP_KIOSK_DATA, /var/lib/ocop-kiosk or XDG state
    data_dir: str = field(default="", metadata={"max_chars": MAX_TEXT_CHARS})
    site: SiteSettings = SiteSettings()
    camera: CameraSettings = CameraSettings()
    printer: PrinterSettings = PrinterSettings()
    registry: RegistrySettings = RegistrySettings()
    stamps: StampSettings = StampSettings()
    ui: UiSettings = UiSettings()
    staff: StaffSettings = StaffSettings()
    source: str = field(default="built-in defaults", metadata={"internal": True})


# --- loading -------------------------------------------------------------------------------


def find_config_file(
    explicit: str | os.PathLike | None, environ: typing.Mapping[str, str] = os.environ
) -> Path | None:
    if explicit:
        return Path(explicit)
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG])
    if SYSTEM_CONFIG_PATH.is_file():
        return SYSTEM_CONFIG_PATH
    return None


def load_settings(
    config_path: str | os.PathLike | None = None, environ: typing.Mapping[str, str] = os.environ
) -> Settings:
    path = find_config_file(config_path, environ)
    settings = Settings() if path is None else parse_settings_file(path)
    return _apply_environment(settings, environ)


class UnreadableConfig(ConfigError):
    """The file is not a settings file at all (missing, unreadable, too big, not UTF-8, not
    TOML, nested too deeply): a single problem, said on one line."""

    def __str__(self) -> str:
        return f"{self.source}: {self.problems[0]}"


def parse_settings_file(path: Path) -> Settings:
    return settings_from_dict(read_settings_toml(Path(path)), source=str(path))


def read_settings_toml(path: Path) -> dict[str, Any]:
    def refused(problem: str) -> UnreadableConfig:
        return UnreadableConfig(str(path), [problem])

    try:
        with open(path, "rb") as file:
            # Bounded: a log file or /dev/zero given by mistake is refused, not read whole.
            raw = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise refused("file not found") from None
    except OSError as exc:
        raise refused(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise refused(f"larger than {MAX_CONFIG_BYTES:,} bytes: not a settings file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refused(f"not UTF-8 text (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise refused(f"not valid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays / inline tables recursively
        raise refused("not a settings file: arrays or tables nested too deeply") from None
    except ValueError:  # Python's limit on digits in an integer
        raise refused(
            f"not valid TOML: a number with more than {sys.get_int_max_str_digits()} digits"
        ) from None


def settings_from_dict(data: dict[str, Any], source: str = "<dict>") -> Settings:
    problems: list[str] = []
    settings = _build(Settings, data, "", problems)
    _check_values(settings, data, problems)
    problems.extend(site_problems(settings, data, problems))
    if not any(p.startswith("registry.url") for p in problems):
        problems.extend(transport_problems(settings))
    if problems:
        raise ConfigError(source, problems)
    return dataclasses.replace(settings, source=source)


# --- checks that need more than a type and a range -----------------------------------------
# Each takes the value and returns what is wrong with it, or None. Imports are inside: only a
# file that sets the value pays for them.


def _refusal(check: typing.Callable[..., Any], value: Any, errors) -> str | None:
    """What `check(value)` says is wrong (its error message), or None."""
    try:
        check(value)
    except errors as exc:
        return str(exc)
    return None


def _check_printer_uri(uri: str) -> str | None:
    from printer.uri import parse_printer_uri  # no python-escpos import: cheap

    return _refusal(parse_printer_uri, uri, ValueError)


def _check_base_url(base_url: str) -> str | None:
    from ocop.stamps.codec import normalise_base_url
    from ocop.stamps.errors import StampConfigError

    return _refusal(normalise_base_url, base_url, StampConfigError)


def _check_registry_url(url: str) -> str | None:
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must look like https://host[:port], got {_shown(url)}"
    return None


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: traffic that never leaves the machine."""
    import ipaddress

    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def uses_insecure_http(url: str) -> bool:
    """http:// to a host that is not loopback (what allow_insecure_http must permit)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return False  # reported by _check_registry_url
    return parts.scheme.lower() == "http" and not is_loopback_host(host)


def transport_problems(settings: Settings, where: str = "registry.url") -> list[str]:
    """The insecure-http rule, which needs two values (url and allow_insecure_http)."""
    reg = settings.registry
    if reg.url and not reg.allow_insecure_http and uses_insecure_http(reg.url):
        return [
            f"{where}: plain http:// to {_shown(reg.url)} sends the station token and "
            f"receives catalog data unprotected: use https://, or set "
            f"registry.allow_insecure_http = true (doctor warns)"
        ]
    return []


def site_problems(settings: Settings, data: dict[str, Any], problems: list[str]) -> list[str]:
    """A rest stop's district must be on its road (the route strip marks "you are here"
    there). Checked for a rest-stop file, or when site.road is written."""
    if any(p.startswith(("site.road:", "site.district:", "mode:")) for p in problems):
        return []
    if settings.mode is not Mode.RESTSTOP and not _written(data, "site.road"):
        return []
    route = ROUTES[settings.site.road]
    if route.has(settings.site.district):
        return []
    on = [r.road.value for r in ROUTES.values() if r.has(settings.site.district)]
    hint = f"; it is on {', '.join(on)}: set site.road" if on else ""
    return [
        f"site.district: {_shown(settings.site.district)} is not on {route.road.value} "
        f"(its districts in order: {', '.join(route.districts)}){hint}"
    ]


_HOTLINE_CHARS = frozenset("0123456789 +.-()")


def _check_hotline(text: str) -> str | None:
    if not text:
        return None
    bad = sorted(set(text) - _HOTLINE_CHARS)
    if bad:
        return f"a phone number has digits, spaces and + . - ( ) only, got {_shown(text)}"
    if sum(ch.isdigit() for ch in text) < 3:
        return f"a phone number needs at least 3 digits, got {_shown(text)}"
    return None


def _check_report_url(url: str) -> str | None:
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    # a phone opens it from a QR code: https only, no spaces (a QR reader stops at them)
    if parts.scheme != "https" or not parts.hostname or any(ch.isspace() for ch in url):
        return f"must look like https://host/path, got {_shown(url)}"
    return None


def _check_root_key(text: str) -> str | None:
    if not text:
        return None
    from ocop.stamps.errors import KeyFileError
    from ocop.stamps.keys import load_public_key_b64

    return _refusal(lambda key: load_public_key_b64(key, "root public key"), text, KeyFileError)


def _check_pin_hash(text: str) -> str | None:
    if not text.strip():
        return None
    from kiosk.staff_pin import PinFormatError, parse_hash

    problem = _refusal(parse_hash, text, PinFormatError)
    return problem and problem.removeprefix("staff.pin_hash ")


_VALUE_CHECKS: dict[str, typing.Callable[[Any], str | None]] = {
    "printer.uri": _check_printer_uri,
    "stamps.base_url": _check_base_url,
    "registry.url": _check_registry_url,
    "registry.root_public_key": _check_root_key,
    "site.hotline": _check_hotline,
    "site.report_url": _check_report_url,
    "staff.pin_hash": _check_pin_hash,
}
# The values the label is drawn from: whether a stamp fits is measured when one is written.
LABEL_SETTINGS = ("printer.width_mm", "printer.label_height_mm", "stamps.base_url")


def check_label_settings(settings: Settings) -> list[str]:
    """Render a test label at the configured size; the problem naming the setting and the
    minimum size when a stamp does not fit (see kiosk.printing.queue.label_problem)."""
    from kiosk.printing.queue import label_problem

    problem = label_problem(settings)
    return [problem] if problem else []


def _written(data: dict[str, Any], path: str) -> bool:
    node: Any = data
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _value(settings: Settings, path: str) -> Any:
    obj: Any = settings
    for key in path.split("."):
        obj = getattr(obj, key)
    return obj


def _check_values(settings: Settings, data: dict[str, Any], problems: list[str]) -> None:
    """Checks of values the user wrote that need more than a type and a range."""
    refused = {p.split(":", 1)[0] for p in problems}
    for path, check in _VALUE_CHECKS.items():
        if _written(data, path) and path not in refused:
            problem = check(_value(settings, path))
            if problem:
                problems.append(f"{path}: {problem}")
                refused.add(path)
    if any(_written(data, p) for p in LABEL_SETTINGS) and refused.isdisjoint(LABEL_SETTINGS):
        problems.extend(check_label_settings(settings))


def _fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}


def _build(cls, data: Any, prefix: str, problems: list[str]):
    if not isinstance(data, dict):
        problems.append(
            f"{prefix.rstrip('.') or '(top level)'}: expected a table, got {_type_name(data)}"
        )
        return cls()
    fields = _fields(cls)
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.5)
            hint = (
                f" (did you mean '{prefix}{close[0]}'?)"
                if close
                else f" (valid keys: {', '.join(sorted(fields))})"
            )
            problems.append(f"{_shown_key(path)}: unknown key{hint}")
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
    return {
        dict: "a table",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    """A value quoted in a problem: never a whole array or table, never longer than
    SHOWN_VALUE_CHARS (a hostile file must not turn one problem into pages)."""
    if isinstance(value, (dict, list)):
        return f"({len(value)} item(s))"
    text = repr(value)
    if len(text) > SHOWN_VALUE_CHARS:
        text = text[: SHOWN_VALUE_CHARS - 1] + "…"
    return text


def _shown_key(path: str) -> str:
    return path if len(path) <= SHOWN_VALUE_CHARS else path[: SHOWN_VALUE_CHARS - 1] + "…"


def _got(value: Any) -> str:
    return f"{_type_name(value)} {_shown(value)}"


def _convert(hint: Any, value: Any, path: str, meta: typing.Mapping, problems: list[str]):
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        choices = [m.value for m in hint]
        if not isinstance(value, str) or value not in choices:
            problems.append(
                f"{path}: must be one of {', '.join(map(repr, choices))}, got {_shown(value)}"
            )
            return _INVALID
        return hint(value)
    if hint is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false, got {_got(value)}")
            return _INVALID
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {_got(value)}")
            return _INVALID
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number, got {_got(value)}")
            return _INVALID
        # TOML spells nan and inf, and every comparison with nan is false: without this a
        # nan would pass any range and break the code that waits or counts with it.
        if isinstance(value, int) and abs(value) > sys.float_info.max:
            value = math.inf if value > 0 else -math.inf
        value = float(value)
        if not math.isfinite(value):
            problems.append(f"{path}: must be a finite number, got {value!r}")
            return _INVALID
    elif hint is str:
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {_got(value)}")
            return _INVALID
        problem = _text_problem(value, meta.get("max_chars", MAX_TEXT_CHARS))
        if problem:
            problems.append(f"{path}: {problem}")
            return _INVALID
    if "choices" in meta and value not in meta["choices"]:
        problems.append(
            f"{path}: must be one of {', '.join(map(str, meta['choices']))}, got {_shown(value)}"
        )
        return _INVALID
    low, high = meta.get("min"), meta.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        problems.append(f"{path}: {_shown(value)} is out of range ({low} to {high})")
        return _INVALID
    return value


def _text_problem(text: str, max_chars: int) -> str | None:
    if len(text) > max_chars:
        return f"{len(text):,} characters, at most {max_chars}"
    for index, ch in enumerate(text):
        if unicodedata.category(ch) == "Cc":  # NUL, newline, tab, escape...
            return (
                f"must be one line of text without control characters "
                f"(found {ch!r} at character {index + 1})"
            )
    return None


# Registry credentials may come from the environment (systemd EnvironmentFile).
_ENVIRONMENT = {
    "url": ENV_REGISTRY_URL,
    "token": ENV_REGISTRY_TOKEN,
    "root_public_key": ENV_ROOT_KEY,
}


def _apply_environment(settings: Settings, environ: typing.Mapping[str, str]) -> Settings:
    """The environment's registry values win over the file's, checked the same way."""
    # Any: replace() takes each field's own type; _ENVIRONMENT names only str fields.
    overrides: dict[str, Any] = {
        key: environ[name] for key, name in _ENVIRONMENT.items() if environ.get(name)
    }
    if not overrides:
        return settings
    problems: list[str] = []
    fields = _fields(RegistrySettings)
    for key, text in overrides.items():
        path = f"registry.{key}"
        where = f"${_ENVIRONMENT[key]} ({path})"
        if _convert(str, text, where, fields[key].metadata, problems) is _INVALID:
            continue
        problem = _VALUE_CHECKS.get(path, lambda value: None)(text)
        if problem:
            problems.append(f"{where}: {problem}")
    if problems:
        raise ConfigError("environment", problems)
    settings = dataclasses.replace(
        settings, registry=dataclasses.replace(settings.registry, **overrides)
    )
    if "url" in overrides:
        problems = transport_problems(settings, f"${ENV_REGISTRY_URL} (registry.url)")
        if problems:
            raise ConfigError("environment", problems)
    return settings


# --- data dir ------------------------------------------------------------------------------


def resolve_data_dir(
    settings: Settings,
    explicit: str | os.PathLike | None = None,
    environ: typing.Mapping[str, str] = os.environ,
) -> Path:
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
            return {
                f.name: plain(getattr(obj, f.name))
                for f in dataclasses.fields(obj)
                if not f.metadata.get("internal")
            }
        if isinstance(obj, enum.Enum):
            return obj.value
        return obj

    return plain(settings)


__all__ = [n for n in dir() if not n.startswith("_") and n != "typing"]
