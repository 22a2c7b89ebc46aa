"""The staff print tab: product picker (featured/first products or a search), count, lot,
the print button and the progress line, and which columns show while staff type."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from kiosk.i18n import N_, NP_, translator
from kiosk.viewmodels import LOT_MAX_CHARS, count_text, edit_lot, edit_query, job_state_text
from ocop.lots import LotDateError, LotDates, check_lot_dates, parse_date

MAX_COUNT = 100
# one tap to a usual batch size; each is at most MAX_COUNT (a test checks)
PRESET_COUNTS = (10, 25, 50, 100)
# Holding + or -: the first repeat after HOLD_DELAY_S (a tap stays one step), then one
# every REPEAT_S, in steps of 1 for the first REPEATS_BEFORE_FAST repeats, then of FAST_STEP.
HOLD_DELAY_S = 0.4
REPEAT_S = 0.1
REPEATS_BEFORE_FAST = 10
FAST_STEP = 5


COUNT_MAX_DIGITS = len(str(MAX_COUNT))


def count_problem(typed: str, lang: str) -> str:
    """Why a typed count cannot be printed, in the staff's language; "" when it can."""
    _ = translator(lang)
    if not typed:
        return _("Type how many stamps to print")
    if int(typed) < 1:
        return _("At least 1 stamp")
    if int(typed) > MAX_COUNT:
        return _("At most {n} stamps in one job").format(n=MAX_COUNT)
    return ""


def repeat_step(repeats: int) -> int:
    """How far the count moves on the n-th repeat of a held button (0: the press itself)."""
    return 1 if repeats < REPEATS_BEFORE_FAST else FAST_STEP


DEFAULT_PRODUCTS = 100  # featured products first, then the first by id
SEARCH_LIMIT = 50  # top matches shown for a search
CARET = "▏"


class Editing(enum.Enum):
    NONE = ""
    SEARCH = "search"  # the product keyboard is open
    LOT = "lot"  # the lot keypad is open
    COUNT = "count"  # the number pad for the count is open (in the keypad's column)
    PRODUCED = "produced_on"  # the number pad for the production date (NSX)
    BEST_BEFORE = "best_before"  # the number pad for the best-before date (HSD)


# The number pad serves the count and both dates; the lot keypad its own column.
NUMBER_PAD = (Editing.COUNT, Editing.PRODUCED, Editing.BEST_BEFORE)
DATE_FIELDS = (Editing.PRODUCED, Editing.BEST_BEFORE)
# What each date is called on screen and in its messages (ocop.lots names the field).
DATE_NAMES = {
    Editing.PRODUCED: N_("Production date (NSX)"),
    Editing.BEST_BEFORE: N_("Best-before date (HSD)"),
}
DATE_DIGITS = 8  # ddmmyyyy: the slashes are put in as staff type
DATE_HINT = "dd/mm/yyyy"


def date_text(digits: str) -> str:
    """Typed digits as the date shows while typing: "0111" -> "01/11", "01112026" ->
    "01/11/2026"."""
    return "/".join(p for p in (digits[:2], digits[2:4], digits[4:8]) if p)


def lot_dates_problem(
    typed: dict[Editing, str], lot: str, today: dt.date, lang: str
) -> tuple[str, LotDates | None]:
    """(why the typed dates cannot be printed, in the staff's language, "" when they can;
    the dates when they can). The rules are ocop.lots' (the registry applies the same)."""
    _ = translator(lang)
    days = []
    for editing in DATE_FIELDS:
        digits, name = typed.get(editing, ""), _(DATE_NAMES[editing])
        if digits and len(digits) < DATE_DIGITS:
            return _("{field}: type the whole date, dd/mm/yyyy").format(field=name), None
        try:
            days.append(parse_date(date_text(digits), editing.value))
        except LotDateError as err:
            return _(err.problem.message).format(field=name), None
    try:
        dates = check_lot_dates(days[0], days[1], today)
    except LotDateError as err:
        return _(err.problem.message).format(field=""), None
    if (dates.produced_on or dates.best_before) and not lot.strip():
        return _("Dates need a lot: type the lot first"), None
    return "", dates


@dataclass(frozen=True)
class Column:
    shown: bool
    size_hint_x: float | None
    size_hint_y: float | None


@dataclass(frozen=True)
class PrintLayout:
    """The tab's four columns: products, the label, the search keyboard, the lot keypad.
    Side by side in landscape; stacked (full width) in portrait."""

    products: Column
    label: Column
    keyboard: Column
    lot: Column
    products_padding_u: tuple[float, float, float, float]  # in app.u

    @classmethod
    def of(cls, editing: Editing, portrait: bool) -> PrintLayout:
        searching, lot, idle = (
            editing is Editing.SEARCH,
            editing is Editing.LOT or editing in NUMBER_PAD,  # one keypad column serves all
            editing is Editing.NONE,
        )

        def width(shown: bool, landscape: float) -> float | None:
            return None if not shown else (1 if portrait else landscape)

        return cls(
            products=Column(
                not lot, width(not lot, 0.4 if searching else 0.42), None if lot else 1
            ),
            label=Column(idle, width(idle, 0.58), 1 if idle else None),
            keyboard=Column(
                searching, width(searching, 0.6), 1 if searching and not portrait else None
            ),
            lot=Column(lot, 1 if lot else None, 1 if lot else None),
            products_padding_u=(0, 0, 0, 8) if portrait else (0, 0, 10, 0),
        )


