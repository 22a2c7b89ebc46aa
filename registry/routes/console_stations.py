"""The console's Stations and Stamps sections: stations (role, bindings, quotas, disable /
enable, rotate token, retire), the stamp blocks issued, revocations of serial ranges and
signing keys, and signing-key rotation.

Every change calls the same service the CLI and the admin API call (registry/stations.py,
registry/signing.py KeyRing) and writes its audit row in the same transaction. Changes are
admin-only (the default of needs_role); viewers and editors see the pages read-only. Each
change is two POSTs: the first (without `confirmed`) only shows what will happen and
changes nothing, the second (confirmed=yes, the same fields) does it.

A new token (add, rotate) is shown once, on the reply to the confirmed POST, with the
kiosk's set-up values as text and as a QR code; it is never stored, logged or audited.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from ocop.clock import VIETNAM_TZ
from ocop.stamps.codec import MAX_SERIAL
from ocop.stations import StationRole
from registry import audit, console_text, db, stations
from registry.admins import AdminRole
from registry.audit import AuditAction
from registry.auth import StationExists
from registry.config import DEFAULT_QUOTA_PER_DAY, DEFAULT_QUOTA_TOTAL
from registry.dal import console as console_rows
from registry.dal import keys as key_rows
from registry.dal import stations as station_rows
from registry.deps import ConsoleDep, DatabaseDep, KeyRingDep, client_address, needs_role
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

STRINGS = {
    # the stations list
    "Name": "Tên",
    "District": "Huyện, thành phố",
    "Role": "Vai trò",
    "Bound to": "Được in cho",
    "Stamps today": "Tem hôm nay",
    "Stamps in total": "Tem tổng cộng",
    "Last seen": "Lần liên lạc cuối",
    "State": "Trạng thái",
    "never": "chưa bao giờ",
    "nothing": "không có",
    "no limit": "không giới hạn",
    "and {count} more": "và {count} mục khác",
    "(Vietnam time)": "(giờ Việt Nam)",
    "{used} of {quota}": "{used} / {quota}",
    "No stations yet.": "Chưa có trạm nào.",
    "Kiosk (no stamp printing)": "Máy tra cứu (không in tem)",
    "Stamp printing station": "Trạm in tem",
    "active": "đang hoạt động",
    "disabled": "đã tạm dừng",
    "retired": "đã thu hồi",
    "producer {id}": "chủ thể {id}",
    "product {id}": "sản phẩm {id}",
    "Only an administrator can change stations and stamps.": (
        "Chỉ quản trị viên được thay đổi trạm và tem."
    ),
    # add and edit
    "Add a station": "Thêm trạm",
    "Name (lower-case letters, digits, dot, dash)": "Tên (chữ thường, số, dấu chấm, gạch nối)",
    "Producers it may print for (ids, separated by commas)": (
        "Chủ thể được in tem (mã, cách nhau bằng dấu phẩy)"
    ),
    "Products it may print for (numbers, separated by commas)": (
        "Sản phẩm được in tem (số, cách nhau bằng dấu phẩy)"
    ),
    "Stamps per day (Vietnam time); empty: no limit": (
        "Số tem mỗi ngày (giờ Việt Nam); để trống: không giới hạn"
    ),
    "Stamps in total; empty: no limit": "Tổng số tem; để trống: không giới hạn",
    "Add…": "Thêm…",
    "Bindings and quotas": "Phạm vi in và hạn mức",
    "Save…": "Lưu…",
    "A kiosk never receives stamps, whatever it is bound to.": (
        "Máy tra cứu không bao giờ được cấp tem, dù được gán cho chủ thể hay sản phẩm nào."
    ),
    # the station page
    "Station {name}": "Trạm {name}",
    "Back to the stations": "Về danh sách trạm",
    "Added": "Ngày thêm",
    "Retired at": "Thu hồi lúc",
    "Stamp blocks issued": "Các lô tem đã cấp",
    "No stamp blocks issued.": "Chưa cấp lô tem nào.",
    "Block": "Lô",
    "Product": "Sản phẩm",
    "Key": "Khoá",
    "Issued on": "Ngày cấp",
    "Serials": "Số sê-ri",
    "Count": "Số lượng",
    "Station": "Trạm",
    "Actions": "Thao tác",
    "Disable…": "Tạm dừng…",
    "Enable…": "Cho hoạt động lại…",
    "Rotate token…": "Cấp mã truy cập mới…",
    "Retire…": "Thu hồi trạm…",
    "Reason (for the audit log)": "Lý do (ghi vào nhật ký)",
    "This station is retired for good; nothing about it can change.": (
        "Trạm này đã bị thu hồi vĩnh viễn; không thể thay đổi gì nữa."
    ),
    "Done: the station is disabled.": "Đã xong: trạm đã tạm dừng.",
    "Done: the station is enabled.": "Đã xong: trạm đã hoạt động lại.",
    "Done: bindings and quotas saved.": "Đã xong: đã lưu phạm vi in và hạn mức.",
    "Done: the station is retired; {count} unprinted stamps are revoked.": (
        "Đã xong: trạm đã bị thu hồi; {count} tem chưa in đã bị huỷ hiệu lực."
    ),
    # confirmations
    "Confirm": "Xác nhận",
    "Cancel": "Huỷ",
    "Not done": "Chưa thực hiện",
    "Nothing was changed.": "Không có gì thay đổi.",
    "Back": "Quay lại",
    "Add station {name}?": "Thêm trạm {name}?",
    "Station {name} gets a new token, shown only once on the next page: set it up on the "
    "device before you leave the page.": (
        "Trạm {name} sẽ nhận một mã truy cập, chỉ hiện một lần ở trang tiếp theo: hãy cài đặt "
        "cho thiết bị trước khi rời trang."
    ),
    "Yes, add the station": "Đồng ý, thêm trạm",
    "Change the bindings and quotas of {name}?": "Thay đổi phạm vi in và hạn mức của {name}?",
    "From now on {name} receives stamp blocks only for these producers and products and "
    "within these quotas; blocks already issued stay valid.": (
        "Từ nay {name} chỉ được cấp lô tem cho các chủ thể và sản phẩm này, trong các hạn mức "
        "này; các lô đã cấp vẫn có hiệu lực."
    ),
    "Yes, save": "Đồng ý, lưu",
    "Disable {name}?": "Tạm dừng {name}?",
    "Kiosk {name} stops syncing and receives no stamps from now on: the registry refuses "
    "its token until you enable it again.": (
        "Trạm {name} sẽ ngừng đồng bộ và không được cấp tem từ bây giờ: hệ thống từ chối mã "
        "truy cập của trạm cho đến khi bạn cho hoạt động lại."
    ),
    "Yes, disable": "Đồng ý, tạm dừng",
    "Enable {name}?": "Cho {name} hoạt động lại?",
    "The registry accepts the token of {name} again: it syncs and, if it is a printing "
    "station, receives stamps within its quotas.": (
        "Hệ thống sẽ chấp nhận lại mã truy cập của {name}: trạm đồng bộ lại và, nếu là trạm in "
        "tem, được cấp tem trong hạn mức."
    ),
    "Yes, enable": "Đồng ý, cho hoạt động lại",
    "Give {name} a new token?": "Cấp mã truy cập mới cho {name}?",
    "Kiosk {name} stops syncing until its token is replaced: the old token is refused at "
    "once, and the new one is shown only once, on the next page.": (
        "Trạm {name} sẽ ngừng đồng bộ cho đến khi được thay mã truy cập: mã cũ bị từ chối "
        "ngay, mã mới chỉ hiện một lần ở trang tiếp theo."
    ),
    "Yes, replace the token": "Đồng ý, cấp mã mới",
    "Retire {name} for good?": "Thu hồi vĩnh viễn {name}?",
    "{name} is disabled for good and every stamp of its blocks it did not report printed "
    "({count} now) reads REVOKED on every kiosk at its next sync. This cannot be undone.": (
        "{name} bị dừng vĩnh viễn và mọi tem trong các lô của trạm mà trạm chưa báo đã in "
        "(hiện là {count} tem) sẽ hiện ĐÃ HUỶ trên mọi máy tra cứu ở lần đồng bộ tiếp theo. "
        "Không thể hoàn tác."
    ),
    "Yes, retire": "Đồng ý, thu hồi",
    # the token page
    "New token for {name}": "Mã truy cập mới của {name}",
    "Shown only now: the registry keeps only a hash of it. Set up the device now, or copy "
    "the values somewhere safe.": (
        "Chỉ hiện lần này: hệ thống chỉ lưu bản băm của mã. Hãy cài đặt thiết bị ngay, hoặc "
        "chép các giá trị vào nơi an toàn."
    ),
    "Token": "Mã truy cập",
    "Kiosk set-up (the [registry] section of /etc/ocop-kiosk/kiosk.toml)": (
        "Cài đặt máy tra cứu (mục [registry] trong /etc/ocop-kiosk/kiosk.toml)"
    ),
    "QR code of the kiosk set-up values": "Mã QR chứa các giá trị cài đặt máy tra cứu",
    "Scan it with the kiosk, or copy the text above.": (
        "Quét mã này bằng máy tra cứu, hoặc chép đoạn chữ ở trên."
    ),
    "Go to the station": "Đến trang của trạm",
    # stamps
    "Stamp blocks per station": "Lô tem theo trạm",
    "Blocks": "Số lô",
    "First issued": "Cấp lần đầu",
    "Last issued": "Cấp lần cuối",
    "Newest stamp blocks": "Các lô tem mới nhất",
    "Signing keys": "Khoá ký tem",
    "Valid from": "Có hiệu lực từ",
    "Valid until": "Hiệu lực đến",
    "current": "đang dùng",
    "next": "kế tiếp",
    "revoked": "đã huỷ",
    "Rotate the signing key": "Đổi khoá ký tem",
    "Signing key {current} signs new stamps. Key {next} was announced in every trust list "
    "on {announced} and may sign from {valid_from}: kiosks learn a key at least {days} "
    "days before its first stamp.": (
        "Khoá {current} đang ký tem mới. Khoá {next} đã được công bố trong mọi danh sách tin "
        "cậy từ {announced} và được ký từ ngày {valid_from}: máy tra cứu biết khoá ít nhất "
        "{days} ngày trước con tem đầu tiên."
    ),
    "Emergency: rotate now, before that day": "Khẩn cấp: đổi ngay, trước ngày đó",
    "Rotate…": "Đổi khoá…",
    "Rotate the signing key to key {next}?": "Đổi khoá ký tem sang khoá {next}?",
    "Key {next} signs every new stamp block from now on; stamps signed by key {current} "
    "stay genuine. The next key is announced at once.": (
        "Từ nay khoá {next} ký mọi lô tem mới; tem do khoá {current} ký vẫn là tem thật. Khoá "
        "kế tiếp được công bố ngay."
    ),
    "Emergency rotation: kiosks that have not synced since the last trust list show the "
    "new stamps as 'cannot verify yet' until they sync.": (
        "Đổi khoá khẩn cấp: máy tra cứu chưa đồng bộ từ danh sách tin cậy gần nhất sẽ hiện tem "
        "mới là \u201cchưa kiểm tra được\u201d cho đến khi đồng bộ."
    ),
    "Yes, rotate": "Đồng ý, đổi khoá",
    "Done: key {key} signs new stamps; trust list {sequence} is published.": (
        "Đã xong: khoá {key} ký tem mới; đã công bố danh sách tin cậy số {sequence}."
    ),
    "Revoked serial ranges": "Các dải sê-ri đã huỷ",
    "No serials are revoked.": "Chưa huỷ sê-ri nào.",
    "Reason": "Lý do",
    "Revoked at": "Huỷ lúc",
    "Revoke a serial range": "Huỷ một dải sê-ri",
    "First serial": "Sê-ri đầu",
    "Last serial": "Sê-ri cuối",
    "Revoke…": "Huỷ…",
    "Revoke serials {first} to {last}?": "Huỷ các sê-ri từ {first} đến {last}?",
    "The {count} stamps with serials {first} to {last} read REVOKED on every kiosk at its "
    "next sync and on the phone pages at once. This cannot be undone.": (
        "{count} tem có sê-ri từ {first} đến {last} sẽ hiện ĐÃ HUỶ trên mọi máy tra cứu ở lần "
        "đồng bộ tiếp theo và trên trang tra cứu bằng điện thoại ngay lập tức. Không thể hoàn "
        "tác."
    ),
    "Yes, revoke": "Đồng ý, huỷ",
    "Done: trust list {sequence} is published; kiosks get it at their next sync.": (
        "Đã xong: đã công bố danh sách tin cậy số {sequence}; máy tra cứu nhận được ở lần "
        "đồng bộ tiếp theo."
    ),
    "Revoked signing keys": "Các khoá ký đã huỷ",
    "No signing key is revoked.": "Chưa huỷ khoá ký nào.",
    "Revoked from": "Huỷ từ ngày",
    "Last good serial": "Sê-ri hợp lệ cuối",
    "Revoke a signing key": "Huỷ một khoá ký tem",
    "Stamps issued on or after this day are revoked": "Tem cấp từ ngày này trở đi bị huỷ",
    "Last good serial (optional: stamps up to it stay genuine)": (
        "Sê-ri hợp lệ cuối (không bắt buộc: tem đến sê-ri này vẫn là tem thật)"
    ),
    "Revoke signing key {key}?": "Huỷ khoá ký tem {key}?",
    "Every stamp key {key} signed for a day from {day} on reads REVOKED on every "
    "kiosk at its next sync. If it is the current key, no stamps can be issued until the "
    "key is rotated. This cannot be undone.": (
        "Mọi tem do khoá {key} ký cho ngày từ {day} trở đi sẽ hiện ĐÃ HUỶ trên mọi máy "
        "tra cứu ở lần đồng bộ tiếp theo. Nếu đây là khoá đang dùng, không thể cấp tem cho đến "
        "khi đổi khoá. Không thể hoàn tác."
    ),
    "Stamps of key {key} up to serial {serial} stay genuine.": (
        "Tem của khoá {key} đến sê-ri {serial} vẫn là tem thật."
    ),
    # form problems
    "{field}: a whole number of at least 0, or empty.": (
        "{field}: số nguyên từ 0 trở lên, hoặc để trống."
    ),
    "{field}: a whole number from 1 to {high}.": "{field}: số nguyên từ 1 đến {high}.",
    "{field}: a day as YYYY-MM-DD.": "{field}: ngày theo dạng YYYY-MM-DD.",
    "The last serial is below the first.": "Sê-ri cuối nhỏ hơn sê-ri đầu.",
    "Product ids are numbers.": "Mã sản phẩm phải là số.",
    "Role: kiosk or printing station.": "Vai trò: máy tra cứu hoặc trạm in tem.",
    "A station's name: lower-case letters, digits, dot, dash and underscore, at most 64.": (
        "Tên trạm: chữ thường, số, dấu chấm, gạch nối và gạch dưới, tối đa 64 ký tự."
    ),
    "There is no station of that name.": "Không có trạm nào tên như vậy.",
    "The registry refused it: {detail}": "Hệ thống từ chối: {detail}",
}
console_text.add_strings(STRINGS)

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
        "Disable…",
        "Disable {name}?",
        "Kiosk {name} stops syncing and receives no stamps from now on: the registry refuses "
        "its token until you enable it again.",
        "Yes, disable",
        "Done: the station is disabled.",
    )
    ENABLE = (
        "enable",
        "Enable…",
        "Enable {name}?",
        "The registry accepts the token of {name} again: it syncs and, if it is a printing "
        "station, receives stamps within its quotas.",
        "Yes, enable",
        "Done: the station is enabled.",
    )
    ROTATE_TOKEN = (
        "rotate-token",
        "Rotate token…",
        "Give {name} a new token?",
        "Kiosk {name} stops syncing until its token is replaced: the old token is refused at "
        "once, and the new one is shown only once, on the next page.",
        "Yes, replace the token",
        "",
    )
    RETIRE = (
        "retire",
        "Retire…",
        "Retire {name} for good?",
        "{name} is disabled for good and every stamp of its blocks it did not report printed "
        "({count} now) reads REVOKED on every kiosk at its next sync. This cannot be undone.",
        "Yes, retire",
        "Done: the station is retired; {count} unprinted stamps are revoked.",
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

    DISABLED = "disabled"
    ENABLED = "enabled"
    SCOPE = "scope"
    RETIRED = "retired"
    ROTATED = "key-rotated"
    REVOKED = "revoked"


DONE_MESSAGES = {
    Done.DISABLED: StationAction.DISABLE.value[5],
    Done.ENABLED: StationAction.ENABLE.value[5],
    Done.SCOPE: "Done: bindings and quotas saved.",
    Done.RETIRED: StationAction.RETIRE.value[5],
    Done.ROTATED: "Done: key {key} signs new stamps; trust list {sequence} is published.",
    Done.REVOKED: "Done: trust list {sequence} is published; kiosks get it at their next sync.",
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


def _local_time(text: str | None) -> str:
    """A stored UTC instant (db.TIME_FORMAT) as the office reads it: Vietnam time, minutes."""
    if not text:
        return ""
    try:
        moment = dt.datetime.strptime(text, db.TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return text
    return moment.astimezone(VIETNAM_TZ).strftime("%Y-%m-%d %H:%M")


def _bound(
    info: stations.StationInfo, limit: int | None = None
) -> tuple[list[tuple[str, str]], int]:
    """(msgid, id) of the station's bindings, at most `limit`, and how many more there are."""
    every = [("producer {id}", p) for p in info.producers]
    every += [("product {id}", str(p)) for p in info.products]
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
        raise FormProblem("{field}: a whole number of at least 0, or empty.", field=field)
    return int(text)


