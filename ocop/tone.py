"""A state's colour role. Each app maps a Tone to its own colours once (the kiosk's palette,
the registry's CSS classes), so a state says what it means, never which colour it is."""

from __future__ import annotations

import enum


class Tone(enum.Enum):
    OK = "ok"  # all good: genuine, done, up to date
    INFO = "info"  # worth knowing, nothing wrong
    NEUTRAL = "neutral"  # nothing to judge (not our code, switched off)
    WARN = "warn"  # usable, but something needs a look
    ALERT = "alert"  # probably wrong: take care
    BAD = "bad"  # wrong: do not rely on it

    @property
    def is_problem(self) -> bool:
        return self in (Tone.WARN, Tone.ALERT, Tone.BAD)


__all__ = ["Tone"]
