"""Server-rendered HTML: the public stamp page (what a phone sees after scanning a stamp),
the reports page for the provincial office, and small message pages.

Plain string templates; every value goes through html.escape. Charts are inline SVG drawn
here, so nothing is loaded from a CDN and the pages work on a slow phone link.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlencode

from sqlalchemy.engine import Connection

from ocop.clock import ClockState, date_text  # also as registry.pages.date_text
from ocop.heartbeat import NOT_WATCHED, Field
from ocop.ratings import GROUP_NAMES
from ocop.stamps.codec import parse_stamp_payload, stamp_text_for_payload
from ocop.stamps.errors import StampFormatError
from ocop.stamps.serials import serial_digits
from ocop.stamps.verdicts import COUNTED_FOR_CLONES, Verdict, verdict_title
from ocop.stamps.verifier import StampVerifier, Verification
from ocop.tone import Tone
from registry import catalog, csrf, public_reports
from registry.audit import AuditEntry
from registry.clones import DetectionStatus, Rule
from registry.config import RegistryConfig
from registry.dal import catalog as catalog_rows
from registry.dal.stamp_reports import StoredReport
from registry.i18n import N_, translator
from registry.lookups import MAX_SERIAL_DIGITS, SerialProblem, SerialState, look_up, parse_serial
from registry.reports import Contact, Report, StationHealth

CSS = """
:root{--ok:#1b7f3b;--info:#1d4e89;--neutral:#475467;--warn:#8a5300;--alert:#b93a0a;
--bad:#b3261e;--ink:#1d1d1f;--mute:#555b61;--bg:#f6f5f1;--brand:#14532d}
*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
color:var(--ink);background:var(--bg);overflow-wrap:anywhere}
main{max-width:42rem;margin:0 auto;padding:.75rem}
.wide{max-width:70rem}
.top{background:var(--brand);color:#fff}
.top .in{max-width:42rem;margin:0 auto;padding:.5rem .75rem;display:flex;align-items:center;
gap:.6rem}
.top .name{flex:1;line-height:1.3}.top .name b{display:block;font-size:1rem}
.top a{color:#fff;font-weight:600}
.official{background:#fff;border-bottom:1px solid #d8d6cf;margin:0;padding:.4rem .75rem;
text-align:center}
.official b{color:var(--brand)}
a{color:#0b4f9c;display:inline-flex;align-items:center;min-height:48px;min-width:48px}
.verdict{border-radius:.8rem;padding:1rem 1.2rem;color:#fff;margin:.5rem 0 1rem}
.verdict h1{font-size:1.4rem;margin:0 0 .3rem}.verdict p{margin:.2rem 0 0}
.ok{background:var(--ok)}.info{background:var(--info)}.neutral{background:var(--neutral)}
.warn{background:var(--warn)}.alert{background:var(--alert)}.bad{background:var(--bad)}
.card{background:#fff;border-radius:.8rem;padding:1rem 1.2rem;margin:0 0 1rem;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card h1{font-size:1.4rem;margin:0 0 .5rem}.card h2{font-size:1.15rem;margin:0 0 .5rem}
dl+h2{margin-top:1rem!important}
dl{display:grid;grid-template-columns:minmax(6rem,max-content) 1fr;gap:.2rem .8rem;margin:0}
dt{color:var(--mute)}dd{margin:0}
.stars{color:#8a5a00;font-size:1.5rem;letter-spacing:.1rem}
.en{color:var(--mute)}
.verdict .en{color:#fff}
.checks{font-weight:600}
img.product{width:100%;max-height:16rem;object-fit:contain;border-radius:.5rem;background:#eee}
input,button{font:inherit;min-height:48px;border-radius:.5rem}
input{width:100%;padding:.5rem .7rem;border:2px solid #6b7280;background:#fff;color:var(--ink)}
button{padding:.5rem 1.2rem;border:0;background:var(--brand);color:#fff;font-weight:600}
form p{margin:0 0 .6rem}label{display:block;margin:0 0 .3rem}
fieldset{border:0;padding:0;margin:0 0 .6rem}legend{font-weight:600;margin:0 0 .3rem}
label.choice{display:flex;align-items:center;gap:.6rem}
.choice input{width:48px;height:48px;flex:none;margin:0;accent-color:var(--brand)}
.steps li{margin:0 0 .4rem}
.callout{border-left:.35rem solid var(--bad);padding-left:.8rem}
svg.label{width:100%;max-width:20rem;height:auto;display:block;margin:.5rem 0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .4rem;
border-bottom:1px solid #e5e5e5;vertical-align:top}td.n{text-align:right}
footer{color:var(--mute);text-align:center;padding:1rem}
.wide svg text{font:12px system-ui,sans-serif;fill:#333}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
tr.flagged td{background:#fdecea}.flag{color:var(--bad);font-weight:600}
.scroll{overflow-x:auto}
"""

# Progressive enhancement of the share card: without JavaScript the page shows a copyable
# link; with it, and a browser that has the Web Share API, a share button as well.
SHARE_JS = """(function(){var b=document.getElementById('share-button'),
u=document.getElementById('share-url');if(!b||!u)return;
u.addEventListener('focus',function(){u.select();});
if(navigator.share){b.hidden=false;b.addEventListener('click',function(){
navigator.share({title:document.title,url:u.value}).catch(function(){});});}})();
"""

CLOCK_BEHIND = ClockState.BEHIND.value
LANGUAGES = ("vi", "en")
RELATED_ON_PAGE = 4
# The verdicts after which a shopper needs help (what to do, whom to call, how a real
# stamp looks): the ones shown in the bad and alert colours (forged, revoked, copied).
HELP_TONES = (Tone.BAD, Tone.ALERT)


def pick_language(query: str | None, accept_language: str | None) -> str:
    """?lang= first; else the first of vi / en in Accept-Language (its q order); else vi."""
    if query in LANGUAGES:
        return query
    best, best_q = "vi", -1.0
    for i, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if base in LANGUAGES and q > best_q and q > 0:
            best, best_q = base, q - i * 1e-6  # equal q: the earlier one
    return best


@dataclass(frozen=True)
class Site:
    """What every public page states: the official domain and the province's contacts."""

    domain: str
    hotline: str = ""
    hotline_uri: str = ""
    report_url: str = ""
    base_url: str = ""  # absolute URLs shown for copying (the public one, else https://domain)

    @classmethod
    def of(cls, config: RegistryConfig) -> Site:
        return cls(
            config.official_domain,
            config.hotline,
            config.hotline_uri,
            config.report_url,
            config.public_base_url or f"https://{config.official_domain}",
        )


def switch_href(path: str, query: list[tuple[str, str]], lang: str) -> str:
    """The same page in `lang` (every other query parameter kept)."""
    kept = [(k, v) for k, v in query if k != "lang"] + [("lang", lang)]
    return f"{path}?{urlencode(kept)}"


# A simple mark drawn here (no file to fetch): a star on green, the programme's colours.
LOGO = (
    '<svg width="44" height="44" viewBox="0 0 44 44" aria-hidden="true">'
    '<circle cx="22" cy="22" r="21" fill="#fff"/><circle cx="22" cy="22" r="18" '
    'fill="#1b7f3b"/><path d="M22 8l4 9.2 10 .9-7.6 6.6 2.3 9.8L22 29.4l-8.7 5.1 2.3-9.8'
    '-7.6-6.6 10-.9z" fill="#f4c430"/></svg>'
)


def _header(site: Site, lang: str, switch: str) -> str:
    other = "en" if lang == "vi" else "vi"
    _ = translator(lang)
    name = (
        "<b>"
        + _("Sơn La Provincial People's Committee")
        + "</b>"
        + _("OCOP programme (One Commune One Product)")
    )
    return (
        f'<header class="top" id="header"><div class="in">{LOGO}'
        f'<div class="name">{name}</div><a id="lang-switch" href="{escape(switch)}" '
        f'hreflang="{other}" lang="{other}">{"English" if other == "en" else "Tiếng Việt"}</a>'
        f'</div></header><p class="official" id="official">'
        + _("Official site: ")
        + f"<b>{escape(site.domain)}</b> — "
        + _("check the address bar")
        + "</p>"
    )


def _footer(site: Site, lang: str) -> str:
    _ = translator(lang)
    hotline = (
        " · " + _("Hotline ") + f'<a href="{escape(site.hotline_uri)}">{escape(site.hotline)}</a>'
        if site.hotline
        else ""
    )
    return (
        f'<footer><a href="/?lang={lang}">{escape(site.domain)}</a>{hotline}<br>'
        + _("Sơn La provincial OCOP coordination office")
        + "</footer>"
    )


def _public_page(title: str, body: str, lang: str, site: Site, switch: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
        f'<link rel="stylesheet" href="/static/style.css">'
        f'<script src="/static/share.js" defer></script></head><body>'
        f"{_header(site, lang, switch)}<main>{body}</main>{_footer(site, lang)}</body></html>"
    )


def _page(title: str, body: str, lang: str = "vi", wide: bool = False) -> str:
    """The office's pages (reports, sign-in)."""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
        f'<link rel="stylesheet" href="/static/style.css"></head><body>'
        f"<main{' class=wide' if wide else ''}>{body}</main>"
        f"<footer>OCOP Sơn La · Văn phòng Điều phối Chương trình OCOP tỉnh Sơn La"
        f"</footer></body></html>"
    )


def _both(msgid: str, lang: str, tag: str = "span") -> str:
    """A text in the visitor's language, then in the other one (muted)."""
    other = "en" if lang == "vi" else "vi"
    first, second = translator(lang)(msgid), translator(other)(msgid)
    return f'<{tag}>{escape(first)}</{tag}> <{tag} class="en">{escape(second)}</{tag}>'


def message_page(title: str, text: str, lang: str = "vi") -> str:
    return _page(
        title, f'<div class="verdict bad"><h1>{escape(title)}</h1><p>{escape(text)}</p></div>', lang
    )


def _serial_form(lang: str, value: str = "") -> str:
    _ = translator(lang)
    return (
        '<form class="card" id="serial-form" method="get" action="/check"><h2>'
        + _("Type the serial by hand")
        + '</h2><p><label for="serial">'
        + _("Label damaged, cannot scan it? Type the number printed under the QR code:")
        + f'</label><input id="serial" name="serial" inputmode="numeric" autocomplete="off" '
        f'maxlength="24" placeholder="0000 0012 3456" value="{escape(value)}"></p>'
        f'<input type="hidden" name="lang" value="{lang}"><button type="submit">'
        + _("Look up")
        + "</button></form>"
    )


def _hotline_html(site: Site, lang: str) -> str:
    if not site.hotline:
        return ""
    _ = translator(lang)
    return (
        _("Sơn La OCOP hotline: ")
        + f'<a id="hotline" href="{escape(site.hotline_uri)}">{escape(site.hotline)}</a>'
    )


def index_page(site: Site, lang: str, switch: str) -> str:
    _ = translator(lang)
    stars = [
        (
            3,
            _("meets the OCOP standard, recognised by the district"),
        ),
        (
            4,
            _("a good product, recognised by the province"),
        ),
        (
            5,
            _("excellent at national level, recognised by the central government"),
        ),
    ]
    star_rows = "".join(
        f'<dt><span class="stars" aria-label="{n} {_("stars")}">'
        f"{'★' * n}{'☆' * (5 - n)}</span></dt><dd>{escape(text)}</dd>"
        for n, text in stars
    )
    body = (
        '<div class="card" id="intro"><h1>'
        + _("Check a Sơn La OCOP stamp")
        + "</h1><p>"
        + _(
            "Every Sơn La OCOP product carries a stamp with a digitally signed QR code. This "
            "site tells you whether the province issued the stamp, what the product is, who "
            "made it and its star rating."
        )
        + '</p></div><div class="card" id="how"><h2>'
        + _("How to check")
        + '</h2><ol class="steps"><li>'
        + _(
            "Open your phone's camera, point it at the QR code on the stamp and open the link "
            "it shows."
        )
        + "</li><li>"
        + _("Look at the address bar: the real page is always {domain}. Any other is fake.").format(
            domain=site.domain
        )
        + "</li><li>"
        + _("Cannot scan? Type the serial printed under the QR code below.")
        + "</li></ol></div>"
        + _serial_form(lang)
        + '<div class="card" id="stars-help"><h2>'
        + _("What OCOP stars mean")
        + f"</h2><dl>{star_rows}</dl><p>"
        + _("A rating is valid for 36 months. Once it expires, the check shows no stars.")
        + "</p></div>"
        + (f'<div class="card" id="contact"><p>{_hotline_html(site, lang)}</p></div>')
    )
    return _public_page(_("Check a Sơn La OCOP stamp"), body, lang, site, switch)


# --- the stamp page ---------------------------------------------------------------------------


def _verdict_box(verdict: Verdict, lang: str) -> str:
    """The verdict in the kiosk's words: the member's title, message and advice."""
    other = "en" if lang == "vi" else "vi"
    gettext = translator(lang)
    advice = f'<p class="advice">{escape(gettext(verdict.advice))}</p>' if verdict.advice else ""
    return (
        # The tone's value is a CSS class of the stylesheet above (every tone has one: a test)
        f'<div class="verdict {verdict.tone.value}" id="verdict" '
        f'data-verdict="{verdict.value}"><h1>{escape(gettext(verdict.title))}</h1>'
        f"<p>{escape(verdict.message(lang))}</p>{advice}"
        f'<p class="en" lang="{other}">{escape(verdict.message(other))}</p></div>'
    )


def checks_text(checks: int, first_at: str | None, lang: str) -> str:
    """'Đã kiểm tra 3 lần, lần đầu ngày 02/12/2026' / 'Checked 1 time, first on ...'."""
    _ = translator(lang)
    if not checks:
        return _("Not checked before")
    first = date_text(first_at)
    # Two msgids, not ngettext: Vietnamese has one form, English two.
    times = _("Checked 1 time") if checks == 1 else _("Checked {n} times").format(n=checks)
    return times + (_(", first on {day}").format(day=first) if first else "")


@dataclass(frozen=True)
class LotInfo:
    """The lot a stamp was printed for, as the printing station's print record says. The
    dates are there once print records carry them (None until then)."""

    lot: str
    produced_on: str | None = None  # ISO date
    best_before: str | None = None  # ISO date


def lot_of_record(record: dict | None) -> LotInfo | None:
    """The hook the stamp page reads the lot through: the newest print record's `lot` and,
    when present, its `produced_on` / `best_before` dates (None without a usable lot)."""
    if not record or not isinstance(record.get("lot"), str) or not record["lot"].strip():
        return None

    def day(name: str) -> str | None:
        value = record.get(name)
        try:
            return dt.date.fromisoformat(value[:10]).isoformat() if value else None
        except (TypeError, ValueError):
            return None

    return LotInfo(record["lot"].strip()[:64], day("produced_on"), day("best_before"))


def lot_of_payload(payload_json: str | None) -> LotInfo | None:
    if not payload_json:
        return None
    try:
        record = json.loads(payload_json)
    except ValueError:
        return None
    return lot_of_record(record if isinstance(record, dict) else None)


@dataclass(frozen=True)
class StampFacts:
    """What the stamp page says about the serial beyond its verdict (registry/phone_page.py
    reads it in one statement): checks (station scans and phone views, the view being
    answered included), the lot, the printing station, the per-station scans."""

    checks: int
    first_at: str | None
    lot: LotInfo | None
    printed_by: tuple[str, str] | None  # (station, district)
    by_station: tuple[tuple[str, str, int], ...]

    @property
    def scans(self) -> int:
        return sum(n for _, _, n in self.by_station)


@dataclass(frozen=True)
class StampPage:
    status: int  # 400 malformed, 404 not signed by a trusted key, else 200
    html: str


@dataclass(frozen=True)
class Judged:
    """The registry's verdict of a stamp code (the page's and a report's): `result` is None
    for a malformed code; `serial` only when the signature is valid."""

    payload: str
    verdict: Verdict
    result: Verification | None

    @property
    def serial(self) -> int | None:
        return self.result.serial if self.result and self.verdict.signature_valid else None

    @property
    def report_subject(self) -> str:
        return public_reports.subject_of(self.serial, self.payload)


def judge_code(
    config: RegistryConfig, verifier: StampVerifier | None, code: str, today: dt.date
) -> Judged:
    """The registry's verdict of a code (`verifier` may be None only for a code already
    known to be malformed)."""
    payload = code.upper() if code.isascii() else code  # phones may lowercase the URL
    try:
        parse_stamp_payload(payload)
    except StampFormatError:
        return Judged(payload, Verdict.FORGED, None)
    assert verifier is not None
    result = verifier.verify(stamp_text_for_payload(payload, config.stamp_base_url), today=today)
    if result.verdict is Verdict.KEY_NOT_YET_KNOWN:
        # The registry's own list has every key it ever made (the next one included):
        # a key id it does not know was never ours.
        result = dataclasses.replace(result, verdict=Verdict.FORGED)
    return Judged(payload, result.verdict, result)


def stamp_page(
    config: RegistryConfig,
    judged: Judged,
    facts: StampFacts | None,
    product: dict | None,
    producer,
    related: list[tuple[int, str, str]],
    lang: str = "vi",
    today: dt.date | None = None,
    switch: str = "",
    path: str = "",
    report_secret: bytes | None = None,
) -> StampPage:
    """The page for a judged code (registry/phone_page.py reads what it shows): a serial on
    the suspect list shows as possibly copied. 400 for a malformed code, 404 for a code that
    is well-formed but not signed by a trusted key; 200 otherwise (genuine, expired rating,
    revoked, suspect). With `report_secret`, a page that needs help (bad code, forged,
    revoked, copied) carries the report form (registry/public_reports.py)."""
    today = today or dt.datetime.now(dt.UTC).date()
    site = Site.of(config)
    switch = switch or f"?lang={'en' if lang == 'vi' else 'vi'}"
    gettext = translator(lang)
    verdict, result = judged.verdict, judged.result
    code = judged.payload

    def report_form() -> str:
        if report_secret is None or len(judged.payload) > public_reports.MAX_CODE_CHARS:
            return ""
        token = public_reports.make_token(report_secret, judged.report_subject)
        return report_form_card(lang, judged.payload, token)

    if result is None:
        body = (
            _verdict_box(verdict, lang)
            + '<div class="card"><p>'
            + _both(N_("The code on this stamp is malformed."), lang)
            + "</p></div>"
            + _help_card(site, lang, code, None)
            + report_form()
            + _serial_form(lang)
        )
        return StampPage(400, _public_page(gettext(verdict.title), body, lang, site, switch))
    if not verdict.signature_valid:
        body = _verdict_box(verdict, lang) + _help_card(site, lang, code, None) + report_form()
        body += _serial_form(lang)
        return StampPage(404, _public_page(gettext(verdict.title), body, lang, site, switch))
    assert result.serial is not None and result.product_id is not None  # signature valid
    assert facts is not None
    parts = [
        _verdict_box(verdict, lang),
        f'<p class="checks" id="checks" data-checks="{facts.checks}">'
        f"{escape(checks_text(facts.checks, facts.first_at, lang))}</p>",
    ]
    if verdict.tone in HELP_TONES:
        parts.append(_help_card(site, lang, code, result.serial))
        parts.append(report_form())
    if product is not None and verdict.names_a_product:
        parts.append(_product_card(product, producer, related, verdict, lang, today))
    parts.append(_stamp_card(result, facts, lang))
    parts.append(_share_card(site, lang, path or f"/S/{judged.payload}"))
    parts.append(_serial_form(lang))
    if verdict in COUNTED_FOR_CLONES:
        # The view beacon (registry/routes/pages.py): a page a proxy or the phone kept still
        # counts (and is judged again) when shown; never cached itself.
        parts.append(
            f'<img id="beacon" src="/v/{quote(judged.payload, safe="")}" alt="" width="1" '
            'height="1" hidden>'
        )
    title = product["name_vi"] if product and verdict.names_a_product else gettext(verdict.title)
    html = _public_page(f"{title} – OCOP Sơn La", "".join(parts), lang, site, switch)
    return StampPage(200, html)


# --- the report form (registry/public_reports.py) ----------------------------------------------


def report_form_card(
    lang: str,
    code: str,
    token: str,
    sent: public_reports.PostedForm | None = None,
    problem: public_reports.FormProblem | None = None,
) -> str:
    """The stamp report form: a plain POST (no JavaScript), with what the shopper sent
    and why it was refused when it comes back."""
    _ = translator(lang)
    sent = sent or public_reports.PostedForm()
    alert = (
        f'<p class="flag" id="report-problem" role="alert" data-problem="{problem.value}">'
        f"{escape(problem.text(_))}</p>"
        if problem is not None
        else ""
    )
    choices = "".join(
        f'<label class="choice"><input type="radio" name="problem" value="{p.value}" '
        f"required{' checked' if sent.problem == p.value else ''}>{escape(_(p.label))}</label>"
        for p in public_reports.ReportProblem
    )
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(value)}">'
        for name, value in (("code", code), ("token", token), ("lang", lang))
    )
    return (
        '<form class="card" id="report-form" method="post" action="/report"><h2>'
        + _("Report this stamp")
        + "</h2><p>"
        + _("Tell the OCOP office what is wrong. Every report is read.")
        + f"</p>{alert}<fieldset><legend>"
        + _("What is wrong?")
        + f'</legend>{choices}</fieldset><p><label for="where">'
        + _("Where did you buy it? (shop, market, town)")
        + f'</label><input id="where" name="where" required autocomplete="off" '
        f'maxlength="{public_reports.MAX_WHERE_CHARS}" value="{escape(sent.where)}"></p>'
        '<p><label for="phone">'
        + _("Your phone number, only if you want a call back")
        + f'</label><input id="phone" name="phone" type="tel" inputmode="tel" '
        f'autocomplete="tel" maxlength="{public_reports.MAX_PHONE_CHARS}" '
        f'value="{escape(sent.phone)}"></p><p><label class="choice"><input type="checkbox" '
        f'id="consent" name="consent" value="yes"{" checked" if sent.consent else ""}>'
        + _("The office may call me back about this report")
        + f'</label></p>{hidden}<button type="submit">'
        + _("Send the report")
        + "</button></form>"
    )


def report_thanks_page(site: Site, lang: str, switch: str, report_id: int, code: str) -> str:
    _ = translator(lang)
    hotline = f"<p>{_hotline_html(site, lang)}</p>" if site.hotline else ""
    body = (
        f'<div class="verdict ok" id="report-thanks" data-report="{report_id}"><h1>'
        + _("Thank you")
        + "</h1><p>"
        + _("Your report reached the Sơn La OCOP office (number {number}).").format(
            number=report_id
        )
        + '</p></div><div class="card"><p>'
        + _("Keep the product, the stamp and the receipt: the office may ask to see them.")
        + f"</p>{hotline}"
        + f'<p><a id="back-to-stamp" href="/S/{quote(code, safe="")}?lang={lang}">'
        + _("Back to the stamp page")
        + "</a></p></div>"
    )
    return _public_page(_("Thank you"), body, lang, site, switch)


def report_refused_page(
    site: Site,
    lang: str,
    switch: str,
    problem: public_reports.FormProblem,
    sent: public_reports.PostedForm | None = None,
) -> str:
    """Why a report was not stored. A problem the shopper can fix shows the form again (the
    same token: nothing was stored); any other says how to get a fresh form."""
    _ = translator(lang)
    if sent is not None and problem.about_the_form:
        body = report_form_card(lang, sent.code, sent.token, sent, problem)
    else:
        code = sent.code if sent else ""
        back = (
            f'<p><a id="back-to-stamp" href="/S/{quote(code, safe="")}?lang={lang}">'
            + _("Back to the stamp page")
            + "</a></p>"
            if code and len(code) <= public_reports.MAX_CODE_CHARS
            else ""
        )
        hotline = f"<p>{_hotline_html(site, lang)}</p>" if site.hotline else ""
        body = (
            f'<div class="card" id="report-refused" data-problem="{problem.value}"><h1>'
            + _("The report was not sent")
            + f'</h1><p class="flag">{escape(problem.text(_))}</p>{back}{hotline}</div>'
        )
    return _public_page(_("Report this stamp"), body, lang, site, switch)


# How a genuine stamp looks: the label's layout (QR left, serial under it, the programme's
# name, product and lot right), drawn here as a picture, not a photo to download.
GENUINE_STAMP_SVG = (
    '<svg class="label" id="genuine-stamp" viewBox="0 0 320 170" role="img" aria-labelledby='
    '"gs-t"><title id="gs-t">{title}</title>'
    '<rect x="1" y="1" width="318" height="168" rx="10" fill="#fff" stroke="#1d1d1f" '
    'stroke-width="2"/><g fill="#1d1d1f"><path d="M14 14h36v36H14zM96 14h36v36H96zM14 96h36v36'
    'H14z" fill="none" stroke="#1d1d1f" stroke-width="6"/><path d="M25 25h14v14H25zM107 25h14v14'
    "H107zM25 107h14v14H25zM60 14h8v8h-8zM74 22h8v8h-8zM60 36h8v8h-8zM82 44h8v8h-8zM60 60h8v8h-8"
    "zM74 68h8v8h-8zM96 60h8v8h-8zM112 74h8v8h-8zM60 82h8v8h-8zM82 96h8v8h-8zM104 104h8v8h-8zM120"
    ' 120h8v8h-8zM66 118h8v8h-8zM90 124h8v8h-8zM14 60h8v8h-8zM30 74h8v8h-8z"/></g>'
    '<text x="73" y="156" font-size="13" text-anchor="middle" font-family="monospace" '
    'fill="#1d1d1f">0000 0012 3456</text><text x="150" y="36" font-size="20" font-weight="700" '
    'fill="#14532d" font-family="sans-serif">OCOP SƠN LA</text><text x="150" y="62" '
    'font-size="18" fill="#8a5a00">★★★★☆</text><text x="150" y="88" font-size="14" '
    'fill="#1d1d1f" font-family="sans-serif">{product}</text><text x="150" y="112" '
    'font-size="14" fill="#1d1d1f" font-family="sans-serif">{lot}</text><text x="150" '
    'y="150" font-size="12" fill="#1d1d1f" font-family="sans-serif">{domain}</text></svg>'
)


def _report_href(site: Site, code: str, serial: int | None, lang: str) -> str:
    if not site.report_url.startswith("mailto:"):
        return site.report_url
    _ = translator(lang)
    subject = _("Suspicious OCOP stamp")
    serial_text = serial_digits(serial) if serial is not None else "?"
    body = f"{_('Code')}: {code[:200]}\nSerial: {serial_text}\n" + _("Where bought: \nNotes: ")
    return site.report_url + "?" + urlencode({"subject": subject, "body": body}, quote_via=quote)


def _help_card(site: Site, lang: str, code: str, serial: int | None) -> str:
    """What to do now, whom to call, where to report, and how a real stamp looks."""
    _ = translator(lang)
    steps = [
        _(
            "Do not buy this product. If you already did, keep the product, the stamp and the "
            "receipt."
        ),
        _("Ask the seller where the product came from, and take a photo of the stamp."),
    ]
    items = "".join(f"<li>{escape(s)}</li>" for s in steps)
    if site.hotline:
        items += f"<li>{_hotline_html(site, lang)}</li>"
    if site.report_url:
        items += (
            f'<li><a id="report" href="{escape(_report_href(site, code, serial, lang))}">'
            + _("Report this stamp to the OCOP office")
            + "</a></li>"
        )
    picture = GENUINE_STAMP_SVG.format(
        title=escape(_("A genuine stamp")),
        product=escape(_("Product name")),
        lot=escape(_("Lot: ...")),
        domain=escape(site.domain),
    )
    return (
        '<div class="card callout" id="help"><h2>'
        + _("What to do now")
        + f'</h2><ol class="steps">{items}</ol><h2>'
        + _("What a genuine stamp looks like")
        + f"</h2>{picture}<p>"
        + _(
            "A genuine stamp has a QR code, the words OCOP SƠN LA, the product name, the lot "
            "and the serial printed under the code. Scanning it always opens {domain}."
        ).format(domain=site.domain)
        + "</p></div>"
    )


def _share_card(site: Site, lang: str, path: str) -> str:
    _ = translator(lang)
    url = site.base_url + path
    return (
        '<div class="card" id="share"><h2>'
        + _("Share this result")
        + '</h2><p><button type="button" id="share-button" hidden>'
        + _("Share")
        + '</button></p><p><label for="share-url">'
        + _("Copy the link:")
        + f'</label><input id="share-url" readonly value="{escape(url)}"></p>'
        f'<p><a id="share-link" href="{escape(path)}">' + _("Link to this page") + "</a></p></div>"
    )


def _product_card(
    product: dict,
    producer,
    related: list[tuple[int, str, str]],
    verdict: Verdict,
    lang: str,
    today: dt.date,
) -> str:
    _ = translator(lang)
    rating = catalog.current_rating(product["ratings"])
    show_stars = verdict.may_show_stars and catalog.rating_valid(rating, today)
    name_first, name_second = (
        (product["name_vi"], product["name_en"])
        if lang == "vi"
        else (product["name_en"] or product["name_vi"], product["name_vi"])
    )
    group_vi, group_en = GROUP_NAMES.get(product["group"], ("", ""))
    rows: list[tuple[str, str]] = [
        (
            _("Producer"),
            escape(producer.name if producer else product["producer"]),
        )
    ]
    if producer is not None and producer.address:
        rows.append((_("Address"), escape(producer.address)))
    if producer is not None and producer.phone:
        tel = "tel:" + "".join(c for c in producer.phone if c.isdigit() or c == "+")
        rows.append(
            (
                _("Phone"),
                f'<a id="producer-phone" href="{escape(tel)}">{escape(producer.phone)}</a>',
            )
        )
    origin = ", ".join(x for x in (product["commune"], product["district"], "Sơn La") if x)
    rows.append((_("Origin"), escape(origin)))
    rows.append((_("Product group"), escape(group_vi or group_en)))
    if lang == "en" and group_en:
        rows[-1] = (rows[-1][0], escape(group_en))
    if rating is not None and (rating["decision_no"] or rating["recognised_on"]):
        dated = _("dated ") + date_text(rating["recognised_on"])
        decided = ", ".join(
            x for x in (rating["decision_no"], dated if rating["recognised_on"] else "") if x
        )
        rows.append((_("Rating decision"), escape(decided)))
    html = ['<div class="card" id="product">']
    if product["image_hash"]:
        html.append(
            f'<img class="product" alt="{escape(name_first)}" '
            f'src="/api/v1/media/{escape(product["image_hash"])}">'
        )
    html.append(f"<h2>{escape(name_first)}</h2>")
    if name_second and name_second != name_first:
        html.append(f'<p class="en">{escape(name_second)}</p>')
    if show_stars and rating is not None:
        stars = rating["stars"]
        until = date_text(rating["valid_until"])
        html.append(
            f'<p id="stars" data-stars="{stars}"><span class="stars" aria-label="'
            f'{stars} {_("stars")}">{"★" * stars}{"☆" * (5 - stars)}</span> '
            + escape(
                _("OCOP {stars} stars, rating valid until {day}").format(stars=stars, day=until)
            )
            + "</p>"
        )
    elif rating is not None and rating["stars"]:
        html.append(
            '<p id="no-stars">' + _("The OCOP rating is not valid: no stars shown.") + "</p>"
        )
    html.append("<dl>")
    for label, value in rows:
        html.append(f"<dt>{escape(label)}</dt><dd>{value or '–'}</dd>")
    html.append("</dl>")
    if related:
        names = "".join(
            f"<li>{escape(vi if lang == 'vi' or not en else en)}</li>" for _, vi, en in related
        )
        html.append(
            '<h2 id="related">' + _("Other OCOP products from here") + f"</h2><ul>{names}</ul>"
        )
    html.append("</div>")
    return "".join(html)


def _stamp_card(result, facts: StampFacts, lang: str) -> str:
    _ = translator(lang)
    scans, by_station = facts.scans, facts.by_station
    html = [
        '<div class="card" id="history"><h2>' + _("About this stamp") + "</h2><dl>",
        f"<dt>{_('Serial')}</dt><dd>{serial_digits(result.serial)}</dd>",  # as printed on the label
        f'<dt>{_("Issued")}</dt><dd id="issued-on">{date_text(result.issued_on)}</dd>',
    ]
    lot = facts.lot
    if lot is not None:
        html.append(f'<dt>{_("Lot")}</dt><dd id="lot">{escape(lot.lot)}</dd>')
        if lot.produced_on:
            html.append(f"<dt>{_('Produced')}</dt><dd>{date_text(lot.produced_on)}</dd>")
        if lot.best_before:
            html.append(f"<dt>{_('Best before')}</dt><dd>{date_text(lot.best_before)}</dd>")
    if facts.printed_by is not None:
        station, district = facts.printed_by
        html.append(
            f"<dt>{_('Printed by')}</dt>"
            f"<dd>{escape(station)}"
            f"{' (' + escape(district) + ')' if district else ''}</dd>"
        )
    html.append(
        f"<dt>{_('Scans at sales points')}</dt>"
        f'<dd id="scan-count" data-scans="{scans}">{scans}</dd></dl>'
    )
    if by_station:
        html.append(
            "<table><tr><th>"
            + _("Where scanned")
            + '</th><th class="n">'
            + _("Times")
            + "</th></tr>"
        )
        for name, district, n in by_station:
            where = f"{name} ({district})" if district else name
            html.append(f'<tr><td>{escape(where)}</td><td class="n">{n}</td></tr>')
        html.append("</table>")
    html.append("</div>")
    return "".join(html)


# --- a serial typed by hand ------------------------------------------------------------------

_PROBLEM_TEXT = {
    SerialProblem.EMPTY: N_("Type the serial printed under the QR code."),
    SerialProblem.NOT_DIGITS: N_(
        "A serial has only the digits 0–9; what you typed has letters or other signs."
    ),
    SerialProblem.TOO_LONG: N_(
        "A serial has at most {max_digits} digits; what you typed is longer."
    ),
    SerialProblem.ZERO: N_("No stamp has the serial 0. Check the number on the label again."),
    SerialProblem.UNKNOWN: N_(
        "The province never issued a stamp with this serial. Check each digit; if it is "
        "right, the stamp may be fake."
    ),
}
_STATE_TEXT = {
    SerialState.ISSUED: N_("Issued to a printing station"),
    SerialState.PRINTED: N_("Printed"),
    SerialState.REVOKED: N_("Revoked: no longer valid"),
    SerialState.SUSPECT: N_("Possibly copied"),
}
LIMITED = N_("Too many look-ups. Please try again in a minute.")


def serial_page(
    conn: Connection | None,
    config: RegistryConfig,
    text: str,
    lang: str,
    switch: str,
    limited: bool = False,
) -> StampPage:
    """The answer to a typed serial: 200 with what the registry knows, 400 for input that
    is no serial, 404 for a serial never issued, 429 when the client looked up too much."""
    site = Site.of(config)
    _ = translator(lang)
    title = _("Serial look-up")
    caveat = (
        '<p id="no-proof">'
        + _(
            "A typed number cannot prove the stamp is genuine: only the QR code carries the "
            "digital signature. Scan the code if you can."
        )
        + "</p>"
    )
    if limited or conn is None:
        body = (
            f'<div class="card" id="serial-result" data-problem="limited"><p>{_(LIMITED)}</p></div>'
        )
        return StampPage(
            429, _public_page(title, body + _serial_form(lang, text), lang, site, switch)
        )
    parsed = parse_serial(text)
    found = look_up(conn, parsed) if isinstance(parsed, int) else parsed
    if isinstance(found, SerialProblem):
        problem = _(_PROBLEM_TEXT[found]).format(max_digits=MAX_SERIAL_DIGITS)
        body = (
            f'<div class="card" id="serial-result" data-problem="{found.value}"><h1>{title}</h1>'
            f'<p class="flag">{escape(problem)}</p>{caveat}</div>'
        )
        status = 404 if found is SerialProblem.UNKNOWN else 400
        return StampPage(
            status, _public_page(title, body + _serial_form(lang, text), lang, site, switch)
        )
    product = catalog_rows.get_product(conn, found.product_id)
    name = "–"
    if product is not None:
        name = product["name_vi"] if lang == "vi" else product["name_en"] or product["name_vi"]
    body = (
        f'<div class="card" id="serial-result" data-state="{found.state.value}"><h1>{title}</h1>'
        f"{caveat}<dl><dt>{_('Serial')}</dt><dd>{found.digits}</dd>"
        f"<dt>{_('Product')}</dt><dd>{escape(name)}</dd>"
        f'<dt>{_("State")}</dt><dd id="serial-state">'
        f"{escape(_(_STATE_TEXT[found.state]))}</dd>"
        f"<dt>{_('Checks')}</dt><dd>"
        f"{escape(checks_text(found.checks, found.first_check_at, lang))}</dd></dl></div>"
    )
    return StampPage(200, _public_page(title, body + _serial_form(lang), lang, site, switch))


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


def svg_hbars(
    points: list[tuple[str, int]],
    width: int = 640,
    title: str = "",
    label_w: int = 230,
    label_chars: int = 34,
) -> str:
    """A horizontal bar chart (top products, districts) as inline SVG; labels longer than
    `label_chars` are cut (the full one is the text's <title>)."""
    if not points:
        return "<p>–</p>"
    row_h = 24
    top = max(max(v for _, v in points), 1)
    height = row_h * len(points) + 4
    out = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}">'
    ]
    for i, (label, value) in enumerate(points):
        y = i * row_h + 2
        w = (width - label_w - 60) * value / top
        short = label if len(label) <= label_chars else label[: label_chars - 1] + "…"
        out.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">'
            f"{escape(short)}<title>{escape(label)}</title></text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="#2f6fb0"/><text x="{label_w + w + 4:.1f}" y="{y + 16}">{value}'
            f"</text>"
        )
    out.append("</svg>")
    return "".join(out)


def real_number(value: object) -> float | None:
    """A JSON number at or above 0, else None: heartbeats come from stations and may carry
    anything (a string, a bool, a list) where a number belongs."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value) if value >= 0 else None


def duration_text(seconds: object) -> str:
    """45 s, 12 min, 3.5 h, 6 d ('–' when unknown or not a number)."""
    seconds = real_number(seconds)
    if seconds is None:
        return "–"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.0f} {unit}" if value >= 10 or unit == "min" else f"{value:.1f} {unit}"
    return f"{seconds:.0f} s"


def bytes_text(value: object) -> str:
    n = real_number(value)
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
    clock_text = str(clock.get("system_time") or g(Field.AT) or "–")
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


_REPORT_PROBLEM_TEXT = {
    public_reports.ReportProblem.FAKE.value: "trông như giả / looks fake",
    public_reports.ReportProblem.COPIED.value: "tem trùng / copied",
    public_reports.ReportProblem.REVOKED.value: "đã thu hồi mà vẫn bán / revoked, still sold",
    public_reports.ReportProblem.UNKNOWN.value: "trang không biết tem / unknown stamp",
    public_reports.ReportProblem.OTHER.value: "khác / other",
}


def bilingual_verdict(value: str | None) -> str:
    """A stored verdict value as this page's "vi / en" words (ocop's one label table)."""
    vi, en = verdict_title(value, "vi"), verdict_title(value, "en")
    return vi if vi == en else f"{vi} / {en}"


def _stamp_reports_card(found: list[StoredReport]) -> str:
    """Shoppers' reports from the phone page's form, newest first (read-only). Every field
    was typed by an anonymous visitor: all of it is escaped."""
    head = (
        '<div class="card" id="stamp-reports"><h2>Báo cáo của người mua '
        f'<span class=en>Shoppers\' reports</span></h2><p data-count="{len(found)}">'
        f"{len(found)} báo cáo mới nhất / newest reports</p>"
    )
    if not found:
        return head + "<p>Không có / None</p></div>"
    rows = []
    for rep in found:
        phone = (
            f"{escape(rep.phone)} (đồng ý gọi lại / call back agreed)"
            if rep.phone and rep.callback_consent
            else "–"
        )
        serial = serial_digits(rep.serial) if rep.serial is not None else "–"
        rows.append(
            f'<tr id="stamp-report-{rep.id}" data-serial="{rep.serial or ""}" '
            f'data-verdict="{escape(rep.verdict)}"><td>{escape(rep.reported_at)}</td>'
            f"<td>{serial}</td><td>{escape(bilingual_verdict(rep.verdict))}</td>"
            f"<td>{escape(_REPORT_PROBLEM_TEXT.get(rep.problem, rep.problem))}</td>"
            f'<td class="where">{escape(rep.where_bought)}</td><td>{phone}</td>'
            f"<td>{escape(rep.client_network)} · {escape(rep.client_agent)}</td></tr>"
        )
    return (
        head + '<div class="scroll"><table><tr><th>Lúc / At (UTC)</th><th>Serial</th>'
        "<th>Kết quả lúc báo / Verdict then</th><th>Vấn đề / Problem</th>"
        "<th>Nơi mua / Where bought</th><th>Điện thoại / Phone</th><th>Từ / From</th></tr>"
        + "".join(rows)
        + "</table></div></div>"
    )


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
    stamp_reports: list[StoredReport] | None = None,
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
        + svg_hbars(
            [(bilingual_verdict(v), n) for v, n in report.per_verdict], title="scans per verdict"
        )
        + "</div>",
    ]
    body.append(_detections_card(report, csrf_token))
    body.append(_stamp_reports_card(stamp_reports or []))
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
