"""Stations' authority and lifecycle: roles, bindings and quotas (who may receive stamp
blocks, for what, how many), and disable / enable / rotate token / retire. The CLI
(registry/cli_station.py) and the admin API (registry/routes/admin_stations.py) both call
these functions; each writes its audit row (registry/audit.py) in the caller's transaction.

States: active; disabled (its token gets 401 everywhere; enable undoes it); retired
(disabled for good, every unprinted serial of its blocks revoked in one trust-list update).

Block requests (`authorize_block`) run inside the block's write transaction with the
station's row locked, so two concurrent requests cannot both take the last of a quota and a
block cannot slip past a concurrent retirement: retire locks the same row before it reads
the station's blocks.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.engine import Connection, Row

from ocop.clock import VIETNAM_TZ, date_text, vietnam_day, vietnam_time_text
from ocop.stations import BlockRefusal, StationRole
from registry import audit, auth, db
from registry.audit import AuditAction
from registry.config import DEFAULT_QUOTA_PER_DAY, DEFAULT_QUOTA_TOTAL
from registry.dal import keys
from registry.dal import stations as rows
from registry.signing import KeyRing

MAX_QUOTA = 10**12  # above any serial count: a typo, not a quota
MAX_BINDINGS = 1000  # per kind and station


class BindingKind(str, enum.Enum):
    PRODUCER = "producer"  # every product of this producer
    PRODUCT = "product"  # this product id


class StationState(str, enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    RETIRED = "retired"


class StationNotFound(LookupError):
    """No station of that name (404)."""


class StationStateError(ValueError):
    """The operation does not apply in the station's state, e.g. enabling a retired one (409)."""


class StationInactive(Exception):
    """The calling station was disabled or retired after its token was checked (401)."""


class Unset(enum.Enum):
    """A field set_scope leaves as it is."""

    UNSET = "unset"


UNSET = Unset.UNSET


def state_of(row: Row) -> StationState:
    if row.retired_at:
        return StationState.RETIRED
    return StationState.DISABLED if row.disabled else StationState.ACTIVE


def vietnam_day_bounds(moment: dt.datetime) -> tuple[str, str, str]:
    """(the Vietnam day, its first instant, the next day's first instant), instants in
    db.TIME_FORMAT (UTC): quotas per day count blocks created in between."""
    day = vietnam_day(moment)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=VIETNAM_TZ).astimezone(dt.UTC)
    end = start + dt.timedelta(days=1)
    return day.isoformat(), start.strftime(db.TIME_FORMAT), end.strftime(db.TIME_FORMAT)


@dataclass(frozen=True)
class StationInfo:
    name: str
    district: str
    role: str
    state: str
    producers: list[str]
    products: list[int]
    quota_per_day: int | None  # None: no limit
    quota_total: int | None
    issued_today: int  # stamps issued this Vietnam day
    issued_total: int
    created_at: str
    last_seen_at: str | None
    retired_at: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def describe(conn: Connection, row: Row, now: dt.datetime | None = None) -> StationInfo:
    _, start, end = vietnam_day_bounds(now or dt.datetime.now(dt.UTC))
    bound = rows.bindings(conn, row.id)
    return StationInfo(
        name=row.name,
        district=row.district,
        role=row.role,
        state=state_of(row).value,
        producers=[ref for kind, ref in bound if kind == BindingKind.PRODUCER.value],
        products=sorted(int(ref) for kind, ref in bound if kind == BindingKind.PRODUCT.value),
        quota_per_day=row.quota_per_day,
        quota_total=row.quota_total,
        issued_today=rows.stamps_issued(conn, row.id, start, end),
        issued_total=rows.stamps_issued(conn, row.id),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        retired_at=row.retired_at,
    )


def list_all(conn: Connection) -> list[StationInfo]:
    now = dt.datetime.now(dt.UTC)
    return [describe(conn, r, now) for r in rows.all_by_name(conn)]


def get(conn: Connection, name: str) -> StationInfo:
    return describe(conn, _row(conn, name))


