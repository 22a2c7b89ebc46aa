"""UTC timestamps in the one text form the store and the sync protocol use."""

from __future__ import annotations

import datetime as dt

from ocop.enums import EnumWithAttributes
from ocop.i18n import N_

ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
ISO_MICROS = "%Y-%m-%dT%H:%M:%S.%fZ"  # scans and print records: order within a second


def utc_now_iso(micros: bool = False) -> str:
    return dt.datetime.now(dt.UTC).strftime(ISO_MICROS if micros else ISO_SECONDS)


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


VIETNAM_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh, no DST


def system_utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def vietnam_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(VIETNAM_TZ).date()


def vietnam_time_text(iso_utc: str | None, seconds: bool = False) -> str:
    """A stored UTC timestamp ("2026-12-03T10:48:56Z", with or without fractions) as the
    office reads it: Vietnam time, "03/12/2026 17:48" (with seconds: "03/12/2026 17:48:56");
    "" for none, the text itself when it is not a timestamp."""
    if not iso_utc:
        return ""
    try:
        moment = dt.datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except ValueError:
        return iso_utc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VIETNAM_TZ).strftime(
        "%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M"
    )


def date_text(value: str | dt.date | dt.datetime | None) -> str:
    """dd/mm/yyyy, the way Vietnam writes dates ('' for none). A UTC time becomes the
    Vietnam day it fell on."""
    if not value:
        return ""
    if isinstance(value, str):
        if len(value) > 10:
            moment = dt.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
            value = vietnam_day(moment)
        else:
            value = dt.date.fromisoformat(value)
    elif isinstance(value, dt.datetime):
        value = vietnam_day(value)
    return value.strftime("%d/%m/%Y")


def system_vietnam_today() -> dt.date:
    """Today by the system clock alone: for pure code that has no store (the registry)."""
    return vietnam_day(system_utc_now())


class ClockState(EnumWithAttributes):
    """How far the kiosk's clock can be trusted (kiosk.trusted_time decides)."""

    OK = ("ok", N_("Clock OK"))
    BEHIND = ("behind", N_("Clock not set"))  # system clock earlier than trusted time
    UNKNOWN = ("unknown", N_("No trusted time yet"))  # no signed time, no local mark yet

    label_msgid: str
