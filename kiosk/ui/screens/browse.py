"""Browse without a product in hand: by district, by product group, or a search that ignores
diacritics (an A-Z keyboard finds 'Mộc Châu' from 'moc chau'). Catalog queries run on a
worker thread; the list is a RecycleView (a 10k-product catalog scrolls smoothly)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.i18n import NP_, translator
from kiosk.media_renditions import RenditionSize
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import FONT_LABEL
from kiosk.ui.widgets import ListButton, ListKButton
from kiosk.viewmodels import SEARCH_DELAY_S, count_text, district_label, edit_query, place_text
from ocop.ratings import GROUP_NAMES

MAX_LIST = 500
# A result tile, in app.u: the name wraps by words over as many lines as it needs (never cut
# mid-word), so each tile is as tall as its name; browse.kv draws these sizes.
TILE_MIN_H_U = 84
TILE_PAD_U = 8  # ProductTile padding, each side
TILE_INSET_U = 3  # the drawn card is this much shorter than the tile, top and bottom
TILE_IMAGE_W_U = 76
TILE_SPACING_U = 10
NAME_FONT_U = FONT_LABEL  # the labels floor at 800x480 (issue 15)
PLACE_ROW_H_U = 28  # stars and place under the name


def _same_place(name: str) -> str:
    """A district name as compared: NFC, case and spacing ignored (a settings file typed on
    another keyboard may decompose the diacritics)."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def home_district(districts, site_district: str) -> str:
    """The district browse opens on: the kiosk's own (site.district) when the catalog has
    products there, else the first one listed; "" for an empty catalog."""
    names = [name for name, _n in districts]
    wanted = _same_place(site_district)
    for name in names:
        if _same_place(name) == wanted:
            return name
    return names[0] if names else ""


@lru_cache(maxsize=4096)
def name_height_px(name: str, width_px: float, font_size_px: float) -> float:
    """How tall `name` is, wrapped by words in `width_px` (Kivy's own layout, not drawn)."""
    probe = CoreLabel(
        text=name, font_size=font_size_px, bold=True, text_size=(max(1, width_px), None)
    )
    probe.resolve_font_name()
    return float(probe.render()[1])


def tile_height_px(name: str, tile_width_px: float, u: float) -> float:
    name_w = tile_width_px - (2 * TILE_PAD_U + TILE_IMAGE_W_U + TILE_SPACING_U) * u
    name_h = name_height_px(name, round(name_w), NAME_FONT_U * u)
    needed = name_h + (2 * TILE_PAD_U + 2 * TILE_INSET_U + PLACE_ROW_H_U) * u
    return max(TILE_MIN_H_U * u, needed)


class ProductTile(ButtonBehavior, BoxLayout):
    product_id = NumericProperty(0)
    name = StringProperty("")
    stars = NumericProperty(0)
    place = StringProperty("")
    image = StringProperty("")
    tile_size = ListProperty([0, 0])  # set by the list's layout (key_size), not shown