def _number(field: str, text: str, high: int) -> int:
    text = text.strip()
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise FormProblem("{field}: a whole number from 1 to {high}.", field=field, high=high)
    return int(text)


def _ids(text: str) -> list[str]:
    return [part for part in SEPARATORS.split(text.strip()) if part]


def _product_ids(text: str) -> list[int]:
    parts = _ids(text)
    if not all(p.isdigit() for p in parts):
        raise FormProblem("Product ids are numbers.")
    return [int(p) for p in parts]


def _role(text: str) -> StationRole:
    try:
        return StationRole(text)
    except ValueError:
        raise FormProblem("Role: kiosk or printing station.") from None


def _quota_shown(value: int | None) -> str:
    return "no limit" if value is None else str(value)


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
            _quota("Stamps per day (Vietnam time); empty: no limit", per_day),
            _quota("Stamps in total; empty: no limit", total),
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
            ("Role", self.role.label_msgid, True),
            ("Bound to", ", ".join(bound) or "nothing", not bound),
            (
                "Stamps per day (Vietnam time); empty: no limit",
                _quota_shown(per_day),
                per_day is None,
            ),
            ("Stamps in total; empty: no limit", _quota_shown(total), total is None),
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
        return _not_done(request, caller, section, back, 404, "There is no station of that name.")
    status = (
        409
        if isinstance(exc, (stations.StationStateError, StationExists, RotationRefused))
        else 422
    )
    return _not_done(
        request, caller, section, back, status, "The registry refused it: {detail}", detail=str(exc)
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
        local_time=_local_time,
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
                "A station's name: lower-case letters, digits, dot, dash and underscore, at "
                "most 64."
            )
        scope = ScopeForm.read(role, producers, products, quota_per_day, quota_total)
    except FormProblem as exc:
        return _refused(request, caller, Section.STATIONS, STATIONS, exc)
    if confirmed != CONFIRMED:
        fields = {
            "name": name,
            "district": district,
            "role": role,
            "producers": producers,
            "products": products,
            "quota_per_day": quota_per_day,
            "quota_total": quota_total,
        }
        return _confirm(
            request,
            caller,
            Section.STATIONS,
            Confirmation(
                "Add station {name}?",
                "Station {name} gets a new token, shown only once on the next page: set it up "
                "on the device before you leave the page.",
                "Yes, add the station",
                STATIONS,
                fields,
                {"name": name},
                [("Name", name, False), ("District", district, False)] + scope.summary(),
            ),
        )
    try:
        with database.write() as conn:
            info, token = stations.add(
                conn,
                name,
                caller.principal.name,
                client_address(request),
                district=district.strip(),
                **scope.kwargs(),
            )
            root = keyring.root_public_key(conn)
    except (StationExists, ValueError) as exc:
        return _refused(request, caller, Section.STATIONS, STATIONS, exc)
    return _token_page(request, caller, info.name, token, root)


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
        local_time=_local_time,
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
    if confirmed != CONFIRMED:
        return _confirm(
            request,
            caller,
            Section.STATIONS,
            Confirmation(
                "Change the bindings and quotas of {name}?",
                "From now on {name} receives stamp blocks only for these producers and "
                "products and within these quotas; blocks already issued stay valid.",
                "Yes, save",
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
            ),
        )
    try:
        with database.write() as conn:
            stations.set_scope(
                conn, name, caller.principal.name, client_address(request), **scope.kwargs()
            )
    except (stations.StationNotFound, stations.StationStateError, ValueError) as exc:
        return _refused(request, caller, Section.STATIONS, back, exc)
    return RedirectResponse(f"{back}?done={Done.SCOPE.value}", status_code=303)


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
    if confirmed != CONFIRMED:
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
        return _confirm(
            request,
            caller,
            Section.STATIONS,
            Confirmation(
                chosen.value[2],
                chosen.value[3],
                chosen.value[4],
                chosen.href(row.name),
                {"reason": reason} if has_reason else {},
                {"name": row.name, "count": unprinted},
                [("Reason (for the audit log)", reason, False)] if has_reason and reason else [],
            ),
        )
    actor, client = caller.principal.name, client_address(request)
    try:
        with database.write() as conn:
            if chosen is StationAction.DISABLE:
                stations.disable(conn, name, actor, client, reason)
                done = f"done={Done.DISABLED.value}"
            elif chosen is StationAction.ENABLE:
                stations.enable(conn, name, actor, client)
                done = f"done={Done.ENABLED.value}"
            elif chosen is StationAction.RETIRE:
                result = stations.retire(conn, keyring, name, actor, client, reason)
                done = f"done={Done.RETIRED.value}&count={result.revoked_count}"
            else:
                token = stations.rotate_token(conn, name, actor, client)
                root = keyring.root_public_key(conn)
    except (stations.StationNotFound, stations.StationStateError, ValueError) as exc:
        return _refused(request, caller, Section.STATIONS, back, exc)
    if chosen is StationAction.ROTATE_TOKEN:
        return _token_page(request, caller, name, token, root)
    return RedirectResponse(f"{back}?{done}", status_code=303)


