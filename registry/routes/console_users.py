"""The console's Users section (admin): the office's accounts without a terminal, the
same operations as `ocop-registry user add|disable|reset` (registry/users.py, the same
rules and audit actions). A new or reset password is generated here and shown once, on a
page that is never cached; nobody types or reads another person's password."""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from registry import audit, console_text, sessions, users
from registry.admins import AdminRole
from registry.audit import AuditAction
from registry.deps import ConsoleCaller, ConsoleDep, DatabaseDep, client_address, needs_role
from registry.i18n import N_
from registry.routes.console import ROLE_LABELS, Section, language, render

SECTIONS = (Section.USERS,)
router = APIRouter(include_in_schema=False)


class UserAction:
    """What the confirmation page says each action does (msgids)."""

    DISABLE = N_(
        "{name} is signed out at once and can no longer sign in, until an administrator "
        "resets the password."
    )
    RESET = N_(
        "{name} gets a new password, shown once on the next page; the old one stops "
        "working and {name} is signed out everywhere. A locked or disabled account is "
        "enabled again."
    )


def _user_page(request: Request, caller: ConsoleCaller, database, status: int = 200, **extra):
    with database.read() as conn:
        rows = users.all_by_name(conn)
    return render(
        request,
        "users.html",
        caller,
        Section.USERS.slug,
        status=status,
        section=Section.USERS,
        rows=rows,
        roles=[(r.value, ROLE_LABELS[r]) for r in AdminRole],
        role_labels=ROLE_LABELS,
        disabled_now=request.query_params.get("disabled", ""),
        **extra,
    )


def _password_page(request: Request, caller: ConsoleCaller, name: str, password: str, what: str):
    response = render(
        request,
        "user_password.html",
        caller,
        Section.USERS.slug,
        section=Section.USERS,
        name=name,
        password=password,
        what=what,
    )
    # Shown once: no browser cache, no proxy, no back-button copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@needs_role(AdminRole.ADMIN)
def users_page(request: Request, caller: ConsoleDep, database: DatabaseDep) -> Response:
    return _user_page(request, caller, database)


@needs_role(AdminRole.ADMIN)
def add_user(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    name: str = Form("", max_length=64),
    display_name: str = Form("", max_length=users.MAX_DISPLAY_NAME_CHARS),
    role: str = Form(""),
) -> Response:
    name = name.strip().lower()
    try:
        chosen = AdminRole(role)
    except ValueError:
        raise HTTPException(422, "role: one of viewer, editor, admin") from None
    password = users.generate_password()
    try:
        with database.write() as conn:
            users.add(conn, name, chosen, password, display_name)
            audit.record(
                conn,
                caller.principal.name,
                AuditAction.USER_ADD,
                f"user:{name}",
                client_address(request),
                {"role": chosen.value, "display_name": display_name.strip()},
            )
    except users.UserError as exc:
        return _user_page(
            request,
            caller,
            database,
            status=422,
            error=console_text.gettext(language(request), exc.msgid, **exc.values),
            form={"name": name, "display_name": display_name, "role": chosen.value},
        )
    return _password_page(request, caller, name, password, N_("Account created"))


def _known(database, name: str) -> users.UserRow:
    with database.read() as conn:
        found = [u for u in users.all_by_name(conn) if u.name == name]
    if not found:
        raise HTTPException(404, "no such user")
    return found[0]


@needs_role(AdminRole.ADMIN)
def confirm_page(
    name: str, action: str, request: Request, caller: ConsoleDep, database: DatabaseDep
) -> Response:
    """GET: what the action will do, and the form that does it (a GET changes nothing)."""
    consequence = {"disable": UserAction.DISABLE, "reset": UserAction.RESET}.get(action)
    if consequence is None:
        raise HTTPException(404, "not found")
    row = _known(database, name)
    return render(
        request,
        "user_confirm.html",
        caller,
        Section.USERS.slug,
        section=Section.USERS,
        user=row,
        action=action,
        consequence=consequence,
        own=row.name == caller.principal.name,
    )


@needs_role(AdminRole.ADMIN)
def disable_user(name: str, request: Request, caller: ConsoleDep, database: DatabaseDep):
    _known(database, name)
    if name == caller.principal.name:
        # The one mistake an admin cannot undo alone.
        raise HTTPException(409, "you cannot disable your own account")
    with database.write() as conn:
        sessions.end_all_of(conn, users.disable(conn, name))
        audit.record(
            conn,
            caller.principal.name,
            AuditAction.USER_DISABLE,
            f"user:{name}",
            client_address(request),
        )
    return RedirectResponse(f"{Section.USERS.href}?disabled={name}", status_code=303)


@needs_role(AdminRole.ADMIN)
def reset_user(name: str, request: Request, caller: ConsoleDep, database: DatabaseDep):
    _known(database, name)
    password = users.generate_password()
    with database.write() as conn:
        sessions.end_all_of(conn, users.reset(conn, name, password))
        audit.record(
            conn,
            caller.principal.name,
            AuditAction.USER_RESET,
            f"user:{name}",
            client_address(request),
        )
    return _password_page(request, caller, name, password, N_("New password set"))


router.add_api_route(Section.USERS.href, users_page, methods=["GET"])
router.add_api_route(Section.USERS.href, add_user, methods=["POST"])
router.add_api_route(f"{Section.USERS.href}/{{name}}/{{action}}", confirm_page, methods=["GET"])
router.add_api_route(f"{Section.USERS.href}/{{name}}/disable", disable_user, methods=["POST"])
router.add_api_route(f"{Section.USERS.href}/{{name}}/reset", reset_user, methods=["POST"])
