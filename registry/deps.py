"""FastAPI dependencies: what a route handler gets from the app (settings, database, key
ring, all stored on `app.state` by create_app) and who is calling (bearer token checks).

    ConfigDep    the RegistryConfig            DatabaseDep   the db.Database
    KeyRingDep   the signing.KeyRing           StationDep    the calling station (401/403)
    VerifiersDep verification.Verifiers        ViewsDep      views.ViewRecorder
    ReaderDep    a station's name or "admin"   require_admin  a route/router dependency
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from registry.auth import Station, bearer_token, is_admin_token, station_for_token
from registry.config import RegistryConfig
from registry.db import Database
from registry.signing import KeyRing
from registry.verification import Verifiers
from registry.views import ViewRecorder


def get_config(request: Request) -> RegistryConfig:
    return request.app.state.config


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_keyring(request: Request) -> KeyRing:
    return request.app.state.keyring


def get_verifiers(request: Request) -> Verifiers:
    return request.app.state.verifiers


def get_views(request: Request) -> ViewRecorder:
    return request.app.state.views


ConfigDep = Annotated[RegistryConfig, Depends(get_config)]
DatabaseDep = Annotated[Database, Depends(get_database)]
KeyRingDep = Annotated[KeyRing, Depends(get_keyring)]
VerifiersDep = Annotated[Verifiers, Depends(get_verifiers)]
ViewsDep = Annotated[ViewRecorder, Depends(get_views)]


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


def require_admin(token: TokenDep, config: ConfigDep, database: DatabaseDep) -> None:
    if not is_admin_token(token, config.admin_token_hashes):
        if _station(database, token) is not None:
            raise HTTPException(403, "a station token cannot do this")
        raise HTTPException(401, "unknown token")


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
