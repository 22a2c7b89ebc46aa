"""Registry configuration: one frozen dataclass, built by the CLI (or tests)."""

from __future__ import annotations

import enum
import ipaddress
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from ocop.errors import UserError
from ocop.stamps.codec import normalise_base_url
from ocop.stamps.signer import DEFAULT_TRUST_VALIDITY_S as DEFAULT_TRUST_LIST_VALIDITY_S
from registry.kek import Kek

DEFAULT_STAMP_BASE_URL = "HTTPS://OCOP.SONLA.GOV.VN/S/"
ENV_DB = "OCOP_REGISTRY_DB"
# A streaming standby of the PostgreSQL primary for the stamp page's and the reports' reads
# (registry/db.py Database, serve --read-db); unset: every read goes to the primary.
ENV_READ_DB = "OCOP_REGISTRY_READ_DB"
ENV_DATA = "OCOP_REGISTRY_DATA"
ENV_ADMIN_TOKEN = "OCOP_REGISTRY_ADMIN_TOKEN"
ENV_SILENT_AFTER_S = "OCOP_REGISTRY_SILENT_AFTER_S"
DEFAULT_SILENT_AFTER_S = 30 * 60.0  # kiosks send a heartbeat every sync_interval_s (300 s)
# A new epoch (registry/epoch.py) raises the serial counter and the trust-list sequence
# above the highest ever seen by these gaps.
ENV_EPOCH_SERIAL_GAP = "OCOP_REGISTRY_EPOCH_SERIAL_GAP"
ENV_EPOCH_TRUST_GAP = "OCOP_REGISTRY_EPOCH_TRUST_SEQUENCE_GAP"
DEFAULT_EPOCH_SERIAL_GAP = 100_000
DEFAULT_EPOCH_TRUST_SEQUENCE_GAP = 1000
# Trust list freshness (issue 14): each list expires this long after it is signed; the
# registry re-signs when less than half remains, looking every refresh check interval.
ENV_TRUST_VALIDITY_S = "OCOP_REGISTRY_TRUST_LIST_VALIDITY_S"
ENV_TRUST_REFRESH_CHECK_S = "OCOP_REGISTRY_TRUST_REFRESH_CHECK_S"
ENV_NEXT_KEY_LEAD_S = "OCOP_REGISTRY_NEXT_KEY_LEAD_S"
DEFAULT_TRUST_VALIDITY_S = DEFAULT_TRUST_LIST_VALIDITY_S
DEFAULT_TRUST_REFRESH_CHECK_S = 600.0
DEFAULT_DATA_DIR = Path("ocop-registry-data")
DB_FILENAME = "registry.sqlite"
# A printing station's quotas until the office sets others (`station set --per-day/--total`;
# "none" = no limit, only ever set explicitly). The day is the Vietnam calendar day
# (ocop.clock.VIETNAM_TZ): the province works on it. A day's quota below Limits.max_block_count
# is deliberate: one stolen token mints at most this much a day.
DEFAULT_QUOTA_PER_DAY = 5_000
DEFAULT_QUOTA_TOTAL = 100_000
# The public phone pages (registry/pages.py): the province's hotline shown (as a tel: link)
# on every page and beside a forged, copied or revoked stamp; where a shopper reports one
# (mailto: or an https page); typed-serial lookups a client may make per minute; stamp
# reports (the page's own form, registry/public_reports.py) a client may send per hour.
ENV_HOTLINE = "OCOP_REGISTRY_HOTLINE"
ENV_REPORT_URL = "OCOP_REGISTRY_REPORT_URL"
ENV_LOOKUPS_PER_MINUTE = "OCOP_REGISTRY_LOOKUPS_PER_MINUTE"
DEFAULT_LOOKUPS_PER_MINUTE = 20
ENV_REPORTS_PER_HOUR = "OCOP_REGISTRY_REPORTS_PER_HOUR"
DEFAULT_REPORTS_PER_HOUR = 10
# Phone views of the stamp page are written in batches (registry/views.py ViewLog): every
# this many seconds, or at once when this many are queued; a kill -9 loses at most what is
# queued (one interval's views, never more than the batch size plus what arrived since).
ENV_VIEW_FLUSH_S = "OCOP_REGISTRY_VIEW_FLUSH_S"
DEFAULT_VIEW_FLUSH_S = 0.25
ENV_VIEW_BATCH = "OCOP_REGISTRY_VIEW_BATCH"
DEFAULT_VIEW_BATCH = 500
# Retention (registry/retention.py): a stamp block's stored reply (the signed stamps, about
# 80 bytes each, gzipped) is kept this many days after issue, so a request retried within
# them gets the same bytes; a later retry gets 410 Gone, never a second signing.
ENV_BLOCK_REPLY_KEEP_DAYS = "OCOP_REGISTRY_BLOCK_REPLY_KEEP_DAYS"
DEFAULT_BLOCK_REPLY_KEEP_DAYS = 30
MAX_BLOCK_REPLY_KEEP_DAYS = 3650
# Rate-limit counters kept on PostgreSQL (registry/ratelimit.py) at most: beyond this many
# clients the counters that expire soonest are deleted (a client spraying addresses).
ENV_RATE_LIMIT_MAX_CLIENTS = "OCOP_REGISTRY_RATE_LIMIT_MAX_CLIENTS"
DEFAULT_RATE_LIMIT_MAX_CLIENTS = 100_000
HOTLINE_PATTERN = r"\+?[0-9][0-9 .]{2,18}[0-9]"  # "0212 3856 xxx", "+84 212 ...", "1900.xxxx"


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 8 * 1024 * 1024  # after gzip decompression
    max_wire_bytes: int = 4 * 1024 * 1024  # as received (compressed or not)
    max_upload_items: int = 2000  # per batch
    max_payload_bytes: int = 16 * 1024  # one upload item's payload, as JSON
    max_block_count: int = 10_000  # stamps per block request
    max_page_items: int = 5000  # catalog changes per reply
    default_page_items: int = 2000
    max_media_bytes: int = 5 * 1024 * 1024


