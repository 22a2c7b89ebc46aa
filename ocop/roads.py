"""The national roads through Sơn La that the province's OCOP scheme names for rest stops
(Decision 1288/QĐ-UBND: QL6, QL37, QL43, QL4G), each with the districts it crosses in the
order a traveller meets them. Defined here once: the kiosk's route strip, its settings check
and any report use this table.

Where the order comes from (docs/ui.md, "Rest-stop routes"): QL6 from public sources that
agree (Hà Nội -> Điện Biên); QL37, QL43 and QL4G from the public descriptions summed up in
shared OCOP-FACTS.md, marked unverified. The provincial office confirms a site's road before
it is shown; a site whose road differs is configured with site.road / site.district.
Districts are the historical ones (before July 2025), as the catalog stores them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Road(enum.Enum):
    QL6 = "QL6"
    QL37 = "QL37"
    QL43 = "QL43"
    QL4G = "QL4G"


@dataclass(frozen=True)
class Route:
    road: Road
    districts: tuple[str, ...]  # in travelling order, first end to last end
    ends: tuple[str, str]  # where the road comes from and goes to beyond the province
    verified: bool  # False: from public descriptions only, to be confirmed by the office

    def has(self, district: str) -> bool:
        return district in self.districts

    def index(self, district: str) -> int | None:
        return self.districts.index(district) if district in self.districts else None


ROUTES: dict[Road, Route] = {
    # Hà Nội -> Điện Biên (OCOP-FACTS: public sources agree)
    Road.QL6: Route(
        Road.QL6,
        ("Vân Hồ", "Mộc Châu", "Yên Châu", "Mai Sơn", "Thành phố Sơn La", "Thuận Châu"),
        ("Hà Nội", "Điện Biên"),
        verified=True,
    ),
    # from Yên Bái over the Lũng Lô pass into Phù Yên, Bắc Yên, down to QL6 at Cò Nòi
    Road.QL37: Route(
        Road.QL37, ("Phù Yên", "Bắc Yên", "Mai Sơn"), ("Yên Bái", "Cò Nòi"), verified=False
    ),
    # from QL37 at Gia Phù (Phù Yên) through Mộc Châu to the Lóng Sập border gate (Laos)
    Road.QL43: Route(Road.QL43, ("Phù Yên", "Mộc Châu"), ("Gia Phù", "Lóng Sập"), verified=False),
    # leaves QL6 by Sơn La city for Sông Mã and Sốp Cộp, towards the Laos border
    Road.QL4G: Route(
        Road.QL4G,
        ("Thành phố Sơn La", "Mai Sơn", "Sông Mã", "Sốp Cộp"),
        ("Quốc lộ 6", "Mường Lạn"),
        verified=False,
    ),
}


def route_of(road: Road) -> Route:
    return ROUTES[road]
