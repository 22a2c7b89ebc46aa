"""A shopper's report of a bad stamp, from the form on the phone page (forged, copied,
revoked or unknown stamps): what is wrong, where it was bought, and, if the shopper wants
a call back, a phone number. Stored in `stamp_reports`; the office lists them (the admin
API and the /reports page), read-only.

The form is anonymous, so a CSRF token bound to credentials (registry/csrf.py) does not
apply. Instead the page carries a signed form token:

    <issued_s>.<nonce>.<subject tag>.<HMAC-SHA256(secret, issued_s, nonce, tag)>

  * signed with a secret kept in the database (meta `report_form_secret`: every registry
    process and a restart accept it), so it cannot be made without the registry;
  * bound to the stamp: the tag is a hash of the serial (of the code, when the stamp has
    no trusted serial), and the server derives the subject again from the posted code;
  * valid for TOKEN_TTL_S;
  * used once: its nonce is a unique column of the stored report.
CsrfMiddleware still refuses a cross-site POST (Sec-Fetch-Site, Origin), every client has
REPORTS_PER_HOUR (config.reports_per_hour) and the body is at most MAX_FORM_BYTES. Bad input
gets its own message (FormProblem) and stores nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qs

from sqlalchemy.engine import Connection

from ocop.enums import EnumWithAttributes
from ocop.i18n import N_
from registry import db

MAX_FORM_BYTES = 4096  # the form's fields, percent-encoded: ~4x the text limits below
MAX_WHERE_CHARS = 200
MAX_PHONE_CHARS = 20
PHONE_DIGITS = (8, 15)  # a Vietnamese number (10 digits, 11 with 84) fits; E.164 at most 15
MAX_CODE_CHARS = 300  # a stamp code longer than this gets no form (no real stamp is)
TOKEN_TTL_S = 2 * 3600  # a shopper may read the page for a while before reporting
CLOCK_SKEW_S = 60
SECRET_KEY = "report_form_secret"
FIELDS = ("code", "token", "problem", "where", "phone", "consent", "lang")
_TOKEN = re.compile(r"(\d{1,12})\.([0-9a-f]{32})\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})")
_PHONE = re.compile(r"\+?[0-9 .()\-]+")


class ReportProblem(EnumWithAttributes):
    """What is wrong, as the shopper picks it (the value is stored)."""

    label: str

    FAKE = ("looks_fake", N_("The stamp or the product looks fake"))
    COPIED = ("copied", N_("The same stamp is on other products"))
    REVOKED = ("revoked", N_("The page says the stamp is revoked, but it is on sale"))
    UNKNOWN = ("unknown", N_("The page does not know this stamp"))
    OTHER = ("other", N_("Something else"))


class FormProblem(EnumWithAttributes):
    """Why a report was not stored: an HTTP status and the shopper's message."""

    status: int
    message: str

    LIMITED = (
        "limited",
        429,
        N_(
            "Too many reports from this connection. Please call the hotline or try again in "
            "an hour."
        ),
    )
    TOO_LARGE = ("too_large", 413, N_("The report is too long. Please shorten what you wrote."))
    NOT_A_FORM = ("not_a_form", 415, N_("This address only takes the report form of a stamp page."))
    BAD_FIELDS = (
        "bad_fields",
        400,
        N_(
            "The form was sent in a way this page does not understand. Please open the stamp "
            "page again."
        ),
    )
    TOKEN_MISSING = (
        "token_missing",
        403,
        N_(
            "The form is incomplete. Please open the stamp page again and send the report "
            "from there."
        ),
    )
    TOKEN_INVALID = (
        "token_invalid",
        403,
        N_(
            "This form was not made by this site. Please scan the stamp again and report it "
            "from the official page."
        ),
    )
    TOKEN_EXPIRED = (
        "token_expired",
        403,
        N_("The form is too old. Please open the stamp page again and send the report from there."),
    )
    TOKEN_USED = (
        "token_used",
        409,
        N_("This report was already sent. Thank you; there is no need to send it again."),
    )
    OTHER_STAMP = (
        "other_stamp",
        403,
        N_(
            "This form belongs to another stamp. Please open the page of the stamp you want "
            "to report."
        ),
    )
    NO_PROBLEM = ("no_problem", 400, N_("Choose what is wrong with the stamp."))
    WHERE_MISSING = (
        "where_missing",
        400,
        N_("Write where you bought the product (shop, market, town)."),
    )
    WHERE_TOO_LONG = (
        "where_too_long",
        400,
        N_("Where you bought it: at most {max_chars} characters, please."),
    )
    PHONE_INVALID = (
        "phone_invalid",
        400,
        N_(
            "The phone number should have {low} to {high} digits (spaces, dots and a leading "
            "+ are fine)."
        ),
    )
    PHONE_WITHOUT_CONSENT = (
        "phone_no_consent",
        400,
        N_("Tick the box to let the office call you back, or leave the phone number empty."),
    )

    @property
    def about_the_form(self) -> bool:
        """The shopper can fix it in the form (shown again with what they typed)."""
        return self.status == 400 and self is not FormProblem.BAD_FIELDS

    def text(self, gettext) -> str:
        return gettext(self.message).format(
            max_chars=MAX_WHERE_CHARS, low=PHONE_DIGITS[0], high=PHONE_DIGITS[1]
        )


