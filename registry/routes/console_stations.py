"""The console's Stations and Stamps sections: stations (role, bindings, quotas, disable /
enable, rotate token, retire), the stamp blocks issued, revocations of serial ranges and
signing keys, and signing-key rotation.

Every change calls the same service the CLI and the admin API call (registry/stations.py,
registry/signing.py KeyRing) and writes its audit row in the same transaction. Changes are
admin-only (the default of needs_role); viewers and editors see the pages read-only. Each
change is two POSTs (`_confirm_then_act`): the first (without `confirmed`) only shows what
will happen and changes nothing, the second (confirmed=yes, the same fields) does it.

A new token (add, rotate) is shown once, on the reply to the confirmed POST, with the
kiosk's set-up values as text and as a QR code; it is never stored, logged or audited.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Connection

from ocop.clock import date_text
from ocop.stamps.codec import MAX_SERIAL
from ocop.stations import StationRole
from registry import signing, stations
from registry.admins import AdminRole
from registry.auth import StationExists
from registry.config import DEFAULT_QUOTA_PER_DAY, DEFAULT_QUOTA_TOTAL
from registry.dal import console as console_rows
from registry.dal import keys as key_rows
from registry.dal import stations as station_rows
from registry.db import Database
from registry.deps import ConsoleDep, DatabaseDep, KeyRingDep, client_address, needs_role
from registry.i18n import N_
from registry.routes.console import Section, render
from registry.schemas import NAME_PATTERN
from registry.signing import RotationRefused, SigningError

SECTIONS = (Section.STATIONS, Section.STAMPS)
router = APIRouter(include_in_schema=False)
STATIONS = Section.STATIONS.href
STAMPS = Section.STAMPS.href
CONFIRMED = "yes"
REASON_CHARS = 300
BOUND_IN_LIST = 4  # bindings the stations list names; the station page names all
LIST_CHARS = 20000  # a binding list field: MAX_BINDINGS ids and their separators
SEPARATORS = re.compile(r"[\s,;]+")
NamePath = Annotated[str, Path(pattern=NAME_PATTERN)]
Text = Annotated[str, Form(max_length=200)]
LongText = Annotated[str, Form(max_length=LIST_CHARS)]
Reason = Annotated[str, Form(max_length=REASON_CHARS)]


ROLE_LABELS = {role.value: role.label_msgid for role in StationRole}


class FormProblem(ValueError):
    """A form value that cannot be read (a msgid and its values: shown in the page's
    language); the services' own refusals come as their exceptions."""

    def __init__(self, msgid: str, **values: object):
        super().__init__(msgid)
        self.msgid, self.values = msgid, values


@dataclass(frozen=True)
class Confirmation:
    """A confirmation page: what the action will do, the fields to post again."""

    title: str  # msgid, filled with `values`
    consequence: str
    button: str
    action: str
    fields: dict[str, str]
    values: dict[str, Any]
    summary: list[tuple[str, str, bool]]  # (label msgid, value, whether value is a msgid)
    notes: tuple[str, ...] = ()  # more consequence msgids, filled with `values`

    @property
    def cancel(self) -> str:
        """Where Cancel goes: the page the form was on."""
        return self.action if self.action in (STATIONS, STAMPS) else self.action.rsplit("/", 1)[0]


class StationAction(enum.Enum):
    """The lifecycle buttons of a station page: (slug, button, title, consequence, confirm
    button, done message)."""

    DISABLE = (
        "disable",
        N_("Disable…"),
        N_("Disable {name}?"),
        N_(
            "Kiosk {name} stops syncing and receives no stamps from now on: the registry refuses "
            "its token until you enable it again."
        ),
        N_("Yes, disable"),
        N_("Done: the station is disabled."),
    )
    ENABLE = (
        "enable",
        N_("Enable…"),
        N_("Enable {name}?"),
        N_(
            "The registry accepts the token of {name} again: it syncs and, if it is a printing "
            "station, receives stamps within its quotas."
        ),
        N_("Yes, enable"),
        N_("Done: the station is enabled."),
    )
    ROTATE_TOKEN = (
        "rotate-token",
        N_("Rotate token…"),
        N_("Give {name} a new token?"),
        N_(
            "Kiosk {name} stops syncing until its token is replaced: the old token is refused at "
            "once, and the new one is shown only once, on the next page."
        ),
        N_("Yes, replace the token"),
        "",
    )
    RETIRE = (
        "retire",
        N_("Retire…"),
        N_("Retire {name} for good?"),
        N_(
            "{name} is disabled for good and every stamp of its blocks it did not report printed "
            "({count} now) reads REVOKED on every kiosk at its next sync. This cannot be undone."
        ),
        N_("Yes, retire"),
        N_("Done: the station is retired; {count} unprinted stamps are revoked."),
    )

    @property
    def slug(self) -> str:
        return self.value[0]

    @property
    def button(self) -> str:
        return self.value[1]

    def href(self, name: str) -> str:
        return f"{STATIONS}/{name}/{self.slug}"


