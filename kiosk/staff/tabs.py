"""The staff screen's tab bar and its choice buttons: which colours, which tab opens."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Look:
    """A button's colours, as names in kiosk.ui.theme.COLOURS."""

    bg: str
    fg: str
    line: str


def choice_look(selected: bool, warn: bool = False) -> Look:
    """A tab or a choice (language, mode): filled when selected; amber when it warns (the
    printer tab while a job waits for a decision)."""
    if selected:
        return Look("green", "white", "amber" if warn else "line")
    if warn:
        return Look("amber_soft", "amber", "amber")
    return Look("white", "green_dark", "line")


def attention_mark(attention: int) -> str:
    """Appended to the printer tab's title while jobs wait for a decision."""
    return " ⚠" if attention else ""


def tab_after_jobs_read(tab: str, editing: str, jump: bool, waiting: bool) -> str:
    """The tab to show once the queue was read: a stopped job waiting for a decision opens
    the printer tab, when staff just arrived or a job stopped, and are not typing."""
    if waiting and jump and tab == "print" and editing == "":
        return "queue"
    return tab