@dataclass(frozen=True)
class PrintView:
    """Everything the print tab shows, in one language."""

    editing: str
    layout: PrintLayout
    search_query: str
    search_text: str  # the search field: the query with a caret, or a hint
    searching: bool
    product_rows: list[dict]
    product_hint: str
    product_id: int
    product_name: str
    count: int
    print_text: str
    can_print: bool
    lot: str
    lot_button_text: str
    lot_field_text: str
    lot_length_text: str
    counting: bool  # the number pad is open for the count
    count_field_text: str
    count_problem: str  # why the typed count cannot be printed; "" when it can
    numpad: bool  # the number pad, not the lot keypad, is open (count or a date)
    pad_title: str  # what the number pad is typing
    pad_field_text: str
    pad_problem: str  # the count's or the dates' problem while the pad is open
    produced_text: str  # the NSX field: dd/mm/yyyy, or "none"
    best_before_text: str  # the HSD field
    produced_empty: bool
    best_before_empty: bool
    dates_problem: str  # why the dates cannot be printed (beside the fields); "" when they can


def progress_line(progress, lang: str) -> str:
    """A print job's progress (kiosk.printing.queue.Progress) with the printer's message."""
    _ = translator(lang)
    line = _("Job #{job}: {done} of {total} printed · {state}").format(
        job=progress.job_id,
        done=progress.done,
        total=progress.total,
        state=job_state_text(progress.state.value, lang),
    )
    if progress.error is not None:
        line += "\n" + (
            progress.error.staff_message_vi if lang == "vi" else progress.error.staff_message_en
        )
    return line


