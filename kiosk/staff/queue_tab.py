"""The staff printer tab: printer status, recent jobs, and the steps to finish a job that
stopped part-way (check each uncertain label, then resume or cancel the rest, the cancel
confirmed by a second tap)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.i18n import translator
from kiosk.printing.overview import QueueOverview
from kiosk.printing.queue import needs_attention
from kiosk.viewmodels import (
    JobRecoveryViewModel,
    job_state_text,
    printer_state_text,
    recovery_done_text,
)
from ocop.stamps.serials import serial_digits

PRINTER_OK_STATES = frozenset({"ready", "paper_near_end"})


@dataclass(frozen=True)
class JobCell:
    """One cell of the two-column recent jobs list; colour: a name in COLOURS."""

    text: str
    colour: str
    data: bool = False  # a product name: DataLabel (shortened), else KLabel


def printer_light(state: str) -> str:
    """The status dot's colour: green when it can print, amber while unknown, else red."""
    if state in PRINTER_OK_STATES:
        return "green"
    return "amber" if state == "unknown" else "red"


def staff_message(err, lang: str) -> str:
    """A printer error in the staff's language (printer.PrinterError), or its text."""
    if err is None:
        return ""
    if hasattr(err, "staff_message_en"):
        return err.staff_message_vi if lang == "vi" else err.staff_message_en
    return str(err)


SERIAL_RANGE_DASH = " \u2013 "  # en dash, spaced: the groups stay readable


def serial_range_text(job) -> str:
    """The job's serials as the label prints them ('0000 0000 0101 – 0000 0000 0150'):
    serials are reserved in one run, so first and last say which labels are this job's.
    Empty while none are assigned."""
    serials = [*job.printed, *job.pending, *job.uncertain, *job.void]
    if not serials:
        return ""
    first, last = min(serials), max(serials)
    if first == last:
        return serial_digits(first)
    return serial_digits(first) + SERIAL_RANGE_DASH + serial_digits(last)


def job_cells(overview: QueueOverview, lang: str) -> list[JobCell]:
    _ = translator(lang)
    if not overview.recent:
        return [JobCell(_("No print jobs yet."), "muted")]
    cells = []
    for job in overview.recent:
        cells.append(
            JobCell(f"#{job.id}  {overview.names.get(job.product_id, '')}", "ink", data=True)
        )
        cells.append(
            JobCell(
                _("{done}/{total} · {state}").format(
                    done=len(job.printed),
                    total=job.count,
                    state=job_state_text(job.state.value, lang),
                ),
                "red" if needs_attention(job) else "green_dark",
            )
        )
        serials = serial_range_text(job)
        if serials:  # its own row under the job: the grid has two columns
            cells += [JobCell(serials, "muted", data=True), JobCell("", "muted")]
    return cells


@dataclass(frozen=True)
class RecoveryLook:
    """The stopped job's panel; every text empty when no job waits."""

    shown: bool
    title: str
    others: str
    product: str
    summary: str
    help: str
    actions_shown: bool  # the 'continue' step: resume / cancel the rest
    resume_text: str
    cancel_text: str
    cancel_shown: bool  # stamps are left to cancel
    cancel_armed: bool

    @classmethod
    def of(cls, vm: JobRecoveryViewModel | None, armed: bool) -> RecoveryLook:
        if vm is None:
            return cls(False, "", "", "", "", "", False, "", "", False, False)
        return cls(
            True,
            "⚠ " + vm.title,
            vm.others,
            vm.product,
            vm.summary,
            vm.help,
            vm.step == "continue",
            vm.resume_text,
            vm.confirm_cancel_text if armed else vm.cancel_text,
            bool(vm.left),
            armed,
        )


@dataclass
class QueueTabModel:
    printing_ok: bool = True
    print_error: str = ""  # why printing is not available here
    printer: tuple = (None, None)  # (printer.PrinterState, error) last reported
    overview: QueueOverview = field(default_factory=QueueOverview.empty)
    cancel_armed: bool = False
    recovery_note: tuple | None = None  # (action, serial, job_id, count) | ("error", ...)

    @property
    def attention(self) -> int:
        return len(self.overview.attention)

    @property
    def stopped_job(self):
        """The job whose steps are shown: the one that has waited longest."""
        return self.overview.attention[0] if self.overview.attention else None

    def jobs_read(self, overview: QueueOverview) -> None:
        shown = self.stopped_job
        self.overview = overview
        if self.stopped_job != shown:
            self.cancel_armed = False  # armed for another job's state: not valid now

    def recovery(self, lang: str) -> JobRecoveryViewModel | None:
        job = self.stopped_job
        if job is None:
            return None
        return JobRecoveryViewModel.build(
            job, self.overview.names.get(job.product_id, ""), lang, others=self.attention - 1
        )

    def printer_texts(self, lang: str) -> tuple[str, str, str]:
        """(state value, state text, detail) for the status line."""
        state, err = self.printer
        if state is not None:
            return state.value, printer_state_text(state, lang), staff_message(err, lang)
        if not self.printing_ok:
            _ = translator(lang)
            return "unknown", _("Printing is not available here"), self.print_error
        return "unknown", "", ""

    def note_text(self, lang: str) -> tuple[str, bool]:
        """(the line under the stopped job, is it an error)."""
        note = self.recovery_note
        if note is None:
            return "", False
        if note[0] == "error":
            _ = translator(lang)
            return _("Could not do that: {error}").format(error=note[1]), True
        action, serial, job_id, count = note
        return recovery_done_text(action, lang, serial=serial, job_id=job_id, count=count), False
