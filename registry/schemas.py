"""Request and reply bodies of the JSON API (pydantic): what FastAPI validates and what
OpenAPI (/api/v1/openapi.json) documents."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ocop.stamps.codec import MAX_PRODUCT_ID, MAX_SERIAL
from ocop.stations import StationRole
from ocop.wire import Refusal

KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,100}$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"  # station and producer ids


class UploadItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["scan", "print", "heartbeat"]
    idempotency_key: str = Field(pattern=KEY_PATTERN)
    payload: dict[str, Any]


class UploadBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station: str | None = Field(
        default=None, description="optional; must be the token's own station"
    )
    items: list[UploadItem]


class UploadResult(BaseModel):
    idempotency_key: str
    status: Literal["accepted", "duplicate", "rejected"]
    reason: Refusal | None = Field(default=None, description="why it was rejected")
    error: str | None = None


class UploadReply(BaseModel):
    station: str
    accepted: int
    duplicate: int
    rejected: int
    results: list[UploadResult]


class BlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(
        pattern=KEY_PATTERN,
        description="client-chosen; a retry with the same id returns the same block",
    )
    product_id: int = Field(ge=1, le=MAX_PRODUCT_ID)
    count: int = Field(ge=1)


class SerialRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first: int = Field(ge=1, le=MAX_SERIAL)
    last: int = Field(ge=1, le=MAX_SERIAL)
    reason: str = Field(default="", max_length=300)


class KeyRevocation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_id: int = Field(ge=1, le=255)
    revoked_from: dt.date
    last_good_serial: int | None = Field(default=None, ge=0, le=MAX_SERIAL)
    reason: str = Field(default="", max_length=300)


class SuspectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serials: list[int] = Field(min_length=1, max_length=10000)
    reason: str = Field(default="", max_length=300)


QUOTA = Field(default=None, ge=0, le=10**12)


class StationScope(BaseModel):
    """PATCH /admin/stations/{name}: only the fields given change. A list replaces that
    kind's bindings; a quota of null means no limit."""

    model_config = ConfigDict(extra="forbid")
    role: StationRole | None = None
    producers: list[str] | None = Field(default=None, max_length=1000)
    products: list[int] | None = Field(default=None, max_length=1000)
    quota_per_day: int | None = QUOTA
    quota_total: int | None = QUOTA


class StationRequest(StationScope):
    """POST /admin/stations: a kiosk unless `role` says otherwise; quotas left out get the
    defaults (registry.config.DEFAULT_QUOTA_*), null means no limit."""

    name: str = Field(pattern=NAME_PATTERN)
    district: str = Field(default="", max_length=200)


class StationReason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=300)
