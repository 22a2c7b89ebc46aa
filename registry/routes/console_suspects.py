"""The console's Suspects section: the queue of automatically detected copies
(registry/clones.py), each detection's evidence (where and when the serial was seen, by how
many phones, on a schematic of Sơn La's districts) and the office's decision on it, with a
confirmation that says what every kiosk will show after its next sync."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ocop.i18n import translator
from ocop.stamps.verdicts import Verdict
from registry import clones, geo
from registry.admins import AdminRole
from registry.dal import clones as clone_rows
from registry.dal import console as console_rows
from registry.dal import keys as key_rows
from registry.deps import ConsoleDep, DatabaseDep, KeyRingDep, client_address, needs_role
from registry.i18n import N_
from registry.routes.console import Section, language, render

SECTIONS = (Section.SUSPECTS,)
router = APIRouter(include_in_schema=False)

STATUS_LABELS = {
    clones.DetectionStatus.PENDING: N_("Waiting for a decision"),
    clones.DetectionStatus.PUBLISHED: N_("Published as suspect"),
    clones.DetectionStatus.DISMISSED: N_("Dismissed"),
}

# The schematic map: each district's approximate centre (registry/geo.py CENTROIDS) scaled
# into a MAP_W x MAP_H box. Not a map: no borders, just where the district towns lie
# relative to one another, which is what "scanned in Sốp Cộp and Vân Hồ an hour apart" needs.
MAP_W, MAP_H, MAP_PAD = 640, 400, 48


@dataclass(frozen=True)
class Dot:
    name: str
    x: int
    y: int
    scans: int  # at stations of this district (0: not involved)


def _map(scans_by_district: dict[str, int]) -> list[Dot]:
    lats = [lat for lat, _ in geo.CENTROIDS.values()]
    lons = [lon for _, lon in geo.CENTROIDS.values()]
    lat_span, lon_span = max(lats) - min(lats), max(lons) - min(lons)
    dots = []
    for name, (lat, lon) in geo.CENTROIDS.items():
        x = MAP_PAD + (lon - min(lons)) / lon_span * (MAP_W - 2 * MAP_PAD)
        y = MAP_PAD + (max(lats) - lat) / lat_span * (MAP_H - 2 * MAP_PAD)
        dots.append(Dot(name, round(x), round(y), scans_by_district.get(name, 0)))
    return dots


def _verdict_text(verdict: Verdict, lang: str) -> tuple[str, str]:
    """The kiosk's own words for a verdict (ocop/stamps/verdicts.py, the domain catalog)."""
    _ = translator(lang)
    return _(verdict.title), _(verdict.message_id)


def _decision(action: str) -> clones.Decision:
    try:
        return clones.Decision(action)
    except ValueError:
        raise HTTPException(404, "not found") from None


@needs_role(AdminRole.VIEWER)
def suspects_page(request: Request, caller: ConsoleDep, database: DatabaseDep) -> Response:
    with database.read() as conn:
        rows = console_rows.pending_suspects(conn, clones.DetectionStatus.PENDING.value)
    return render(
        request,
        "suspects.html",
        caller,
        Section.SUSPECTS.slug,
        section=Section.SUSPECTS,
        rows=rows,
        may_decide=caller.principal.role.allows(AdminRole.ADMIN),
        decisions=clones.Decision,
    )


def _detection(conn, detection_id: int):
    row = clone_rows.get(conn, detection_id)
    if row is None:
        raise HTTPException(404, "no such detection")
    return row


@needs_role(AdminRole.VIEWER)
def detection_page(
    detection_id: int, request: Request, caller: ConsoleDep, database: DatabaseDep
) -> Response:
    with database.read() as conn:
        row = _detection(conn, detection_id)
        stations = console_rows.station_evidence(conn, row.serial, list(clones.COUNTED))
        phones = console_rows.phone_evidence(conn, row.serial)
        block = key_rows.block_of_serial(conn, row.serial)
        product = console_rows.product_name(conn, block.product_id) if block else ""
        others = console_rows.detections_of_serial(conn, row.serial)
    scans_by_district: dict[str, int] = {}
    order: list[str] = []
    for s in stations:
        name = geo.district_name(s.district)
        if name is None:
            continue
        scans_by_district[name] = scans_by_district.get(name, 0) + s.scans
        if name not in order:
            order.append(name)
    dots = _map(scans_by_district)
    at = {d.name: d for d in dots}
    return render(
        request,
        "suspect.html",
        caller,
        Section.SUSPECTS.slug,
        section=Section.SUSPECTS,
        d=row,
        status_label=STATUS_LABELS[clones.DetectionStatus(row.status)],
        pending=row.status == clones.DetectionStatus.PENDING.value,
        stations=stations,
        phones=phones,
        block=block,
        product=product,
        others=others,
        dots=dots,
        path=[(at[n].x, at[n].y) for n in order],
        map_w=MAP_W,
        map_h=MAP_H,
        may_decide=caller.principal.role.allows(AdminRole.ADMIN),
        decisions=clones.Decision,
    )


def decide_suspect(
    detection_id: int,
    action: str,
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
    confirmed: str = Form(""),
) -> Response:
    """Publish or dismiss a pending detection: admin (the default role). Without
    `confirmed` it only shows what the decision does on every kiosk."""
    decision = _decision(action)
    if confirmed != "1":
        with database.read() as conn:
            row = _detection(conn, detection_id)
        lang = language(request)
        verdict = Verdict.SUSPECT_CLONE if decision is clones.Decision.APPROVE else Verdict.GENUINE
        title, message = _verdict_text(verdict, lang)
        return render(
            request,
            "suspect_confirm.html",
            caller,
            Section.SUSPECTS.slug,
            section=Section.SUSPECTS,
            d=row,
            decision=decision,
            decisions=clones.Decision,
            verdict=verdict,
            verdict_title=title,
            verdict_message=message,
            pending=row.status == clones.DetectionStatus.PENDING.value,
        )
    try:
        with database.write() as conn:
            clones.decide(
                conn,
                keyring,
                detection_id,
                decision,
                caller.principal.name,
                client_address(request),
            )
    except clones.DecisionError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return RedirectResponse(f"{Section.SUSPECTS.href}/{detection_id}", status_code=303)


router.add_api_route(Section.SUSPECTS.href, suspects_page, methods=["GET"])
router.add_api_route(f"{Section.SUSPECTS.href}/{{detection_id}}", detection_page, methods=["GET"])
router.add_api_route(
    f"{Section.SUSPECTS.href}/{{detection_id}}/{{action}}", decide_suspect, methods=["POST"]
)
