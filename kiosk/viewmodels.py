"""View-models: what each screen shows, as plain strings and numbers. No Kivy here.

Screens bind to these; tests check them without a window. Every string goes through
kiosk.i18n (`_ = translator(lang)`), product texts come from the catalog in the chosen
language, verdict messages from kiosk.stamps.

Star rule: stars are shown only when the catalog says the rating is valid today
(ProductView.stars) AND, on a scan result, the verdict allows it (Verdict.may_show_stars).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.i18n import N_, NP_, Plural, plural_translator, translator
from kiosk.printing.queue import JobState
from ocop.lots import DATE_FORMAT
from ocop.roads import ROUTES, Road
from ocop.stamps.serials import serial_digits
from ocop.tone import Tone

# --- palette (hex, shared by the .kv files through kiosk.ui.theme) --------------------------

PALETTE = {
    "green": "#0E6B3A",  # OCOP deep green
    "green_dark": "#0A4F2B",
    "red": "#B42318",
    "amber": "#A24A06",  # 5.3:1 on amber_soft (was #B45309: 4.48:1)
    "orange": "#C2410C",
    "blue": "#1D4E89",
    "slate": "#475467",
    "gold": "#E8A317",  # stars
    "cream": "#FBF8F1",  # background
    "card": "#FFFFFF",
    "ink": "#1C2A21",  # body text
    "muted": "#5B6B60",
    "line": "#E4DDCC",
}

STAR = "\u2605"  # ★ (DejaVu Sans has it; Roboto does not)
EMPTY_STAR = "\u2606"  # ☆

# The rest-stop roads and their districts in order: ocop.roads (one table).
QL6_DISTRICTS = ROUTES[Road.QL6].districts


# --- small formatting helpers -----------------------------------------------------------

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(iso: str | None, lang: str) -> str:
    """'2027-06-30' -> '30/06/2027' (vi) or '30 Jun 2027' (en); '' for None."""
    if not iso:
        return ""
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    if lang == "vi":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def stars_text(stars: int | None, out_of: int = 5, hollow: bool = False) -> str:
    if not stars:
        return ""
    return STAR * stars + (EMPTY_STAR * (out_of - stars) if hollow else "")


LEVEL_TEXT = {
    "district": N_("district level"),
    "province": N_("provincial level"),
    "national": N_("national level"),
}


def district_label(district: str, lang: str) -> str:
    """Historical district names stay Vietnamese; 'Thành phố Sơn La' -> 'Sơn La city'."""
    _ = translator(lang)
    if district == "Thành phố Sơn La":
        return _("Sơn La city")
    return district


def place_text(commune: str, district: str, lang: str) -> str:
    parts = [p for p in (commune, district_label(district, lang)) if p]
    return ", ".join(parts)


NBSP = "\u00a0"


def no_lone_word(text: str) -> str:
    """Glue the last two words (a no-break space), so a wrapped title never ends on a lone
    word or number ("Quốc lộ" / "6"). Kivy breaks lines at plain spaces only."""
    head, sep, tail = text.rstrip().rpartition(" ")
    return f"{head}{NBSP}{tail}" if sep and head else text


def count_text(n: int, lang: str, forms: Plural, **fields: object) -> str:
    """The plural form of `forms` (an NP_ pair) for n in `lang`, filled in: gettext's
    ngettext with the catalog's Plural-Forms rule (English "1 product", "2 products",
    "0 products"; Vietnamese has one form: "2 sản phẩm")."""
    return plural_translator(lang)(forms.one, forms.many, n).format(n=n, **fields)


# --- product card (browse, product detail, result, attract) -------------------------------


@dataclass(frozen=True)
class ProductCardViewModel:
    product_id: int
    name: str
    producer: str
    place: str  # "xã Hua La, Thành phố Sơn La"
    district: str  # raw district (route strip, filters)
    group: str
    image_hash: str | None
    image_caption: str  # "Ảnh minh họa" on a demo product's drawn placeholder, else ""
    stars: int  # 0 = show no stars
    stars_text: str  # "★★★★★" or ""
    rating_line: str  # "5-star OCOP, national level · recognised 2020"
    valid_until_text: str  # "Valid until 30 Jun 2027"
    rating_note: str  # why there are no stars (expired, revoked, pending)
    story: str
    labels: dict = field(default_factory=dict)  # caption words for the card
    producer_address: str = ""
    producer_phone: str = ""
    decision_text: str = ""  # "Quyết định số 123/QĐ-UBND ngày 30/06/2024", "" if unknown
    # the same producer's or commune's products (Catalog.related): (product id, name)
    related: tuple[tuple[int, str], ...] = ()

    @classmethod
    def from_product(
        cls, product, lang: str, allow_stars: bool = True, related: Iterable = ()
    ) -> ProductCardViewModel:
        """related: ProductViews shown as tappable names under the card."""
        _ = translator(lang)
        stars = product.stars if allow_stars and product.stars else 0
        year = (product.rating_recognised_on or "")[:4]
        rating_line = valid_until = note = ""
        if stars:
            level = LEVEL_TEXT.get(product.rating_level, "")
            rating_line = _("{n}-star OCOP").format(n=stars)
            if level:
                rating_line += ", " + _(level)
            if year:
                rating_line += " · " + _("recognised {year}").format(year=year)
            valid_until = _("Valid until {date}").format(
                date=format_date(product.rating_valid_until, lang)
            )
        else:
            status = product.rating_status
            if status == "expired":
                note = _("OCOP rating expired on {date}: no stars are shown.").format(
                    date=format_date(product.rating_valid_until, lang)
                )
            elif status == "revoked":
                note = _("OCOP rating withdrawn: no stars are shown.")
            elif status == "pending":
                note = _("OCOP product, star level pending.")
            elif status == "none":
                note = _("No OCOP rating on record.")
            elif status == "valid":  # valid rating, but this verdict may not show stars
                note = _("Stars are shown only for a genuine stamp.")
        return cls(
            product_id=product.id,
            name=product.name(lang),
            producer=product.producer,
            place=place_text(product.commune, product.district, lang),
            district=product.district,
            group=product.group_name(lang),
            image_hash=product.image_hash,
            # demo products have drawn placeholders (kiosk.demo.placeholder_art), no photos
            image_caption=_("Illustration") if product.is_demo and product.image_hash else "",
            stars=stars,
            stars_text=stars_text(stars),
            rating_line=rating_line,
            valid_until_text=valid_until,
            rating_note=note,
            story=product.story(lang)
            or (product.description_en if lang == "en" else product.description_vi),
            labels={
                "producer": _("Producer"),
                "origin": _("Origin"),
                "address": _("Address"),
                "phone": _("Phone"),
                "decision": _("Rating decision"),
                "group": _("Product group"),
                "related": _("Also from this producer or commune"),
                "story": _("The product's story"),
            },
            producer_address=product.producer_address,
            producer_phone=product.producer_phone,
            decision_text=decision_text(
                product.rating_decision_no, product.rating_recognised_on, lang
            ),
            related=tuple((p.id, p.name(lang)) for p in related),
        )


def decision_text(number: str, decided_on: str | None, lang: str) -> str:
    """The rating decision as the office writes it: "Quyết định số 123/QĐ-UBND ngày
    30/06/2024"; the date is the rating's recognition date (the decision's). "" without a
    number: a date alone names no decision."""
    _ = translator(lang)
    if not number:
        return ""
    if not decided_on:
        return _("Decision no. {number}").format(number=number)
    return _("Decision no. {number} of {date}").format(
        number=number, date=format_date(decided_on, lang)
    )


# --- scan result ------------------------------------------------------------------------


# One colour per tone (ocop.tone): the kiosk's palette for every state that has a tone.
TONE_COLOUR: dict[Tone, str] = {
    Tone.OK: PALETTE["green"],
    Tone.INFO: PALETTE["blue"],
    Tone.NEUTRAL: PALETTE["slate"],
    Tone.WARN: PALETTE["amber"],
    Tone.ALERT: PALETTE["orange"],
    Tone.BAD: PALETTE["red"],
}

# Not a Verdict: the kiosk has no trust list yet (ScanOutcome.verification is None), or the
# scan itself failed. Shown in the same banner.
UNAVAILABLE = "unavailable"
UNAVAILABLE_TONE = Tone.NEUTRAL
UNAVAILABLE_ICON = "\u2139"
UNAVAILABLE_TITLE = N_("This kiosk cannot check stamps yet")
UNAVAILABLE_MESSAGE = N_("Stamp checking is not set up on this kiosk yet. Please ask the staff.")


def _trust_note(outcome: Any, _: Any) -> str:
    freshness = getattr(outcome, "trust_freshness", None)
    note = freshness.note_msgid if freshness is not None else ""
    return _(note) if note else ""


# What a shopper compares on the sample genuine stamp beside a report (issue 15).
GENUINE_SAMPLE_SERIAL = 123  # the sample label's number: "0000 0000 0123"
GENUINE_SAMPLE_CAPTION = N_(
    "A genuine stamp looks like this: a QR code that opens {domain}, and the number in "
    "groups of four ({serial})."
)


def _report_fields(hotline: str, report_url: str, stamp_domain: str, _: Any) -> dict[str, Any]:
    return {
        "asks_for_report": True,
        "hotline_text": (
            # a phone number never breaks across lines
            _("Hotline: {phone}").format(phone=hotline.replace(" ", NBSP))
            if hotline
            else _("Ask the staff here to report it.")
        ),
        "report_url": report_url,
        "report_caption": _("Scan to report") if report_url else "",
        "genuine_caption": _(GENUINE_SAMPLE_CAPTION).format(
            domain=stamp_domain, serial=serial_digits(GENUINE_SAMPLE_SERIAL)
        )
        if stamp_domain
        else "",
    }


@dataclass(frozen=True)
class ResultViewModel:
    verdict: str
    tone: str
    colour: str
    icon: str
    title: str
    message: str
    card: ProductCardViewModel | None
    scan_count: int
    scan_count_text: str
    serial_text: str
    # "Số lô A12 · NSX 01/11/2026 · HSD 01/05/2027", then in amber "HSD đã qua" when the
    # best-before date has passed; Kivy markup, the lot escaped (lot_line)
    lot_text: str = ""
    advice: str = ""  # under a card that shows no product, or beside a report: what to do
    trust_note: str = ""  # under the verdict: the revocation list is out of date
    # Fake, copied or revoked (Verdict.asks_for_report): the site's hotline and report page
    asks_for_report: bool = False
    hotline_text: str = ""  # "Đường dây nóng: 0212 …", or "ask the staff" without one
    report_url: str = ""  # drawn as a QR code; "" = none
    report_caption: str = ""  # under the QR code
    genuine_caption: str = ""  # beside the sample genuine stamp: what to check on it

    @property
    def show_product(self) -> bool:
        return self.card is not None

    @property
    def extra_text(self) -> str:
        """The lines under the product's facts (Kivy markup, escaped): the scan count and
        the serial. The lot has its own line under the rating (lot_text)."""
        lines = (escape_markup(self.scan_count_text), escape_markup(self.serial_text))
        return "\n".join(t for t in lines if t)

    @property
    def stars(self) -> int:
        return self.card.stars if self.card else 0

    @classmethod
    def from_outcome(
        cls,
        outcome: Any,
        lang: str,
        hotline: str = "",
        report_url: str = "",
        related: Iterable = (),
        stamp_domain: str = "",
    ) -> ResultViewModel:
        """outcome: a ScanOutcome (verification, product: ProductView | None, scan_count);
        hotline, report_url: the site's (kiosk.settings SiteSettings), shown for a report;
        stamp_domain: the host genuine stamps open ("ocop.sonla.gov.vn"), named beside the
        sample genuine stamp;
        related: the product's related ProductViews (Catalog.related), shown on its card."""
        _ = translator(lang)
        verification = outcome.verification
        if verification is None:
            return cls.unavailable(lang)
        verdict = verification.verdict
        product = outcome.product
        card = None
        if product is not None and verdict.names_a_product:
            card = ProductCardViewModel.from_product(
                product, lang, allow_stars=verdict.may_show_stars, related=related
            )
        count = int(outcome.scan_count or 0)
        count_line = ""
        if verification.serial is not None:
            if count <= 1:
                count_line = _("First scan of this stamp at this kiosk.")
            else:
                count_line = _("This stamp has been scanned {n} times at this kiosk.").format(
                    n=count
                )
        serial = (
            _("Serial no. {serial}").format(serial=serial_digits(verification.serial))
            if verification.serial is not None
            else ""
        )
        return cls(
            verdict=verdict.value,
            tone=verdict.tone.value,
            colour=TONE_COLOUR[verdict.tone],
            icon=verdict.icon,
            title=_(verdict.title),
            message=_(verdict.message_id),
            card=card,
            scan_count=count,
            scan_count_text=count_line,
            serial_text=serial,
            lot_text=lot_line(outcome.lot, bool(outcome.past_best_before), lang)
            if card is not None and getattr(outcome, "lot", None) is not None
            else "",
            advice=(
                _(verdict.advice)
                if verdict.advice and (card is None or verdict.asks_for_report)
                else ""
            ),
            trust_note=_trust_note(outcome, _),
            **(
                _report_fields(hotline, report_url, stamp_domain, _)
                if verdict.asks_for_report
                else {}
            ),
        )

    @classmethod
    def unavailable(cls, lang: str) -> ResultViewModel:
        """No verdict: the kiosk cannot check stamps yet, or the scan failed."""
        _ = translator(lang)
        return cls(
            verdict=UNAVAILABLE,
            tone=UNAVAILABLE_TONE.value,
            colour=TONE_COLOUR[UNAVAILABLE_TONE],
            icon=UNAVAILABLE_ICON,
            title=_(UNAVAILABLE_TITLE),
            message=_(UNAVAILABLE_MESSAGE),
            card=None,
            scan_count=0,
            scan_count_text="",
            serial_text="",
        )


