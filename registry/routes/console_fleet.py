"""The console's Fleet and Reports sections: every kiosk's and station's health as its
heartbeats report it, and the scan charts.

Fleet reads registry.reports.station_health (the same rows and the same silent rule as the
/reports page and GET /api/v1/admin/reports); Reports reads registry.reports.build_report
(the same figures as the exports, which the console serves through report_export too).
Heartbeat values come from the stations: each is shown through a label table below, a
value the table does not know is shown as text, escaped and cut short, never trusted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ocop.clock import ClockState, vietnam_time_text
from ocop.heartbeat import NOT_WATCHED, Field
from ocop.stamps.verdicts import verdict_title
from ocop.stations import StationRole
from registry import console_text, pages, report_export, reports
from registry.admins import AdminRole
from registry.deps import ConfigDep, ConsoleDep, DatabaseDep, needs_role
from registry.i18n import N_, translator
from registry.reports import Contact, StationHealth
from registry.routes.console import Section, language, render

SECTIONS = (
    Section.FLEET,
    Section.REPORTS,
)
router = APIRouter(include_in_schema=False)

MAX_SHOWN_CHARS = 40  # of a heartbeat value no table knows (a station may send anything)
LOW_DISK_BYTES = 500_000_000  # below this a kiosk's log and photos may soon fill the card
PERIODS_DAYS = (7, 30, 365)
DEFAULT_PERIOD_DAYS = 30

# Office words for the heartbeat's device values (docs/sync-protocol.md, "Heartbeat"). The
# kiosk's own labels are for shoppers and live in kiosk/ (which the registry never imports).
CAMERA_TEXT = {
    "starting": N_("Starting"),
    "scanning": N_("Working"),
    "no_device": N_("No camera found"),
    "disconnected": N_("Disconnected"),
    "frozen": N_("Frozen: no new picture"),
    "reconnecting": N_("Reconnecting"),
    "ended": N_("Demo pictures ended"),
    "stopped": N_("Switched off"),
    NOT_WATCHED: N_("Not watched"),
}
CAMERA_FAULTS = frozenset({"no_device", "disconnected", "frozen", "reconnecting", "stopped"})
PRINTER_TEXT = {
    "ready": N_("Ready"),
    "paper_near_end": N_("Paper low"),
    "paper_out": N_("Out of paper"),
    "cover_open": N_("Cover open"),
    "offline": N_("Offline"),
    "unknown": N_("Status unknown"),
    "not_connected": N_("Not connected"),
    NOT_WATCHED: N_("Not watched"),
}
PRINTER_FAULTS = frozenset({"paper_out", "cover_open", "offline", "not_connected"})
PAPER_TEXT = {
    "ok": N_("Enough paper"),
    "near_end": N_("Paper low"),
    "out": N_("Out of paper"),
    "unknown": N_("Paper unknown"),
    NOT_WATCHED: N_("Not watched"),
}
PAPER_FAULTS = frozenset({"near_end", "out"})
CONTACT_TEXT = {
    Contact.OK: N_("In contact"),
    Contact.SILENT: N_("Silent"),
    Contact.NEVER: N_("Never heard from"),
    Contact.DISABLED: N_("Disabled"),
}
# Flagged ones first when sorted by state.
CONTACT_ORDER = {Contact.SILENT: 0, Contact.NEVER: 1, Contact.OK: 2, Contact.DISABLED: 3}
SORTS = ("name", "district", "state", "heard")
REPORT_TABLES = {
    "scans_per_day": N_("Scans per day"),
    "per_district": N_("Scans per district"),
    "per_product": N_("Scans per product"),
    "per_verdict": N_("Verdict mix"),
}


@dataclass(frozen=True)
class Cell:
    text: str
    warn: bool = False  # a fault the office should look at (shown in the alert colour)


@dataclass(frozen=True)
class FleetRow:
    name: str
    district: str
    kind: str
    contact: Contact
    contact_text: str
    heard: str  # the registry's time of the last heartbeat
    heard_ago: str
    heard_at: str  # the registry's time of the heartbeat ("" for never), for sorting
    app_version: Cell
    camera: Cell
    printer: Cell
    paper: Cell
    disk: Cell
    trust: Cell
    outbox: Cell
    clock: Cell
    flagged: bool


def shown(value: Any) -> str:
    """A station's value as text, cut to MAX_SHOWN_CHARS (the template escapes it)."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…"


class _Words:
    """Console strings and the domain's labels (ClockState, StationRole) in one language."""

    def __init__(self, lang: str):
        self.lang = lang
        self.domain = translator(lang)

    def __call__(self, msgid: str, **values: object) -> str:
        return console_text.gettext(self.lang, msgid, **values)

    def ago(self, seconds: Any) -> str:
        number = pages.real_number(seconds)
        return "" if number is None else self(N_("{age} ago"), age=pages.duration_text(number))

    def labelled(self, table: dict[str, str], value: Any, faults: frozenset[str]) -> Cell:
        if value is None:
            return Cell("–")
        if isinstance(value, str) and value in table:
            return Cell(self(table[value]), value in faults)
        return Cell(f"{shown(value)} ({self(N_('not a known value'))})", True)


