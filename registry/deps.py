"""FastAPI dependencies: what a route handler gets from the app (settings, database, key
ring, all stored on `app.state` by create_app) and who is calling (bearer token checks).

    ConfigDep    the RegistryConfig            DatabaseDep   the db.Database
    KeyRingDep   the signing.KeyRing           StationDep    the calling station (401/403)
    ReaderDep    a station's name or "admin"   require_admin  a route/router dependency
    AdminDep     the calling admin (Principal: name and role, for checks and the audit log)
    ClientDep    the caller's address as the audit log records it
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from registry.auth import Station, bearer_token, is_admin_token, station_for_token
from registry.config import RegistryConfig
from registry.db import Database
from registry.signing import KeyRing


def get_config(request: Request) -> RegistryConfig:
    return request.app.state.config


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_keyring(request: Request) -> KeyRing:
    return request.app.state.keyring


ConfigDep = Annotated[RegistryConfig, Depends(get_config)]
DatabaseDep = Annotated[Database, Depends(get_database)]
KeyRingDep = Annotated[KeyRing, Depends(get_keyring)]


def bearer(request: Request) -> str:
    """The request's token (Bearer, or Basic's password); 401 without one."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise HTTPException(401, "missing bearer token")
    return token


TokenDep = Annotated[str, Depends(bearer)]


def _station(database: Database, token: str) -> Station | None:
    with database.read() as conn:
        return station_for_token(conn, token)


def require_station(token: TokenDep, config: ConfigDep, database: DatabaseDep) -> Station:
    station = _station(database, token)
    if station is None:
        if is_admin_token(token, config.admin_token_hashes):
            raise HTTPException(403, "the admin token is not a station")
        raise HTTPException(401, "unknown or disabled token")
    return station


class AdminRole(enum.Enum):
    """What an admin credential may do (viewer < editor < admin)."""

    VIEWER = "viewer"  # reports, catalog reads
    EDITOR = "editor"  # + catalog changes
    ADMIN = "admin"  # + keys, revocations, stations, admins


@dataclass(frozen=True)
class Principal:
    """An authenticated admin: who (for the audit log) and their role."""

    name: str
    role: AdminRole


def require_admin(token: TokenDep, config: ConfigDep, database: DatabaseDep) -> Principal:
    if not is_admin_token(token, config.admin_token_hashes):
        if _station(database, token) is not None:
            raise HTTPException(403, "a station token cannot do this")
        raise HTTPException(401, "unknown token")
    return Principal("admin", AdminRole.ADMIN)


def client_address(request: Request) -> str:
    """The caller's address as the audit log keeps it."""
    return request.client.host if request.client else ""


def require_reader(token: TokenDep, config: ConfigDep, database: DatabaseDep) -> str:
    """A station or the admin (catalog and trust list readers): the station's name or
    "admin"."""
    if is_admin_token(token, config.admin_token_hashes):
        return "admin"
    station = _station(database, token)
    if station is None:
        raise HTTPException(401, "unknown or disabled token")
    return station.name


StationDep = Annotated[Station, Depends(require_station)]
ReaderDep = Annotated[str, Depends(require_reader)]
AdminDep = Annotated[Principal, Depends(require_admin)]
ClientDep = Annotated[str, Depends(client_address)]
