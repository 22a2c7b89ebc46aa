"""The console's Fleet and Reports sections: every kiosk's and station's health, and
the scan charts."""

from __future__ import annotations

from fastapi import APIRouter

from registry.routes.console import Section, section_placeholder

SECTIONS = (
    Section.FLEET,
    Section.REPORTS,
)
router = APIRouter(include_in_schema=False)
router.add_api_route(Section.FLEET.href, section_placeholder(Section.FLEET), methods=["GET"])
router.add_api_route(Section.REPORTS.href, section_placeholder(Section.REPORTS), methods=["GET"])