LOT_PASSED_COLOUR = PALETTE["amber"]  # 5.0:1 on the white card: AA for body text


def escape_markup(text: str) -> str:
    """Text shown in a Kivy markup label exactly as it is (kivy.utils.escape_markup, without
    importing Kivy here)."""
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def lot_line(lot: Any, past_best_before: bool, lang: str) -> str:
    """A scanned stamp's lot (kiosk.lots.StampLot) in one line of Kivy markup:
    "Số lô A12 · NSX 01/11/2026 · HSD 01/05/2027", and "HSD đã qua" in amber, bold, when
    the trusted day is after the best-before date."""
    _ = translator(lang)
    parts = [_("Lot {lot}").format(lot=escape_markup(lot.lot))]
    if lot.dates.produced_on:
        parts.append(_("MFG {date}").format(date=lot.dates.produced_on.strftime(DATE_FORMAT)))
    if lot.dates.best_before:
        parts.append(_("EXP {date}").format(date=lot.dates.best_before.strftime(DATE_FORMAT)))
    line = " · ".join(parts)
    if past_best_before:
        line += f"\n[b][color={LOT_PASSED_COLOUR}]{_('Best-before date passed')}[/color][/b]"
    return line


# --- attract ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteStop:
    district: str
    label: str
    count: int
    here: bool


