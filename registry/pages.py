"""Server-rendered HTML: the public stamp page (what a phone sees after scanning a stamp),
the reports page for the provincial office, and small message pages.

Plain string templates; every value goes through html.escape. Charts are inline SVG drawn
here, so nothing is loaded from a CDN and the pages work on a slow phone link.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from html import escape

from sqlalchemy.engine import Connection

from ocop.clock import ClockState
from ocop.heartbeat import NOT_WATCHED, Field
from ocop.i18n import translator
from ocop.ratings import GROUP_NAMES
from ocop.stamps.codec import parse_stamp_payload, stamp_text_for_payload
from ocop.stamps.errors import StampFormatError
from ocop.stamps.serials import serial_digits
from ocop.stamps.verdicts import COUNTED_FOR_CLONES, Verdict
from ocop.stamps.verifier import StampVerifier
from registry import catalog, csrf
from registry.audit import AuditEntry
from registry.clones import DetectionStatus, Rule
from registry.config import RegistryConfig
from registry.dal import catalog as catalog_rows
from registry.dal import keys
from registry.reports import Contact, Report, StationHealth, scan_stats_for_serial

CSS = """
:root{--ok:#1b7f3b;--info:#1d4e89;--neutral:#475467;--warn:#b86e00;--alert:#c2410c;
--bad:#b3261e;--ink:#1d1d1f;--mute:#5f6368;--bg:#f6f5f1}
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,"Noto Sans",sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:42rem;margin:0 auto;padding:1rem}
.wide{max-width:70rem}
.verdict{border-radius:.8rem;padding:1rem 1.2rem;color:#fff;margin:.5rem 0 1rem}
.verdict h1{font-size:1.35rem;margin:0 0 .3rem}.verdict p{margin:0;opacity:.95}
.ok{background:var(--ok)}.info{background:var(--info)}.neutral{background:var(--neutral)}
.warn{background:var(--warn)}.alert{background:var(--alert)}.bad{background:var(--bad)}
.card{background:#fff;border-radius:.8rem;padding:1rem 1.2rem;margin:0 0 1rem;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card h2{font-size:1.1rem;margin:0 0 .5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:0}
dt{color:var(--mute)}dd{margin:0}
.stars{color:#e3a008;font-size:1.4rem;letter-spacing:.1rem}
.en{color:var(--mute);font-size:.92em}
.verdict .en{color:#fff;opacity:.85}
img.product{width:100%;max-height:16rem;object-fit:contain;border-radius:.5rem;background:#eee}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .4rem;
border-bottom:1px solid #e5e5e5;vertical-align:top}td.n{text-align:right}
footer{color:var(--mute);font-size:.85rem;text-align:center;padding:1rem}
svg text{font:12px system-ui,sans-serif;fill:#333}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
tr.flagged td{background:#fdecea}.flag{color:var(--bad);font-weight:600}
.scroll{overflow-x:auto}
"""


CLOCK_BEHIND = ClockState.BEHIND.value


def pick_language(query: str | None, accept_language: str | None) -> str:
    if query in ("vi", "en"):
        return query
    if accept_language and accept_language.strip().lower().startswith("en"):
        return "en"
    return "vi"


def _page(title: str, body: str, lang: str = "vi", wide: bool = False) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
        f'<link rel="stylesheet" href="/static/style.css"></head><body>'
        f"<main{' class=wide' if wide else ''}>{body}</main>"
        f"<footer>OCOP Sơn La · Văn phòng Điều phối Chương trình OCOP tỉnh Sơn La"
        f"</footer></body></html>"
    )


def _both(vi: str, en: str, lang: str, tag: str = "span") -> str:
    first, second = (vi, en) if lang == "vi" else (en, vi)
    return f'<{tag}>{escape(first)}</{tag}> <{tag} class="en">{escape(second)}</{tag}>'


def message_page(title: str, text: str, lang: str = "vi") -> str:
    return _page(
        title, f'<div class="verdict bad"><h1>{escape(title)}</h1><p>{escape(text)}</p></div>', lang
    )


def index_page() -> str:
    return _page(
        "OCOP Sơn La",
        '<div class="card"><h2>Sổ đăng ký OCOP tỉnh Sơn La</h2>'
        '<p>Quét tem QR trên sản phẩm để kiểm tra. <span class="en">Scan the QR '
        "stamp on a product to check it.</span></p></div>",
    )


# --- the stamp page ---------------------------------------------------------------------------


def _verdict_box(verdict: Verdict, lang: str) -> str:
    other = "en" if lang == "vi" else "vi"
    title = translator(lang)(verdict.title)
    return (
        # The tone's value is a CSS class of the stylesheet above (every tone has one: a test)
        f'<div class="verdict {verdict.tone.value}" id="verdict" '
        f'data-verdict="{verdict.value}"><h1>{escape(title)}</h1>'
        f"<p>{escape(verdict.message(lang))}</p>"
        f'<p class="en">{escape(verdict.message(other))}</p></div>'
    )


@dataclass(frozen=True)
class StampPage:
    status: int  # 400 malformed, 404 not signed by a trusted key, else 200
    html: str
    sighted_serial: int | None = None  # a verified stamp whose view counts (registry/views)


def stamp_page(
    conn: Connection,
    config: RegistryConfig,
    verifier: StampVerifier,
    code: str,
    lang: str = "vi",
    today: dt.date | None = None,
) -> StampPage:
    """The page for `code` with the registry's own verdict (verification.Verifiers): a
    serial on the suspect list shows as possibly copied. 400 for a malformed code, 404 for
    a code that is well-formed but not signed by a trusted key; 200 otherwise (genuine,
    expired rating, revoked, suspect)."""
    today = today or dt.datetime.now(dt.UTC).date()
    payload = code.upper() if code.isascii() else code  # phones may lowercase the URL
    try:
        parse_stamp_payload(payload)
    except StampFormatError:
        return StampPage(
            400,
            _page(
                "Mã không hợp lệ / Malformed code",
                _verdict_box(Verdict.FORGED, lang)
                + '<div class="card"><p>'
                + _both(
                    "Mã trên tem bị sai định dạng.", "The code on this stamp is malformed.", lang
                )
                + "</p></div>",
                lang,
            ),
        )
    result = verifier.verify(stamp_text_for_payload(payload, config.stamp_base_url), today=today)
    if result.verdict is Verdict.KEY_NOT_YET_KNOWN:
        # The registry's own list has every key it ever made (the next one included):
        # a key id it does not know was never ours.
        result = dataclasses.replace(result, verdict=Verdict.FORGED)
    if not result.verdict.signature_valid:
        return StampPage(
            404,
            _page("Tem không hợp lệ / Invalid stamp", _verdict_box(result.verdict, lang), lang),
        )
    verdict = result.verdict
    assert result.serial is not None and result.product_id is not None  # signature valid
    scans, by_station = scan_stats_for_serial(conn, result.serial)
    product = catalog_rows.get_product(conn, result.product_id)
    parts = [_verdict_box(verdict, lang)]
    if product is not None:
        parts.append(_product_card(conn, product, verdict, lang, today))
    parts.append(_stamp_card(conn, result, scans, by_station, lang))
    title = product["name_vi"] if product else "OCOP Sơn La"
    sighted = result.serial if verdict in COUNTED_FOR_CLONES else None
    return StampPage(200, _page(f"{title} – OCOP Sơn La", "".join(parts), lang), sighted)


def _product_card(
    conn: Connection, product: dict, verdict: Verdict, lang: str, today: dt.date
) -> str:
    producer = catalog_rows.get_producer(conn, product["producer"])
    rating = catalog.current_rating(product["ratings"])
    show_stars = verdict.may_show_stars and catalog.rating_valid(rating, today)
    name_first, name_second = (
        (product["name_vi"], product["name_en"])
        if lang == "vi"
        else (product["name_en"] or product["name_vi"], product["name_vi"])
    )
    group_vi, group_en = GROUP_NAMES.get(product["group"], ("", ""))
    rows = [
        (("Nhà sản xuất", "Producer"), producer.name if producer else product["producer"]),
        (
            ("Xuất xứ", "Origin"),
            ", ".join(x for x in (product["commune"], product["district"], "Sơn La") if x),
        ),
        (("Nhóm sản phẩm", "Product group"), group_vi if lang == "vi" else group_en),
    ]
    html = ['<div class="card" id="product">']
    if product["image_hash"]:
        html.append(
            f'<img class="product" alt="" src="/api/v1/media/{escape(product["image_hash"])}">'
        )
    html.append(f"<h2>{escape(name_first)}</h2>")
    if name_second and name_second != name_first:
        html.append(f'<p class="en">{escape(name_second)}</p>')
    if show_stars and rating is not None:
        stars = rating["stars"]
        html.append(
            f'<p id="stars" data-stars="{stars}"><span class="stars" aria-label="'
            f'{stars} sao">{"★" * stars}{"☆" * (5 - stars)}</span> '
            + _both(
                f"OCOP {stars} sao, hiệu lực đến {rating['valid_until']}",
                f"OCOP {stars} stars, valid until {rating['valid_until']}",
                lang,
            )
            + "</p>"
        )
    elif rating is not None and rating["stars"]:
        html.append(
            "<p>"
            + _both(
                "Chứng nhận OCOP không còn hiệu lực: không hiển thị số sao.",
                "The OCOP rating is not valid: no stars shown.",
                lang,
            )
            + "</p>"
        )
    html.append("<dl>")
    for (vi, en), value in rows:
        label = vi if lang == "vi" else en
        html.append(f"<dt>{escape(label)}</dt><dd>{escape(value or '–')}</dd>")
    html.append("</dl></div>")
    return "".join(html)


def _stamp_card(
    conn: Connection, result, scans: int, by_station: list[tuple[str, str, int]], lang: str
) -> str:
    block = keys.block_of_serial(conn, result.serial)
    html = [
        '<div class="card" id="history"><h2>'
        + _both("Thông tin tem", "About this stamp", lang)
        + "</h2><dl>",
        f"<dt>{'Số sê-ri' if lang == 'vi' else 'Serial'}</dt>"
        f"<dd>{serial_digits(result.serial)}</dd>",  # as printed on the label
        f"<dt>{'Ngày phát hành' if lang == 'vi' else 'Issued'}</dt>"
        f"<dd>{result.issued_on.isoformat()}</dd>",
    ]
    if block is not None:
        html.append(
            f"<dt>{'Điểm in tem' if lang == 'vi' else 'Printed by'}</dt>"
            f"<dd>{escape(block.station)}"
            f"{' (' + escape(block.district) + ')' if block.district else ''}</dd>"
        )
    html.append(
        f"<dt>{'Số lần quét' if lang == 'vi' else 'Times scanned'}</dt>"
        f'<dd id="scan-count" data-scans="{scans}">{scans}</dd></dl>'
    )
    if by_station:
        html.append(
            "<table><tr><th>"
            + ("Nơi quét" if lang == "vi" else "Where scanned")
            + '</th><th class="n">'
            + ("Lần" if lang == "vi" else "Times")
            + "</th></tr>"
        )
        for name, district, n in by_station:
            where = f"{name} ({district})" if district else name
            html.append(f'<tr><td>{escape(where)}</td><td class="n">{n}</td></tr>')
        html.append("</table>")
    html.append("</div>")
    return "".join(html)


# --- charts and the reports page -------------------------------------------------------------


def svg_bars(
    points: list[tuple[str, int]],
    width: int = 640,
    height: int = 200,
    label_every: int = 1,
    title: str = "",
) -> str:
    """A vertical bar chart (e.g. scans per day) as inline SVG."""
    if not points:
        return ""
    top = max(max(v for _, v in points), 1)
    pad_l, pad_b, pad_t = 40, 30, 10
    plot_w, plot_h = width - pad_l - 10, height - pad_b - pad_t
    bar_w = plot_w / len(points)
    out = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}">',
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 10}" '
        f'y2="{pad_t + plot_h}" stroke="#999"/>',
        f'<text x="{pad_l - 4}" y="{pad_t + 10}" text-anchor="end">{top}</text>',
        f'<text x="{pad_l - 4}" y="{pad_t + plot_h}" text-anchor="end">0</text>',
    ]
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top
        x = pad_l + i * bar_w
        out.append(
            f'<rect x="{x + 1:.1f}" y="{pad_t + plot_h - h:.1f}" '
            f'width="{max(bar_w - 2, 1):.1f}" height="{h:.1f}" fill="#1b7f3b">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if i % label_every == 0:
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def svg_hbars(points: list[tuple[str, int]], width: int = 640, title: str = "") -> str:
    """A horizontal bar chart (top products, districts) as inline SVG."""
    if not points:
        return "<p>–</p>"
    row_h, label_w = 24, 230
    top = max(max(v for _, v in points), 1)
    height = row_h * len(points) + 4
    out = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}">'
    ]
    for i, (label, value) in enumerate(points):
        y = i * row_h + 2
        w = (width - label_w - 60) * value / top
        short = label if len(label) <= 34 else label[:33] + "…"
        out.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">'
            f"{escape(short)}<title>{escape(label)}</title></text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="#2f6fb0"/><text x="{label_w + w + 4:.1f}" y="{y + 16}">{value}'
            f"</text>"
        )
    out.append("</svg>")
    return "".join(out)


def duration_text(seconds: int | float | None) -> str:
    """45 s, 12 min, 3.5 h, 6 d ('–' when unknown)."""
    if seconds is None:
        return "–"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.0f} {unit}" if value >= 10 or unit == "min" else f"{value:.1f} {unit}"
    return f"{seconds:.0f} s"


def bytes_text(n: float | None) -> str:
    if n is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def _device_text(state, age_s, extra: str = "") -> str:
    if state in (None, NOT_WATCHED):
        return "–" if state is None else "không theo dõi / not watched"
    age = f" ({duration_text(age_s)} trước / ago)" if age_s else ""
    return f"{state}{extra}{age}"


_CONTACT_TEXT = {
    Contact.OK: "",
    Contact.SILENT: "im lặng / silent",
    Contact.NEVER: "chưa từng liên lạc / never heard from",
    Contact.DISABLED: "đã khoá / disabled",
}


def _station_row(st: StationHealth) -> str:
    hb = st.heartbeat or {}
    g = hb.get
    contact = _CONTACT_TEXT[st.contact]
    if st.contact is Contact.SILENT:
        contact += f" {duration_text(st.silent_for_s)}"
    heard = (
        f"{escape(st.heartbeat_received_at)} ({duration_text(st.silent_for_s)} trước / ago)"
        if st.heartbeat_received_at
        else "–"
    )
    if contact:
        heard += f' <span class="flag">{escape(contact)}</span>'
    camera = _device_text(
        g(Field.CAMERA),
        g(Field.CAMERA_AGE_S),
        " · máy ảnh demo / demo camera" if g(Field.CAMERA_IS_DEMO) else "",
    )
    paper = g(Field.PAPER)
    printer = _device_text(
        g(Field.PRINTER),
        g(Field.PRINTER_AGE_S),
        f" · giấy / paper {paper}" if paper not in (None, NOT_WATCHED) else "",
    )
    trust = (
        f"{g(Field.TRUST_LIST_SEQUENCE)} ({duration_text(g(Field.TRUST_LIST_AGE_S))})"
        if g(Field.TRUST_LIST_SEQUENCE)
        else "–"
    )
    if g(Field.TRUST_LIST_STALE) is True:
        # The kiosk's list expired by its own trusted clock: it is missing newer lists.
        trust += " · danh sách đã cũ / list out of date"

    pending = g(Field.PENDING_OUTBOX)
    outbox = (
        "–"
        if pending is None
        else (
            f"{pending}"
            + (f" ({duration_text(g(Field.PENDING_OUTBOX_OLDEST_AGE_S))})" if pending else "")
        )
    )
    clock_field = g(Field.CLOCK)
    clock: dict = clock_field if isinstance(clock_field, dict) else {}
    clock_text = clock.get("system_time") or g(Field.AT) or "–"
    if clock.get("state") == CLOCK_BEHIND:
        clock_text += (
            f" · đồng hồ chậm / clock behind {duration_text(clock.get('behind_s'))}"
            f" (trusted {clock.get('trusted_time') or '–'})"
        )
    cells = [
        st.name,
        st.district,
        None,
        camera,
        printer,
        bytes_text(g(Field.DISK_FREE_BYTES)),
        trust,
        outbox,
        str(g(Field.APP_VERSION, "–")),
        duration_text(g(Field.UPTIME_S)),
        clock_text,
    ]
    tds = "".join(f"<td>{heard}</td>" if c is None else f"<td>{escape(str(c))}</td>" for c in cells)
    cls = ' class="flagged"' if st.flagged else ""
    return f'<tr{cls} data-station="{escape(st.name)}" data-contact="{st.contact.value}">{tds}</tr>'


def _stations_card(report: Report) -> str:
    flagged = [st for st in report.stations if st.flagged]
    limit = duration_text(report.station_silent_after_s)
    summary = (
        f'<p class="flag" id="silent-stations" data-count="{len(flagged)}">'
        f"{len(flagged)} trạm không gửi tín hiệu quá {limit} / stations with no "
        f"heartbeat for more than {limit}: "
        f"{escape(', '.join(st.name for st in flagged))}</p>"
        if flagged
        else f'<p id="silent-stations" data-count="0">Mọi trạm đều liên lạc trong {limit} '
        f"qua / every station sent a heartbeat within {limit}</p>"
    )
    head = "".join(
        f"<th>{escape(h)}</th>"
        for h in (
            "Trạm / Station",
            "Huyện / District",
            "Tín hiệu cuối / Last heartbeat",
            "Máy ảnh / Camera",
            "Máy in / Printer",
            "Đĩa trống / Disk free",
            "Danh sách tin cậy / Trust list",
            "Chờ gửi / Outbox",
            "Phiên bản / Version",
            "Đã chạy / Uptime",
            "Giờ máy / Clock",
        )
    )
    rows = "".join(_station_row(st) for st in report.stations)
    return (
        f'<div class="card" id="stations"><h2>Trạm <span class=en>Stations</span></h2>'
        f'{summary}<div class="scroll"><table><tr>{head}</tr>{rows}</table></div></div>'
    )


def _block_alerts_card(report: Report) -> str:
    """Refused stamp-block requests: each row is a token used beyond its authority."""
    alerts = report.block_alerts
    head = (
        '<div class="card" id="block-alerts"><h2>Yêu cầu tem bị từ chối '
        "<span class=en>Refused stamp-block requests</span></h2>"
    )
    if not alerts:
        return head + '<p data-count="0">Không có / None</p></div>'
    rows = "".join(
        f'<tr class="flagged" data-station="{escape(a.station)}" data-reason="{escape(a.reason)}">'
        f"<td>{escape(a.day)}</td><td>{escape(a.station)}</td><td>{escape(a.reason)}</td>"
        f"<td class=n>{a.product_id}</td><td class=n>{a.attempts}</td>"
        f"<td class=n>{a.stamps_asked}</td><td>{escape(a.last_at)}</td>"
        f"<td>{escape(a.detail)}</td></tr>"
        for a in alerts
    )
    return (
        f'{head}<p class="flag" data-count="{len(alerts)}">{len(alerts)} cảnh báo / alerts: '
        f"một mã trạm bị dùng quá quyền / a station token used beyond its authority</p>"
        '<div class="scroll"><table><tr><th>Ngày / Day</th><th>Trạm / Station</th>'
        "<th>Lý do / Reason</th><th class=n>Sản phẩm / Product</th>"
        "<th class=n>Lần / Attempts</th><th class=n>Tem xin / Stamps asked</th>"
        f"<th>Lần cuối / Last</th><th>Chi tiết / Detail</th></tr>{rows}</table></div></div>"
    )


def _audit_card(entries: list[AuditEntry] | None) -> str:
    head = '<div class="card" id="audit"><h2>Nhật ký quản trị <span class=en>Audit log</span></h2>'
    if entries is None:
        return head + "<p>Chỉ vai trò admin / admin role only</p></div>"
    if not entries:
        return head + "<p>Không có / None</p></div>"
    rows = "".join(
        f"<tr><td>{escape(e.at)}</td><td>{escape(e.actor)}</td><td>{escape(e.action)}</td>"
        f"<td>{escape(e.target[:200])}</td><td>{escape(e.client)}</td></tr>"
        for e in entries
    )
    return (
        f'{head}<div class="scroll"><table><tr><th>Lúc / At (UTC)</th><th>Ai / Who</th>'
        f"<th>Việc / Action</th><th>Đối tượng / Target</th><th>Từ / From</th></tr>"
        f"{rows}</table></div></div>"
    )


_RULE_TEXT = {
    Rule.SITES.value: "nhiều nơi / many sites",
    Rule.VOLUME.value: "quét quá nhiều / too many scans",
    Rule.TRAVEL.value: "di chuyển quá nhanh / impossible travel",
}
_STATUS_TEXT = {
    DetectionStatus.PENDING.value: "chờ duyệt / pending",
    DetectionStatus.PUBLISHED.value: "đã công bố / published",
    DetectionStatus.DISMISSED.value: "đã bỏ qua / dismissed",
}
PENDING = DetectionStatus.PENDING.value


def _decision_forms(detection_id: int, csrf_token: str) -> str:
    # POST forms for the office's browser, each with the page's CSRF token (registry/csrf.py:
    # without it the post is refused); the response redirects back.
    hidden = f'<input type="hidden" name="{csrf.FORM_FIELD}" value="{escape(csrf_token)}">'
    return "".join(
        f'<form method="post" action="/reports/detections/{detection_id}/{action}" '
        f'style="display:inline">{hidden}<button type="submit" name="action" '
        f'value="{action}">{label}</button></form> '
        for action, label in (("approve", "Công bố / Publish"), ("dismiss", "Bỏ qua / Dismiss"))
    )


def _detections_card(report: Report, csrf_token: str) -> str:
    pending = sum(1 for d in report.detections if d.status == PENDING)
    html = [
        '<div class="card" id="suspects"><h2>Sê-ri đáng ngờ <span class=en>Suspect '
        f'serials</span></h2><p id="pending-detections" data-count="{pending}">'
        f"{pending} chờ duyệt / pending the office's decision</p>"
    ]
    if not report.detections:
        return "".join(html) + "<p>Không có / None</p></div>"
    html.append(
        '<div class="scroll"><table><tr><th>Serial</th><th>Sản phẩm / Product</th>'
        "<th>Quy tắc / Rule</th><th>Chi tiết / Detail</th><th>Trạng thái / Status</th>"
        "<th>Lúc / When</th><th></th></tr>"
    )
    for d in report.detections:
        decided = f" · {d.decided_by} {d.decided_at}" if d.decided_by else ""
        product = f"{escape(d.product_name)} (#{d.product_id})" if d.product_id else "–"
        action = _decision_forms(d.id, csrf_token) if d.status == PENDING else ""
        cls = ' class="flagged"' if d.status == PENDING else ""
        html.append(
            f'<tr{cls} id="detection-{d.id}" data-serial="{d.serial}" data-status="{d.status}">'
            f"<td>{d.serial}</td><td>{product}</td>"
            f"<td>{escape(_RULE_TEXT.get(d.rule, d.rule))}</td><td>{escape(d.detail)}</td>"
            f"<td>{escape(_STATUS_TEXT.get(d.status, d.status))}</td>"
            f"<td>{escape(d.detected_at + decided)}</td><td>{action}</td></tr>"
        )
    return "".join(html) + "</table></div></div>"


def _anomalies_card(report: Report) -> str:
    html = [
        '<div class="card" id="anomalies"><h2>Bất thường của trạm <span class=en>Station '
        "anomalies (refused uploads)</span></h2>"
    ]
    if not report.anomalies:
        return "".join(html) + "<p>Không có / None</p></div>"
    html.append(
        "<table><tr><th>Trạm / Station</th><th>Lý do / Reason</th>"
        "<th class=n>Số lần / Count</th><th>Lần cuối / Last</th></tr>"
    )
    for a in report.anomalies:
        html.append(
            f'<tr class="flagged" data-station="{escape(a.station)}" data-reason="{a.reason}" '
            f'data-count="{a.count}"><td>{escape(a.station)}</td><td>{escape(a.reason)}</td>'
            f"<td class=n>{a.count}</td><td>{escape(a.last_at)}</td></tr>"
        )
    return "".join(html) + "</table></div>"


def reports_page(
    report: Report,
    audit_entries: list[AuditEntry] | None = None,
    notices: list[str] | None = None,
    viewer: str = "",
    csrf_token: str = "",
) -> str:
    """audit_entries None: the viewer may not see the audit log. csrf_token: what a form
    posted from this page must send (registry/csrf.py; forms use csrf.form_field)."""
    days = [(d[5:], n) for d, n in report.scans_per_day]
    every = max(1, len(days) // 10)
    body = [
        f"<h1>Báo cáo OCOP Sơn La <span class=en>Reports</span></h1>"
        f"<p>{escape(report.first_day)} – {escape(report.last_day)} · "
        f"{report.total_scans} lượt quét / scans · {report.total_prints} tem in / "
        f"stamps printed</p>",
        '<div class="card"><h2>Lượt quét theo ngày <span class=en>Scans per day</span>'
        "</h2>" + svg_bars(days, label_every=every, title="scans per day") + "</div>",
        '<div class="grid"><div class="card"><h2>Sản phẩm được quét nhiều nhất '
        "<span class=en>Top products</span></h2>"
        + svg_hbars(
            [(f"{name} (#{pid})", n) for pid, name, n in report.top_products], title="top products"
        )
        + "</div>",
        '<div class="card"><h2>Theo huyện <span class=en>Per district</span></h2>'
        + svg_hbars(report.per_district, title="scans per district")
        + "</div></div>",
        '<div class="card"><h2>Theo kết quả <span class=en>Per verdict</span></h2>'
        + svg_hbars(report.per_verdict, title="scans per verdict")
        + "</div>",
    ]
    body.append(_detections_card(report, csrf_token))
    body.append(_anomalies_card(report))
    body.append(
        '<div class="card"><h2>Theo sản phẩm <span class=en>Per product</span></h2>'
        "<table><tr><th>#</th><th>Sản phẩm / Product</th><th class=n>Lần quét / "
        "Scans</th></tr>"
    )
    for pid, name, n in report.per_product:
        body.append(f"<tr><td>{pid}</td><td>{escape(name)}</td><td class=n>{n}</td></tr>")
    body.append("</table></div>")
    body.append(_block_alerts_card(report))
    body.append(_stations_card(report))
    body.append(_audit_card(audit_entries))
    warnings = "".join(
        f'<div class="verdict bad"><p>{escape(text)}</p></div>' for text in notices or []
    )
    who = f"<p>{escape(viewer)}</p>" if viewer else ""
    if csrf_token:
        who += f'<span hidden id="csrf-token" data-token="{escape(csrf_token)}"></span>'

    return _page("Báo cáo OCOP / Reports", warnings + "".join(body) + who, wide=True)
