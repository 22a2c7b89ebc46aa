"""Is there a screen the kiosk window can appear on?

SDL (inside Kivy's wheel) tries X11, Wayland and KMS/DRM in turn and, when none works,
silently falls back to its `offscreen` driver: the app then runs and renders, but nothing
is shown and the terminal looks hung. `ocop-kiosk run` asks `missing_display_reason` before
the window opens and says so in one line. Plain Python: no Kivy, no SDL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# Where the kernel's DRM cards are (KMS/DRM: the Pi's console, with no desktop). An override
# for tests, which must see "no card" on a machine that has one.
DRI_DIR_ENV = "OCOP_KIOSK_DRI_DIR"
DEFAULT_DRI_DIR = Path("/dev/dri")
DISPLAY_ENV_VARS = ("DISPLAY", "WAYLAND_DISPLAY")


def dri_cards(dri_dir: Path) -> list[Path]:
    try:
        return sorted(p for p in dri_dir.iterdir() if p.name.startswith("card"))
    except OSError:
        return []


def missing_display_reason(environ: Mapping[str, str] = os.environ) -> str | None:
    """None when SDL has somewhere to show the window (or its driver was chosen on purpose,
    as the systemd unit's kmsdrm or the tests' offscreen); else why there is nowhere."""
    if environ.get("SDL_VIDEODRIVER"):
        return None  # chosen by whoever started us: SDL uses that one or fails loudly
    if any(environ.get(name) for name in DISPLAY_ENV_VARS):
        return None
    dri_dir = Path(environ.get(DRI_DIR_ENV) or DEFAULT_DRI_DIR)
    cards = dri_cards(dri_dir)
    no_session = "no " + "/".join(DISPLAY_ENV_VARS)
    if not cards:
        return f"{no_session}, no {dri_dir}/card*"
    if not any(os.access(card, os.R_OK | os.W_OK) for card in cards):
        return (
            f"{no_session}; {cards[0]} is not usable by this user: add the user to "
            f"the 'video' and 'render' groups"
        )
    return None


def headless_message(reason: str) -> str:
    """The one line `run` prints when there is no display."""
    return (
        f"no display found ({reason}): the kiosk runs headless, nothing will be shown; "
        f"use `ocop-kiosk screenshot --screen NAME --out FILE.png` to see a screen, or "
        f"run it from a desktop session or the console of a machine with a screen "
        f"(Ctrl+C stops it)"
    )
