"""The doctor's checks: one small function per line of `ocop-kiosk doctor`.

Each reads only what it needs, changes nothing (the database is opened read-only, never
migrated), and returns CheckResults with a hint a visiting technician can act on. What each
line means: docs/operations.md ("Doctor").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.doctor import adapters
from kiosk.doctor.checks import Check, CheckResult, fail, ok, skip, warn
from kiosk.settings import uses_insecure_http
from kiosk.stamps.trust_store import stored_trust_state
from kiosk.trusted_time import (
    ClockReading,
    ClockState,
    kernel_ntp_synchronized,
    parse_iso,
    read_marks,
    reading_from,
)
from ocop.stamps.freshness import TrustFreshness

if TYPE_CHECKING:
    from kiosk.settings import Settings

# Thresholds (units in the names). Chosen for a kiosk that may be offline for days.
DISK_FAIL_BYTES = 200 * 1024**2
DISK_WARN_BYTES = 1024**3
DISK_WARN_FRACTION = 0.10
CLOCK_WARN_S = 30.0  # stamps and scans carry times; logs become confusing
CLOCK_FAIL_S = 300.0  # TLS, token expiry and trust-list dates go wrong
PLAUSIBLE_CLOCK = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)  # a Pi without RTC: 1970
TRUST_WARN_AGE_S = 3 * 86400  # revocations (stolen stations) reach kiosks through this list
TRUST_FAIL_AGE_S = 30 * 86400
OUTBOX_WARN_ROWS = 5_000
OUTBOX_FAIL_ROWS = 100_000
OUTBOX_WARN_AGE_S = 3 * 86400
SYNC_WARN_AGE_S = 86400
SYNC_FAIL_AGE_S = 7 * 86400
REGISTRY_MAX_TIMEOUT_S = 10.0
HEALTH_PATH = "/api/v1/health"
SYNC_LAST_SUCCESS_KEY = "last_success_at"  # sync_state keys written by kiosk.sync
SYNC_LAST_ERROR_KEY = "last_error"
KIOSK_UNITS = ("ocop-kiosk.service", "ocop-kiosk-sync.service")

HINT_RUN_AS_KIOSK = "run it as the kiosk user: sudo ocop-kiosk doctor"
HINT_RESTORE = (
    "stop the kiosk (sudo systemctl stop ocop-kiosk ocop-kiosk-sync), move the "
    "file aside and restore the last backup: docs/operations.md, 'Restore'"
)


@dataclass
class DoctorEnv:
    """What the checks work from. Built once by the CLI (or a test)."""

    settings: Settings | None  # None when the configuration is invalid
    settings_error: str | None
    settings_problems: list[str]
    config_source: str
    data_dir: Path | None
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    run_command: Callable[..., subprocess.CompletedProcess] = subprocess.run
    ntp_synchronized: Callable[[], bool | None] = kernel_ntp_synchronized
    camera_read_s: float = 5.0
    _cache: dict = field(default_factory=dict)

    @property
    def db_path(self) -> Path | None:
        from kiosk.store import DB_FILENAME

        return self.data_dir / DB_FILENAME if self.data_dir else None

    @property
    def registry_url(self) -> str:
        return (self.settings.registry.url or "").strip() if self.settings else ""


# --- helpers -----------------------------------------------------------------------------------


class DbUnavailable(Exception):
    pass


def _connect_ro(env: DoctorEnv) -> sqlite3.Connection:
    path = env.db_path
    if path is None or not path.is_file():
        raise DbUnavailable("no database")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise DbUnavailable(str(exc)) from exc
    return conn


def _with_db(
    name: str, env: DoctorEnv, fn: Callable[[sqlite3.Connection], CheckResult]
) -> CheckResult:
    try:
        conn = _connect_ro(env)
    except DbUnavailable as exc:
        return skip(name, f"database unusable ({exc}): see the database line")
    try:
        return fn(conn)
    except sqlite3.DatabaseError as exc:
        return skip(name, f"database unreadable ({exc}): see the database line")
    finally:
        conn.close()


def human_age(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _is_demo(env: DoctorEnv) -> bool | None:
    try:
        conn = _connect_ro(env)
    except DbUnavailable:
        return None
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
        return bool(row and row[0] == "1")
    except sqlite3.Error:
        return None
    finally:
        conn.close()


# --- config, data dir, database, disk ---------------------------------------------------------


def check_config(env: DoctorEnv) -> CheckResult:
    if env.settings is None:
        problems = env.settings_problems or [env.settings_error or "unreadable"]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return fail(
            "config",
            f"{env.config_source}: {problems[0]}{more}",
            "fix the file; 'ocop-kiosk config check' lists every problem",
            problems=problems,
        )
    settings = env.settings
    detail = f"{settings.source} (mode {settings.mode.value})"
    if settings.source == "built-in defaults":
        return warn(
            "config",
            "no settings file: built-in defaults (demo)",
            "copy config/kiosk.toml to /etc/ocop-kiosk/kiosk.toml and edit it",
        )
    path = Path(settings.source)
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = 0
    if settings.registry.token and mode & stat.S_IROTH:
        return warn(
            "config",
            f"{detail}; holds the station token and is world-readable",
            f"sudo chmod 0640 {path} && sudo chown root:ocop {path}",
        )
    return ok("config", detail, mode=settings.mode.value)


def check_data_dir(env: DoctorEnv) -> CheckResult:
    path = env.data_dir
    if path is None:
        return fail(
            "data dir",
            "cannot tell which data folder to use",
            "fix the settings first (config line)",
        )
    if not path.exists():
        return fail(
            "data dir",
            f"{path} does not exist",
            "run the installer, or 'ocop-kiosk init' (as the kiosk user)",
        )
    if not path.is_dir():
        return fail("data dir", f"{path} is not a folder", "move the file away; run init")
    try:
        owner = path.owner()
    except (KeyError, OSError):
        owner = str(path.stat().st_uid)
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-", delete=True) as probe:
            probe.write(b"ocop-kiosk doctor write test\n")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        hint = (
            HINT_RUN_AS_KIOSK
            if exc.errno in (13, 1)
            else "read-only file system: is the overlay root on? docs/operations.md, 'SD card'"
            if exc.errno == 30
            else "check the SD card (dmesg) and free space"
        )
        return fail("data dir", f"{path} is not writable: {exc.strerror}", hint, owner=owner)
    who = " (checked as root)" if os.geteuid() == 0 else ""
    return ok("data dir", f"{path} writable, owner {owner}{who}", path=str(path), owner=owner)


def check_database(env: DoctorEnv) -> CheckResult:
    from kiosk.store.migrations import LATEST_VERSION

    path = env.db_path
    if path is None:
        return skip("database", "no data folder")
    if not path.exists():
        return fail(
            "database",
            f"no database at {path}",
            "run 'ocop-kiosk init' (or restore a backup: docs/operations.md)",
        )
    size = path.stat().st_size
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as exc:
        return fail("database", f"cannot open {path}: {exc}", HINT_RUN_AS_KIOSK)
    try:
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "unable to open" in text or "readonly" in text:
                return fail("database", f"cannot read {path}: {text}", HINT_RUN_AS_KIOSK)
            return fail("database", f"{path} is corrupt: {text}", HINT_RESTORE, size_bytes=size)
    finally:
        conn.close()
    if rows != ["ok"]:
        return fail(
            "database",
            f"integrity check failed: {'; '.join(rows)[:200]}",
            HINT_RESTORE,
            problems=rows,
            size_bytes=size,
        )
    detail = f"{path.name} {_size(size)}, schema v{version}, integrity ok"
    if version > LATEST_VERSION:
        return fail(
            "database",
            f"{detail}; newer than this program (v{LATEST_VERSION})",
            "update ocop-kiosk (docs/operations.md, 'Update')",
            schema_version=version,
        )
    if version < LATEST_VERSION:
        return warn(
            "database",
            f"{detail}; the kiosk migrates it to v{LATEST_VERSION} at its next start",
            "take a backup before restarting the kiosk",
            schema_version=version,
        )
    return ok("database", detail, schema_version=version, size_bytes=size)


def check_disk(env: DoctorEnv) -> CheckResult:
    path = env.data_dir
    while path is not None and not path.exists() and path != path.parent:
        path = path.parent
    if path is None:
        return skip("disk", "no data folder")
    usage = shutil.disk_usage(path)
    fraction = usage.free / usage.total if usage.total else 0.0
    detail = f"{_size(usage.free)} free of {_size(usage.total)} ({fraction:.0%}) at {path}"
    data = {"free_bytes": usage.free, "total_bytes": usage.total}
    hint = (
        "delete old logs (sudo journalctl --vacuum-size=32M) and old media; check "
        "/var/lib/ocop-kiosk with du -sh"
    )
    if usage.free < DISK_FAIL_BYTES:
        return fail("disk", detail, hint, **data)
    if usage.free < DISK_WARN_BYTES or fraction < DISK_WARN_FRACTION:
        return warn("disk", detail, hint, **data)
    return ok("disk", detail, **data)


# --- camera -----------------------------------------------------------------------------------


def check_camera(env: DoctorEnv) -> CheckResult:
    if env.settings is None:
        return skip("camera", "settings invalid (see config)")
    from scanner.errors import SourceError

    settings = env.settings
    kind = settings.camera.kind.value
    try:
        probe = adapters.probe_camera(
            settings, env.data_dir or Path("."), read_for_s=env.camera_read_s
        )
    except (SourceError, OSError) as exc:
        return _camera_failure(settings, kind, exc)
    data = {
        "source": probe.source_name,
        "frames": probe.frames,
        "width_px": probe.width_px,
        "height_px": probe.height_px,
    }
    if probe.is_demo:
        return fail(
            "camera",
            "no camera found: the kiosk shows its demo camera",
            "plug in the camera (USB: the running kiosk switches to it within "
            "seconds; Pi camera: rpicam-hello --list-cameras, then restart the "
            "kiosk)",
            **data,
        )
    if probe.frames == 0:
        return fail(
            "camera",
            f"{probe.source_name} opened but gave no picture in "
            f"{probe.seconds:.1f} s ({probe.reads} empty reads)",
            "unplug and replug the camera; try another USB port or cable",
            **data,
        )
    detail = (
        f"{probe.source_name}: {probe.width_px}x{probe.height_px}, {probe.frames} "
        f"frames in {probe.seconds:.1f} s"
    )
    if probe.is_replay:
        return ok("camera", f"{detail} (replayed pictures, camera.kind = {kind})", **data)
    if probe.frames > 1 and probe.distinct_frames == 1:
        return warn(
            "camera",
            f"{detail}, all identical: a frozen picture",
            "replug the camera; if it persists, replace it",
            **data,
        )
    return ok("camera", detail, **data)


def _camera_failure(settings, kind: str, exc: Exception) -> CheckResult:
    text = str(exc) or type(exc).__name__
    device = adapters.camera_device_path(settings)
    users = adapters.processes_using(device) if device and os.path.exists(device) else []
    if users:
        pid, cmd = users[0]
        return warn(
            "camera",
            f"{text}: in use by pid {pid} ({cmd[:60]})",
            "the running kiosk holds the camera; to test it here: sudo systemctl "
            "stop ocop-kiosk, run doctor, sudo systemctl start ocop-kiosk",
            busy_pid=pid,
        )
    if kind == "picamera":
        hint = (
            "check the ribbon cable (contacts, both ends) and 'rpicam-hello "
            "--list-cameras'; python3-picamera2 must be installed"
        )
    elif kind == "replay":
        hint = "camera.replay_path must be an image, a folder of images or a video"
    else:
        hint = (
            "plug in the USB camera (ls /dev/video*), or set camera.device to its "
            "/dev/v4l/by-id/ path; the kiosk user must be in group video"
        )
    return fail("camera", text, hint)


# --- printer ----------------------------------------------------------------------------------


def check_printer(env: DoctorEnv) -> list[CheckResult]:
    if env.settings is None:
        return [skip("printer", "settings invalid (see config)"), skip("paper", "no printer")]
    from printer.errors import PrinterError
    from printer.status import PaperState

    settings = env.settings
    uri = settings.printer.uri
    station = settings.mode.value == "station"
    if adapters.is_virtual_printer(uri):
        if station:
            return [
                warn(
                    "printer",
                    f"{uri} virtual printer: labels are saved as pictures, nothing is printed",
                    "set printer.uri (tcp://, usb://, serial://, file://) in the settings",
                ),
                skip("paper", "virtual printer"),
            ]
        return [
            skip("printer", "no printer (not a stamp-printing station)"),
            skip("paper", "no printer"),
        ]
    try:
        printer = adapters.open_printer(settings, env.data_dir or Path("."))
    except PrinterError as exc:
        return [fail("printer", str(exc), exc.staff_message_en), skip("paper", "no printer")]
    try:
        status = printer.status()
    except PrinterError as exc:
        hint = exc.staff_message_en
        if exc.fault.value in ("not_found", "timeout"):
            hint += " If the kiosk is printing right now, try again when it is done."
        return [
            fail("printer", f"{printer.uri}: {exc.detail}", hint, fault=exc.fault.value),
            skip("paper", "printer not reachable"),
        ]
    finally:
        with contextlib.suppress(Exception):  # closing a failed connection: nothing to do
            printer.close()
    state = status.state
    data = {"state": state.value, "paper": status.paper.value, "raw": status.raw.hex()}
    if status.cover_open:
        line = fail("printer", f"{printer.uri}: cover open", "close the printer cover", **data)
    elif status.online is False:
        line = fail(
            "printer",
            f"{printer.uri}: offline",
            "check the printer's error light; switch it off and on",
            **data,
        )
    elif status.online is None:
        line = warn(
            "printer",
            f"{printer.uri}: reachable, but it cannot report its status",
            "file:// printers never answer status; prefer usb:// or tcp://",
            **data,
        )
    else:
        line = ok("printer", f"{printer.uri}: online", **data)
    paper = status.paper
    if paper is PaperState.OK:
        paper_line = ok("paper", "paper ok", **data)
    elif paper is PaperState.NEAR_END:
        paper_line = warn("paper", "paper near end", "load a new roll soon", **data)
    elif paper is PaperState.OUT:
        paper_line = fail("paper", "out of paper", "load a new roll and close the cover", **data)
    else:
        paper_line = warn(
            "paper", "paper state unknown (no sensor reply)", "look at the roll", **data
        )
    return [line, paper_line]


def _printer_timeout(env: DoctorEnv) -> float:
    return (env.settings.printer.timeout_s * 2 + 10) if env.settings else 10.0


# --- registry and clock -----------------------------------------------------------------------


def check_registry(env: DoctorEnv) -> list[CheckResult]:
    import requests

    if env.settings is None:
        return [skip("registry", "settings invalid (see config)"), _local_clock(env, None)]
    url = env.registry_url
    if not url:
        demo = _is_demo(env)
        if demo or demo is None:
            line = skip("registry", "no registry configured (demo / offline kiosk)")
        else:
            line = warn(
                "registry",
                "no registry configured: this kiosk never syncs",
                "set OCOP_KIOSK_REGISTRY_URL in /etc/ocop-kiosk/kiosk.env (or registry.url)",
            )
        return [line, _local_clock(env, None)]
    health = url.rstrip("/") + HEALTH_PATH
    timeout_s = min(env.settings.registry.timeout_s, REGISTRY_MAX_TIMEOUT_S)
    before = env.now()
    t0 = time.monotonic()
    try:
        response = requests.get(
            health,
            timeout=(timeout_s, timeout_s),
            headers={"User-Agent": "ocop-kiosk-doctor"},
            allow_redirects=False,
        )
    except requests.exceptions.SSLError as exc:
        return [
            fail(
                "registry",
                f"{health}: TLS failed: {_short(exc)}",
                "check the clock (TLS needs the right date) and CA certificates "
                "(sudo apt install --reinstall ca-certificates)",
            ),
            _local_clock(env, None),
        ]
    except requests.exceptions.Timeout:
        return [
            fail(
                "registry",
                f"{health}: no answer within {timeout_s:g} s",
                "check the network (4G router signal, cables); the kiosk keeps working "
                "offline and syncs later",
            ),
            _local_clock(env, None),
        ]
    except requests.exceptions.RequestException as exc:
        return [
            fail(
                "registry",
                f"{health}: cannot connect: {_short(exc)}",
                "check the network (ping, DNS) and the registry URL; the kiosk keeps "
                "working offline and syncs later",
            ),
            _local_clock(env, None),
        ]
    elapsed_s = time.monotonic() - t0
    data = {
        "url": health,
        "http_status": response.status_code,
        "latency_ms": round(elapsed_s * 1000),
    }
    if response.status_code != 200:
        line = fail(
            "registry",
            f"{health}: HTTP {response.status_code}",
            "the registry answers but is not healthy (or the URL is wrong): tell the "
            "registry admin",
            **data,
        )
    elif uses_insecure_http(url):  # allowed, or the settings would have been refused
        line = warn(
            "registry",
            f"{url} answered in {elapsed_s * 1000:.0f} ms, over plain http: the token "
            f"and the catalog travel unprotected (registry.allow_insecure_http = true)",
            "use an https:// registry URL and remove allow_insecure_http",
            insecure_http=True,
            **data,
        )
    else:
        line = ok("registry", f"{url} answered in {elapsed_s * 1000:.0f} ms", **data)
    server_date = response.headers.get("Date")
    return [line, _clock_from_date(env, server_date, before, elapsed_s)]


def _short(exc: Exception) -> str:
    text = str(exc)
    args = getattr(exc, "args", ())
    inner = getattr(args[0], "reason", None) if args else None
    if inner is not None:
        text = str(inner)
    for marker in ("Failed to establish a new connection: ", "Failed to resolve "):
        if marker in text:
            text = text[
                text.index(marker) + (len(marker) if marker.startswith("Failed to e") else 0) :
            ]
    return text[:160]


def _clock_from_date(
    env: DoctorEnv, server_date: str | None, before: dt.datetime, elapsed_s: float
) -> CheckResult:
    if not server_date:
        return _local_clock(env, "the registry sent no Date header")
    try:
        server = email.utils.parsedate_to_datetime(server_date)
    except (TypeError, ValueError):
        return _local_clock(env, f"unreadable Date header {server_date!r}")
    if server.tzinfo is None:
        server = server.replace(tzinfo=dt.UTC)
    local = before + dt.timedelta(seconds=elapsed_s / 2)
    skew_s = (local - server).total_seconds()
    # The Date header has whole seconds: up to 1 s of the difference is rounding.
    if abs(skew_s) <= 1.0 + elapsed_s:
        skew_s = 0.0
    direction = "ahead of" if skew_s > 0 else "behind"
    detail = (
        f"{human_age(skew_s)} {direction} the registry" if skew_s else "matches the registry (±1 s)"
    )
    hint = (
        "turn on time sync: sudo timedatectl set-ntp true; the network must allow NTP "
        "(UDP 123); check: timedatectl timesync-status"
    )
    if abs(skew_s) > CLOCK_FAIL_S:
        return fail("clock", detail, hint, skew_s=round(skew_s, 1))
    if abs(skew_s) > CLOCK_WARN_S:
        return warn("clock", detail, hint, skew_s=round(skew_s, 1))
    return ok("clock", detail, skew_s=round(skew_s, 1))


def _local_clock(env: DoctorEnv, why: str | None) -> CheckResult:
    """No registry to compare with: at least catch a clock that was never set."""
    now = env.now()
    if now < PLAUSIBLE_CLOCK:
        return fail(
            "clock",
            f"the clock says {now:%Y-%m-%d %H:%M} UTC: never set",
            "connect the network so NTP can set it (sudo timedatectl set-ntp true); "
            "a Pi without RTC battery starts at the last shutdown time",
        )
    synced = _ntp_synchronized(env)
    prefix = f"{why}; " if why else "not compared with the registry; "
    if synced is True:
        return ok("clock", prefix + "NTP synchronized")
    if synced is False:
        return warn(
            "clock",
            prefix + "not NTP synchronized",
            "sudo timedatectl set-ntp true; check timedatectl timesync-status",
        )
    return skip("clock", prefix + f"local time {now:%Y-%m-%d %H:%M} UTC")


def _ntp_synchronized(env: DoctorEnv) -> bool | None:
    if not shutil.which("timedatectl") or not os.path.isdir("/run/systemd/system"):
        return None
    try:
        out = env.run_command(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return {"yes": True, "no": False}.get(value)


def _registry_timeout(env: DoctorEnv) -> float:
    if env.settings is None:
        return 10.0
    return min(env.settings.registry.timeout_s, REGISTRY_MAX_TIMEOUT_S) * 2 + 5


# --- trusted time -------------------------------------------------------------------------------


def _reading(env: DoctorEnv, conn: sqlite3.Connection) -> ClockReading:
    """The kiosk's trusted clock as of the doctor's clock (kiosk.trusted_time)."""
    return reading_from(env.now(), read_marks(conn), ntp_synchronized=env.ntp_synchronized)


def _trusted_now(env: DoctorEnv, conn: sqlite3.Connection) -> dt.datetime:
    """Ages are measured from trusted now: a clock reset to 2023 must not make a month-old
    trust list look fresh (or, through abs(), three years old)."""
    return _reading(env, conn).trusted


def _utc_text(moment: dt.datetime | None) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if moment else "none"


def check_trusted_time(env: DoctorEnv) -> CheckResult:
    def query(conn: sqlite3.Connection) -> CheckResult:
        reading = _reading(env, conn)
        data = reading.to_json()
        marks = (
            f"signed {_utc_text(reading.signed_time)}, local mark {_utc_text(reading.local_mark)}"
        )
        if reading.state is ClockState.UNKNOWN:
            return warn(
                "trusted time",
                "no trusted time yet: no trust list and no clock mark",
                "let the sync fetch the trust list; the running kiosk also writes a clock mark",
                **data,
            )
        if reading.state is ClockState.BEHIND:
            return fail(
                "trusted time",
                f"{ClockState.BEHIND.label_msgid}: the clock says "
                f"{_utc_text(reading.system)}, {human_age(reading.behind_s)} behind "
                f"the last trusted time {_utc_text(reading.trusted)} ({marks}); "
                "ratings are judged by the trusted time",
                "connect the network so NTP sets the clock (sudo timedatectl set-ntp "
                "true; timedatectl timesync-status). If the clock had run ahead "
                "instead, an NTP-synchronized clock resets the local mark by itself",
                **data,
            )
        return ok(
            "trusted time",
            f"the clock {_utc_text(reading.system)} is not behind the last trusted time ({marks})",
            **data,
        )

    return _with_db("trusted time", env, query)


# --- trust list, outbox, sync -----------------------------------------------------------------


def check_trust_list(env: DoctorEnv) -> CheckResult:
    def query(conn: sqlite3.Connection) -> CheckResult:
        row = conn.execute(
            "SELECT sequence, received_at FROM trust_lists ORDER BY sequence DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return fail(
                "trust list",
                "no trust list: stamps cannot be verified",
                "let the sync run (ocop-kiosk-sync), or 'ocop-kiosk init --demo' for a demo kiosk",
            )
        sequence, received = row
        received_at = parse_iso(received)
        if received_at is None:
            return warn(
                "trust list",
                f"sequence {sequence}, unreadable time {received!r}",
                "let the sync fetch a new one",
                sequence=sequence,
            )
        now = _trusted_now(env, conn)
        age_s = (now - received_at).total_seconds()
        detail = f"sequence {sequence}, received {human_age(age_s)} ago"
        trust = stored_trust_state(conn, now)
        data = {
            "sequence": sequence,
            "age_s": round(age_s),
            "expires_at": trust.expires_at,
            "freshness": trust.freshness.value,
        }
        hint = (
            "revocations (stolen stations) only arrive with a new list: check the sync "
            "line and journalctl -u ocop-kiosk-sync"
        )
        if trust.freshness is TrustFreshness.EXPIRED:
            # Stamps still verify, but revocations newer than the list are unknown.
            expired = (
                f"{TrustFreshness.EXPIRED.label_msgid}: {detail}, expired at "
                f"{trust.expires_at or '(version 1 list: no expiry)'}"
            )
            if not env.registry_url:
                return warn("trust list", expired + " (no registry configured)", hint, **data)
            return fail(
                "trust list",
                expired,
                hint + "; a list that stays expired while sync succeeds means something "
                "between the kiosk and the registry withholds new lists",
                **data,
            )
        if not env.registry_url:
            return ok("trust list", f"{detail} (no registry: never refreshed)", **data)
        if age_s > TRUST_FAIL_AGE_S:
            return fail("trust list", detail, hint, **data)
        if age_s > TRUST_WARN_AGE_S:
            return warn("trust list", detail, hint, **data)
        return ok("trust list", detail, **data)

    return _with_db("trust list", env, query)


def check_outbox(env: DoctorEnv) -> CheckResult:
    def query(conn: sqlite3.Connection) -> CheckResult:
        count, oldest = conn.execute(
            "SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL"
        ).fetchone()
        if not count:
            return ok("outbox", "nothing waiting to be sent", pending=0)
        oldest_at = parse_iso(oldest)
        age_s = (_trusted_now(env, conn) - oldest_at).total_seconds() if oldest_at else 0.0
        detail = f"{count} records waiting, oldest {human_age(age_s)} old"
        data = {"pending": count, "oldest_age_s": round(age_s)}
        if not env.registry_url:
            return ok("outbox", f"{detail} (no registry: kept locally)", **data)
        hint = "the sync cannot upload: see the registry and last sync lines"
        if count > OUTBOX_FAIL_ROWS:
            return fail("outbox", detail, hint, **data)
        if count > OUTBOX_WARN_ROWS or age_s > OUTBOX_WARN_AGE_S:
            return warn("outbox", detail, hint, **data)
        return ok("outbox", detail, **data)

    return _with_db("outbox", env, query)


def check_last_sync(env: DoctorEnv) -> CheckResult:
    if env.settings is not None and not env.registry_url:
        return skip("last sync", "no registry configured")

    def query(conn: sqlite3.Connection) -> CheckResult:
        from kiosk.sync.status import SyncState, load_status

        rows = dict(
            conn.execute(
                "SELECT key, value FROM sync_state WHERE key IN (?, ?)",
                (SYNC_LAST_SUCCESS_KEY, SYNC_LAST_ERROR_KEY),
            ).fetchall()
        )
        status = load_status(conn, env.db_path)
        error = status.last_error if status.state.is_failure else rows.get(SYNC_LAST_ERROR_KEY, "")
        last = parse_iso(rows.get(SYNC_LAST_SUCCESS_KEY))
        hint = "journalctl -u ocop-kiosk-sync -n 50; check the registry line"
        if status.state is SyncState.REFUSED:
            return fail(
                "last sync",
                f"{status.state.label_en}: {error[:200]}",
                "the registry (or something in between) sends a trust list that does "
                "not verify under this kiosk's pinned root key: check registry.url "
                "and registry.root_public_key (ocop-registry root-key); change the "
                "root key only when the province issued a new one",
                state=status.state.value,
                last_error=error,
            )
        if last is None:
            return warn(
                "last sync",
                "never synced" + (f"; last error: {error}" if error else ""),
                hint,
                last_error=error,
            )
        age_s = (_trusted_now(env, conn) - last).total_seconds()
        detail = f"{human_age(age_s)} ago ({last:%Y-%m-%d %H:%M} UTC)"
        if error:
            detail += f"; last error: {error[:120]}"
        data = {
            "last_success_at": rows.get(SYNC_LAST_SUCCESS_KEY),
            "age_s": round(age_s),
            "last_error": error,
            "state": status.state.value,
        }
        if age_s > SYNC_FAIL_AGE_S:
            return fail("last sync", detail, hint, **data)
        if age_s > SYNC_WARN_AGE_S:
            return warn("last sync", detail, hint, **data)
        return ok("last sync", detail, **data)

    return _with_db("last sync", env, query)


# --- the services and the board ---------------------------------------------------------------


def check_services(env: DoctorEnv) -> CheckResult:
    if not os.path.isdir("/run/systemd/system") or not shutil.which("systemctl"):
        return skip("services", "systemd is not running here")
    parts, data = [], {}
    failed = restarted = False
    for unit in KIOSK_UNITS:
        try:
            out = env.run_command(
                ["systemctl", "show", unit, "-p", "LoadState,ActiveState,SubState,NRestarts"],
                capture_output=True,
                text=True,
                timeout=5,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return skip("services", f"systemctl failed: {exc}")
        props = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        short = unit.removesuffix(".service")
        data[short] = props
        if props.get("LoadState") != "loaded":
            if unit == KIOSK_UNITS[0]:
                return skip("services", f"{unit} is not installed here", **data)
            parts.append(f"{short} not installed")
            continue
        restarts = int(props.get("NRestarts") or 0)
        state = props.get("ActiveState", "?")
        parts.append(f"{short} {state}" + (f", {restarts} restarts" if restarts else ""))
        failed = failed or state not in ("active", "activating", "reloading")
        restarted = restarted or restarts > 0
    detail = "; ".join(parts)
    if failed:
        return fail(
            "services",
            detail,
            "sudo systemctl start ocop-kiosk ocop-kiosk-sync; "
            "why it stopped: journalctl -u ocop-kiosk -b",
            **data,
        )
    if restarted:
        return warn(
            "services",
            detail,
            "restarts mean crashes or watchdog kills: "
            "journalctl -u ocop-kiosk -b | grep -i -e watchdog -e error",
            **data,
        )
    return ok("services", detail, **data)


THROTTLE_BITS = {
    0x1: "under-voltage now",
    0x2: "CPU frequency capped now",
    0x4: "throttled now",
    0x8: "soft temperature limit now",
    0x10000: "under-voltage since boot",
    0x20000: "frequency capped since boot",
    0x40000: "throttled since boot",
    0x80000: "soft temperature limit since boot",
}


def parse_throttled(text: str) -> int | None:
    """`throttled=0x50005` -> 0x50005 (vcgencmd get_throttled)."""
    text = text.strip()
    if "=" in text:
        text = text.split("=", 1)[1]
    try:
        return int(text, 16)
    except ValueError:
        return None


def check_power(env: DoctorEnv) -> CheckResult:
    if not shutil.which("vcgencmd"):
        return skip("power", "not a Raspberry Pi (no vcgencmd)")
    try:
        out = env.run_command(
            ["vcgencmd", "get_throttled"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return skip("power", f"vcgencmd failed: {exc}")
    value = parse_throttled(out.stdout)
    if value is None:
        return skip("power", f"vcgencmd said {out.stdout.strip() or out.stderr.strip()!r}")
    return power_result(value)


def power_result(value: int) -> CheckResult:
    flags = [text for bit, text in THROTTLE_BITS.items() if value & bit]
    data = {"throttled": hex(value)}
    power_hint = (
        "use the official power supply (Pi 4: 5.1 V 3 A, Pi 5: 5.1 V 5 A) and a "
        "short cable; under-voltage corrupts SD cards"
    )
    if value & 0x1:
        return fail("power", ", ".join(flags), power_hint, **data)
    if value & 0x10000:
        return warn("power", ", ".join(flags), power_hint, **data)
    if flags:
        return warn(
            "power",
            ", ".join(flags),
            "the Pi is too hot: ventilate the enclosure, add a heatsink or fan",
            **data,
        )
    return ok("power", "no under-voltage or throttling since boot", **data)


# --- the list ----------------------------------------------------------------------------------

CHECKS: tuple[Check, ...] = (
    Check(("config",), check_config, 5.0),
    Check(("data dir",), check_data_dir, 10.0),
    Check(("database",), check_database, 60.0),
    Check(("disk",), check_disk, 5.0),
    Check(
        ("camera",),
        check_camera,
        lambda env: env.camera_read_s + 15.0,
        "the camera driver hangs: replug the camera, then reboot",
    ),
    Check(
        ("printer", "paper"),
        check_printer,
        _printer_timeout,
        "the printer does not answer: switch it off and on, check the cable",
    ),
    Check(
        ("registry", "clock"),
        check_registry,
        _registry_timeout,
        "the network hangs: check the router",
    ),
    Check(("trusted time",), check_trusted_time, 10.0),
    Check(("trust list",), check_trust_list, 10.0),
    Check(("outbox",), check_outbox, 10.0),
    Check(("last sync",), check_last_sync, 10.0),
    Check(("services",), check_services, 15.0),
    Check(("power",), check_power, 10.0),
)

CHECK_NAMES: tuple[str, ...] = tuple(name for check in CHECKS for name in check.names)
