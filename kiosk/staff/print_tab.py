"""The staff print tab: product picker (featured/first products or a search), count, lot,
the print button and the progress line, and which columns show while staff type."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from kiosk.i18n import NP_, translator
from kiosk.viewmodels import LOT_MAX_CHARS, count_text, edit_lot, edit_query, job_state_text

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
            editing in (Editing.LOT, Editing.COUNT),  # one keypad column serves both
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
    counting: bool  # the number pad, not the lot keypad, is open
    count_field_text: str
    count_problem: str  # why the typed count cannot be printed; "" when it can


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

    @classmethod
    def for_today(cls, today: dt.date) -> PrintTabModel:
        return cls(lot=today.strftime("%Y-%m"))

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

    # --- what shows -----------------------------------------------------------------------

    def view(self, lang: str, portrait: bool) -> PrintView:
        _ = translator(lang)
        searching = self.editing is Editing.SEARCH
        counting = self.editing is Editing.COUNT
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
            can_print=self.printing_ok and bool(self.product_id) and not counting,
            lot=self.lot,
            lot_button_text=self.lot or _("none"),
            lot_field_text=(self.lot + CARET)
            if self.lot
            else _("Lot printed on each label (may be empty)"),
            lot_length_text=f"{len(self.lot)}/{LOT_MAX_CHARS}",
            counting=counting,
            count_field_text=self.count_typed + CARET,
            count_problem=count_problem(self.count_typed, lang) if counting else "",
        )


def default_products(catalog) -> list:
    """The picker's list before a search: featured products first, then the first by id,
    DEFAULT_PRODUCTS at most (worker thread: catalog reads)."""
    picked: dict = {}
    for p in catalog.featured(limit=DEFAULT_PRODUCTS) + catalog.all(limit=DEFAULT_PRODUCTS):
        picked.setdefault(p.id, p)
    return list(picked.values())[:DEFAULT_PRODUCTS]