class Done(enum.Enum):
    """What the page after a change says (?done=...): fixed messages, never echoed text."""

    DISABLED = N_("disabled")
    ENABLED = "enabled"
    SCOPE = "scope"
    RETIRED = N_("retired")
    ROTATED = "key-rotated"
    REVOKED = N_("revoked")


DONE_MESSAGES = {
    Done.DISABLED: StationAction.DISABLE.value[5],
    Done.ENABLED: StationAction.ENABLE.value[5],
    Done.SCOPE: N_("Done: bindings and quotas saved."),
    Done.RETIRED: StationAction.RETIRE.value[5],
    Done.ROTATED: N_("Done: key {key} signs new stamps; trust list {sequence} is published."),
    Done.REVOKED: N_("Done: trust list {sequence} is published; kiosks get it at their next sync."),
}


def _done(request: Request) -> tuple[str, dict[str, str]] | None:
    """The done message the redirect asked for, its numbers (digits only) filled in."""
    try:
        done = Done(request.query_params.get("done", ""))
    except ValueError:
        return None
    numbers = {
        k: v
        for k in ("count", "key", "sequence")
        if (v := request.query_params.get(k, "")).isdigit()
    }
    return DONE_MESSAGES[done], {k: numbers.get(k, "?") for k in ("count", "key", "sequence")}


def _bound(
    info: stations.StationInfo, limit: int | None = None
) -> tuple[list[tuple[str, str]], int]:
    """(msgid, id) of the station's bindings, at most `limit`, and how many more there are."""
    every = [(N_("producer {id}"), p) for p in info.producers]
    every += [(N_("product {id}"), str(p)) for p in info.products]
    shown = every if limit is None else every[:limit]
    return shown, len(every) - len(shown)


def _is_admin(caller: ConsoleDep) -> bool:
    return caller.principal.role.allows(AdminRole.ADMIN)


# ---- form values ------------------------------------------------------------------------


