"""Report queries for the provincial office: scans per day, product and district, top
products, clone detections (registry/clones.py: pending ones wait for the office's
decision), station anomalies (refused upload items, registry/uploads.py) and station
health (each station's last heartbeat, and stations silent for longer than
`config.station_silent_after_s`). The queries are in registry/dal/."""

from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import asdict, dataclass, field

from sqlalchemy.engine import Connection

from ocop.stamps.verdicts import SIGNATURE_VALID
from registry import db
from registry.clones import DetectionStatus
from registry.config import RegistryConfig
from registry.dal import anomalies as anomaly_rows
from registry.dal import clones as clone_rows
from registry.dal import reports as queries
from registry.dal import stations as station_rows

# Verdicts that say the serial came from a validly signed stamp (forged copies claiming a
# serial never count towards its scans).
SIGNED_VERDICTS = tuple(sorted(v.value for v in SIGNATURE_VALID))
UNKNOWN_DISTRICT = "(chưa rõ / unknown)"


@dataclass
class Detection:
    id: int
    serial: int
    product_id: int | None
    product_name: str
    rule: str  # clones.Rule
    detail: str
    status: str  # clones.DetectionStatus
    detected_at: str
    decided_at: str | None
    decided_by: str | None


@dataclass
class Anomaly:
    """Refused upload items of one station and reason (ocop.wire.Refusal)."""

    station: str
    reason: str
    count: int
    last_at: str


class Contact(str, enum.Enum):
    """How a station stands with the registry, by the registry's clock."""

    OK = "ok"  # a heartbeat within station_silent_after_s
    SILENT = "silent"  # its last heartbeat is older than that
    NEVER = "never"  # no heartbeat ever received
    DISABLED = "disabled"  # its token is disabled: silence is expected


@dataclass
class StationHealth:
    name: str
    district: str
    last_seen_at: str | None  # last upload of any kind
    heartbeat: dict | None  # the newest heartbeat, as the kiosk sent it
    heartbeat_received_at: str | None = None
    contact: Contact = Contact.NEVER
    silent_for_s: int | None = None  # since heartbeat_received_at
    role: str = "kiosk"  # ocop.stations.StationRole value
    # Its heartbeats of today (UTC), summed up (station_heartbeat_days: heartbeats,
    # first/last_received_at, min_/max_ numbers, last_ states); None without one today.
    today: dict | None = None

    @property
    def flagged(self) -> bool:
        return self.contact in (Contact.SILENT, Contact.NEVER)


@dataclass
class BlockAlert:
    """Refused stamp-block requests of one station, Vietnam day, reason and product: a
    token used beyond its authority (a kiosk asking for stamps, a station out of scope or
    over quota). `reason` is an ocop.stations.BlockRefusal value."""

    station: str
    day: str
    reason: str
    product_id: int
    attempts: int
    stamps_asked: int
    first_at: str
    last_at: str
    detail: str


@dataclass
class Report:
    first_day: str
    last_day: str
    total_scans: int
    total_prints: int
    scans_per_day: list[tuple[str, int]]
    per_product: list[tuple[int, str, int]]  # (product id, name, scans)
    per_district: list[tuple[str, int]]
    per_verdict: list[tuple[str, int]]
    detections: list[Detection] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    stations: list[StationHealth] = field(default_factory=list)
    station_silent_after_s: float = 0.0  # config.station_silent_after_s
    block_alerts: list[BlockAlert] = field(default_factory=list)

    @property
    def top_products(self) -> list[tuple[int, str, int]]:
        return self.per_product[:10]

    def to_json(self) -> dict:
        data = asdict(self)
        data["top_products"] = [list(t) for t in self.top_products]
        for station, health in zip(data["stations"], self.stations, strict=True):
            station["contact"] = health.contact.value
            station["flagged"] = health.flagged
        return data