class ClonePolicy(str, enum.Enum):
    """What a clone detection does (registry/clones.py)."""

    PUBLISH = "publish"  # onto the trust list's suspect list at once: every kiosk, next sync
    APPROVE = "approve"  # pending until the office approves it (reports page, admin API)


@dataclass(frozen=True)
class CloneRules:
    """Automatic clone detection on verified scans and phone views (registry/clones.py).
    A site is a station, or one phone client (a salted hash, new every day)."""

    policy: ClonePolicy = ClonePolicy.PUBLISH
    window_s: float = 7 * 86400.0  # rules (a) and (c) look at sightings this recent
    # (a) sites: flagged at more than this many distinct stations within the window ...
    max_stations: int = 1
    # ... or more than this many distinct phone clients (phones are cheap to fake: higher)
    max_phone_clients: int = 10
    # (b) volume: more than max_scans sightings in total, counting at most
    # scans_per_site_day per site and day, from at least min_volume_sites sites (so one
    # station replaying someone's genuine stamp cannot flag it by itself)
    max_scans: int = 20
    scans_per_site_day: int = 3
    min_volume_sites: int = 2
    # (c) travel: two stations' sightings farther apart than this speed allows
    max_speed_kmh: float = 60.0

    def __post_init__(self):
        object.__setattr__(self, "policy", ClonePolicy(self.policy))
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "policy" and (isinstance(value, bool) or value < 1):
                raise UserError(f"clone rule {f.name} must be at least 1, got {value!r}")

    @classmethod
    def parse(cls, settings: list[str]) -> CloneRules:
        """From NAME=VALUE strings (the CLI's --clone-rule), e.g. max_stations=2."""
        types = {f.name: f.type for f in fields(cls)}
        values: dict = {}
        for item in settings:
            name, sep, text = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in types:
                raise UserError(
                    f"--clone-rule {item!r}: expected NAME=VALUE, NAME one of {', '.join(types)}"
                )
            try:
                kind = {"int": int, "float": float}.get(str(types[name]), str)
                values[name] = kind(text.strip())
            except ValueError:
                raise UserError(f"--clone-rule {item!r}: {text!r} is not a number") from None
        try:
            return cls(**values)
        except ValueError as exc:  # ClonePolicy("x")
            raise UserError(f"--clone-rule: {exc}") from None