def _device(words: _Words, label: Cell, age_s: Any, extra: str = "") -> Cell:
    ago = words.ago(age_s) if not label.text.startswith("–") else ""
    parts = [label.text + (f" · {extra}" if extra else ""), f"({ago})" if ago else ""]
    return Cell(" ".join(p for p in parts if p), label.warn)


def fleet_row(st: StationHealth, words: _Words, silent_after_s: float) -> FleetRow:
    hb = st.heartbeat if isinstance(st.heartbeat, dict) else {}
    g = hb.get
    try:
        kind = words.domain(StationRole(st.role).label_msgid)
    except ValueError:
        kind = shown(st.role)
    at = st.heartbeat_received_at or ""
    heard = vietnam_time_text(at) or "–"  # the office's clock, like every console page
    camera = _device(
        words,
        words.labelled(CAMERA_TEXT, g(Field.CAMERA), CAMERA_FAULTS),
        g(Field.CAMERA_AGE_S),
        words(N_("demo camera")) if g(Field.CAMERA_IS_DEMO) is True else "",
    )
    printer = _device(
        words,
        words.labelled(PRINTER_TEXT, g(Field.PRINTER), PRINTER_FAULTS),
        g(Field.PRINTER_AGE_S),
    )
    paper = words.labelled(PAPER_TEXT, g(Field.PAPER), PAPER_FAULTS)
    free = pages.real_number(g(Field.DISK_FREE_BYTES))
    disk = Cell("–") if free is None else Cell(pages.bytes_text(free), free < LOW_DISK_BYTES)
    return FleetRow(
        name=st.name,
        district=st.district or words(N_("(unknown district)")),
        kind=kind,
        contact=st.contact,
        contact_text=words(CONTACT_TEXT[st.contact]),
        heard=heard,
        heard_ago=words.ago(st.silent_for_s) if at else "",
        heard_at=at,
        app_version=Cell(shown(g(Field.APP_VERSION))) if g(Field.APP_VERSION) else Cell("–"),
        camera=camera,
        printer=printer,
        paper=paper,
        disk=disk,
        trust=_trust(words, hb),
        outbox=_outbox(words, hb, silent_after_s),
        clock=_clock(words, hb),
        flagged=st.flagged,
    )


def _trust(words: _Words, hb: dict) -> Cell:
    sequence = pages.real_number(hb.get(Field.TRUST_LIST_SEQUENCE))
    if not hb:
        return Cell("–")
    if not sequence:
        return Cell(words(N_("None")), True)  # such a kiosk cannot verify a single stamp
    age = pages.real_number(hb.get(Field.TRUST_LIST_AGE_S))
    text = words(
        N_("number {sequence}, issued {age} ago"),
        sequence=int(sequence),
        age=pages.duration_text(age),
    )
    stale = hb.get(Field.TRUST_LIST_STALE) is True
    return Cell(text + (f" · {words(N_('out of date'))}" if stale else ""), stale)


def _outbox(words: _Words, hb: dict, silent_after_s: float) -> Cell:
    pending = pages.real_number(hb.get(Field.PENDING_OUTBOX))
    if pending is None:
        return Cell("–")
    if not pending:
        return Cell(words(N_("nothing waiting")))
    oldest = pages.real_number(hb.get(Field.PENDING_OUTBOX_OLDEST_AGE_S))
    text = words(
        N_("{count} waiting, oldest {age}"), count=int(pending), age=pages.duration_text(oldest)
    )
    # Rows older than the silent threshold should have reached the registry long ago.
    return Cell(text, oldest is not None and oldest > silent_after_s)


def _clock(words: _Words, hb: dict) -> Cell:
    clock = hb.get(Field.CLOCK)
    if not isinstance(clock, dict):
        return Cell("–")
    try:
        state = ClockState(str(clock.get("state")))
    except ValueError:
        return Cell(f"{shown(clock.get('state'))} ({words(N_('not a known value'))})", True)
    text = words.domain(state.label_msgid)
    if state is ClockState.BEHIND:
        behind = pages.real_number(clock.get("behind_s"))
        return Cell(
            f"{text} · {words(N_('behind by {age}'), age=pages.duration_text(behind))}", True
        )
    return Cell(text, state is not ClockState.OK)


def _sort_key(sort: str):
    if sort == "district":
        return lambda r: (r.district, r.name)
    if sort == "state":
        return lambda r: (CONTACT_ORDER[r.contact], r.name)
    if sort == "heard":  # the longest silent first
        return lambda r: (r.heard_at != "", r.heard_at, r.name)
    return lambda r: r.name


