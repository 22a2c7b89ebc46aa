"""The one place that imports python-escpos.

python-escpos 3.1 writes a capabilities pickle at import time into
``$ESCPOS_CAPABILITIES_PICKLE_DIR`` (default: a fresh ``mkdtemp()`` on every import, and it
fails if the folder does not exist).  We point it at a per-user cache folder first.  It
also calls ``logging.basicConfig()`` at import (a side effect we cannot avoid).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PROFILE_FOR_WIDTH = {384: "POS-5890", 576: "TM-T20II"}


def _uid() -> int:
    return os.getuid() if hasattr(os, "getuid") else 0


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for candidate in (
        Path(base) / "ocop-kiosk" / "escpos",
        Path(tempfile.gettempdir()) / f"ocop-kiosk-escpos-{_uid()}",
    ):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            if os.access(candidate, os.W_OK):
                return str(candidate)
        except OSError:
            continue
    return tempfile.mkdtemp(prefix="ocop-escpos-")


if not os.path.isdir(os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR", "")):
    os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = _cache_dir()

from escpos import printer as escpos_printer  # noqa: E402
from escpos.capabilities import get_profile  # noqa: E402
from escpos.exceptions import DeviceNotFoundError  # noqa: E402
from escpos.image import EscposImage  # noqa: E402

__all__ = [
    "PROFILE_FOR_WIDTH",
    "DeviceNotFoundError",
    "EscposImage",
    "escpos_printer",
    "get_profile",
    "profile_for_width",
    "profile_width_dots",
]


def profile_for_width(width_dots: int) -> str:
    try:
        return PROFILE_FOR_WIDTH[width_dots]
    except KeyError:
        raise ValueError(
            f"no default printer profile for width {width_dots} dots; use 384 or 576"
        ) from None


def profile_width_dots(profile_name: str) -> int | None:
    """The media width in dots a python-escpos profile declares, or None if unknown."""
    try:
        value = get_profile(profile_name).profile_data["media"]["width"]["pixels"]
        return int(value)
    except (KeyError, ValueError, TypeError):
        return None