@dataclass(frozen=True)
class InfoSlide:
    """A rest-stop slide for passers-by who hold no product: what the stars mean, where to
    buy. `rows` are (stars, text): stars 0 for a plain line."""

    title: str
    rows: tuple[tuple[int, str], ...]
    footer: str


# What each star level means, in plain words (OCOP-FACTS: Decision 148/QĐ-TTg bands; 3★ by
# the district, 4★ by the province, 5★ nationally).
STAR_MEANINGS = (
    (5, N_("National class: 90 to 100 points")),
    (4, N_("Provincial class: 70 to 89 points")),
    (3, N_("Meets the OCOP standard: 50 to 69 points")),
)
INFO_EVERY = 3  # an info slide after every 3 products
ROUTE_COUNT = NP_("{n} product", "{n} products")  # a stop's count (count_text)
# the countdown before the idle return (kiosk/ui/app.kv)
IDLE_RETURN = NP_("Returning to the start in {n} second", "Returning to the start in {n} seconds")


def road_name(road: Road, lang: str) -> str:
    """'QL37' -> 'Quốc lộ 37' (vi) / 'QL37' (en)."""
    _ = translator(lang)
    return _("QL{number}").format(number=road.value.removeprefix("QL"))


@dataclass(frozen=True)
class AttractViewModel:
    heading: str
    subheading: str
    call_to_scan: str
    slides: tuple[ProductCardViewModel, ...]
    route: tuple[RouteStop, ...]  # rest-stop mode: the site's road, districts in order
    route_ends: tuple[str, str]
    info: tuple[InfoSlide, ...] = ()  # rest-stop mode: slides for passers-by
    # what rotates: products, with an info slide after every INFO_EVERY of them
    sequence: tuple[ProductCardViewModel | InfoSlide, ...] = ()

    @classmethod
    def build(
        cls,
        featured: Iterable,
        lang: str,
        mode: str,
        district_counts: Sequence[tuple[str, int]] = (),
        site_district: str = "",
        road: Road = Road.QL6,
        showroom: tuple[str, str, float] = ("", "", 0.0),
    ) -> AttractViewModel:
        _ = translator(lang)
        slides = tuple(ProductCardViewModel.from_product(p, lang) for p in featured)
        counts = dict(district_counts)
        route_data = ROUTES[road]
        route = tuple(
            RouteStop(d, district_label(d, lang), counts.get(d, 0), d == site_district)
            for d in route_data.districts
        )
        info: tuple[InfoSlide, ...] = ()
        if mode == "reststop":
            heading = _("OCOP products along {road}").format(road=road_name(road, lang))
            sub = _("From {first} to {last}: where each product comes from").format(
                first=route[0].label, last=route[-1].label
            )
            info = info_slides(lang, *showroom)
        else:
            heading = _("OCOP products of Sơn La")
            sub = _("One Commune One Product: rated, certified, traceable")
        return cls(
            heading=heading,
            subheading=sub,
            call_to_scan=_("Hold the QR stamp on a product up to the camera"),
            slides=slides,
            route=route,
            route_ends=(_(route_data.ends[0]), _(route_data.ends[1])),
            info=info,
            sequence=interleave(slides, info),
        )


