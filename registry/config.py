"""Registry configuration: one frozen dataclass, built by the CLI (or tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ocop.errors import UserError
from ocop.stamps.codec import normalise_base_url
from ocop.stamps.signer import DEFAULT_TRUST_VALIDITY_S as DEFAULT_TRUST_LIST_VALIDITY_S

DEFAULT_STAMP_BASE_URL = "HTTPS://OCOP.SONLA.GOV.VN/S/"
ENV_DB = "OCOP_REGISTRY_DB"
ENV_DATA = "OCOP_REGISTRY_DATA"
ENV_ADMIN_TOKEN = "OCOP_REGISTRY_ADMIN_TOKEN"
ENV_SILENT_AFTER_S = "OCOP_REGISTRY_SILENT_AFTER_S"
DEFAULT_SILENT_AFTER_S = 30 * 60.0  # kiosks send a heartbeat every sync_interval_s (300 s)
# Trust list freshness (issue 14): each list expires this long after it is signed; the
# registry re-signs when less than half remains, looking every refresh check interval.
ENV_TRUST_VALIDITY_S = "OCOP_REGISTRY_TRUST_LIST_VALIDITY_S"
ENV_TRUST_REFRESH_CHECK_S = "OCOP_REGISTRY_TRUST_REFRESH_CHECK_S"
ENV_NEXT_KEY_LEAD_S = "OCOP_REGISTRY_NEXT_KEY_LEAD_S"
DEFAULT_TRUST_VALIDITY_S = DEFAULT_TRUST_LIST_VALIDITY_S
DEFAULT_TRUST_REFRESH_CHECK_S = 600.0
DEFAULT_DATA_DIR = Path("ocop-registry-data")
DB_FILENAME = "registry.sqlite"


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


@dataclass(frozen=True)
class RegistryConfig:
    db_url: str
    data_dir: Path
    stamp_base_url: str = DEFAULT_STAMP_BASE_URL
    admin_token_hashes: frozenset[str] = frozenset()
    # Suspect serial rules for reports and the stamp page.
    suspect_scan_limit: int = 20  # scans of one serial, all stations
    suspect_station_limit: int = 2  # distinct sales points scanning one serial
    # A station with no heartbeat for this long is flagged silent on the reports page.
    station_silent_after_s: float = field(default_factory=lambda: silent_after_s())
    limits: Limits = field(default_factory=Limits)
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

    def __post_init__(self):
        for name, low_s in (("trust_list_validity_s", 1.0), ("trust_refresh_check_s", 0.1)):
            if not low_s <= getattr(self, name) <= 366 * 86400:
                raise UserError(f"{name} must be {low_s} s .. a year, got {getattr(self, name)!r}")
        if self.next_key_lead_s is not None and not 0 <= self.next_key_lead_s <= 366 * 86400:
            raise UserError(f"next_key_lead_s must be 0 .. a year, got {self.next_key_lead_s!r}")
        if not 0 < self.station_silent_after_s <= 365 * 86400:
            raise UserError(
                f"station_silent_after_s must be > 0 and at most a year, got "
                f"{self.station_silent_after_s!r}"
            )
        object.__setattr__(self, "stamp_base_url", normalise_base_url(self.stamp_base_url))
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @property
    def key_lead_s(self) -> float:
        """How long before use the next signing key is published."""
        return self.trust_list_validity_s if self.next_key_lead_s is None else self.next_key_lead_s

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def stamp_path_prefix(self) -> str:
        """'/S/' for 'HTTPS://OCOP.SONLA.GOV.VN/S/': where the public stamp page lives."""
        rest = self.stamp_base_url[len("HTTPS://") :]
        slash = rest.find("/")
        return rest[slash:] if slash >= 0 else "/"


def default_data_dir(environ=os.environ) -> Path:
    return Path(environ.get(ENV_DATA) or DEFAULT_DATA_DIR)


def default_db_url(data_dir: Path, environ=os.environ) -> str:
    return environ.get(ENV_DB) or f"sqlite:///{Path(data_dir).resolve() / DB_FILENAME}"


def silent_after_s(environ=os.environ) -> float:
    """$OCOP_REGISTRY_SILENT_AFTER_S (seconds), else DEFAULT_SILENT_AFTER_S."""
    text = environ.get(ENV_SILENT_AFTER_S, "").strip()
    if not text:
        return DEFAULT_SILENT_AFTER_S
    try:
        return float(text)
    except ValueError:
        raise UserError(
            f"${ENV_SILENT_AFTER_S} must be a number of seconds, got {text!r}"
        ) from None


def env_seconds(name: str, environ=os.environ) -> float | None:
    """$name as seconds, None when unset."""
    text = environ.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise UserError(f"${name} must be a number of seconds, got {text!r}") from None


def _env_or(name: str, default: float) -> float:
    value = env_seconds(name)
    return default if value is None else value
