"""The staff sync tab: what sync did last, what waits to be sent, the clock's state, and
the answer to "sync now"."""

from __future__ import annotations

from kiosk.i18n import translator

SYNC_REFRESH_AFTER_S = 1.0  # "sync now": read the status again once it had time to start


def sync_lines(view, lang: str, clock_note: str = "") -> str:
    """The status block: sync state, records waiting, the last success, the failure's
    detail, and the clock note ("Clock not set": ratings use the trusted time)."""
    _ = translator(lang)
    lines = [view.label(lang), _("{n} records waiting to be sent").format(n=view.pending)]
    if view.last_success:
        lines.append(_("Last successful sync: {when}").format(when=view.last_success))
    if view.detail and view.failed:
        lines.append(view.detail)
    if clock_note:
        lines.append(clock_note)
    return "\n".join(lines)


def sync_answer_text(answer: str | None, lang: str) -> str:
    """Services.sync_now()'s answer ("started", "no_registry", "not_running") in words."""
    if answer is None:
        return ""
    _ = translator(lang)
    return {
        "started": _("Sync started."),
        "no_registry": _("Nothing to sync: this kiosk has no registry address."),
    }.get(answer, _("Sync is not running"))