# ---- stamps -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRow:
    key_id: int
    valid_from: str
    valid_until: str | None
    announced: str  # the day it entered the trust lists (created_at's date)
    status: str  # msgid: current, next, revoked or ""


def _keys(conn, keyring) -> tuple[list[KeyRow], KeyRow | None, int]:
    current = keyring.current_key_id(conn)
    nxt = keyring.next_key(conn)
    revoked = {r.key_id for r in key_rows.revoked_keys(conn)}
    out = []
    for r in key_rows.signing_keys(conn):
        status = (
            "revoked"
            if r.key_id in revoked
            else "current"
            if r.key_id == current
            else "next"
            if nxt is not None and r.key_id == nxt.key_id
            else ""
        )
        out.append(KeyRow(r.key_id, r.valid_from, r.valid_until, r.created_at[:10], status))
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
        local_time=_local_time,
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
        low = _number("First serial", first, MAX_SERIAL)
        high = _number("Last serial", last, MAX_SERIAL)
        if high < low:
            raise FormProblem("The last serial is below the first.")
    except FormProblem as exc:
        return _refused(request, caller, Section.STAMPS, STAMPS, exc)
    if confirmed != CONFIRMED:
        return _confirm(
            request,
            caller,
            Section.STAMPS,
            Confirmation(
                "Revoke serials {first} to {last}?",
                "The {count} stamps with serials {first} to {last} read REVOKED on every kiosk "
                "at its next sync and on the phone pages at once. This cannot be undone.",
                "Yes, revoke",
                f"{STAMPS}/revoke-serials",
                {"first": str(low), "last": str(high), "reason": reason},
                {"first": low, "last": high, "count": high - low + 1},
                [("Reason", reason, False)] if reason else [],
            ),
        )
    try:
        with database.write() as conn:
            sequence = keyring.revoke_serials(conn, low, high, reason)
            audit.record(
                conn,
                caller.principal.name,
                AuditAction.SERIALS_REVOKE,
                f"serials:{low}-{high}",
                client_address(request),
                {"reason": reason, "trust_list_sequence": sequence},
            )
    except (ValueError, SigningError) as exc:
        return _refused(request, caller, Section.STAMPS, STAMPS, exc)
    return RedirectResponse(
        f"{STAMPS}?done={Done.REVOKED.value}&sequence={sequence}", status_code=303
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
        key = _number("Key", key_id, 255)
        try:
            day = dt.date.fromisoformat(revoked_from.strip())
        except ValueError:
            raise FormProblem("{field}: a day as YYYY-MM-DD.", field="Revoked from") from None
        good = (
            _number("Last good serial", last_good_serial, MAX_SERIAL)
            if last_good_serial.strip()
            else None
        )
    except FormProblem as exc:
        return _refused(request, caller, Section.STAMPS, STAMPS, exc)
    if confirmed != CONFIRMED:
        return _confirm(
            request,
            caller,
            Section.STAMPS,
            Confirmation(
                "Revoke signing key {key}?",
                "Every stamp key {key} signed for a day from {day} on reads REVOKED on "
                "every kiosk at its next sync. If it is the current key, no stamps can be "
                "issued until the key is rotated. This cannot be undone.",
                "Yes, revoke",
                f"{STAMPS}/revoke-key",
                {
                    "key_id": str(key),
                    "revoked_from": day.isoformat(),
                    "last_good_serial": "" if good is None else str(good),
                    "reason": reason,
                },
                {"key": key, "day": day.isoformat(), "serial": good},
                [("Reason", reason, False)] if reason else [],
                ("Stamps of key {key} up to serial {serial} stay genuine.",)
                if good is not None
                else (),
            ),
        )
    try:
        with database.write() as conn:
            sequence = keyring.revoke_key(conn, key, day, good, reason)
            audit.record(
                conn,
                caller.principal.name,
                AuditAction.KEY_REVOKE,
                f"key:{key}",
                client_address(request),
                {
                    "from": day,
                    "last_good_serial": good,
                    "reason": reason,
                    "trust_list_sequence": sequence,
                },
            )
    except (ValueError, SigningError) as exc:
        return _refused(request, caller, Section.STAMPS, STAMPS, exc)
    return RedirectResponse(
        f"{STAMPS}?done={Done.REVOKED.value}&sequence={sequence}", status_code=303
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
    if confirmed != CONFIRMED:
        with database.read() as conn:
            _, next_key, current = _keys(conn, keyring)
        return _confirm(
            request,
            caller,
            Section.STAMPS,
            Confirmation(
                "Rotate the signing key to key {next}?",
                "Key {next} signs every new stamp block from now on; stamps signed by key "
                "{current} stay genuine. The next key is announced at once.",
                "Yes, rotate",
                f"{STAMPS}/rotate-key",
                {"emergency": CONFIRMED if now else ""},
                {"next": next_key.key_id if next_key else "?", "current": current},
                [],
                (
                    "Emergency rotation: kiosks that have not synced since the last trust list "
                    "show the new stamps as 'cannot verify yet' until they sync.",
                )
                if now
                else (),
            ),
        )
    try:
        with database.write() as conn:
            key_id = keyring.rotate(conn, emergency=now)
            sequence, _ = keyring.latest_signed(conn)
            audit.record(
                conn,
                caller.principal.name,
                AuditAction.KEY_ROTATE,
                f"key:{key_id}",
                client_address(request),
                {"trust_list_sequence": sequence, "emergency": now},
            )
    except SigningError as exc:  # RotationRefused among them
        return _refused(request, caller, Section.STAMPS, STAMPS, exc)
    return RedirectResponse(
        f"{STAMPS}?done={Done.ROTATED.value}&key={key_id}&sequence={sequence}", status_code=303
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