def info_slides(lang: str, name: str, address: str, distance_km: float) -> tuple[InfoSlide, ...]:
    _ = translator(lang)
    stars = InfoSlide(
        _("What OCOP stars mean"),
        tuple((n, _(text)) for n, text in STAR_MEANINGS),
        _("5 stars are awarded by the Ministry, 4 by the province; stars count for 36 months."),
    )
    if not name:
        return (stars,)
    rows = [(0, name)] + ([(0, address)] if address else [])
    if distance_km:
        rows.append((0, _("{km} km from here").format(km=f"{distance_km:g}")))
    showroom = InfoSlide(
        _("Buy OCOP products nearby"),
        tuple(rows),
        _("Genuine products carry the OCOP QR stamp."),
    )
    return (stars, showroom)


def interleave(
    slides: Sequence[ProductCardViewModel], info: Sequence[InfoSlide]
) -> tuple[ProductCardViewModel | InfoSlide, ...]:
    """Products with an info slide after every INFO_EVERY of them, the info slides in turn
    (at least one of each when there are fewer products)."""
    if not info:
        return tuple(slides)
    out: list[ProductCardViewModel | InfoSlide] = []
    shown = 0
    for i, slide in enumerate(slides, 1):
        out.append(slide)
        if i % INFO_EVERY == 0:
            out.append(info[shown % len(info)])
            shown += 1
    while shown < len(info):
        out.append(info[shown])
        shown += 1
    return tuple(out)