def parse_proxies(items: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Trusted proxy addresses or networks ('10.0.0.1', '10.0.0.0/8'), checked."""
    out = []
    for item in items:
        try:
            out.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise UserError(f"trusted proxy {item!r} is not an IP address or network") from None
    return tuple(out)


@dataclass(frozen=True)
class HttpTimeouts:
    """Slow clients are cut off (registry/httpserver.py, registry/middleware.py)."""

    header_s: float = 10.0  # connection open (or idle after a reply) until headers complete
    body_s: float = 30.0  # request headers complete until the whole body has arrived (408)
    keep_alive_s: float = 5.0  # idle keep-alive connection closed after this
    max_header_bytes: int = 16 * 1024  # request line + headers (h11 limit; 400 over it)

    def __post_init__(self):
        for name in ("header_s", "body_s", "keep_alive_s"):
            value = getattr(self, name)
            if not 0 < value <= 3600:
                raise UserError(f"{name} must be > 0 and at most an hour, got {value!r}")


@dataclass(frozen=True)
class AuthLimits:
    """Failed token checks per client address (registry/ratelimit.py; shared by every
    process and host on PostgreSQL, in memory on SQLite): after max_failures within
    window_s the client gets 429 for window_s, even with a correct token."""

    max_failures: int = 10
    window_s: float = 300.0

    def __post_init__(self):
        if self.max_failures < 1 or not 0 < self.window_s <= 86400:
            raise UserError(
                "auth failure limit must be >= 1 and its window > 0 s and at most a day"
            )


@dataclass(frozen=True)
class RegistryConfig:
    db_url: str
    data_dir: Path
    stamp_base_url: str = DEFAULT_STAMP_BASE_URL
    admin_token_hashes: frozenset[str] = frozenset()
    clone_rules: CloneRules = field(default_factory=CloneRules)
    # Peers whose X-Forwarded-For is believed (the stamp page's phone views): addresses or
    # networks. Empty: the peer address is the client.
    trusted_proxies: tuple[str, ...] = ()
    # A station with no heartbeat for this long is flagged silent on the reports page.
    station_silent_after_s: float = field(default_factory=lambda: silent_after_s())
    limits: Limits = field(default_factory=Limits)
    epoch_serial_gap: int = field(
        default_factory=lambda: _env_int(ENV_EPOCH_SERIAL_GAP, DEFAULT_EPOCH_SERIAL_GAP)
    )
    epoch_trust_sequence_gap: int = field(
        default_factory=lambda: _env_int(ENV_EPOCH_TRUST_GAP, DEFAULT_EPOCH_TRUST_SEQUENCE_GAP)
    )
    timeouts: HttpTimeouts = field(default_factory=HttpTimeouts)
    auth_limits: AuthLimits = field(default_factory=AuthLimits)
    # Where browsers reach this registry ("https://ocop.sonla.gov.vn"): the only origin used
    # for absolute URLs and accepted in Origin headers besides the request's own; https
    # here (a TLS proxy in front) turns on Strict-Transport-Security. The Host header is
    # never echoed into a URL.
    public_base_url: str = ""
    # The key-encryption key (registry/kek.py): None keeps the online private keys as files
    # in <data>/keys/ (one host); with one they are in the database (every process, host).
    kek: Kek | None = field(default=None, repr=False)

    # Trust lists: life of one list; how often `serve` checks whether to re-sign; how long
    # before use the next signing key is published (None = one validity period, so every
    # kiosk that is not itself out of date knows a key before its first stamp).
    trust_list_validity_s: float = field(
        default_factory=lambda: _env_or(ENV_TRUST_VALIDITY_S, DEFAULT_TRUST_VALIDITY_S)
    )
    trust_refresh_check_s: float = field(
        default_factory=lambda: _env_or(ENV_TRUST_REFRESH_CHECK_S, DEFAULT_TRUST_REFRESH_CHECK_S)
    )
    next_key_lead_s: float | None = field(default_factory=lambda: env_seconds(ENV_NEXT_KEY_LEAD_S))
    # The phone pages' help for a bad stamp (see ENV_HOTLINE above): "" shows none.
    hotline: str = field(default_factory=lambda: os.environ.get(ENV_HOTLINE, ""))
    report_url: str = field(default_factory=lambda: os.environ.get(ENV_REPORT_URL, ""))
    lookups_per_minute: int = field(
        default_factory=lambda: _env_int(ENV_LOOKUPS_PER_MINUTE, DEFAULT_LOOKUPS_PER_MINUTE)
    )
    reports_per_hour: int = field(
        default_factory=lambda: _env_int(ENV_REPORTS_PER_HOUR, DEFAULT_REPORTS_PER_HOUR)
    )
    view_flush_s: float = field(
        default_factory=lambda: _env_or(ENV_VIEW_FLUSH_S, DEFAULT_VIEW_FLUSH_S)
    )
    view_batch: int = field(default_factory=lambda: _env_int(ENV_VIEW_BATCH, DEFAULT_VIEW_BATCH))
    # A read replica (a PostgreSQL streaming standby of db_url): "" = none. Set by `serve`
    # only (--read-db, $OCOP_REGISTRY_READ_DB): what reads it, registry/db.py Database.
    read_db_url: str = ""
    rate_limit_max_clients: int = field(
        default_factory=lambda: _env_int(ENV_RATE_LIMIT_MAX_CLIENTS, DEFAULT_RATE_LIMIT_MAX_CLIENTS)
    )
    block_reply_keep_days: int = field(
        default_factory=lambda: _env_int(ENV_BLOCK_REPLY_KEEP_DAYS, DEFAULT_BLOCK_REPLY_KEEP_DAYS)
    )

    def __post_init__(self):
        # Every wrong setting at once (one UserError naming them all), not one per start.
        problems: list[str] = []
        for name, parse in (
            ("stamp_base_url", normalise_base_url),
            ("trusted_proxies", parse_proxies),
        ):
            try:
                object.__setattr__(self, name, parse(getattr(self, name)))
            except UserError as exc:
                problems.append(str(exc))
        self._check(problems)
        problems += read_db_problems(self.db_url, self.read_db_url)
        if problems:
            raise UserError("; ".join(problems))

    def _check(self, problems: list[str]) -> None:
        for name, high in (("epoch_serial_gap", 2**32), ("epoch_trust_sequence_gap", 2**31)):
            value = getattr(self, name)
            if not 1 <= value <= high:
                problems.append(f"{name} must be 1..{high}, got {value!r}")
        for name, low_s in (("trust_list_validity_s", 1.0), ("trust_refresh_check_s", 0.1)):
            if not low_s <= getattr(self, name) <= 366 * 86400:
                problems.append(f"{name} must be {low_s} s .. a year, got {getattr(self, name)!r}")
        if self.next_key_lead_s is not None and not 0 <= self.next_key_lead_s <= 366 * 86400:
            problems.append(f"next_key_lead_s must be 0 .. a year, got {self.next_key_lead_s!r}")
        if not 0 < self.station_silent_after_s <= 365 * 86400:
            problems.append(
                f"station_silent_after_s must be > 0 and at most a year, got "
                f"{self.station_silent_after_s!r}"
            )
        base = self.public_base_url.strip().rstrip("/")
        if base and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", base):
            problems.append(
                f"public base URL must be http(s)://host[:port] with no path, got {base!r}"
            )
        object.__setattr__(self, "public_base_url", base)
        hotline = " ".join(self.hotline.split())
        if hotline and not re.fullmatch(HOTLINE_PATTERN, hotline):
            problems.append(
                f"hotline must be a phone number (digits, spaces, dots, a leading +), "
                f"got {hotline!r}"
            )
        object.__setattr__(self, "hotline", hotline)
        report = self.report_url.strip()
        if report and not re.fullmatch(r"(mailto:[^\s@]+@[^\s@]+|https://\S+)", report):
            problems.append(f"report URL must be mailto:ADDRESS or https://..., got {report!r}")
        object.__setattr__(self, "report_url", report)
        if not 1 <= self.lookups_per_minute <= 10_000:
            problems.append(f"lookups_per_minute must be 1..10000, got {self.lookups_per_minute!r}")
        if not 1 <= self.reports_per_hour <= 10_000:
            problems.append(f"reports_per_hour must be 1..10000, got {self.reports_per_hour!r}")
        if not 0.001 <= self.view_flush_s <= 3600:
            problems.append(f"view_flush_s must be 0.001..3600 s, got {self.view_flush_s!r}")
        if not 1 <= self.view_batch <= 10_000:
            problems.append(f"view_batch must be 1..10000, got {self.view_batch!r}")
        if not 100 <= self.rate_limit_max_clients <= 10_000_000:
            problems.append(
                f"rate_limit_max_clients must be 100..10000000, got {self.rate_limit_max_clients!r}"
            )
        if not 1 <= self.block_reply_keep_days <= MAX_BLOCK_REPLY_KEEP_DAYS:
            problems.append(
                f"block_reply_keep_days must be 1..{MAX_BLOCK_REPLY_KEEP_DAYS}, got "
                f"{self.block_reply_keep_days!r}"
            )
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "read_db_url", self.read_db_url.strip())

    @property
    def key_lead_s(self) -> float:
        """How long before use the next signing key is published."""
        return self.trust_list_validity_s if self.next_key_lead_s is None else self.next_key_lead_s

    @property
    def official_domain(self) -> str:
        """'ocop.sonla.gov.vn': the host of the stamp URL, as the phone pages state it."""
        return self.stamp_base_url[len("HTTPS://") :].split("/", 1)[0].lower()

    @property
    def hotline_uri(self) -> str:
        """'tel:02123856xxx' for the hotline ("" without one)."""
        return "tel:" + re.sub(r"[ .]", "", self.hotline) if self.hotline else ""

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def stamp_path_prefix(self) -> str:
        """'/S/' for 'HTTPS://OCOP.SONLA.GOV.VN/S/': where the public stamp page lives."""
        rest = self.stamp_base_url[len("HTTPS://") :]
        slash = rest.find("/")
        return rest[slash:] if slash >= 0 else "/"


def _backend(url: str) -> str:
    """'postgresql', 'sqlite', ... of a database URL ('' when it is not one)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if url.startswith("postgres://"):  # libpq's spelling; SQLAlchemy knows postgresql://
        url = "postgresql://" + url[len("postgres://") :]
    try:
        return make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        return ""


def read_db_problems(db_url: str, read_db_url: str) -> list[str]:
    """Why `read_db_url` cannot be a read replica of `db_url` (none: it may be). Whether
    it really is a standby of that database is checked when serve starts (registry/db.py
    check_replica): here only what the URLs say."""
    read = read_db_url.strip()
    if not read:
        return []
    backend = _backend(read)
    if not backend:
        return [f"read replica URL {read!r} is not a database URL (postgresql://...)"]
    if backend != "postgresql":
        return [
            f"read replica URL must be PostgreSQL (a streaming standby of the primary), "
            f"got a {backend} URL"
        ]
    if _backend(db_url) != "postgresql":
        return [
            f"a read replica needs a PostgreSQL primary (--db postgresql://...), not "
            f"{_backend(db_url) or db_url!r}: SQLite has no replicas"
        ]
    if _same_url(read, db_url):
        return ["the read replica URL is the primary's (--db): leave --read-db out"]
    return []


def _same_url(a: str, b: str) -> bool:
    from sqlalchemy.engine import make_url

    def norm(url: str):
        u = make_url(url.replace("postgres://", "postgresql://", 1))
        return (u.get_backend_name(), u.host, u.port or 5432, u.database, u.username)

    return norm(a) == norm(b)


def default_data_dir(environ=os.environ) -> Path:
    return Path(environ.get(ENV_DATA) or DEFAULT_DATA_DIR)


def default_db_url(data_dir: Path, environ=os.environ) -> str:
    return environ.get(ENV_DB) or f"sqlite:///{Path(data_dir).resolve() / DB_FILENAME}"


def silent_after_s(environ=os.environ) -> float:
    """$OCOP_REGISTRY_SILENT_AFTER_S (seconds), else DEFAULT_SILENT_AFTER_S."""
    return _env_or(ENV_SILENT_AFTER_S, DEFAULT_SILENT_AFTER_S, environ)


def _env_int(name: str, default: int, environ=os.environ) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise UserError(f"${name} must be a whole number, got {text!r}") from None


def env_seconds(name: str, environ=os.environ) -> float | None:
    """$name as seconds, None when unset."""
    text = environ.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise UserError(f"${name} must be a number of seconds, got {text!r}") from None


def _env_or(name: str, default: float, environ=os.environ) -> float:
    """$name as seconds, else `default`."""
    value = env_seconds(name, environ)
    return default if value is None else value
