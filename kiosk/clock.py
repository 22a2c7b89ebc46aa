"""UTC timestamps in the one text form the store and the sync protocol use."""

from __future__ import annotations

import datetime as dt

ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
ISO_MICROS = "%Y-%m-%dT%H:%M:%S.%fZ"   # scans and print records: order within a second


def utc_now_iso(micros: bool = False) -> str:
    return dt.datetime.now(dt.timezone.utc).strftime(ISO_MICROS if micros else ISO_SECONDS)


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()