def route_index(district: str, road: Road = Road.QL6) -> int | None:
    return ROUTES[road].index(district)


# --- camera and scanning messages ----------------------------------------------------------

# The scanner adapter knows no words (it must not know the UI): the kiosk's label for each
# scanner.camera.CameraState value, complete (tests/ui/test_viewmodels.py). Keyed by value so
# this module does not load OpenCV.
CAMERA_STATE_TEXT: dict[str, str] = {
    "starting": N_("Starting the camera…"),
    "scanning": N_("Camera ready"),
    "no_device": N_("No camera found. Trying again…"),
    "disconnected": N_("The camera was disconnected. Reconnecting…"),
    "frozen": N_("The camera stopped sending pictures. Restarting it…"),
    "reconnecting": N_("Reconnecting the camera…"),
    "ended": N_("Demo pictures finished."),
    "stopped": N_("Camera off"),
}


def camera_state_text(state: str, lang: str) -> str:
    """The shopper's words for a camera state value (unknown -> 'Camera off')."""
    return translator(lang)(CAMERA_STATE_TEXT.get(state, CAMERA_STATE_TEXT["stopped"]))


SMALL_CODE_PX = 90  # a QR narrower than this in a 640x480 frame is "too far"


def scan_hint_text(code_width_px: float | None, lang: str) -> str:
    """A code was seen but not read: too small (far away) or blurred / moving."""
    _ = translator(lang)
    if code_width_px is not None and code_width_px < SMALL_CODE_PX:
        return _("Bring the stamp closer to the camera")
    return _("Hold the stamp still, the picture is blurred")


