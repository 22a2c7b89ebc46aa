"""Where Sơn La's stations are, roughly: the 12 district-level units (before the July 2025
reform; ../shared/OCOP-FACTS.md) and an approximate centre of each, for the clone rule
"scans farther apart than travel allows" (registry/clones.py). A station's `district` is
matched by name, without "Huyện"/"Thành phố"/"TP." and case; an unknown district has no
place, and the travel rule ignores its scans."""

from __future__ import annotations

import math
import unicodedata

# name -> (latitude, longitude) of the district town, approximate (a few km)
CENTROIDS: dict[str, tuple[float, float]] = {
    "Thành phố Sơn La": (21.327, 103.914),
    "Quỳnh Nhai": (21.800, 103.555),
    "Thuận Châu": (21.433, 103.680),
    "Mường La": (21.520, 104.030),
    "Bắc Yên": (21.250, 104.420),
    "Phù Yên": (21.262, 104.645),
    "Mộc Châu": (20.845, 104.630),
    "Vân Hồ": (20.775, 104.780),
    "Yên Châu": (21.050, 104.300),
    "Mai Sơn": (21.180, 104.100),
    "Sông Mã": (21.070, 103.730),
    "Sốp Cộp": (20.880, 103.530),
}
_PREFIXES = ("thành phố ", "tp. ", "tp ", "huyện ", "thị xã ", "h. ")
EARTH_RADIUS_KM = 6371.0


def _key(name: str) -> str:
    text = " ".join(unicodedata.normalize("NFC", name).casefold().split())
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


_BY_KEY = {_key(name): place for name, place in CENTROIDS.items()}


def place_of(district: str | None) -> tuple[float, float] | None:
    return _BY_KEY.get(_key(district)) if district else None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (roads are longer: the travel rule errs on the safe side)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def district_name(district: str | None) -> str | None:
    """The CENTROIDS name of a district however it is written, None when unknown."""
    if not district:
        return None
    return _NAME_BY_KEY.get(_key(district))


_NAME_BY_KEY = {_key(name): name for name in CENTROIDS}