# --- the form token ----------------------------------------------------------------------


def form_secret(conn: Connection) -> bytes:
    """The token secret, made on first use (a concurrent first use's wins)."""
    found = db.get_meta(conn, SECRET_KEY)
    if found is None:
        conn.execute(
            db.insert_ignore(conn, db.meta).values(key=SECRET_KEY, value=secrets.token_hex(32))
        )
        found = db.get_meta(conn, SECRET_KEY)
    assert found is not None
    return bytes.fromhex(found)


def subject_of(serial: int | None, payload: str) -> str:
    """What a token is bound to: the stamp's serial when the registry trusts it (the same
    stamp in either spelling), else the code itself."""
    if serial is not None:
        return f"serial:{serial}"
    return "code:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _tag(subject: str) -> str:
    return hashlib.sha256(subject.encode("utf-8")).hexdigest()[:16]


def _mac(secret: bytes, issued_s: str, nonce: str, tag: str) -> str:
    message = f"stamp-report\0{issued_s}\0{nonce}\0{tag}".encode("ascii")
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def make_token(secret: bytes, subject: str, issued_s: int | None = None) -> str:
    issued = str(int(time.time()) if issued_s is None else issued_s)
    nonce, tag = secrets.token_hex(16), _tag(subject)
    return f"{issued}.{nonce}.{tag}.{_mac(secret, issued, nonce, tag)}"


def check_token(
    secret: bytes, subject: str, token: str, now_s: float | None = None
) -> str | FormProblem:
    """The token's nonce when it is ours, for this stamp and fresh; else the problem."""
    if not token:
        return FormProblem.TOKEN_MISSING
    match = _TOKEN.fullmatch(token)
    if match is None:
        return FormProblem.TOKEN_INVALID
    issued, nonce, tag, mac = match.groups()
    if not hmac.compare_digest(_mac(secret, issued, nonce, tag), mac):
        return FormProblem.TOKEN_INVALID
    if not hmac.compare_digest(_tag(subject), tag):
        return FormProblem.OTHER_STAMP
    now = time.time() if now_s is None else now_s
    if int(issued) > now + CLOCK_SKEW_S:
        return FormProblem.TOKEN_INVALID  # only the secret's holder could have made it
    if int(issued) + TOKEN_TTL_S < now:
        return FormProblem.TOKEN_EXPIRED
    return nonce


# --- the posted form ---------------------------------------------------------------------


@dataclass(frozen=True)
class PostedForm:
    """The fields as sent (strings, "" when absent): what the form shows again."""

    code: str = ""
    token: str = ""
    problem: str = ""
    where: str = ""
    phone: str = ""
    consent: bool = False
    lang: str = ""


@dataclass(frozen=True)
class ValidReport:
    problem: ReportProblem
    where_bought: str
    phone: str | None
    callback_consent: bool


def parse_body(body: bytes) -> PostedForm | FormProblem:
    """An application/x-www-form-urlencoded body: each known field at most once, UTF-8."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qs(text, keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return FormProblem.BAD_FIELDS
    if any(len(values) > 1 for values in pairs.values()) or set(pairs) - set(FIELDS):
        return FormProblem.BAD_FIELDS
    one = {name: values[0] for name, values in pairs.items()}
    return PostedForm(
        code=one.get("code", ""),
        token=one.get("token", "").strip(),
        problem=one.get("problem", ""),
        where=one.get("where", ""),
        phone=one.get("phone", ""),
        consent=one.get("consent", "") == "yes",
        lang=one.get("lang", ""),
    )


def _clean_text(text: str) -> str:
    """NFC, control characters dropped, runs of white space as one space."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C" or c in "\t\n")
    return " ".join(text.split())


def validate(form: PostedForm) -> ValidReport | FormProblem:
    try:
        problem = ReportProblem(form.problem)
    except ValueError:
        return FormProblem.NO_PROBLEM
    where = _clean_text(form.where)
    if not where:
        return FormProblem.WHERE_MISSING
    if len(where) > MAX_WHERE_CHARS:
        return FormProblem.WHERE_TOO_LONG
    phone = " ".join(form.phone.split())
    if phone:
        digits = sum(c.isdigit() for c in phone)
        if (
            len(phone) > MAX_PHONE_CHARS
            or not _PHONE.fullmatch(phone)
            or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]
        ):
            return FormProblem.PHONE_INVALID
        if not form.consent:
            return FormProblem.PHONE_WITHOUT_CONSENT  # a number is kept only to call back
    return ValidReport(problem, where, phone or None, form.consent)


# --- coarse client information -------------------------------------------------------------


def coarse_network(address: str) -> str:
    """'203.113.7.0/24' for an IPv4 address, a /48 for IPv6: enough to see many reports
    from one place, not enough to name a phone."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("Linux", "Linux"),
)
_BROWSERS = (
    ("Zalo", "Zalo"),
    ("SamsungBrowser", "Samsung"),
    ("CocCoc", "Cốc Cốc"),
    ("Firefox", "Firefox"),
    ("Edg/", "Edge"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
)


def coarse_agent(user_agent: str) -> str:
    """'Android · Chrome': the system and browser family of a User-Agent, nothing more."""
    system = next((name for key, name in _SYSTEMS if key in user_agent), "other")
    browser = next((name for key, name in _BROWSERS if key in user_agent), "other")
    return f"{system} · {browser}"