# --- staff --------------------------------------------------------------------------------


def job_state_text(state: str, lang: str) -> str:
    """A JobState value -> staff words (the label lives on kiosk.printing.queue.JobState)."""
    try:
        return translator(lang)(JobState(state).label)
    except ValueError:
        return state


def printer_state_text(state, lang: str) -> str:
    """printer.status.PrinterState (or its value) -> display words."""
    label = getattr(state, "label_vi" if lang == "vi" else "label_en", None)
    if label:
        return label
    return str(getattr(state, "value", state))


def pin_message(check: str, lang: str, attempts_left: int = 0, locked_for_s: float = 0.0) -> str:
    _ = translator(lang)
    if check == "wrong":
        return count_text(
            attempts_left,
            lang,
            NP_("Wrong PIN. {n} attempt left.", "Wrong PIN. {n} attempts left."),
        )
    if check == "locked":
        minutes, seconds = divmod(int(locked_for_s + 0.999), 60)
        return _("Too many wrong PINs. Try again in {m}:{s:02d}.").format(m=minutes, s=seconds)
    if check == "disabled":
        return _("No staff PIN is set on this kiosk.")
    return ""


LOT_MAX_CHARS = 40  # kiosk.printing.queue refuses longer lots
LOT_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-/")


SEARCH_MAX_CHARS = 40
SEARCH_DELAY_S = 0.25  # the search runs this long after the last key


def edit_query(query: str, key: str, max_chars: int = SEARCH_MAX_CHARS) -> str:
    """A search text after one key of the on-screen keyboard: a character, "backspace" or
    "clear"; at most max_chars (browse and the staff product search)."""
    if key == "backspace":
        return query[:-1]
    if key == "clear":
        return ""
    return query + key if len(query) < max_chars else query


def edit_lot(lot: str, key: str, max_chars: int = LOT_MAX_CHARS) -> str:
    """The lot text after one key of the on-screen lot keypad: a character (digits, A-Z,
    '-', '/'; letters upper-cased), "backspace" or "clear"; at most max_chars."""
    if key == "backspace":
        return lot[:-1]
    if key == "clear":
        return ""
    key = key.upper()
    if len(key) == 1 and key in LOT_CHARS and len(lot) < max_chars:
        return lot + key
    return lot


@dataclass(frozen=True)
class UncertainStamp:
    serial: int
    label: str  # "Stamp no. 0000 0000 0123" (the number printed on the label)