def _row(conn: Connection, name: str, lock: bool = False) -> Row:
    row = rows.row_by_name(conn, name, lock=lock)
    if row is None:
        raise StationNotFound(f"no station {name!r}")
    return row


# --- lifecycle --------------------------------------------------------------------------------


def add(
    conn: Connection,
    name: str,
    actor: str,
    client: str,
    district: str = "",
    role: StationRole = StationRole.KIOSK,
    producers: Iterable[str] = (),
    products: Iterable[int] = (),
    quota_per_day: int | None = DEFAULT_QUOTA_PER_DAY,
    quota_total: int | None = DEFAULT_QUOTA_TOTAL,
) -> tuple[StationInfo, str]:
    """A new station (a kiosk unless `role` says otherwise) and its token, shown once.
    ValueError for a bad name or binding, auth.StationExists for a taken name."""
    _check_quota("quota_per_day", quota_per_day)
    _check_quota("quota_total", quota_total)
    station, token = auth.add_station(conn, name, district)
    rows.update(
        conn, station.id, role=role.value, quota_per_day=quota_per_day, quota_total=quota_total
    )
    _set_bindings(conn, station.id, producers, products)
    info = get(conn, name)
    detail = _scope_detail(info) | _before_after(name, None, _state_detail(info))
    audit.record(conn, actor, AuditAction.STATION_ADD, name, client, detail)
    return info, token


def disable(conn: Connection, name: str, actor: str, client: str, reason: str = "") -> StationInfo:
    """Its token gets 401 everywhere from this commit on; enable() undoes it."""
    row = _row(conn, name, lock=True)
    if state_of(row) is StationState.RETIRED:
        raise StationStateError(f"station {name!r} is retired")
    rows.update(conn, row.id, disabled=True)
    audit.record(
        conn,
        actor,
        AuditAction.STATION_DISABLE,
        name,
        client,
        {"reason": reason, "was": state_of(row).value}
        | _before_after(
            name, {"state": state_of(row).value}, {"state": StationState.DISABLED.value}
        ),
    )
    return get(conn, name)


def enable(conn: Connection, name: str, actor: str, client: str) -> StationInfo:
    row = _row(conn, name, lock=True)
    if state_of(row) is StationState.RETIRED:
        raise StationStateError(f"station {name!r} is retired for good; add a new station instead")
    rows.update(conn, row.id, disabled=False)
    after = {"state": StationState.ACTIVE.value}
    detail = {"was": state_of(row).value} | _before_after(
        name, {"state": state_of(row).value}, after
    )
    audit.record(conn, actor, AuditAction.STATION_ENABLE, name, client, detail)
    return get(conn, name)


def rotate_token(conn: Connection, name: str, actor: str, client: str) -> str:
    """A new token (returned, shown once); the old one stops working at this commit."""
    row = _row(conn, name, lock=True)
    if state_of(row) is StationState.RETIRED:
        raise StationStateError(f"station {name!r} is retired; it gets no new token")
    token = auth.generate_token()
    rows.update(conn, row.id, token_hash=auth.hash_token(token))
    audit.record(conn, actor, AuditAction.STATION_ROTATE_TOKEN, name, client)
    return token


@dataclass(frozen=True)
class Retirement:
    name: str
    revoked: list[tuple[int, int]]  # serial ranges revoked now
    revoked_count: int
    printed_count: int  # serials of its blocks reported printed: they stay genuine
    trust_list_sequence: int | None  # None when there was nothing to revoke

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["revoked"] = [list(r) for r in self.revoked]
        return data


def unprinted_ranges(conn: Connection, station_id: int) -> tuple[list[tuple[int, int]], int]:
    """(ranges of the station's block serials it did not report printed, how many it did)."""
    out: list[tuple[int, int]] = []
    printed_total = 0
    for block in rows.blocks_of(conn, station_id):
        printed = rows.printed_serials(conn, station_id, block.first_serial, block.last_serial)
        printed_total += len(printed)
        start = None
        for serial in range(block.first_serial, block.last_serial + 1):
            if serial in printed:
                if start is not None:
                    out.append((start, serial - 1))
                    start = None
            elif start is None:
                start = serial
        if start is not None:
            out.append((start, block.last_serial))
    return out, printed_total


