"""One list of screens (kiosk/ui/screen_registry.py): the app, `ocop-kiosk screenshot` and
the kv files all follow it, so a screen added in one place only fails here. (That the running
app has exactly these screens: tests/ui/test_drawing.py.)"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

from kiosk.ui.screen_registry import SCREEN_NAMES, SCREENS, SHARED_KV_FILES, screen_spec

SCREENS_DIR = Path(__file__).resolve().parents[2] / "kiosk" / "ui" / "screens"


def test_the_screenshot_command_shoots_every_registered_screen():
    from kiosk.cli import screenshot_cmd

    assert set(screenshot_cmd.SCREEN_SETUP) == set(SCREEN_NAMES)
    parser = argparse.ArgumentParser()
    screenshot_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["screenshot", "--screen", "staff", "--out", "x.png"])
    assert args.handler is screenshot_cmd.handle_screenshot
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    [screen] = [a for a in sub.choices["screenshot"]._actions if a.dest == "screen"]
    assert tuple(screen.choices) == SCREEN_NAMES


def test_every_kv_file_and_screen_class_is_registered():
    registered = set(SHARED_KV_FILES) | {kv for spec in SCREENS for kv in spec.kv_files}
    assert registered == {p.name for p in SCREENS_DIR.glob("*.kv")}
    screen_classes = set()
    for path in SCREENS_DIR.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and any(
                getattr(b, "id", "") == "KioskScreen" for b in node.bases
            ):
                screen_classes.add((path.stem, node.name))
    assert screen_classes == {(spec.module, spec.class_name) for spec in SCREENS}


def test_an_unknown_screen_is_named_with_the_known_ones():
    import pytest

    with pytest.raises(KeyError, match=r"no screen called 'nope'.*staff_pin"):
        screen_spec("nope")