class BrowseScreen(KioskScreen):
    tab = StringProperty("district")
    selected = StringProperty("")  # district name or group code as text
    query = StringProperty("")
    results = ListProperty([])
    results_title = StringProperty("")
    _search_event = None
    _request = 0
    _districts: tuple = ()  # replaced per instance by the catalog's lists
    _groups: tuple = ()

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.ids.keyboard.bind(on_key=lambda kb, key: self.on_key(key))
        fit = Clock.create_trigger(lambda dt: self._fit_tiles())
        self.ids.rv.bind(width=lambda *_: fit())
        self.app.bind(u=lambda *_: fit())

    def on_pre_enter(self, *_):
        self.build_filters()
        if not self.results:
            self.show_tab(self.tab)

    def on_language(self):
        self.build_filters()
        self._reload()

    def on_catalog_changed(self):
        """Sync changed the catalog or the day changed: counts, lists and stars anew."""
        self.on_language()

    def reset(self):
        """For the next shopper (idle timeout): the districts tab on the kiosk's own
        district, no search typed."""
        if self._search_event is not None:
            self._search_event.cancel()
        self._request += 1  # a search still on its way is dropped
        self.query, self.selected, self.tab = "", "", "district"
        self.results = []

    def show_tab(self, tab: str):
        self.tab = tab
        self.build_filters()
        if tab == "district" and not self.selected.startswith("d:"):
            home = home_district(self._districts, self.app.settings.site.district)
            self.selected = f"d:{home}"
        elif tab == "group" and not self.selected.startswith("g:"):
            self.selected = f"g:{self._groups[0][0]}" if self._groups else "g:1"
        self.build_filters()
        self._reload()

    # --- filter column --------------------------------------------------------------------

    def build_filters(self):
        app = self.app
        catalog = app.services.catalog
        self._districts = catalog.districts()
        self._groups = catalog.groups()
        box = self.ids.filter_list
        box.clear_widgets()
        lang = app.lang
        if self.tab == "district":
            for district, n in self._districts:
                btn = ListButton(
                    text=f"{district_label(district, lang)}  ({n})",
                    selected=self.selected == f"d:{district}",
                )
                btn.bind(on_release=lambda b, d=district: self.pick(f"d:{d}"))
                box.add_widget(btn)
                if btn.selected:  # the kiosk's own district may be far down the list
                    Clock.schedule_once(lambda dt, b=btn: self._show_filter(b))
        elif self.tab == "group":
            for code, n in self._groups:
                name = GROUP_NAMES.get(code, ("", ""))[0 if lang == "vi" else 1]
                btn = ListKButton(text=f"{name}  ({n})", selected=self.selected == f"g:{code}")
                btn.bind(on_release=lambda b, c=code: self.pick(f"g:{c}"))
                box.add_widget(btn)

    def _show_filter(self, button):
        if button.parent is not None:  # not replaced by a newer build_filters
            self.ids.filter_scroll.scroll_to(button, padding=0, animate=False)

    def pick(self, selected: str):
        self.selected = selected
        self.build_filters()
        self._reload()

    # --- search ---------------------------------------------------------------------------

    def on_key(self, key: str):
        self.query = edit_query(self.query, key)
        if self._search_event is not None:
            self._search_event.cancel()
        self._search_event = Clock.schedule_once(lambda dt: self._reload(), SEARCH_DELAY_S)

    # --- results --------------------------------------------------------------------------

    def _reload(self):
        app = self.app
        services = app.services
        catalog = services.catalog
        tab, selected, query, lang = self.tab, self.selected, self.query, app.lang
        self._request += 1
        request = self._request

        def find():
            if tab == "search":
                return catalog.search(query, limit=MAX_LIST) if query.strip() else []
            if tab == "district" and selected.startswith("d:"):
                return catalog.by_district(selected[2:])
            if tab == "group" and selected.startswith("g:"):
                return catalog.by_group(int(selected[2:]))
            return []

        def work():
            products = find()
            # Thumbnail paths here, not on the UI thread: a missing rendition gets decoded.
            thumbs = [
                services.image_path(p.image_hash, RenditionSize.THUMB) for p in products[:MAX_LIST]
            ]
            return products, [str(path) if path else "" for path in thumbs]

        future = services.submit(work)
        future.add_done_callback(
            lambda f: Clock.schedule_once(
                lambda dt: self._loaded(request, tab, selected, query, lang, f)
            )
        )

    def _fit_tiles(self):
        """Each tile as tall as its wrapped name at the list's present width."""
        width, u = self.ids.rv.width, self.app.u
        fitted = [
            {**item, "tile_size": (0, tile_height_px(item["name"], width, u))}
            for item in self.results
        ]
        if fitted != self.results:
            self.results = fitted

    def _loaded(self, request, tab, selected, query, lang, future):
        if request != self._request:
            return  # a newer request is on its way
        try:
            products, thumbs = future.result()
        except Exception:  # noqa: BLE001 - a failed query shows an empty list, not a crash
            products, thumbs = [], []
        _ = translator(lang)
        total = len(products)
        self.results = [
            {
                "product_id": p.id,
                "name": p.name(lang),
                "stars": p.stars or 0,
                "place": place_text(p.commune, p.district, lang),
                "image": thumb,
            }
            for p, thumb in zip(products, thumbs, strict=True)
        ]
        self._fit_tiles()
        if tab == "search":
            self.results_title = (
                count_text(total, lang, NP_("{n} product found", "{n} products found"))
                if query.strip()
                else _("Type a name, a place or a producer")
            )
        elif tab == "district":
            self.results_title = count_text(
                total,
                lang,
                NP_("{n} product in {place}", "{n} products in {place}"),
                place=district_label(selected[2:], lang),
            )
        else:
            code = int(selected[2:]) if selected[2:].isdigit() else 0
            self.results_title = count_text(
                total,
                lang,
                NP_("{n} product: {group}", "{n} products: {group}"),
                group=GROUP_NAMES.get(code, ("", ""))[0 if lang == "vi" else 1],
            )
        rv = self.ids.get("rv")
        if rv is not None:
            rv.scroll_y = 1