def retire(
    conn: Connection, keyring: KeyRing, name: str, actor: str, client: str, reason: str = ""
) -> Retirement:
    """Disable for good and revoke every unprinted serial of its blocks, in one transaction
    and one trust-list update. Printed-and-reported stamps stay genuine."""
    row = _row(conn, name, lock=True)  # first: no block of this station commits after this
    if state_of(row) is StationState.RETIRED:
        raise StationStateError(  # read in the console: the office's clock
            f"station {name!r} was retired at {vietnam_time_text(row.retired_at)} (Vietnam time)"
        )
    rows.update(conn, row.id, disabled=True, retired_at=db.utc_now())
    ranges, printed = unprinted_ranges(conn, row.id)
    text = reason or f"station {name} retired"
    sequence = keyring.revoke_ranges(conn, ranges, text) if ranges else None
    result = Retirement(name, ranges, sum(b - a + 1 for a, b in ranges), printed, sequence)
    audit.record(
        conn,
        actor,
        AuditAction.STATION_RETIRE,
        name,
        client,
        {
            "reason": reason,
            "revoked_ranges": len(ranges),
            "revoked_count": result.revoked_count,
            "printed_count": printed,
            "trust_list_sequence": sequence,
        }
        | _before_after(
            name, {"state": state_of(row).value}, {"state": StationState.RETIRED.value}
        ),
    )
    return result


def set_scope(
    conn: Connection,
    name: str,
    actor: str,
    client: str,
    *,
    role: StationRole | Unset = UNSET,
    producers: Iterable[str] | None = None,
    products: Iterable[int] | None = None,
    quota_per_day: int | Unset | None = UNSET,
    quota_total: int | Unset | None = UNSET,
) -> StationInfo:
    """Change role, bindings (a given list replaces that kind's bindings) and quotas (None:
    no limit). ValueError names a bad value; nothing changes then."""
    row = _row(conn, name, lock=True)
    if state_of(row) is StationState.RETIRED:
        raise StationStateError(f"station {name!r} is retired")
    before = _scope_detail(get(conn, name))
    values: dict[str, Any] = {}
    if not isinstance(role, Unset):
        values["role"] = role.value
    for field, quota in (("quota_per_day", quota_per_day), ("quota_total", quota_total)):
        if not isinstance(quota, Unset):
            _check_quota(field, quota)
            values[field] = quota
    if values:
        rows.update(conn, row.id, **values)
    _set_bindings(conn, row.id, producers, products)
    info = get(conn, name)
    detail = _scope_detail(info) | _before_after(name, before, _scope_detail(info))
    audit.record(conn, actor, AuditAction.STATION_SCOPE, name, client, detail)
    return info