@dataclass
class PrintTabModel:
    editing: Editing = Editing.NONE
    product_id: int = 0
    product_name: str = ""
    search_query: str = ""
    default_products: list = field(default_factory=list)
    found_products: list = field(default_factory=list)
    count: int = 1
    count_typed: str = ""  # the number pad's digits while it is open
    lot: str = ""
    printing_ok: bool = True
    today: dt.date = dt.date.min  # the trusted Vietnam day: production may not be after it
    # the dates' typed digits (ddmmyyyy, "" = no date), by field
    date_typed: dict = field(default_factory=dict)

    @classmethod
    def for_today(cls, today: dt.date) -> PrintTabModel:
        return cls(lot=today.strftime("%Y-%m"), today=today)

    # --- products -------------------------------------------------------------------------

    def shown_products(self) -> list:
        return self.found_products if self.search_query.strip() else self.default_products

    def key_in_search(self, key: str) -> None:
        self.search_query = edit_query(self.search_query, key)

    def first_default(self) -> int | None:
        """The product to preselect once the default list is read (None: keep the choice)."""
        if self.product_id or not self.default_products:
            return None
        return self.default_products[0].id

    def find_product(self, product_id: int):
        """The product among those read already (None: ask the catalog)."""
        return next(
            (p for p in self.shown_products() + self.default_products if p.id == product_id), None
        )

    def select(self, product_id: int, product, lang: str) -> None:
        self.product_id = product_id
        self.product_name = product.name(lang) if product else ""
        self.editing = Editing.NONE

    def rows(self, lang: str) -> list[dict]:
        return [
            {
                "text": f"{p.id} · {p.name(lang)}",
                "product_id": p.id,
                "selected": p.id == self.product_id,
            }
            for p in self.shown_products()
        ]

    def hint(self, lang: str) -> str:
        _ = translator(lang)
        products = self.shown_products()
        if not self.search_query.strip():
            return _("Featured products first. Search to find any other.")
        if not products:
            return _("No product found. Try fewer letters.")
        if len(products) >= SEARCH_LIMIT:
            return _("The first {n} matches. Type more to narrow down.").format(n=len(products))
        return count_text(len(products), lang, NP_("{n} product found", "{n} products found"))

    # --- count and lot --------------------------------------------------------------------

    def change_count(self, delta: int) -> None:
        self.count = max(1, min(MAX_COUNT, int(self.count) + delta))

    def start_count(self) -> None:
        self.editing = Editing.COUNT
        self.count_typed = ""

    def key_in_count(self, key: str) -> None:
        """The number pad: digits (at most COUNT_MAX_DIGITS), "backspace", "clear"."""
        if key == "backspace":
            self.count_typed = self.count_typed[:-1]
        elif key == "clear":
            self.count_typed = ""
        elif key.isdigit() and len(self.count_typed) < COUNT_MAX_DIGITS:
            self.count_typed += key

    def finish_count(self, lang: str) -> bool:
        """Done on the number pad: a valid count is taken and the pad closes; an invalid
        one changes nothing and the pad stays open with its message."""
        if count_problem(self.count_typed, lang):
            return False
        self.count = int(self.count_typed)
        self.editing = Editing.NONE
        return True

    def set_count(self, count: int) -> None:
        """A preset: kept within 1..MAX_COUNT like every other change."""
        self.count = max(1, min(MAX_COUNT, int(count)))

    def key_in_lot(self, key: str) -> None:
        self.lot = edit_lot(self.lot, key, LOT_MAX_CHARS)

    def start_date(self, editing: Editing) -> None:
        """The number pad opens on a date, with what was typed before (backspace edits)."""
        self.editing = editing

    def key_in_date(self, key: str) -> None:
        """The number pad on a date: digits (at most DATE_DIGITS), "backspace", "clear"."""
        digits = self.date_typed.get(self.editing, "")
        if key == "backspace":
            digits = digits[:-1]
        elif key == "clear":
            digits = ""
        elif key.isdigit() and len(digits) < DATE_DIGITS:
            digits += key
        self.date_typed[self.editing] = digits

    def key_in_pad(self, key: str) -> None:
        if self.editing is Editing.COUNT:
            self.key_in_count(key)
        elif self.editing in DATE_FIELDS:
            self.key_in_date(key)

    def finish_pad(self, lang: str) -> bool:
        """Done on the number pad. A date pad always closes: a wrong date stays, its
        message beside the field, and Print waits until it is fixed or cleared."""
        if self.editing is Editing.COUNT:
            return self.finish_count(lang)
        self.editing = Editing.NONE
        return True

    def dates(self, lang: str) -> tuple[str, LotDates | None]:
        return lot_dates_problem(self.date_typed, self.lot, self.today, lang)

    # --- what shows -----------------------------------------------------------------------

    def view(self, lang: str, portrait: bool) -> PrintView:
        _ = translator(lang)
        searching = self.editing is Editing.SEARCH
        counting = self.editing is Editing.COUNT
        dating = self.editing in DATE_FIELDS
        dates_problem = self.dates(lang)[0]
        count_problem_text = count_problem(self.count_typed, lang) if counting else ""

        def shown_date(editing: Editing) -> str:
            return date_text(self.date_typed.get(editing, "")) or _("none")

        if dating:
            pad_title = _(DATE_NAMES[self.editing])
            typed = date_text(self.date_typed.get(self.editing, ""))
            pad_field_text = typed + CARET if typed else DATE_HINT
        else:
            pad_title, pad_field_text = _("Number of stamps"), self.count_typed + CARET
        if self.search_query:
            search_text = self.search_query + (CARET if searching else "")
        else:
            search_text = _("Search by name or place…")
        return PrintView(
            editing=self.editing.value,
            layout=PrintLayout.of(self.editing, portrait),
            search_query=self.search_query,
            search_text=search_text,
            searching=searching,
            product_rows=self.rows(lang),
            product_hint=self.hint(lang),
            product_id=self.product_id,
            product_name=self.product_name,
            count=self.count,
            print_text=count_text(
                int(self.count), lang, NP_("Print {n} stamp", "Print {n} stamps")
            ),
            can_print=self.printing_ok
            and bool(self.product_id)
            and not counting
            and not dates_problem,
            lot=self.lot,
            lot_button_text=self.lot or _("none"),
            lot_field_text=(self.lot + CARET)
            if self.lot
            else _("Lot printed on each label (may be empty)"),
            lot_length_text=f"{len(self.lot)}/{LOT_MAX_CHARS}",
            counting=counting,
            count_field_text=self.count_typed + CARET,
            count_problem=count_problem_text,
            numpad=self.editing in NUMBER_PAD,
            pad_title=pad_title,
            pad_field_text=pad_field_text,
            pad_problem=dates_problem if dating else count_problem_text,
            produced_text=shown_date(Editing.PRODUCED),
            best_before_text=shown_date(Editing.BEST_BEFORE),
            produced_empty=not self.date_typed.get(Editing.PRODUCED),
            best_before_empty=not self.date_typed.get(Editing.BEST_BEFORE),
            dates_problem=dates_problem,
        )


def default_products(catalog) -> list:
    """The picker's list before a search: featured products first, then the first by id,
    DEFAULT_PRODUCTS at most (worker thread: catalog reads)."""
    picked: dict = {}
    for p in catalog.featured(limit=DEFAULT_PRODUCTS) + catalog.all(limit=DEFAULT_PRODUCTS):
        picked.setdefault(p.id, p)
    return list(picked.values())[:DEFAULT_PRODUCTS]