def _quota(field: str, text: str) -> int | None:
    """A quota field: empty is no limit (the CLI's `none`); the bounds are stations.py's."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise FormProblem(N_("{field}: a whole number of at least 0, or empty."), field=field)
    return int(text)


def _number(field: str, text: str, high: int) -> int:
    text = text.strip()
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise FormProblem(N_("{field}: a whole number from 1 to {high}."), field=field, high=high)
    return int(text)


def _ids(text: str) -> list[str]:
    return [part for part in SEPARATORS.split(text.strip()) if part]


def _product_ids(text: str) -> list[int]:
    parts = _ids(text)
    if not all(p.isdigit() for p in parts):
        raise FormProblem(N_("Product ids are numbers."))
    return [int(p) for p in parts]


def _role(text: str) -> StationRole:
    try:
        return StationRole(text)
    except ValueError:
        raise FormProblem(N_("Role: kiosk or printing station.")) from None


def _quota_shown(value: int | None) -> str:
    return N_("no limit") if value is None else str(value)


@dataclass(frozen=True)
class ScopeForm:
    """Role, bindings and quotas as a form gives them (the rules are stations.py's)."""

    role: StationRole
    producers: list[str]
    products: list[int]
    quota_per_day: int | None
    quota_total: int | None

    @classmethod
    def read(cls, role: str, producers: str, products: str, per_day: str, total: str):
        return cls(
            _role(role),
            _ids(producers),
            _product_ids(products),
            _quota(N_("Stamps per day (Vietnam time); empty: no limit"), per_day),
            _quota(N_("Stamps in total; empty: no limit"), total),
        )

    def kwargs(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "producers": self.producers,
            "products": self.products,
            "quota_per_day": self.quota_per_day,
            "quota_total": self.quota_total,
        }

    def summary(self) -> list[tuple[str, str, bool]]:
        bound = [f"producer:{p}" for p in self.producers]
        bound += [f"product:{p}" for p in self.products]
        per_day, total = self.quota_per_day, self.quota_total
        return [
            (N_("Role"), self.role.label_msgid, True),
            (N_("Bound to"), ", ".join(bound) or N_("nothing"), not bound),
            (
                N_("Stamps per day (Vietnam time); empty: no limit"),
                _quota_shown(per_day),
                per_day is None,
            ),
            (N_("Stamps in total; empty: no limit"), _quota_shown(total), total is None),
        ]


# ---- rendering --------------------------------------------------------------------------


def _confirm(request: Request, caller: ConsoleDep, section: Section, c: Confirmation) -> Response:
    return render(request, "stations_confirm.html", caller, section.slug, confirm=c, back=c.cancel)


def _not_done(
    request: Request,
    caller: ConsoleDep,
    section: Section,
    back: str,
    status: int,
    msgid: str,
    **values: object,
) -> Response:
    return render(
        request,
        "stations_confirm.html",
        caller,
        section.slug,
        status=status,
        confirm=None,
        problem=(msgid, values),
        back_to=back,
        back=back,
    )


def _refused(request, caller, section, back, exc: Exception) -> Response:
    """A service's refusal (its own English text: the rule lives there) or a form problem."""
    if isinstance(exc, FormProblem):
        return _not_done(request, caller, section, back, 422, exc.msgid, **exc.values)
    if isinstance(exc, stations.StationNotFound):
        return _not_done(
            request, caller, section, back, 404, N_("There is no station of that name.")
        )
    if isinstance(exc, RotationRefused) and exc.valid_from is not None:
        return _not_done(
            request,
            caller,
            section,
            back,
            409,
            N_(
                "Signing key {key} may sign from {day}: it is announced in advance so every "
                "kiosk knows it first. Rotate on or after that day, or choose an emergency "
                "rotation (kiosks that have not synced since show its stamps as 'cannot verify "
                "yet')."
            ),
            key=exc.key_id,
            day=date_text(exc.valid_from),
        )
    status = (
        409
        if isinstance(exc, (stations.StationStateError, StationExists, RotationRefused))
        else 422
    )
    return _not_done(
        request,
        caller,
        section,
        back,
        status,
        N_("The registry refused it: {detail}"),
        detail=str(exc),
    )


def _kiosk_setup(request: Request, token: str, root_public_key: str) -> str:
    """The [registry] section of a kiosk's config with this token (docs/sync-protocol.md):
    what the QR code holds and staff can paste. The URL: the public base URL, else the one
    this admin's browser used (shown to them only, never stored or cached)."""
    url = request.app.state.config.public_base_url or str(request.base_url).rstrip("/")
    values = {"url": url, "token": token, "root_public_key": root_public_key}
    return "[registry]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())


def _token_page(
    request: Request, caller: ConsoleDep, name: str, token: str, root_public_key: str
) -> Response:
    setup = _kiosk_setup(request, token, root_public_key)
    # An inline data: URI, so no second URL serves the token.
    qr = segno.make(setup, error="m").png_data_uri(scale=4, border=4)
    response = render(
        request,
        "stations_token.html",
        caller,
        Section.STATIONS.slug,
        name=name,
        token=token,
        setup=setup,
        qr=qr,
        back=f"{STATIONS}/{name}",
    )
    response.headers["Cache-Control"] = "no-store"  # the middleware says it too: the token
    return response


@dataclass(frozen=True)
class NewToken:
    """What a change that makes a station's token gives the page that shows it once."""

    name: str
    token: str
    root_public_key: str


def _confirm_then_act(
    request: Request,
    caller: ConsoleDep,
    database: Database,
    section: Section,
    back: str,
    confirmed: str,
    ask: Callable[[], Confirmation | Response],
    act: Callable[[Connection], str | NewToken],
    refused: tuple[type[Exception], ...],
) -> Response:
    """Every change's two POSTs. Without confirmed=yes: the confirmation `ask` gives (or its
    own refusal), and nothing changes. With it: `act` in one write transaction (the service
    and its audit row), a `refused` exception shown as what was not done; then, after the
    commit, the redirect (303) to the URL `act` returns or the page of the token it made."""
    if confirmed != CONFIRMED:
        asked = ask()
        return asked if isinstance(asked, Response) else _confirm(request, caller, section, asked)
    try:
        with database.write() as conn:
            done = act(conn)
    except refused as exc:
        return _refused(request, caller, section, back, exc)
    if isinstance(done, NewToken):
        return _token_page(request, caller, done.name, done.token, done.root_public_key)
    return RedirectResponse(done, status_code=303)


# What each service refuses with (shown as what was not done; anything else is a 500).
ADD_REFUSED = (StationExists, ValueError)
STATION_REFUSED = (stations.StationNotFound, stations.StationStateError, ValueError)
KEYS_REFUSED = (ValueError, SigningError)
ROTATE_REFUSED = (SigningError,)  # RotationRefused among them


# ---- stations ---------------------------------------------------------------------------


@needs_role(AdminRole.VIEWER)
def stations_page(request: Request, caller: ConsoleDep, database: DatabaseDep) -> Response:
    with database.read() as conn:
        infos = stations.list_all(conn)
    return render(
        request,
        "stations_list.html",
        caller,
        Section.STATIONS.slug,
        section=Section.STATIONS,
        stations=infos,
        role_labels=ROLE_LABELS,
        roles=list(StationRole),
        may_change=_is_admin(caller),
        defaults={"per_day": DEFAULT_QUOTA_PER_DAY, "total": DEFAULT_QUOTA_TOTAL},
        quota=_quota_shown,
        bound=lambda info: _bound(info, BOUND_IN_LIST),
    )


def add_station(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
    name: Text = "",
    district: Text = "",
    role: Text = StationRole.KIOSK.value,
    producers: LongText = "",
    products: LongText = "",
    quota_per_day: Text = "",
    quota_total: Text = "",
    confirmed: Text = "",
) -> Response:
    """Add a station (admin): a confirmation, then the new token's page."""
    name = name.strip()
    try:
        if not re.fullmatch(NAME_PATTERN, name):
            raise FormProblem(
                N_(
                    "A station's name: lower-case letters, digits, dot, dash and underscore, at "
                    "most 64."
                )
            )
        scope = ScopeForm.read(role, producers, products, quota_per_day, quota_total)
    except FormProblem as exc:
        return _refused(request, caller, Section.STATIONS, STATIONS, exc)

    def ask() -> Confirmation:
        fields = {
            "name": name,
            "district": district,
            "role": role,
            "producers": producers,
            "products": products,
            "quota_per_day": quota_per_day,
            "quota_total": quota_total,
        }
        return Confirmation(
            N_("Add station {name}?"),
            N_(
                "Station {name} gets a new token, shown only once on the next page: set it up "
                "on the device before you leave the page."
            ),
            N_("Yes, add the station"),
            STATIONS,
            fields,
            {"name": name},
            [(N_("Name"), name, False), (N_("District"), district, False)] + scope.summary(),
        )

    def act(conn: Connection) -> NewToken:
        info, token = stations.add(
            conn,
            name,
            caller.principal.name,
            client_address(request),
            district=district.strip(),
            **scope.kwargs(),
        )
        return NewToken(info.name, token, keyring.root_public_key(conn))

    return _confirm_then_act(
        request, caller, database, Section.STATIONS, STATIONS, confirmed, ask, act, ADD_REFUSED
    )


@needs_role(AdminRole.VIEWER)
def station_page(
    request: Request, caller: ConsoleDep, database: DatabaseDep, name: NamePath
) -> Response:
    try:
        with database.read() as conn:
            info = stations.get(conn, name)
            blocks = console_rows.recent_blocks(conn, station=name)
    except stations.StationNotFound as exc:
        return _refused(request, caller, Section.STATIONS, STATIONS, exc)
    retired = info.state == stations.StationState.RETIRED.value
    actions = []
    if not retired:
        actions = [
            StationAction.ENABLE
            if info.state == stations.StationState.DISABLED.value
            else StationAction.DISABLE,
            StationAction.ROTATE_TOKEN,
            StationAction.RETIRE,
        ]
    return render(
        request,
        "stations_station.html",
        caller,
        Section.STATIONS.slug,
        info=info,
        blocks=blocks,
        role_labels=ROLE_LABELS,
        roles=list(StationRole),
        may_change=_is_admin(caller) and not retired,
        retired=retired,
        actions=actions,
        quota=_quota_shown,
        bound=_bound,
        done=_done(request),
    )


def set_scope(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    name: NamePath,
    role: Text = "",
    producers: LongText = "",
    products: LongText = "",
    quota_per_day: Text = "",
    quota_total: Text = "",
    confirmed: Text = "",
) -> Response:
    """Role, bindings and quotas (admin): every field replaces what the station has."""
    back = f"{STATIONS}/{name}"
    try:
        scope = ScopeForm.read(role, producers, products, quota_per_day, quota_total)
    except FormProblem as exc:
        return _refused(request, caller, Section.STATIONS, back, exc)

    def ask() -> Confirmation:
        return Confirmation(
            N_("Change the bindings and quotas of {name}?"),
            N_(
                "From now on {name} receives stamp blocks only for these producers and "
                "products and within these quotas; blocks already issued stay valid."
            ),
            N_("Yes, save"),
            f"{back}/scope",
            {
                "role": role,
                "producers": producers,
                "products": products,
                "quota_per_day": quota_per_day,
                "quota_total": quota_total,
            },
            {"name": name},
            scope.summary(),
        )

    def act(conn: Connection) -> str:
        stations.set_scope(
            conn, name, caller.principal.name, client_address(request), **scope.kwargs()
        )
        return f"{back}?done={Done.SCOPE.value}"

    return _confirm_then_act(
        request, caller, database, Section.STATIONS, back, confirmed, ask, act, STATION_REFUSED
    )


def station_action(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
    name: NamePath,
    action: str,
    reason: Reason = "",
    confirmed: Text = "",
) -> Response:
    """Disable, enable, rotate token, retire (admin), each after its confirmation."""
    back = f"{STATIONS}/{name}"
    try:
        chosen = next(a for a in StationAction if a.slug == action)
    except StopIteration:
        return _not_done(request, caller, Section.STATIONS, back, 404, "Not allowed")

    def ask() -> Confirmation | Response:
        try:
            with database.read() as conn:
                row = stations.get(conn, name)  # 404 before asking
                unprinted = 0
                if chosen is StationAction.RETIRE:
                    station_row = station_rows.row_by_name(conn, name)
                    assert station_row is not None  # stations.get found it
                    ranges, _ = stations.unprinted_ranges(conn, station_row.id)
                    unprinted = sum(b - a + 1 for a, b in ranges)
        except stations.StationNotFound as exc:
            return _refused(request, caller, Section.STATIONS, back, exc)
        has_reason = chosen in (StationAction.DISABLE, StationAction.RETIRE)
        return Confirmation(
            chosen.value[2],
            chosen.value[3],
            chosen.value[4],
            chosen.href(row.name),
            {"reason": reason} if has_reason else {},
            {"name": row.name, "count": unprinted},
            [(N_("Reason (for the audit log)"), reason, False)] if has_reason and reason else [],
        )

    def act(conn: Connection) -> str | NewToken:
        actor, client = caller.principal.name, client_address(request)
        if chosen is StationAction.DISABLE:
            stations.disable(conn, name, actor, client, reason)
            return f"{back}?done={Done.DISABLED.value}"
        if chosen is StationAction.ENABLE:
            stations.enable(conn, name, actor, client)
            return f"{back}?done={Done.ENABLED.value}"
        if chosen is StationAction.RETIRE:
            result = stations.retire(conn, keyring, name, actor, client, reason)
            return f"{back}?done={Done.RETIRED.value}&count={result.revoked_count}"
        token = stations.rotate_token(conn, name, actor, client)
        return NewToken(name, token, keyring.root_public_key(conn))

    return _confirm_then_act(
        request, caller, database, Section.STATIONS, back, confirmed, ask, act, STATION_REFUSED
    )


# ---- stamps -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRow:
    key_id: int
    valid_from: str
    valid_until: str | None
    announced: str  # when it entered the trust lists (created_at, UTC; shown as its day)
    status: str  # msgid: current, next, revoked or ""


def _keys(conn, keyring) -> tuple[list[KeyRow], KeyRow | None, int]:
    current = keyring.current_key_id(conn)
    nxt = keyring.next_key(conn)
    revoked = {r.key_id for r in key_rows.revoked_keys(conn)}
    out = []
    for r in key_rows.signing_keys(conn):
        status = (
            N_("revoked")
            if r.key_id in revoked
            else N_("current")
            if r.key_id == current
            else N_("next")
            if nxt is not None and r.key_id == nxt.key_id
            else ""
        )
        out.append(KeyRow(r.key_id, r.valid_from, r.valid_until, r.created_at, status))
    next_row = next((k for k in out if nxt is not None and k.key_id == nxt.key_id), None)
    return out, next_row, current


@needs_role(AdminRole.VIEWER)
def stamps_page(
    request: Request, caller: ConsoleDep, database: DatabaseDep, keyring: KeyRingDep
) -> Response:
    with database.read() as conn:
        per_station = console_rows.blocks_per_station(conn)
        blocks = console_rows.recent_blocks(conn)
        signing, next_key, current = _keys(conn, keyring)
        ranges = key_rows.revoked_ranges(conn)
        revoked_keys = key_rows.revoked_keys(conn)
    return render(
        request,
        "stamps_page.html",
        caller,
        Section.STAMPS.slug,
        section=Section.STAMPS,
        per_station=per_station,
        blocks=blocks,
        signing=signing,
        next_key=next_key,
        current_key=current,
        lead_days=math.ceil(keyring.next_key_lead_s / 86400),
        ranges=ranges,
        revoked_keys=revoked_keys,
        may_change=_is_admin(caller),
        today=dt.datetime.now(dt.UTC).date().isoformat(),
        max_serial=MAX_SERIAL,
        done=_done(request),
    )


def revoke_serials(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
    first: Text = "",
    last: Text = "",
    reason: Reason = "",
    confirmed: Text = "",
) -> Response:
    """Revoke a serial range (admin), as POST /api/v1/admin/revocations/serials does."""
    try:
        low = _number(N_("First serial"), first, MAX_SERIAL)
        high = _number(N_("Last serial"), last, MAX_SERIAL)
        if high < low:
            raise FormProblem(N_("The last serial is below the first."))
    except FormProblem as exc:
        return _refused(request, caller, Section.STAMPS, STAMPS, exc)

    def ask() -> Confirmation:
        return Confirmation(
            N_("Revoke serials {first} to {last}?"),
            N_(
                "The {count} stamps with serials {first} to {last} read REVOKED on every kiosk "
                "at its next sync and on the phone pages at once. This cannot be undone."
            ),
            N_("Yes, revoke"),
            f"{STAMPS}/revoke-serials",
            {"first": str(low), "last": str(high), "reason": reason},
            {"first": low, "last": high, "count": high - low + 1},
            [(N_("Reason"), reason, False)] if reason else [],
        )

    def act(conn: Connection) -> str:
        sequence = keyring.revoke_serials(conn, low, high, reason)
        signing.audit_serials_revocation(
            conn, caller.principal.name, client_address(request), low, high, reason, sequence
        )
        return f"{STAMPS}?done={Done.REVOKED.value}&sequence={sequence}"

    return _confirm_then_act(
        request, caller, database, Section.STAMPS, STAMPS, confirmed, ask, act, KEYS_REFUSED
    )


def revoke_key(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
    key_id: Text = "",
    revoked_from: Text = "",
    last_good_serial: Text = "",
    reason: Reason = "",
    confirmed: Text = "",
) -> Response:
    """Revoke a signing key (admin), as POST /api/v1/admin/revocations/keys does."""
    try:
        key = _number(N_("Key"), key_id, 255)
        try:
            day = dt.date.fromisoformat(revoked_from.strip())
        except ValueError:
            raise FormProblem(
                N_("{field}: a day as YYYY-MM-DD."), field=N_("Revoked from")
            ) from None
        good = (
            _number(N_("Last good serial"), last_good_serial, MAX_SERIAL)
            if last_good_serial.strip()
            else None
        )
    except FormProblem as exc:
        return _refused(request, caller, Section.STAMPS, STAMPS, exc)

    def ask() -> Confirmation:
        return Confirmation(
            N_("Revoke signing key {key}?"),
            N_(
                "Every stamp key {key} signed for a day from {day} on reads REVOKED on "
                "every kiosk at its next sync. If it is the current key, no stamps can be "
                "issued until the key is rotated. This cannot be undone."
            ),
            N_("Yes, revoke"),
            f"{STAMPS}/revoke-key",
            {
                "key_id": str(key),
                "revoked_from": day.isoformat(),
                "last_good_serial": "" if good is None else str(good),
                "reason": reason,
            },
            {"key": key, "day": date_text(day), "serial": good},
            [(N_("Reason"), reason, False)] if reason else [],
            (N_("Stamps of key {key} up to serial {serial} stay genuine."),)
            if good is not None
            else (),
        )

    def act(conn: Connection) -> str:
        sequence = keyring.revoke_key(conn, key, day, good, reason)
        signing.audit_key_revocation(
            conn, caller.principal.name, client_address(request), key, day, good, reason, sequence
        )
        return f"{STAMPS}?done={Done.REVOKED.value}&sequence={sequence}"

    return _confirm_then_act(
        request, caller, database, Section.STAMPS, STAMPS, confirmed, ask, act, KEYS_REFUSED
    )


def rotate_key(
    request: Request,
    caller: ConsoleDep,
    database: DatabaseDep,
    keyring: KeyRingDep,
    emergency: Text = "",
    confirmed: Text = "",
) -> Response:
    """Switch stamp signing to the announced next key (admin), as POST
    /api/v1/admin/keys/rotate does; before its not-before day only as an emergency."""
    now = emergency == CONFIRMED

    def ask() -> Confirmation:
        with database.read() as conn:
            _, next_key, current = _keys(conn, keyring)
        return Confirmation(
            N_("Rotate the signing key to key {next}?"),
            N_(
                "Key {next} signs every new stamp block from now on; stamps signed by key "
                "{current} stay genuine. The next key is announced at once."
            ),
            N_("Yes, rotate"),
            f"{STAMPS}/rotate-key",
            {"emergency": CONFIRMED if now else ""},
            {N_("next"): next_key.key_id if next_key else "?", N_("current"): current},
            [],
            (
                N_(
                    "Emergency rotation: kiosks that have not synced since the last trust list "
                    "show the new stamps as 'cannot verify yet' until they sync."
                ),
            )
            if now
            else (),
        )

    def act(conn: Connection) -> str:
        key_id = keyring.rotate(conn, emergency=now)
        sequence, _ = keyring.latest_signed(conn)
        signing.audit_key_rotation(
            conn, caller.principal.name, client_address(request), key_id, sequence, emergency=now
        )
        return f"{STAMPS}?done={Done.ROTATED.value}&key={key_id}&sequence={sequence}"

    return _confirm_then_act(
        request, caller, database, Section.STAMPS, STAMPS, confirmed, ask, act, ROTATE_REFUSED
    )


router.add_api_route(STATIONS, stations_page, methods=["GET"])
router.add_api_route(STATIONS, add_station, methods=["POST"])
router.add_api_route(f"{STATIONS}/{{name}}", station_page, methods=["GET"])
router.add_api_route(f"{STATIONS}/{{name}}/scope", set_scope, methods=["POST"])
router.add_api_route(f"{STATIONS}/{{name}}/{{action}}", station_action, methods=["POST"])
router.add_api_route(STAMPS, stamps_page, methods=["GET"])
router.add_api_route(f"{STAMPS}/revoke-serials", revoke_serials, methods=["POST"])
router.add_api_route(f"{STAMPS}/revoke-key", revoke_key, methods=["POST"])
router.add_api_route(f"{STAMPS}/rotate-key", rotate_key, methods=["POST"])
