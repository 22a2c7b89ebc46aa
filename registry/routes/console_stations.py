"""The console's Stations and Stamps sections: stations, tokens, quotas, stamp blocks,
revocations and signing keys."""

from __future__ import annotations

from fastapi import APIRouter

from registry.routes.console import Section, section_placeholder

SECTIONS = (
    Section.STATIONS,
    Section.STAMPS,
)
router = APIRouter(include_in_schema=False)
router.add_api_route(Section.STATIONS.href, section_placeholder(Section.STATIONS), methods=["GET"])
router.add_api_route(Section.STAMPS.href, section_placeholder(Section.STAMPS), methods=["GET"])