@dataclass(frozen=True)
class JobRecoveryViewModel:
    """What the staff queue tab shows for a job that stopped part-way. Two steps:
    'check' (one row per uncertain label: "It printed" / "Reprint"), then 'continue'
    ("Resume printing" / "Cancel the rest", the cancel confirmed by a second tap)."""

    job_id: int
    step: str  # check | continue
    title: str
    product: str  # the product's name (catalog data)
    summary: str  # "3 of 6 stamps printed"
    help: str
    uncertain: tuple[UncertainStamp, ...]
    left: int  # stamps not printed yet
    printed_text: str
    reprint_text: str
    resume_text: str
    cancel_text: str
    confirm_cancel_text: str
    others: str  # "1 more print job needs checking" or ""

    @classmethod
    def build(cls, job, product_name: str, lang: str, others: int = 0) -> JobRecoveryViewModel:
        _ = translator(lang)
        if job.state.value == "interrupted":
            title = _("Print job #{job} stopped part-way").format(job=job.id)
        else:
            title = _("Print job #{job} did not finish").format(job=job.id)
        summary = _("{printed} of {total} stamps printed").format(
            printed=len(job.printed), total=job.count
        )
        left = len(job.pending)
        uncertain = tuple(
            UncertainStamp(s, _("Stamp no. {number}").format(number=serial_digits(s)))
            for s in job.uncertain
        )
        if uncertain:
            step = "check"
            help_text = _(
                "The printer stopped while printing this label. Look at the "
                "printer: did the label with this number come out whole? If yes, "
                "tap It printed. If it is missing or damaged, throw it away and "
                "tap Reprint."
            )
        else:
            step = "continue"
            help_text = (
                count_text(
                    left,
                    lang,
                    NP_(
                        "{n} stamp is not printed yet. Resume to print it, or "
                        "cancel it: its number will never be used.",
                        "{n} stamps are not printed yet. Resume to print "
                        "them, or cancel them: their numbers will never be "
                        "used.",
                    ),
                )
                if left
                else _("Every label of this job is checked.")
            )
        reason = getattr(job, "error", "")
        if job.state.value == "failed" and reason:  # e.g. a label that cannot be rendered
            help_text = _("Why: {reason}").format(reason=reason) + "\n" + help_text
        return cls(
            job_id=job.id,
            step=step,
            title=title,
            product=product_name,
            summary=summary,
            help=help_text,
            uncertain=uncertain,
            left=left,
            printed_text=_("It printed"),
            reprint_text=_("Reprint"),
            resume_text=_("Resume printing") if left else _("Close the job"),
            cancel_text=_("Cancel the rest"),
            confirm_cancel_text=count_text(
                left,
                lang,
                NP_("Tap again to cancel {n} stamp", "Tap again to cancel {n} stamps"),
            ),
            others=count_text(
                others,
                lang,
                NP_("{n} more print job needs checking", "{n} more print jobs need checking"),
            )
            if others
            else "",
        )


def recovery_done_text(
    action: str, lang: str, serial: int | None = None, job_id: int = 0, count: int = 0
) -> str:
    """The line shown after staff acted on a stopped job."""
    _ = translator(lang)
    number = serial_digits(serial) if serial is not None else ""
    if action == "printed":
        return _("Stamp no. {number} counted as printed.").format(number=number)
    if action == "reprint":
        return _("Stamp no. {number} will be printed again.").format(number=number)
    if action == "resume":
        return _("Print job #{job} is back in the queue.").format(job=job_id)
    if action == "cancel":
        return count_text(count, lang, NP_("{n} stamp cancelled.", "{n} stamps cancelled."))
    return ""


# --- staff: mode and default language, and where each value comes from ----------------------

MODE_TEXT = {
    "showroom": N_("Showroom"),
    "reststop": N_("Rest stop"),
    "station": N_("Stamp station"),
}
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def pref_source_text(source: str, config_value: str, lang: str) -> str:
    """Where the mode or default language in use comes from: source is a
    kiosk.ui_prefs.Source value; config_value is the settings file's value, for display."""
    _ = translator(lang)
    if source == "saved":
        return _(
            "Chosen on this kiosk, kept after a restart. The settings file says {value}."
        ).format(value=config_value)
    if source == "command_line":
        return _("For this run only (command line). The settings file says {value}.").format(
            value=config_value
        )
    return _("From the settings file.")


def mode_name(mode: str, lang: str) -> str:
    return translator(lang)(MODE_TEXT.get(mode, mode))
