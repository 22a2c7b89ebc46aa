"""Report queries for the provincial office: scans per day, product and district, top
products, suspect serials (one serial scanned at several sales points, or too often), and
station health (each station's last heartbeat, and stations silent for longer than
`config.station_silent_after_s`). Plain SQLAlchemy Core: the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ocop.stamps.verdicts import SIGNATURE_VALID
from registry import db
from registry.config import RegistryConfig

# Verdicts that say the serial came from a validly signed stamp (forged copies claiming a
# serial never count towards its scans).
SIGNED_VERDICTS = tuple(sorted(v.value for v in SIGNATURE_VALID))
UNKNOWN_DISTRICT = "(chưa rõ / unknown)"


@dataclass
class SuspectSerial:
    serial: int
    product_id: int | None
    product_name: str
    scans: int
    stations: list[str]
    reasons: list[str]


class Contact(str, enum.Enum):
    """How a station stands with the registry, by the registry's clock."""
    OK = "ok"                 # a heartbeat within station_silent_after_s
    SILENT = "silent"         # its last heartbeat is older than that
    NEVER = "never"           # no heartbeat ever received
    DISABLED = "disabled"     # its token is disabled: silence is expected


@dataclass
class StationHealth:
    name: str
    district: str
    last_seen_at: str | None                 # last upload of any kind
    heartbeat: dict | None                   # the newest heartbeat, as the kiosk sent it
    heartbeat_received_at: str | None = None
    contact: Contact = Contact.NEVER
    silent_for_s: int | None = None          # since heartbeat_received_at

    @property
    def flagged(self) -> bool:
        return self.contact in (Contact.SILENT, Contact.NEVER)


@dataclass
class Report:
    first_day: str
    last_day: str
    total_scans: int
    total_prints: int
    scans_per_day: list[tuple[str, int]]
    per_product: list[tuple[int, str, int]]          # (product id, name, scans)
    per_district: list[tuple[str, int]]
    per_verdict: list[tuple[str, int]]
    suspects: list[SuspectSerial] = field(default_factory=list)
    stations: list[StationHealth] = field(default_factory=list)
    station_silent_after_s: float = 0.0       # config.station_silent_after_s

    @property
    def top_products(self) -> list[tuple[int, str, int]]:
        return self.per_product[:10]

    def to_json(self) -> dict:
        data = asdict(self)
        data["top_products"] = [list(t) for t in self.top_products]
        for station, health in zip(data["stations"], self.stations):
            station["contact"] = health.contact.value
            station["flagged"] = health.flagged
        return data


def scan_stats_for_serial(conn: Connection, serial: int) -> tuple[int, list[tuple[str, str, int]]]:
    """(scans of this serial, [(station, district, scans)]) over signed-stamp verdicts."""
    e, s = db.events, db.stations
    rows = conn.execute(
        sa.select(s.c.name, s.c.district, sa.func.count().label("n"))
        .select_from(e.join(s, s.c.id == e.c.station_id))
        .where(e.c.kind == "scan", e.c.serial == serial,
               sa.or_(e.c.verdict.is_(None), e.c.verdict.in_(SIGNED_VERDICTS)))
        .group_by(s.c.name, s.c.district).order_by(sa.desc("n"))).all()
    return sum(r.n for r in rows), [(r.name, r.district, r.n) for r in rows]


def suspect_reasons(scans: int, stations: int, config: RegistryConfig) -> list[str]:
    reasons = []
    if stations >= config.suspect_station_limit:
        reasons.append(f"scanned at {stations} sales points")
    if scans >= config.suspect_scan_limit:
        reasons.append(f"scanned {scans} times")
    return reasons


