"""The console's Catalog section: producers, products, ratings, photos, import and export."""

from __future__ import annotations

from fastapi import APIRouter

from registry.routes.console import Section, section_placeholder

SECTIONS = (Section.CATALOG,)
router = APIRouter(include_in_schema=False)
router.add_api_route(Section.CATALOG.href, section_placeholder(Section.CATALOG), methods=["GET"])
