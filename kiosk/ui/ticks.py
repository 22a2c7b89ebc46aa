"""Repeating UI-thread callbacks that a return value cannot stop.

Kivy unschedules a `Clock.schedule_interval` callback the first time it returns False. That
is how the watchdog pings once stopped after the first one: the callback returned
`Watchdog.heartbeat()`, which is False whenever no ping is due. Every repeating callback in
kiosk/ui goes through `every()` (tests/ui/test_ticks.py enforces it), which drops the
callback's return value; a repeat ends only when its event is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock, ClockEvent


def every(interval_s: float, fn: Callable[[], Any]) -> ClockEvent:
    """Call fn() on the UI thread every interval_s (0: every frame) until the returned
    event is cancelled. Whatever fn returns is ignored."""

    def tick(_dt: float) -> None:
        fn()

    return Clock.schedule_interval(tick, interval_s)


__all__ = ["every"]