def build_report(conn: Connection, config: RegistryConfig, days: int = 30,
                 today: dt.date | None = None, now: dt.datetime | None = None) -> Report:
    now = now or dt.datetime.now(dt.timezone.utc)
    today = today or now.date()
    first = today - dt.timedelta(days=days - 1)
    e, s, p = db.events, db.stations, db.products
    in_range = sa.and_(e.c.kind == "scan", e.c.day >= first.isoformat(),
                       e.c.day <= today.isoformat())
    by_day = dict(conn.execute(sa.select(e.c.day, sa.func.count()).where(in_range)
                               .group_by(e.c.day)).all())
    scans_per_day = [((first + dt.timedelta(days=i)).isoformat(),
                      by_day.get((first + dt.timedelta(days=i)).isoformat(), 0))
                     for i in range(days)]
    per_product = [(r.product_id, r.name_vi or f"#{r.product_id}", r.n) for r in conn.execute(
        sa.select(e.c.product_id, p.c.name_vi, sa.func.count().label("n"))
        .select_from(e.outerjoin(p, p.c.id == e.c.product_id))
        .where(in_range, e.c.product_id.is_not(None))
        .group_by(e.c.product_id, p.c.name_vi).order_by(sa.desc("n"), e.c.product_id))]
    per_district = [(r.district or UNKNOWN_DISTRICT, r.n) for r in conn.execute(
        sa.select(s.c.district, sa.func.count().label("n"))
        .select_from(e.join(s, s.c.id == e.c.station_id)).where(in_range)
        .group_by(s.c.district).order_by(sa.desc("n"), s.c.district))]
    per_verdict = [(r.verdict or "?", r.n) for r in conn.execute(
        sa.select(e.c.verdict, sa.func.count().label("n")).where(in_range)
        .group_by(e.c.verdict).order_by(sa.desc("n")))]
    total_prints = conn.execute(sa.select(sa.func.count()).where(
        e.c.kind == "print", e.c.day >= first.isoformat(),
        sa.or_(e.c.verdict.is_(None), e.c.verdict == "printed"))).scalar()
    return Report(first_day=first.isoformat(), last_day=today.isoformat(),
                  total_scans=sum(n for _, n in scans_per_day), total_prints=total_prints,
                  scans_per_day=scans_per_day, per_product=per_product,
                  per_district=per_district, per_verdict=per_verdict,
                  suspects=find_suspects(conn, config),
                  stations=station_health(conn, config, now),
                  station_silent_after_s=config.station_silent_after_s)


def find_suspects(conn: Connection, config: RegistryConfig, limit: int = 200
                  ) -> list[SuspectSerial]:
    e, s, p = db.events, db.stations, db.products
    signed = sa.and_(e.c.kind == "scan", e.c.serial.is_not(None),
                     sa.or_(e.c.verdict.is_(None), e.c.verdict.in_(SIGNED_VERDICTS)))
    n_scans = sa.func.count().label("scans")
    n_stations = sa.func.count(sa.distinct(e.c.station_id)).label("stations")
    rows = conn.execute(
        sa.select(e.c.serial, sa.func.max(e.c.product_id).label("product_id"), n_scans,
                  n_stations)
        .where(signed).group_by(e.c.serial)
        .having(sa.or_(sa.func.count() >= config.suspect_scan_limit,
                       sa.func.count(sa.distinct(e.c.station_id))
                       >= config.suspect_station_limit))
        .order_by(sa.desc("stations"), sa.desc("scans"), e.c.serial).limit(limit)).all()
    if not rows:
        return []
    serials = [r.serial for r in rows]
    station_names: dict[int, list[str]] = {}
    for r in conn.execute(sa.select(e.c.serial, s.c.name).distinct()
                          .select_from(e.join(s, s.c.id == e.c.station_id))
                          .where(signed, e.c.serial.in_(serials)).order_by(s.c.name)):
        station_names.setdefault(r.serial, []).append(r.name)
    names = dict(conn.execute(sa.select(p.c.id, p.c.name_vi).where(
        p.c.id.in_([r.product_id for r in rows if r.product_id]))).all())
    return [SuspectSerial(r.serial, r.product_id, names.get(r.product_id, ""), r.scans,
                          station_names.get(r.serial, []),
                          suspect_reasons(r.scans, r.stations, config)) for r in rows]


def station_health(conn: Connection, config: RegistryConfig,
                   now: dt.datetime | None = None) -> list[StationHealth]:
    now = now or dt.datetime.now(dt.timezone.utc)
    s, h = db.stations, db.station_heartbeats
    out = []
    for r in conn.execute(
            sa.select(s.c.name, s.c.district, s.c.disabled, s.c.last_seen_at,
                      h.c.received_at, h.c.payload_json)
            .select_from(s.outerjoin(h, h.c.station_id == s.c.id)).order_by(s.c.name)):
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
        out.append(StationHealth(r.name, r.district, r.last_seen_at, heartbeat,
                                 r.received_at, contact, silent_for_s))
    return out
