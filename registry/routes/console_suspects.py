"""The console's Suspects section: the queue of automatically detected copies
(registry/clones.py) and the office's decision on each."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from registry import clones
from registry.admins import AdminRole
from registry.dal import console as console_rows
from registry.deps import ConsoleDep, DatabaseDep, KeyRingDep, client_address, needs_role
from registry.routes.console import Section, render

SECTIONS = (Section.SUSPECTS,)
router = APIRouter(include_in_schema=False)


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


def decide_suspect(
    detection_id: int,
    action: str,
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
) -> Response:
    """Publish or dismiss a pending clone detection: admin (the default role)."""
    try:
        decision = clones.Decision(action)
    except ValueError:
        raise HTTPException(404, "not found") from None
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
    return RedirectResponse(Section.SUSPECTS.href, status_code=303)


router.add_api_route(Section.SUSPECTS.href, suspects_page, methods=["GET"])
router.add_api_route(
    f"{Section.SUSPECTS.href}/{{detection_id}}/{{action}}", decide_suspect, methods=["POST"]
)
