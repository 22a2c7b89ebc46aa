"""Admin routes for stations (registry/stations.py does the work and writes the audit row):

POST  /api/v1/admin/stations                      add (a kiosk unless role says so)
GET   /api/v1/admin/stations                      list: role, state, bindings, quota use
GET   /api/v1/admin/stations/{name}
PATCH /api/v1/admin/stations/{name}               role, bindings, quotas
POST  /api/v1/admin/stations/{name}/disable       {"reason"}
POST  /api/v1/admin/stations/{name}/enable
POST  /api/v1/admin/stations/{name}/rotate-token  -> {"token"} (shown once)
POST  /api/v1/admin/stations/{name}/retire        {"reason"} -> revoked ranges, sequence
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Path
from sqlalchemy.engine import Connection

from registry import stations
from registry.auth import StationExists
from registry.db import Database
from registry.deps import AdminDep, AdminRole, ClientDep, DatabaseDep, KeyRingDep, Principal
from registry.routes import API
from registry.schemas import NAME_PATTERN, StationReason, StationRequest, StationScope

router = APIRouter(prefix=f"{API}/admin/stations", tags=["admin", "stations"])
NamePath = Path(pattern=NAME_PATTERN)


def _may_change_stations(admin: Principal) -> None:
    """Station lifecycle is an `admin`-role operation (editors change the catalog only)."""
    if admin.role is not AdminRole.ADMIN:
        raise HTTPException(403, f"{admin.name!r} ({admin.role.value}) cannot change stations")


@contextmanager
def _writing(database: Database, admin: Principal) -> Iterator[Connection]:
    """A write transaction; the service's errors as problems (nothing written then)."""
    _may_change_stations(admin)
    try:
        with database.write() as conn:
            yield conn
    except stations.StationNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except (stations.StationStateError, StationExists) as exc:
        raise HTTPException(409, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _quotas(body: StationScope) -> dict[str, Any]:
    """The quota fields the body names (null included: no limit)."""
    return {
        f: getattr(body, f) for f in ("quota_per_day", "quota_total") if f in body.model_fields_set
    }


@router.post("")
def add_station(
    body: StationRequest, admin: AdminDep, client: ClientDep, database: DatabaseDep
) -> dict:
    kwargs: dict[str, Any] = _quotas(body)
    if body.role is not None:
        kwargs["role"] = body.role
    with _writing(database, admin) as conn:
        info, token = stations.add(
            conn,
            body.name,
            admin.name,
            client,
            district=body.district,
            producers=body.producers or (),
            products=body.products or (),
            **kwargs,
        )
    return {**info.to_json(), "token": token}


@router.get("")
def list_stations(admin: AdminDep, database: DatabaseDep) -> dict:
    with database.read() as conn:
        return {"stations": [s.to_json() for s in stations.list_all(conn)]}


@router.get("/{name}")
def get_station(admin: AdminDep, database: DatabaseDep, name: str = NamePath) -> dict:
    try:
        with database.read() as conn:
            return stations.get(conn, name).to_json()
    except stations.StationNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.patch("/{name}")
def set_station(
    body: StationScope,
    admin: AdminDep,
    client: ClientDep,
    database: DatabaseDep,
    name: str = NamePath,
) -> dict:
    kwargs: dict[str, Any] = _quotas(body)
    if body.role is not None:
        kwargs["role"] = body.role
    with _writing(database, admin) as conn:
        info = stations.set_scope(
            conn,
            name,
            admin.name,
            client,
            producers=body.producers,
            products=body.products,
            **kwargs,
        )
    return info.to_json()


@router.post("/{name}/disable")
def disable(
    admin: AdminDep,
    client: ClientDep,
    database: DatabaseDep,
    body: StationReason | None = None,
    name: str = NamePath,
) -> dict:
    with _writing(database, admin) as conn:
        info = stations.disable(conn, name, admin.name, client, body.reason if body else "")
    return info.to_json()


@router.post("/{name}/enable")
def enable(admin: AdminDep, client: ClientDep, database: DatabaseDep, name: str = NamePath) -> dict:
    with _writing(database, admin) as conn:
        return stations.enable(conn, name, admin.name, client).to_json()


@router.post("/{name}/rotate-token")
def rotate_token(
    admin: AdminDep, client: ClientDep, database: DatabaseDep, name: str = NamePath
) -> dict:
    with _writing(database, admin) as conn:
        token = stations.rotate_token(conn, name, admin.name, client)
    return {"name": name, "token": token}


@router.post("/{name}/retire")
def retire(
    admin: AdminDep,
    client: ClientDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
    body: StationReason | None = None,
    name: str = NamePath,
) -> dict:
    with _writing(database, admin) as conn:
        result = stations.retire(
            conn, keyring, name, admin.name, client, body.reason if body else ""
        )
    return result.to_json()
