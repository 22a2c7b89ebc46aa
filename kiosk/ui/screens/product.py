"""One product in detail (from browse or the attract carousel)."""

from __future__ import annotations

from kivy.properties import NumericProperty, ObjectProperty, StringProperty

from kiosk.ui.screens.base import KioskScreen
from kiosk.viewmodels import ProductCardViewModel


class ProductScreen(KioskScreen):
    product_id = NumericProperty(0)
    card = ObjectProperty(None, allownone=True)
    image = StringProperty("")
    came_from = StringProperty("attract")

    def prepare(self, product_id: int = 0, **_):
        self.came_from = self.manager.current if self.manager else "attract"
        if self.came_from in ("product", "result"):
            self.came_from = "browse"
        self.product_id = product_id
        self.render()

    def on_language(self):
        if self.product_id:
            self.render()

    def on_catalog_changed(self):
        """Sync changed the catalog or the day changed: the stars shown are today's."""
        self.on_language()

    def render(self):
        product = self.app.services.catalog.product(int(self.product_id))
        if product is None:
            self.card = None
            self.image = ""
            return
        catalog = self.app.services.catalog
        self.card = ProductCardViewModel.from_product(
            product, self.app.lang, related=catalog.related(product)
        )
        self.image = self.image_source(product.image_hash)
        self.ids.detail.scroll_to_top()

    def back(self):
        self.app.go(self.came_from if self.came_from != "product" else "attract")