def scan_stats_for_serial(conn: Connection, serial: int) -> tuple[int, list[tuple[str, str, int]]]:
    """(scans of this serial, [(station, district, scans)]) over signed-stamp verdicts."""
    by_station = queries.scans_by_station_of_serial(conn, serial, SIGNED_VERDICTS)
    return sum(n for _, _, n in by_station), by_station


def build_report(
    conn: Connection,
    config: RegistryConfig,
    days: int = 30,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Report:
    now = now or dt.datetime.now(dt.UTC)
    today = today or now.date()
    first = today - dt.timedelta(days=days - 1)
    first_day, last_day = first.isoformat(), today.isoformat()
    by_day = queries.scans_per_day(conn, first_day, last_day)
    scans_per_day = [
        (
            (first + dt.timedelta(days=i)).isoformat(),
            by_day.get((first + dt.timedelta(days=i)).isoformat(), 0),
        )
        for i in range(days)
    ]
    per_product = [
        (pid, name or f"#{pid}", n)
        for pid, name, n in queries.scans_per_product(conn, first_day, last_day)
    ]
    per_district = [
        (district or UNKNOWN_DISTRICT, n)
        for district, n in queries.scans_per_district(conn, first_day, last_day)
    ]
    per_verdict = [
        (verdict or "?", n) for verdict, n in queries.scans_per_verdict(conn, first_day, last_day)
    ]
    total_prints = queries.prints_since(conn, first_day)
    return Report(
        first_day=first.isoformat(),
        last_day=today.isoformat(),
        total_scans=sum(n for _, n in scans_per_day),
        total_prints=total_prints,
        scans_per_day=scans_per_day,
        per_product=per_product,
        per_district=per_district,
        per_verdict=per_verdict,
        detections=detections(conn),
        anomalies=[
            Anomaly(r.station, r.reason, r.n, r[3])
            for r in anomaly_rows.per_station(conn, first_day)
        ],
        stations=station_health(conn, config, now),
        station_silent_after_s=config.station_silent_after_s,
        block_alerts=block_alerts(conn, first_day),
    )


def block_alerts(conn: Connection, first_day: str) -> list[BlockAlert]:
    return [
        BlockAlert(
            r.station,
            r.day,
            r.reason,
            r.product_id,
            r.attempts,
            r.stamps_asked,
            r.first_at,
            r.last_at,
            r.detail,
        )
        for r in station_rows.alerts_since(conn, first_day)
    ]


def detections(conn: Connection, status: str | None = None, limit: int = 200) -> list[Detection]:
    return [
        Detection(
            r.id,
            r.serial,
            r.product_id,
            name,
            r.rule,
            r.detail,
            r.status,
            r.detected_at,
            r.decided_at,
            r.decided_by,
        )
        for r, name in clone_rows.listing(conn, DetectionStatus.PENDING.value, status, limit)
    ]


def station_health(
    conn: Connection, config: RegistryConfig, now: dt.datetime | None = None
) -> list[StationHealth]:
    now = now or dt.datetime.now(dt.UTC)
    out = []
    for r in queries.stations_with_heartbeat(conn, now.date().isoformat()):
        heartbeat = None
        if r.payload_json:
            try:
                heartbeat = json.loads(r.payload_json)
            except ValueError:
                heartbeat = None
        silent_for_s = None
        if r.received_at:
            silent_for_s = max(0, int((now - db.parse_time(r.received_at)).total_seconds()))
        if r.disabled:
            contact = Contact.DISABLED
        elif silent_for_s is None:
            contact = Contact.NEVER
        elif silent_for_s > config.station_silent_after_s:
            contact = Contact.SILENT
        else:
            contact = Contact.OK
        row = r._mapping
        today = None
        if r.day_heartbeats is not None:
            today = {k[4:]: v for k, v in row.items() if k.startswith("day_")}
        out.append(
            StationHealth(
                r.name,
                r.district,
                r.last_seen_at,
                heartbeat,
                r.received_at,
                contact,
                silent_for_s,
                r.role,
                today,
            )
        )
    return out