@needs_role(AdminRole.VIEWER)
def fleet_page(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    config: ConfigDep,
    district: str = Query("", max_length=200),
    state: str = Query("", max_length=20),
    sort: str = Query("state", max_length=20),
) -> Response:
    words = _Words(language(request))
    with database.read() as conn:
        health = reports.station_health(conn, config)
    rows = [fleet_row(st, words, config.station_silent_after_s) for st in health]
    districts = sorted({r.district for r in rows})
    chosen_state = next((c for c in Contact if c.value == state), None)
    sort = sort if sort in SORTS else "state"
    shown_rows = sorted(
        (
            r
            for r in rows
            if (not district or r.district == district)
            and (chosen_state is None or r.contact is chosen_state)
        ),
        key=_sort_key(sort),
    )
    return render(
        request,
        "fleet.html",
        caller,
        Section.FLEET.slug,
        section=Section.FLEET,
        rows=shown_rows,
        total=len(rows),
        flagged=sum(1 for r in rows if r.flagged),
        limit=pages.duration_text(config.station_silent_after_s),
        districts=districts,
        district=district if district in districts else "",
        states=[(c.value, CONTACT_TEXT[c]) for c in Contact],
        state=chosen_state.value if chosen_state else "",
        sort=sort,
        sorts=SORTS,
    )


# ---- reports ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """One chart: its id, title, the inline SVG and the same numbers as table rows."""

    id: str
    table: str  # report_export.TABLES key (its CSV download)
    title: str
    svg: str
    head: tuple[str, ...]
    rows: list[tuple[str, ...]]


def _hbars(points: list[tuple[str, int]], title: str) -> str:
    # Wider labels than /reports: Vietnamese product names and verdict titles are long.
    return pages.svg_hbars(points, title=title, label_w=300, label_chars=42)


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.1f} %" if total else "–"


def charts(report: reports.Report, words: _Words) -> list[Chart]:
    _ = words
    days = [(day[5:], n) for day, n in report.scans_per_day]
    every = max(1, len(days) // 10)
    products = [(f"{name} (#{pid})", n) for pid, name, n in report.per_product]
    verdicts = [
        (_("Not recorded") if v == "?" else verdict_title(v, words.lang), n)
        for v, n in report.per_verdict
    ]
    total = sum(n for _v, n in report.per_verdict)

    def titled(table: str) -> str:
        return _(REPORT_TABLES[table])

    return [
        Chart(
            "chart-days",
            "scans_per_day",
            titled("scans_per_day"),
            pages.svg_bars(days, label_every=every, title=titled("scans_per_day")),
            (_("Day"), _("Scans")),
            [(day, str(n)) for day, n in report.scans_per_day],
        ),
        Chart(
            "chart-districts",
            "per_district",
            titled("per_district"),
            _hbars(report.per_district, titled("per_district")),
            (_("District"), _("Scans")),
            [(d, str(n)) for d, n in report.per_district],
        ),
        Chart(
            "chart-products",
            "per_product",
            titled("per_product"),
            _hbars(products[:10], titled("per_product")),
            (_("Product"), _("Scans")),
            [(label, str(n)) for label, n in products],
        ),
        Chart(
            "chart-verdicts",
            "per_verdict",
            titled("per_verdict"),
            _hbars(verdicts, titled("per_verdict")),
            (_("Verdict"), _("Scans"), _("Share of scans")),
            [(label, str(n), _share(n, total)) for label, n in verdicts],
        ),
    ]


def _period(days: int) -> int:
    return days if days in PERIODS_DAYS else DEFAULT_PERIOD_DAYS


@needs_role(AdminRole.VIEWER)
def reports_page(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    config: ConfigDep,
    days: int = Query(DEFAULT_PERIOD_DAYS, ge=1, le=report_export.MAX_DAYS),
) -> Response:
    days = _period(days)
    words = _Words(language(request))
    with database.read(replica=True) as conn:
        report = reports.build_report(conn, config, days=days, now=dt.datetime.now(dt.UTC))
    return render(
        request,
        "reports.html",
        caller,
        Section.REPORTS.slug,
        section=Section.REPORTS,
        report=report,
        days=days,
        periods=PERIODS_DAYS,
        charts=charts(report, words),
        tables=REPORT_TABLES,
        export=f"{Section.REPORTS.href}/export",
    )


@needs_role(AdminRole.VIEWER)
def reports_export(
    caller: ConsoleDep,
    config: ConfigDep,
    database: DatabaseDep,
    days: int = Query(DEFAULT_PERIOD_DAYS, ge=1, le=report_export.MAX_DAYS),
    format: str = Query("xlsx", pattern=report_export.FORMAT_PATTERN),
    table: str = Query("per_product", pattern=report_export.TABLE_PATTERN),
    delimiter: str = Query("comma", pattern=report_export.DELIMITER_PATTERN),
    lang: str = Query("vi", pattern=report_export.LANG_PATTERN),
) -> Response:
    """GET /api/v1/admin/reports/export for a signed-in console user (the same exporter)."""
    with database.read(replica=True) as conn:
        report = reports.build_report(conn, config, days=days)
    return report_export.download(report, format, table, delimiter=delimiter, lang=lang)


router.add_api_route(Section.FLEET.href, fleet_page, methods=["GET"])
router.add_api_route(Section.REPORTS.href, reports_page, methods=["GET"])
router.add_api_route(f"{Section.REPORTS.href}/export", reports_export, methods=["GET"])
