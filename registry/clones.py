"""Automatic clone detection: rules over the sightings of a serial, run in the transaction
that recorded them (a verified scan upload, a batch of phone views of the stamp page:
registry/views.py ViewLog).

A sighting is a verified scan of a genuine stamp (verdict in COUNTED_FOR_CLONES: forged
copies never count) at a station, or a phone view of the stamp page. A site is a station,
or a phone client (its salted hash: a new one every day). The rules (config.CloneRules):

  sites   more than max_stations distinct stations, or more than max_phone_clients
          distinct phone clients, within window_s
  volume  more than max_scans sightings in total, counting at most scans_per_site_day per
          site and day, from at least min_volume_sites sites (a station replaying someone's
          genuine stamp adds at most a few a day, and never flags it alone)
  travel  two stations' sightings within window_s whose districts' distance (registry/geo)
          could not be covered at max_speed_kmh in the time between them

Each rule fires at most once per serial (`clone_detections`, unique (serial, rule)). By
policy the detection is published at once (KeyRing.mark_suspect: the next trust list's
suspect list, so every kiosk's next sync and the stamp page say "possibly copied") or
waits as `pending` for the office (approve / dismiss: reports page, admin API).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from ocop.stamps.verdicts import COUNTED_FOR_CLONES
from registry import audit, db, geo
from registry.audit import AuditAction
from registry.config import ClonePolicy, CloneRules
from registry.dal import clones as rows
from registry.dal import views
from registry.signing import KeyRing

COUNTED = tuple(v.value for v in COUNTED_FOR_CLONES)
AUTO = "auto"  # decided_by of a detection published by policy
SUSPECT_REASON = "automatic clone detection"


class Rule(str, enum.Enum):
    SITES = "sites"
    VOLUME = "volume"
    TRAVEL = "travel"


class DetectionStatus(str, enum.Enum):
    PENDING = "pending"  # waits for the office (policy approve)
    PUBLISHED = "published"  # on the trust list's suspect list
    DISMISSED = "dismissed"  # the office said no; this rule will not fire again for it


class DecisionError(ValueError):
    """No such detection (404) or not pending (409)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Finding:
    serial: int
    rule: Rule
    detail: str


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _sites(conn: Connection, serial: int, rules: CloneRules, since: str) -> list[Finding]:
    recent = rows.recent_station_sightings(conn, serial, COUNTED, since)
    stations = sorted({(r.name, r.district) for r in recent})
    days = f"{rules.window_s / 86400:g} days"
    found = []
    if len(stations) > rules.max_stations:
        where = ", ".join(f"{n} ({d})" if d else n for n, d in stations[:10])
        found.append(
            Finding(
                serial, Rule.SITES, f"scanned at {len(stations)} stations within {days}: {where}"
            )
        )
    phones = views.recent_clients(conn, serial, since)
    if not found and phones > rules.max_phone_clients:
        found.append(Finding(serial, Rule.SITES, f"checked by {phones} phones within {days}"))
    travel = _travel(serial, recent, rules)
    return found + ([travel] if travel else [])


def _travel(serial: int, recent, rules: CloneRules) -> Finding | None:
    placed = []
    for r in recent:
        place = geo.place_of(r.district)
        received = _time(r.received_at)
        at = _time(r.occurred_at) or received
        if place is None or at is None:
            continue
        if received is not None and at > received:  # a kiosk cannot have scanned it later
            at = received
        placed.append((at, place, r.name, r.district))
    placed.sort()
    for i, (t1, p1, n1, d1) in enumerate(placed):
        for t2, p2, n2, d2 in placed[i + 1 :]:
            if p1 == p2:
                continue
            hours = (t2 - t1).total_seconds() / 3600
            km = geo.distance_km(p1, p2)
            if hours * rules.max_speed_kmh < km:
                return Finding(
                    serial,
                    Rule.TRAVEL,
                    f"{n1} ({d1}) at {t1:%Y-%m-%d %H:%M} and {n2} ({d2}) at "
                    f"{t2:%Y-%m-%d %H:%M}: {km:.0f} km in {hours:.1f} h "
                    f"(more than {rules.max_speed_kmh:g} km/h)",
                )
            if hours * rules.max_speed_kmh >= 500:  # farther than Sơn La is wide
                break
    return None


def _volume(conn: Connection, serial: int, rules: CloneRules) -> Finding | None:
    per_site: dict[str, int] = defaultdict(int)
    cap = rules.scans_per_site_day
    for station_id, _day, n in rows.station_days(conn, serial, COUNTED):
        per_site[f"station {station_id}"] += min(n, cap)
    for client, _day, n in views.client_days(conn, serial):
        per_site[f"phone {client}"] += min(n, cap)
    total = sum(per_site.values())
    if total > rules.max_scans and len(per_site) >= rules.min_volume_sites:
        return Finding(
            serial,
            Rule.VOLUME,
            f"{total} sightings from {len(per_site)} sites (at most {cap} counted per site "
            f"and day; limit {rules.max_scans})",
        )
    return None


def findings(
    conn: Connection, serial: int, rules: CloneRules, now: dt.datetime | None = None
) -> list[Finding]:
    """What the rules say about one serial now (nothing stored)."""
    now = now or dt.datetime.now(dt.UTC)
    since = (now - dt.timedelta(seconds=rules.window_s)).strftime(db.TIME_FORMAT)
    found = _sites(conn, serial, rules, since)
    volume = _volume(conn, serial, rules)
    return found + ([volume] if volume else [])


