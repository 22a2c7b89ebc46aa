"""The console's Audit section: every change with who, when, before and after."""

from __future__ import annotations

from fastapi import APIRouter

from registry.routes.console import Section, section_placeholder

SECTIONS = (Section.AUDIT,)
router = APIRouter(include_in_schema=False)
router.add_api_route(Section.AUDIT.href, section_placeholder(Section.AUDIT), methods=["GET"])