def _check_quota(field: str, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUOTA:
        raise ValueError(f"{field} must be 0..{MAX_QUOTA} stamps or none (no limit), got {value!r}")


def _set_bindings(
    conn: Connection,
    station_id: int,
    producers: Iterable[str] | None,
    products: Iterable[int] | None,
) -> None:
    if producers is not None:
        wanted = sorted(set(producers))
        missing = sorted(set(wanted) - rows.producer_ids_exist(conn, wanted))
        if missing:
            raise ValueError(f"no producer {', '.join(map(repr, missing[:10]))} in the catalog")
        if len(wanted) > MAX_BINDINGS:
            raise ValueError(f"at most {MAX_BINDINGS} producers per station")
        rows.replace_bindings(conn, station_id, BindingKind.PRODUCER.value, wanted)
    if products is not None:
        ids = sorted(set(products))
        gone = sorted(set(ids) - rows.product_ids_exist(conn, ids))
        if gone:
            raise ValueError(f"no product {', '.join(map(str, gone[:10]))} in the catalog")
        if len(ids) > MAX_BINDINGS:
            raise ValueError(f"at most {MAX_BINDINGS} products per station")
        rows.replace_bindings(conn, station_id, BindingKind.PRODUCT.value, [str(i) for i in ids])


def _before_after(name: str, before: dict | None, after: dict) -> dict[str, Any]:
    """The audit row's before and after of the station (the console's audit page)."""
    changes = audit.Changes()
    changes.add(f"station:{name}", before, after)
    return changes.to_detail()


def _state_detail(info: StationInfo) -> dict[str, Any]:
    return {"district": info.district, "state": info.state} | _scope_detail(info)


def _scope_detail(info: StationInfo) -> dict[str, Any]:
    return {
        "role": info.role,
        "producers": info.producers,
        "products": info.products,
        "quota_per_day": info.quota_per_day,
        "quota_total": info.quota_total,
    }


# --- stamp blocks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    reason: BlockRefusal
    detail: str


def authorize_block(
    conn: Connection,
    station_id: int,
    request_id: str,
    product_id: int,
    count: int,
    now: dt.datetime | None = None,
) -> Refusal | None:
    """None when this station may receive `count` new stamps of `product_id` now (or when
    `request_id` was granted before: the same block is returned, whatever the quota says
    now), else why not. Call inside the block's write transaction: it locks the station's
    row first, so the counts it reads stay true until the block is written, and a request
    racing its own retry sees the retry's block. StationInactive when the station was
    disabled or retired since its token was checked."""
    row = rows.row_by_id(conn, station_id, lock=True)
    if row is None or state_of(row) is not StationState.ACTIVE:
        raise StationInactive(f"station {station_id} is not active")
    if keys.block_for_request(conn, station_id, request_id) is not None:
        return None  # issue_block returns it (or refuses a changed product or count: 409)
    if not StationRole(row.role).may_stamp:
        return Refusal(
            BlockRefusal.KIOSK_ROLE,
            f"station {row.name!r} is a kiosk: kiosks never receive stamp blocks",
        )
    bound = rows.bindings(conn, station_id)
    producer = rows.producer_of_product(conn, product_id)
    if (BindingKind.PRODUCT.value, str(product_id)) not in bound and (
        producer is None or (BindingKind.PRODUCER.value, producer) not in bound
    ):
        return Refusal(
            BlockRefusal.OUT_OF_SCOPE,
            f"station {row.name!r} is not bound to product {product_id} "
            f"(producer {producer or '?'}); the office binds stations to producers or products",
        )
    if row.quota_total is not None:
        total = rows.stamps_issued(conn, station_id)
        if total + count > row.quota_total:
            return Refusal(
                BlockRefusal.TOTAL_QUOTA,
                f"station {row.name!r} has received {total} of its {row.quota_total} stamps "
                f"in total; {count} more would exceed it",
            )
    if row.quota_per_day is not None:
        day, start, end = vietnam_day_bounds(now or dt.datetime.now(dt.UTC))
        today = rows.stamps_issued(conn, station_id, start, end)
        if today + count > row.quota_per_day:
            return Refusal(
                BlockRefusal.DAILY_QUOTA,
                f"station {row.name!r} has received {today} of its {row.quota_per_day} stamps "
                f"for {date_text(day)} (Vietnam time); {count} more would exceed it",
            )
    return None


def record_refusal(
    conn: Connection,
    station_id: int,
    refusal: Refusal,
    product_id: int,
    count: int,
    now: dt.datetime | None = None,
) -> None:
    """The refused request as an alert on the reports page (counted per station, Vietnam
    day, reason and product)."""
    day, _, _ = vietnam_day_bounds(now or dt.datetime.now(dt.UTC))
    rows.add_alert(conn, station_id, day, refusal.reason.value, product_id, count, refusal.detail)


__all__ = [
    "UNSET",
    "BindingKind",
    "Refusal",
    "Retirement",
    "StationInactive",
    "StationInfo",
    "StationNotFound",
    "StationState",
    "StationStateError",
    "add",
    "authorize_block",
    "describe",
    "disable",
    "enable",
    "get",
    "list_all",
    "record_refusal",
    "retire",
    "rotate_token",
    "set_scope",
    "unprinted_ranges",
    "vietnam_day_bounds",
]