CANDIDATE_CHUNK = 500  # serials per IN (...) list


def min_sites_to_fire(rules: CloneRules) -> int:
    """No rule can fire for a serial seen at fewer distinct sites (stations plus phone
    clients) than this: the travel rule needs two stations, the others their thresholds."""
    return max(
        1, min(2, rules.max_stations + 1, rules.max_phone_clients + 1, rules.min_volume_sites)
    )


def candidates(conn: Connection, rules: CloneRules, serials: list[int]) -> list[int]:
    """The serials worth running the rules for, found with two grouped queries per chunk:
    most serials of a batch were seen at one site only, and the rules' per-serial queries
    are what an upload of thousands of scans would otherwise spend its time on."""
    need = min_sites_to_fire(rules)
    if need <= 1:
        return serials
    found = []
    for i in range(0, len(serials), CANDIDATE_CHUNK):
        chunk = serials[i : i + CANDIDATE_CHUNK]
        stations = rows.station_counts(conn, chunk, COUNTED)
        phones = views.client_counts(conn, chunk)
        found += [s for s in chunk if stations.get(s, 0) + phones.get(s, 0) >= need]
    return found


def check(
    conn: Connection, keyring: KeyRing, rules: CloneRules, serials: set[int] | list[int]
) -> list[Finding]:
    """Run the rules for serials with new sightings; store what fires (once per serial and
    rule) and, by policy, publish those serials to the suspect list (one new trust list for
    all of them). Serials already on the suspect list are skipped. Returns the new findings."""
    todo = candidates(conn, rules, sorted(set(serials) - rows.suspects_among(conn, serials)))
    now = db.utc_now()
    new: list[Finding] = []
    for serial in todo:
        fired = rows.rules_of(conn, serial)
        new += [f for f in findings(conn, serial, rules) if f.rule.value not in fired]
    if not new:
        return []
    publish = rules.policy is ClonePolicy.PUBLISH
    status = DetectionStatus.PUBLISHED if publish else DetectionStatus.PENDING
    for f in new:
        rows.add_detection(
            conn, f.serial, f.rule.value, f.detail, status.value, now, AUTO if publish else None
        )
    if publish:
        keyring.mark_suspect(conn, sorted({f.serial for f in new}), SUSPECT_REASON)
    return new


def clear(conn: Connection, keyring: KeyRing, serials: list[int], by: str) -> tuple[list[int], int]:
    """The office found these stamps genuine: off the suspect list (one new trust list), and
    their published or pending detections dismissed, so the rules that fired do not put
    them back. Returns the serials that were on the list and the trust-list sequence."""
    cleared, sequence = keyring.clear_suspects(conn, serials)
    now = db.utc_now()
    for serial in sorted(set(serials)):
        for old in (DetectionStatus.PUBLISHED, DetectionStatus.PENDING):
            rows.decide_serial(conn, serial, old.value, DetectionStatus.DISMISSED.value, now, by)
    return cleared, sequence


class Decision(str, enum.Enum):
    """What the office does with a pending detection (admin API, reports page buttons)."""

    APPROVE = "approve"
    DISMISS = "dismiss"


def decide(
    conn: Connection, keyring: KeyRing, detection_id: int, decision: Decision, by: str, client: str
) -> int:
    """Approve or dismiss a pending detection and write its audit row, in the caller's
    transaction. Returns the serial; DecisionError when unknown (404) or not pending (409)."""
    if decision is Decision.APPROVE:
        serial, action = approve(conn, keyring, detection_id, by), AuditAction.CLONE_APPROVE
    else:
        serial, action = dismiss(conn, detection_id, by), AuditAction.CLONE_DISMISS
    after = DetectionStatus.PUBLISHED if decision is Decision.APPROVE else DetectionStatus.DISMISSED
    changes = audit.Changes()
    target = f"detection:{detection_id}"
    changes.add(target, {"status": DetectionStatus.PENDING.value}, {"status": after.value})
    detail = {"serial": serial} | changes.to_detail()
    audit.record(conn, by, action, target, client, detail)
    return serial


def approve(conn: Connection, keyring: KeyRing, detection_id: int, by: str) -> int:
    """Publish a pending detection's serial (and mark the serial's other pending detections
    published). Returns the serial."""
    row = _pending(conn, detection_id)
    if not rows.suspects_among(conn, [row.serial]):
        keyring.mark_suspect(conn, [row.serial], f"{SUSPECT_REASON}, approved by {by}")
    rows.decide_serial(
        conn,
        row.serial,
        DetectionStatus.PENDING.value,
        DetectionStatus.PUBLISHED.value,
        db.utc_now(),
        by,
    )
    return row.serial


def dismiss(conn: Connection, detection_id: int, by: str) -> int:
    row = _pending(conn, detection_id)
    rows.decide(
        conn,
        detection_id,
        DetectionStatus.PENDING.value,
        DetectionStatus.DISMISSED.value,
        db.utc_now(),
        by,
    )
    return row.serial


def _pending(conn: Connection, detection_id: int):
    row = rows.get(conn, detection_id)
    if row is None:
        raise DecisionError(404, f"no clone detection {detection_id}")
    if row.status != DetectionStatus.PENDING.value:
        raise DecisionError(409, f"clone detection {detection_id} is {row.status}, not pending")
    return row
